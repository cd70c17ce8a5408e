"""``clock-jump``: the terminal's real-time clock jumps (a dead RTC battery, a bad NTP
answer). Virtual time goes on; the calendar time the terminal shows does not."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.faults import Fault, Param, parse_time_ms
from terminal_sim.plugins.registry import register

if TYPE_CHECKING:
    from terminal_sim.sim.node import TerminalNode
    from terminal_sim.sim.simulation import Simulation


class SkewedClock:
    """A terminal's own view of the calendar: the shared virtual clock plus an offset."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.offset = dt.timedelta(0)

    def now(self) -> int:
        return int(self.inner.now())

    def advance_to(self, t_ms: int) -> None:
        self.inner.advance_to(t_ms)

    def wall(self) -> dt.datetime:
        shown: dt.datetime = self.inner.wall() + self.offset
        return shown


@register
class ClockJump(Fault):
    """At ``time`` the terminal's clock jumps by ``jump_s`` seconds (negative: back).
    Receipts, journal timestamps and ISO 8583 fields 7/12/13 show the wrong time."""

    name = "clock-jump"
    summary = "the terminal's calendar clock jumps forward or back"
    params: ClassVar[dict[str, Param]] = {
        "time": Param((str, int), None, "time of day of the jump"),
        "jump_s": Param(int, -86_400, "seconds the clock jumps by"),
    }

    @classmethod
    def check_values(cls, values: dict[str, Any]) -> None:
        if values["time"] is None:
            raise ConfigurationError("time: when does the clock jump? e.g. '12:00'")
        parse_time_ms("time", values["time"])

    def install(self, sim: Simulation) -> None:
        raw = self.values["time"]
        at = parse_time_ms("time", raw) - (sim.start_of_day_ms if isinstance(raw, str) else 0)
        for node in self.targets(sim):
            clock = SkewedClock(node.clock)
            node.clock = clock  # type: ignore[assignment]
            sim.scheduler.at(at, partial(self._jump, node, clock))

    def _jump(self, node: TerminalNode, clock: SkewedClock) -> None:
        if not self.trigger.fires(node.clock.now(), self.stream):
            return
        clock.offset += dt.timedelta(seconds=self.values["jump_s"])
        self.record(node, "clock jumped", jump_s=self.values["jump_s"],
                    shows=clock.wall().isoformat(timespec="seconds"))
