"""``sync-failure``: the terminal-to-back-office sync fails, loses batches, or lags."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from terminal_sim.plugins.faults import Fault, Param
from terminal_sim.plugins.host import FaultHost, FaultTerminal
from terminal_sim.plugins.ports import BackOfficeLink, SyncError


class SyncFailure(Fault):
    """Break the back-office sync while the trigger holds (``from``/``until``, ``nth``...).

    Each push of a batch is an opportunity. Modes:

    * ``fail``: the back office is unreachable; the terminal sees the error and keeps
      the records for the next round (until local eviction drops them).
    * ``drop``: the batch is lost in transit and no acknowledgement comes; firmware that
      marks records synced when it sends them never sends them again.
    * ``lag``: the batch arrives ``lag_s`` later; acknowledged only then. A late batch
      that meets an unreachable back office (another ``sync-failure`` stacked inside
      this one) is lost on the way like a dropped one: nobody waits for it.

    With a small ``journal_capacity`` and ``evict_unsynced`` (profile settings), records
    are evicted from the terminal before they ever reach the back office: truly lost.
    """

    name = "sync-failure"
    summary = "terminal-to-back-office sync fails, drops batches or lags for a window"
    params: ClassVar[dict[str, Param]] = {
        "mode": Param(str, "fail", "fail | drop | lag", ("fail", "drop", "lag")),
        "lag_s": Param(int, 600, "lag mode: seconds a batch takes to arrive", explore=(0, 3_600)),
    }

    def install(self, host: FaultHost) -> None:
        for terminal in self.targets(host):
            terminal.wrap_backoffice_link(partial(_BrokenLink, fault=self, terminal=terminal,
                                                  host=host))


class _BrokenLink:
    """Wraps the sync agent's link to the back office: batches fail, vanish or lag."""

    def __init__(self, inner: BackOfficeLink, *, fault: SyncFailure, terminal: FaultTerminal,
                 host: FaultHost) -> None:
        self.fault = fault
        self.inner = inner
        self.terminal = terminal
        self.host = host

    def push(self, terminal_id: str, rows: list[dict[str, Any]], now: int) -> bool:
        fault = self.fault
        if not fault.trigger.fires(now, fault.stream):
            return self.inner.push(terminal_id, rows, now)
        stans = [r["stan"] for r in rows]
        mode = fault.values["mode"]
        fault.record(self.terminal, f"sync {mode}", stans=stans)
        if mode == "fail":
            raise SyncError("back office unreachable")
        if mode == "lag":
            batch = [dict(r) for r in rows]
            arrive = now + fault.values["lag_s"] * 1000
            self.host.at(arrive, partial(self._arrive_late, terminal_id, batch, arrive))
        return False

    def _arrive_late(self, terminal_id: str, batch: list[dict[str, Any]], now: int) -> None:
        # nobody waits for this acknowledgement, so nobody can be told it failed: a batch
        # that arrives to find the back office unreachable is lost in transit (records a
        # firmware that waits for acknowledgements still holds go in a later round)
        try:
            self.inner.push(terminal_id, batch, now)
        except SyncError as exc:
            self.fault.record(self.terminal, "sync lag lost",
                              stans=[r["stan"] for r in batch], reason=str(exc))
