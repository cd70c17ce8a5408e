"""The terminal's back-office sync: a background task that pushes final journal records.

Naive firmware marks a record synced when it has sent it; robust firmware waits for the
back office's acknowledgement. A push that fails outright (the back office unreachable)
sent nothing, so every firmware keeps those records for the next round. After each round
the local store is trimmed to the profile's ``journal_capacity``; naive firmware may
evict records never synced, robust firmware keeps them and the open batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from terminal_sim.plugins.ports import BackOfficeLink, SyncError, Wrap
from terminal_sim.stores.backoffice import BackOffice

if TYPE_CHECKING:
    from terminal_sim.sim.node import TerminalNode

__all__ = ["BackOfficeLink", "DirectBackOfficeLink", "SyncAgent", "SyncError"]


class DirectBackOfficeLink:
    """In-process: the batch reaches the back office at once."""

    def __init__(self, backoffice: BackOffice) -> None:
        self.backoffice = backoffice

    def push(self, terminal_id: str, rows: list[dict[str, Any]], now: int) -> bool:
        return self.backoffice.receive(rows, now)


class SyncAgent:
    """Pushes a terminal's final records every ``sync_interval_ms`` until ``until_ms``."""

    BATCH = 50

    def __init__(self, node: TerminalNode, link: BackOfficeLink) -> None:
        self.node = node
        self.link = link
        self.until_ms = 0
        self.rounds = 0

    def wrap_link(self, wrap: Wrap[BackOfficeLink]) -> None:
        """Replace the link by ``wrap(link)``: a wrapper around it (sync faults)."""
        self.link = wrap(self.link)

    def start(self, until_ms: int) -> None:
        self.until_ms = until_ms
        self.node.scheduler.after(self.node.core.profile.sync_interval_ms, self.tick,
                                  background=True)

    def tick(self) -> None:
        node = self.node
        if node.powered:
            self.sync_once()
        if node.clock.now() < self.until_ms:
            interval = node.core.profile.sync_interval_ms
            node.scheduler.at(min(node.clock.now() + interval, self.until_ms), self.tick,
                              background=True)

    def sync_once(self) -> None:
        node = self.node
        profile = node.core.profile
        journal = node.ports.journal
        now = node.clock.now()
        self.rounds += 1
        rows = journal.unsynced_rows(self.BATCH)
        while rows:
            stans = [r["stan"] for r in rows]
            try:
                acked = self.link.push(node.terminal_id, rows, now)
                failure = "" if acked else "no acknowledgement"
                errored = False
            except SyncError as exc:
                acked, failure, errored = False, str(exc), True
            # a push that raised never left the terminal: every firmware keeps the records
            # for the next round; only a send without acknowledgement may count as done
            marked = acked or (not errored and not profile.sync_requires_ack)
            if marked:
                journal.mark_synced(stans, now)
            node.trace.write(now, node.terminal_id, node.core.state, "sync",
                             "push" if acked else "push_failed",
                             data={"stans": stans, "acked": acked, "marked_synced": marked,
                                   "reason": failure or None})
            if not marked or len(rows) < self.BATCH:
                break
            rows = journal.unsynced_rows(self.BATCH)
        evicted = journal.evict(
            profile.journal_capacity, unsynced_too=profile.evict_unsynced,
            open_batch_from_vt=None if profile.evict_open_batch else node.batch_opened_vt)
        if evicted:
            node.trace.write(now, node.terminal_id, node.core.state, "sync", "evict",
                             data={"stans": [r["stan"] for r in evicted],
                                   "unsynced": [r["stan"] for r in evicted
                                                if r["synced_vt"] < 0]})
