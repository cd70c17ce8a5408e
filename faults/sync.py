"""``sync-failure``: the terminal-to-back-office sync fails, loses batches, or lags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from terminal_sim.plugins.faults import Fault, Param
from terminal_sim.plugins.registry import register
from terminal_sim.sim.sync import BackOfficeLink, SyncError

if TYPE_CHECKING:
    from terminal_sim.sim.node import TerminalNode
    from terminal_sim.sim.simulation import Simulation


@register
class SyncFailure(Fault):
    """Break the back-office sync while the trigger holds (``from``/``until``, ``nth``...).

    Each push of a batch is an opportunity. Modes:

    * ``fail``: the back office is unreachable; the terminal sees the error and keeps
      the records for the next round (until local eviction drops them).
    * ``drop``: the batch is lost in transit and no acknowledgement comes; firmware that
      marks records synced when it sends them never sends them again.
    * ``lag``: the batch arrives ``lag_s`` later; acknowledged only then.

    With a small ``journal_capacity`` and ``evict_unsynced`` (profile settings), records
    are evicted from the terminal before they ever reach the back office: truly lost.
    """

    name = "sync-failure"
    summary = "terminal-to-back-office sync fails, drops batches or lags for a window"
    params: ClassVar[dict[str, Param]] = {
        "mode": Param(str, "fail", "fail | drop | lag", ("fail", "drop", "lag")),
        "lag_s": Param(int, 600, "lag mode: seconds a batch takes to arrive"),
    }

    def install(self, sim: Simulation) -> None:
        for node in self.targets(sim):
            if node.sync is not None:
                node.sync.link = _BrokenLink(self, node.sync.link, node, sim)


class _BrokenLink:
    def __init__(self, fault: SyncFailure, inner: BackOfficeLink, node: TerminalNode,
                 sim: Any) -> None:
        self.fault = fault
        self.inner = inner
        self.node = node
        self.sim = sim

    def push(self, terminal_id: str, rows: list[dict[str, Any]], now: int) -> bool:
        fault = self.fault
        if not fault.trigger.fires(now, fault.stream):
            return self.inner.push(terminal_id, rows, now)
        stans = [r["stan"] for r in rows]
        mode = fault.values["mode"]
        fault.record(self.node, f"sync {mode}", stans=stans)
        if mode == "fail":
            raise SyncError("back office unreachable")
        if mode == "lag":
            batch = [dict(r) for r in rows]
            arrive = now + fault.values["lag_s"] * 1000
            self.sim.scheduler.at(arrive, lambda: self.inner.push(terminal_id, batch, arrive))
        return False
