"""``power-dip``: the power goes at a crash point (or a time) and comes back later."""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase
from functools import partial
from typing import Any, ClassVar

from terminal_sim.errors import ConfigurationError, PowerLost
from terminal_sim.plugins.faults import Fault, Param, parse_time_ms
from terminal_sim.plugins.host import FaultHost, FaultTerminal
from terminal_sim.plugins.ports import PrinterLine


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
        "at": Param(str, None, "crash point (or glob) to cut at, e.g. sale/after:print",
                    vocabulary="crash_point"),
        "time": Param((str, int), None, "cut at this time of day instead of a crash point",
                      vocabulary="time"),
        "down_s": Param(int, 30, "seconds without power before the terminal boots again",
                        explore=(0, 600)),
        "print_fraction": Param(float, 0.5, "during:print: share of the job that is printed",
                                explore=(0.0, 0.95)),
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

    def install(self, host: FaultHost) -> None:
        terminals = self.targets(host)
        if self.values["at"] is not None:
            for terminal in terminals:
                terminal.observe_crash_points(partial(self._at_crash_point, terminal))
            return
        raw = self.values["time"]
        at = parse_time_ms("time", raw) - (host.start_of_day_ms if isinstance(raw, str) else 0)
        for terminal in terminals:
            host.at(at, partial(self._cut_now, terminal))

    def _at_crash_point(self, terminal: FaultTerminal, point: str) -> None:
        if not terminal.powered or not fnmatchcase(point, self.values["at"]):
            return
        if not self.trigger.fires(terminal.now(), self.stream):
            return
        down = self.values["down_s"] * 1000
        if point.endswith("during:print"):
            kill = self.values["kind"] == "kill"
            terminal.wrap_printer_line(partial(
                _CutMidJob, terminal=terminal, fraction=self.values["print_fraction"],
                point=point, down_ms=down, kill=kill,
                on_cut=lambda: self.record(
                    terminal, "process killed mid-print" if kill else "power cut mid-print",
                    crash_point=point)))
            return
        self.record(terminal,
                    "power cut" if self.values["kind"] == "power" else "process killed",
                    crash_point=point)
        raise PowerLost(point, reboot_after_ms=down, keeps_unsynced=self.values["kind"] == "kill")

    def _cut_now(self, terminal: FaultTerminal) -> None:
        if not terminal.powered or not self.trigger.fires(terminal.now(), self.stream):
            return
        point = f"time:{terminal.state}"
        self.record(terminal, "power cut", crash_point=point)
        terminal.power_cut(point, reboot_after_ms=self.values["down_s"] * 1000)


class _CutMidJob:
    """Wraps the printer line for one job: part of it goes out, then power is gone.

    It takes itself off the line first, so only the job in progress is cut.
    """

    def __init__(self, inner: PrinterLine, *, terminal: FaultTerminal, fraction: float,
                 point: str, down_ms: int, kill: bool, on_cut: Callable[[], object]) -> None:
        self.inner = inner
        self.terminal = terminal
        self.fraction = fraction
        self.point = point
        self.down_ms = down_ms
        self.kill = kill
        self.on_cut = on_cut

    def send(self, data: bytes) -> None:
        self.terminal.unwrap_printer_line(self)
        keep = int(len(data) * self.fraction)
        self.inner.send(data[:keep])
        self.on_cut()
        raise PowerLost(self.point, reboot_after_ms=self.down_ms, keeps_unsynced=self.kill)
