"""The server's pipelined group commit: replies leave once their commit is durable.

With a ledger file, :meth:`HostLedger.defer_sync` lets a commit write the WAL without
syncing it. :class:`SyncedReplies` then syncs it on a worker thread (one sync for every
group committed since the last one began) while the event loop goes on reading and
processing the next group, and hands a group's replies to its ``deliver`` callback only
when a sync that began after its commit has ended: no reply announces what the ledger
could still lose. While a sync runs, the server keeps its group open
(:meth:`SyncedReplies.when_idle`) and commits it when the sync ends: its replies could
not leave earlier anyway, and one commit then carries everything that arrived meanwhile.
An in-memory ledger has nothing to sync: its replies are delivered at once. Everything
runs in callbacks of the event loop (no task, no event per group).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.base.guards import RateLimitedLog

#: What a group holds per message (the server's connection and frame): opaque here.
Item = TypeVar("Item")
#: ``deliver(group, answers)``: hand each message its answer (``None``: no reply).
Deliver = Callable[[list[Item], list[bytes | None]], None]


class SyncedReplies(Generic[Item]):
    """Holds committed groups until their commit is durable, then delivers their replies."""

    def __init__(self, ledger: HostLedger, log: RateLimitedLog,
                 on_failure: Callable[[int], None], deliver: Deliver[Item]) -> None:
        self.ledger = ledger
        self._log = log
        self._on_failure = on_failure
        self._deliver = deliver
        self._deferred = False
        self._waiting: list[tuple[list[Item], list[bytes | None]]] = []  # for the next sync
        self._syncing: list[tuple[list[Item], list[bytes | None]]] = []  # in the running one
        self._running: asyncio.Future[None] | None = None
        self._when_idle: Callable[[], None] | None = None

    def start(self) -> None:
        """Defer the ledger's syncs to this; nothing to do for an in-memory ledger."""
        self._deferred = self.ledger.defer_sync()

    @property
    def busy(self) -> bool:
        """A sync is running: a commit now would wait for the next one anyway."""
        return self._running is not None

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the running sync has ended (the server commits its
        group then: one commit per sync, as large as the sync's duration allows)."""
        self._when_idle = callback

    @property
    def pending(self) -> int:
        """Messages committed whose replies wait for a sync."""
        return sum(len(group) for group, _ in (*self._syncing, *self._waiting))

    def committed(self, group: list[Item], answers: list[bytes | None]) -> None:
        """``group`` is committed: its replies leave once that is durable."""
        if not self._deferred:
            self._deliver(group, answers)
            return
        self._waiting.append((group, answers))
        if self._running is None:
            self._begin()

    async def stop(self) -> None:
        """Wait until what was committed is synced and delivered (those replies are owed)."""
        while self._running is not None:
            await asyncio.wait([self._running])
            await asyncio.sleep(0)  # the done callback runs (and may begin the next sync)

    def _begin(self) -> None:
        self._syncing, self._waiting = self._waiting, []
        running = asyncio.get_running_loop().run_in_executor(None, self.ledger.sync)
        self._running = running
        running.add_done_callback(self._synced)

    def _synced(self, running: asyncio.Future[None]) -> None:
        done, self._syncing = self._syncing, []
        self._running = None
        try:
            running.result()
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 - logged, traceback too
            lost = sum(len(group) for group, _ in done)
            self._log.error("ledger sync failed: %d messages left unanswered", lost,
                            exc_info=True)
            self._on_failure(lost)
            done = [(group, [None] * len(group)) for group, _ in done]
        hook, self._when_idle = self._when_idle, None
        if hook is not None:  # the group held open while this sync ran: committed now
            hook()
        if self._waiting and self._running is None:  # committed meanwhile: the next sync
            self._begin()
        for group, answers in done:
            self._deliver(group, answers)
