"""The server's pipelined group commit: replies leave once their commit is durable.

With a ledger file, :meth:`HostLedger.defer_sync` lets a commit write the WAL without
syncing it. :class:`SyncedReplies` then has it synced by a helper process
(:mod:`~terminal_sim.acquirer.wal_sync`; one sync for every group committed since the
last one began) while the event loop goes on reading and
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.wal_sync import WalSyncProcess
from terminal_sim.base.clock import Clock
from terminal_sim.base.guards import RateLimitedLog
from terminal_sim.errors import FrameError, JournalError
from terminal_sim.iso.framing import Frame, Framing

if TYPE_CHECKING:
    from terminal_sim.acquirer.connection import HostConnection

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
        self._helper: WalSyncProcess | None = None

    def start(self) -> None:
        """Defer the ledger's syncs to this; nothing to do for an in-memory ledger.

        Syncs run in a helper process (:mod:`~terminal_sim.acquirer.wal_sync`); when it
        cannot start, or dies, on a worker thread of the event loop (slower: it shares
        the loop's GIL).
        """
        self._deferred = self.ledger.defer_sync()
        if self._deferred:
            try:
                helper = WalSyncProcess(self.ledger.wal_path)
            except JournalError as exc:
                self._log.error("%s: syncing on a thread instead", exc)
                return
            asyncio.get_running_loop().add_reader(helper.answers, self._answered)
            self._helper = helper

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
        """Wait until what was committed is synced and delivered (those replies are owed);
        then end the sync helper."""
        while self._running is not None:
            await asyncio.wait([self._running])
            await asyncio.sleep(0)  # the done callback runs (and may begin the next sync)
        self._drop_helper()

    def _begin(self) -> None:
        self._syncing, self._waiting = self._waiting, []
        loop = asyncio.get_running_loop()
        helper = self._helper
        if helper is not None:
            # settled by _answered, which then calls _synced itself (no extra loop turn)
            running: asyncio.Future[None] = loop.create_future()
            self._running = running
            try:
                helper.ask()
            except JournalError as exc:
                self._drop_helper()
                running.set_exception(exc)
                loop.call_soon(self._synced, running)
            return
        running = loop.run_in_executor(None, self.ledger.sync)
        self._running = running
        running.add_done_callback(self._synced)

    def _answered(self) -> None:
        """The helper answered (or died): the running sync is done."""
        helper, running = self._helper, self._running
        if helper is None:
            return
        try:
            helper.answer()
        except JournalError as exc:
            self._drop_helper()  # the next syncs run on a thread
            if running is not None and not running.done():
                running.set_exception(exc)
                self._synced(running)
            return
        if running is not None and not running.done():
            running.set_result(None)
            self._synced(running)

    def _drop_helper(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            asyncio.get_running_loop().remove_reader(helper.answers)
            helper.close()

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


@dataclass
class ServerStats:
    """Counters of a server's life, for logs and tests."""

    connections: int = 0
    messages: int = 0
    replies: int = 0
    frame_errors: int = 0
    truncated: int = 0
    failures: int = 0
    commits: int = 0
    refused: int = 0
    idle_closed: int = 0
    accept_errors: int = 0


#: One message of a group: its connection and its frame.
_Item = tuple["HostConnection", Frame]


class GroupCommit:
    """The open group transaction of a server: every message is processed the moment
    its connection hands it over (:meth:`take`), the group is committed once the event
    loop has run every callback ready with its first message, and the replies go back
    through :class:`SyncedReplies` to each connection's :meth:`HostConnection.send`.

    Messages run without a savepoint of their own; when one fails, the group is rolled
    back and its earlier messages are processed again, each in a savepoint now, and so
    is the rest of the group (:meth:`_isolate`): the failure costs that message its
    reply and nobody else anything, and only failing groups pay for savepoints.
    """

    def __init__(self, acquirer: MockAcquirer, clock: Clock, framing: Framing,
                 stats: ServerStats, log: RateLimitedLog) -> None:
        self.acquirer = acquirer
        self.clock = clock
        self.framing = framing
        self.stats = stats
        self._log = log
        self.replies: SyncedReplies[_Item] = SyncedReplies(
            acquirer.ledger, log, self._count_failures, self._deliver)
        self._group: list[_Item] | None = None
        self._answers: list[bytes | None] = []
        self._open = False  # the group's BEGIN succeeded
        self._isolated = False  # its messages get savepoints (after one of them failed)

    def take(self, conn: HostConnection, frame: Frame) -> None:
        """Process one message of ``conn`` in the open group (the first one opens it)."""
        group = self._group
        if group is None:
            group = self._group = []
            self._answers = []
            self._isolated = False
            self.acquirer.ledger.nested_savepoints = False
            self._open = self._begin()
            asyncio.get_running_loop().call_soon(self.commit)
        group.append((conn, frame))
        self.stats.messages += 1
        self._answers.append(self._handle(frame.payload, conn.peer) if self._open else None)

    def commit(self) -> None:
        """Commit the open group (at once, or when the running sync ends); its replies
        are delivered once the commit is durable."""
        group, answers = self._group, self._answers
        if group is None:
            return
        if self._open and self.replies.busy:
            # a sync is running: these replies wait for the next one in any case, so the
            # group stays open and takes what arrives meanwhile (one commit per sync)
            self.replies.when_idle(self.commit)
            return
        self._group, self._answers = None, []
        self.acquirer.ledger.nested_savepoints = True
        if self._open:
            self._open = False
            try:
                self.acquirer.ledger.finish(True)  # one commit for the whole group
                self.stats.commits += 1
            # the commit failed: nothing of the group is durable, say nothing
            except Exception:  # noqa: BLE001 - logged with its traceback
                self._log.error("ledger commit failed: %d messages left unanswered",
                                len(group), exc_info=True)
                self.acquirer.forget_caches()  # a batch it closed is open again
                self.stats.failures += len(group)
                answers = [None] * len(group)
        else:
            self.stats.failures += len(group)
        self.replies.committed(group, answers)

    def _begin(self) -> bool:
        try:
            self.acquirer.ledger.begin()
        except Exception:  # noqa: BLE001 - logged with its traceback
            self._log.error("ledger transaction failed to begin", exc_info=True)
            return False
        return True

    def _handle(self, payload: bytes, peer: str) -> bytes | None:
        clock = self.clock
        try:
            return self.acquirer.handle(payload, clock.now(), clock.wall())
        except Exception:  # noqa: BLE001 - logged with its traceback
            # the server never dies of input: a bug on one message costs that message
            # its reply, not the other terminals their host
            self._log.error("failed to process a message from %s", peer, exc_info=True)
            self.stats.failures += 1
            if not self._isolated:
                self._isolate()
            return None

    def _isolate(self) -> None:
        """Roll the group back and process its messages so far again, in savepoints."""
        self._isolated = True
        self.acquirer.ledger.nested_savepoints = True
        try:
            self.acquirer.ledger.finish(False)
        except Exception:  # noqa: BLE001 - logged with its traceback
            self._log.error("ledger rollback failed", exc_info=True)
        self.acquirer.forget_caches()
        self._open = self._begin()
        group, answers = self._group or [], self._answers
        for index, (conn, frame) in enumerate(group[:len(answers)]):
            answers[index] = self._handle(frame.payload, conn.peer) if self._open else None

    def _deliver(self, group: list[_Item], answers: list[bytes | None]) -> None:
        touched: dict[HostConnection, None] = {}
        reply = self.framing.reply
        for (conn, frame), answer in zip(group, answers, strict=True):
            conn.owed -= 1
            touched[conn] = None
            if answer is not None and not conn.lost:
                try:
                    conn.out.append(reply(answer, frame))
                except FrameError:  # a reply the framing cannot carry
                    self._log.error("reply to %s cannot be framed", conn.peer, exc_info=True)
                    self.stats.failures += 1
        for conn in touched:
            conn.send()

    def _count_failures(self, lost: int) -> None:
        self.stats.failures += lost
