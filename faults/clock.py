"""``clock-jump``: the terminal's real-time clock jumps (a dead RTC battery, a bad NTP
answer). Virtual time goes on; the calendar time the terminal shows does not."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any, ClassVar

from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.faults import Fault, Param, parse_time_ms
from terminal_sim.plugins.host import FaultHost, FaultTerminal
from terminal_sim.plugins.ports import TerminalClock


class SkewedClock:
    """Wraps a terminal's clock: virtual time goes on, the calendar it shows is offset."""

    def __init__(self, inner: TerminalClock) -> None:
        self.inner = inner
        self.offset = dt.timedelta(0)

    def now(self) -> int:
        return self.inner.now()

    def wall(self) -> dt.datetime:
        return self.inner.wall() + self.offset


class ClockJump(Fault):
    """At ``time`` the terminal's clock jumps by ``jump_s`` seconds (negative: back).
    Receipts, journal timestamps and ISO 8583 fields 7/12/13 show the wrong time."""

    name = "clock-jump"
    summary = "the terminal's calendar clock jumps forward or back"
    params: ClassVar[dict[str, Param]] = {
        "time": Param((str, int), None, "time of day of the jump", vocabulary="time"),
        "jump_s": Param(int, -86_400, "seconds the clock jumps by", explore=(-86_400, 86_400)),
    }

    @classmethod
    def check_values(cls, values: dict[str, Any]) -> None:
        if values["time"] is None:
            raise ConfigurationError("time: when does the clock jump? e.g. '12:00'")
        parse_time_ms("time", values["time"])

    def install(self, host: FaultHost) -> None:
        raw = self.values["time"]
        at = parse_time_ms("time", raw) - (host.start_of_day_ms if isinstance(raw, str) else 0)
        for terminal in self.targets(host):
            clock = terminal.wrap_clock(SkewedClock)
            host.at(at, partial(self._jump, terminal, clock))

    def _jump(self, terminal: FaultTerminal, clock: SkewedClock) -> None:
        if not self.trigger.fires(terminal.now(), self.stream):
            return
        clock.offset += dt.timedelta(seconds=self.values["jump_s"])
        self.record(terminal, "clock jumped", jump_s=self.values["jump_s"],
                    shows=clock.wall().isoformat(timespec="seconds"))
