"""The server's pipelined group commit: replies leave once their commit is durable.

With a ledger file, :meth:`HostLedger.defer_sync` lets a commit write the WAL without
syncing it. :class:`SyncedReplies` then syncs it on a worker thread (one sync for every
group committed since the last one began) while the event loop goes on reading and
processing the next group, and releases a group's replies only when a sync that began
after its commit has ended: no reply announces what the ledger could still lose. An
in-memory ledger has nothing to sync: its replies are released at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.base.guards import RateLimitedLog


@dataclass(eq=False)
class Work:
    """One message waiting for the processor, and the future its connection awaits."""

    payload: bytes
    peer: str
    answer: asyncio.Future[bytes | None] = field(repr=False)


def release(group: list[Work], answers: list[bytes | None]) -> None:
    """Hand each message of ``group`` its answer (``None``: no reply)."""
    for item, answer in zip(group, answers, strict=True):
        if not item.answer.done():  # its connection may have been cancelled
            item.answer.set_result(answer)


class SyncedReplies:
    """Holds committed groups until their commit is durable, then releases their replies."""

    def __init__(self, ledger: HostLedger, log: RateLimitedLog,
                 on_failure: Callable[[int], None]) -> None:
        self.ledger = ledger
        self._log = log
        self._on_failure = on_failure
        self._task: asyncio.Task[None] | None = None
        self._unsynced: list[tuple[list[Work], list[bytes | None]]] = []
        self._committed = asyncio.Event()
        self._stopping = False

    def start(self) -> None:
        """Defer the ledger's syncs to this; nothing to do for an in-memory ledger."""
        if self.ledger.defer_sync():
            self._task = asyncio.create_task(self._run(), name="acquirer-sync")

    def committed(self, group: list[Work], answers: list[bytes | None]) -> None:
        """``group`` is committed: its replies leave once that is durable."""
        if self._task is None:
            release(group, answers)
            return
        self._unsynced.append((group, answers))
        self._committed.set()

    async def stop(self) -> None:
        """Sync and release what was committed (those replies are owed), then end."""
        if self._task is not None:
            self._stopping = True
            self._committed.set()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._unsynced:
                if self._stopping:
                    return
                self._committed.clear()
                await self._committed.wait()
                continue
            done, self._unsynced = self._unsynced, []
            try:
                await loop.run_in_executor(None, self.ledger.sync)
            except Exception:  # noqa: BLE001 - logged with its traceback
                lost = sum(len(group) for group, _ in done)
                self._log.error("ledger sync failed: %d messages left unanswered", lost,
                                exc_info=True)
                self._on_failure(lost)
                done = [(group, [None] * len(group)) for group, _ in done]
            for group, answers in done:
                release(group, answers)
