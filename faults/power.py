"""``power-dip``: the power goes at a crash point (or a time) and comes back later."""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from terminal_sim.errors import ConfigurationError, PowerLost
from terminal_sim.plugins.faults import Fault, Param, parse_time_ms
from terminal_sim.plugins.registry import register

if TYPE_CHECKING:
    from terminal_sim.sim.node import TerminalNode
    from terminal_sim.sim.simulation import Simulation


@register
class PowerDip(Fault):
    """Cut the terminal's power at a crash point or at a time of day.

    What a real power cut does, and nothing more: unsynced journal writes are lost per
    the durability model (``synchronous=NORMAL`` can lose a commit, ``FULL`` cannot),
    volatile state and timers are gone, the acquirer link drops, and the terminal
    boots again after ``down_s`` seconds and runs its power-on path. ``at`` takes a
    crash-point name or a glob (``sale/after:print``, ``*/after:host_reply``); the
    point ``sale/during:print`` cuts a print in progress: the first
    ``print_fraction`` of the job's bytes reach the paper, the rest never do.
    """

    name = "power-dip"
    summary = "cut power at a crash point or time; unsynced writes lost, print truncated"
    params: ClassVar[dict[str, Param]] = {
        "at": Param(str, None, "crash point (or glob) to cut at, e.g. sale/after:print"),
        "time": Param((str, int), None, "cut at this time of day instead of a crash point"),
        "down_s": Param(int, 30, "seconds without power before the terminal boots again"),
        "print_fraction": Param(float, 0.5, "during:print: share of the job that is printed"),
        "kind": Param(str, "power", "power: the whole terminal loses power (unsynced writes "
                      "are lost); kill: only the process dies (the OS keeps them)",
                      ("power", "kill")),
    }

    @classmethod
    def check_values(cls, values: dict[str, Any]) -> None:
        if (values["at"] is None) == (values["time"] is None):
            raise ConfigurationError("at: give either 'at' (a crash point) or 'time'")
        if values["time"] is not None:
            parse_time_ms("time", values["time"])
        if not 0.0 <= values["print_fraction"] < 1.0:
            raise ConfigurationError("print_fraction: between 0 and 1 (1 would print it all)")
        if values["down_s"] < 0:
            raise ConfigurationError("down_s: cannot be negative")

    def install(self, sim: Simulation) -> None:
        nodes = self.targets(sim)
        if self.values["at"] is not None:
            for node in nodes:
                node.crash_observers.append(self._at_crash_point)
            return
        raw = self.values["time"]
        at = parse_time_ms("time", raw) - (sim.start_of_day_ms if isinstance(raw, str) else 0)
        for node in nodes:
            sim.scheduler.at(at, partial(self._cut_now, node))

    def _at_crash_point(self, node: TerminalNode, point: str) -> None:
        if not node.powered or not fnmatchcase(point, self.values["at"]):
            return
        if not self.trigger.fires(node.clock.now(), self.stream):
            return
        down = self.values["down_s"] * 1000
        if point.endswith("during:print"):
            printer = node.ports.printer
            kill = self.values["kind"] == "kill"
            printer.send = _CutMidJob(printer, self.values["print_fraction"], point, down, kill,
                                      lambda: self.record(
                                          node, "process killed mid-print" if kill
                                          else "power cut mid-print", crash_point=point))
            return
        self.record(node, "power cut" if self.values["kind"] == "power" else "process killed",
                    crash_point=point)
        raise PowerLost(point, reboot_after_ms=down, keeps_unsynced=self.values["kind"] == "kill")

    def _cut_now(self, node: TerminalNode) -> None:
        if not node.powered or not self.trigger.fires(node.clock.now(), self.stream):
            return
        point = f"time:{node.core.state}"
        self.record(node, "power cut", crash_point=point)
        node.power_cut(point, reboot_after_ms=self.values["down_s"] * 1000)


class _CutMidJob:
    """Wraps a printer port's ``send`` for one job: part of it goes out, then power is gone.

    It puts the port's own ``send`` back first, so only the job in progress is cut.
    """

    def __init__(self, printer: Any, fraction: float, point: str, down_ms: int, kill: bool,
                 on_cut: Callable[[], object]) -> None:
        self.printer = printer
        self.inner: Callable[[bytes], None] = printer.send
        self.fraction = fraction
        self.point = point
        self.down_ms = down_ms
        self.kill = kill
        self.on_cut = on_cut

    def __call__(self, data: bytes) -> None:
        self.printer.send = self.inner
        keep = int(len(data) * self.fraction)
        self.inner(data[:keep])
        self.on_cut()
        raise PowerLost(self.point, reboot_after_ms=self.down_ms, keeps_unsynced=self.kill)
