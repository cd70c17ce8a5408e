"""``operator-reprint``: the admin menu's print key, pressed by staff or an intruder."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from terminal_sim.base.money import CURRENCIES, Money
from terminal_sim.core.events import ReprintRequested
from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.faults import Fault, Param, parse_time_ms
from terminal_sim.plugins.host import FaultHost, FaultTerminal


class OperatorReprint(Fault):
    """Someone presses the print key in the admin menu ``count`` times, every
    ``interval_s`` seconds from ``time``. With a slip in memory the terminal reprints it
    as a DUPLICATE; with none (after a reboot, before the first sale) field firmware
    prints its slip template for the ``amount`` keyed in: paper that looks like a sale
    and has no transaction behind it. Robust firmware refuses.
    """

    name = "operator-reprint"
    summary = "print key pressed in the admin menu, with or without a sale"
    params: ClassVar[dict[str, Param]] = {
        "time": Param((str, int), None, "time of day of the first press", vocabulary="time"),
        "count": Param(int, 1, "how many presses", explore=(1, 5)),
        "interval_s": Param(int, 60, "seconds between presses", explore=(1, 600)),
        "amount": Param(int, None, "minor units keyed before pressing print (none: blank)",
                        explore=(1, 50_000)),
        "currency": Param(str, "EUR", "currency of the keyed amount"),
    }

    #: virtual time of the last press (known once installed)
    last_ms: int = 0

    @classmethod
    def check_values(cls, values: dict[str, Any]) -> None:
        if values["time"] is None:
            raise ConfigurationError("time: when is the key pressed? e.g. '07:45'")
        parse_time_ms("time", values["time"])
        if values["currency"] not in CURRENCIES:
            raise ConfigurationError(f"currency: unknown {values['currency']!r}")
        if values["count"] < 1:
            raise ConfigurationError("count: at least 1")

    def install(self, host: FaultHost) -> None:
        raw = self.values["time"]
        first = parse_time_ms("time", raw) - (host.start_of_day_ms if isinstance(raw, str) else 0)
        self.last_ms = first + (self.values["count"] - 1) * self.values["interval_s"] * 1000
        for terminal in self.targets(host):
            for press in range(self.values["count"]):
                at = first + press * self.values["interval_s"] * 1000
                host.at(at, partial(self._press, terminal))

    def latest_ms(self) -> int:
        return self.last_ms

    def _press(self, terminal: FaultTerminal) -> None:
        if not self.trigger.fires(terminal.now(), self.stream):
            return
        amount = self.values["amount"]
        keyed = Money(amount, self.values["currency"]) if amount is not None else None
        self.record(terminal, "print key pressed", keyed_amount=amount,
                    at_byte=terminal.printer_position)
        terminal.request(ReprintRequested(keyed))
