"""Card-reader faults: ``cold-card-reader`` and ``torn-card``. Both wrap the reader port."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from terminal_sim.base.cards import Card
from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.faults import Fault, Param
from terminal_sim.plugins.host import FaultHost, FaultTerminal
from terminal_sim.plugins.ports import CardReader, ReadResult


class ColdCardReader(Fault):
    """A card reader in the cold: below ``threshold_c`` reads fail and slow down.

    The temperature starts at ``temperature_c`` (at ``from``, or at the start of the
    run) and warms by ``warming_per_hour``. Each degree below the threshold adds
    ``failure_per_degree`` to the chance that a read fails (capped at ``max_failure``)
    and ``slow_ms_per_degree`` to the read time. A naive terminal prints a "card
    unreadable" slip for every failed read, with no transaction behind it; the customer
    tries again.
    """

    name = "cold-card-reader"
    summary = "reads fail and slow down below a temperature; naive terminals print error slips"
    params: ClassVar[dict[str, Param]] = {
        "temperature_c": Param(float, -15.0, "temperature of the reader at the start",
                               explore=(-30, 5)),
        "warming_per_hour": Param(float, 0.0, "degrees the reader warms per hour", explore=(0, 5)),
        "threshold_c": Param(float, -5.0, "below this temperature reads start failing",
                             explore=(-10, 0)),
        "failure_per_degree": Param(float, 0.06, "added read-failure chance per degree below",
                                    explore=(0.01, 0.2)),
        "max_failure": Param(float, 0.9, "read-failure chance never exceeds this",
                             explore=(0.1, 1.0)),
        "slow_ms_per_degree": Param(int, 120, "added read time per degree below", explore=(0, 300)),
    }

    @classmethod
    def check_values(cls, values: dict[str, Any]) -> None:
        for key in ("failure_per_degree", "max_failure"):
            if not 0.0 <= values[key] <= 1.0:
                raise ConfigurationError(f"{key}: a probability between 0 and 1")

    def install(self, host: FaultHost) -> None:
        start = self.trigger.window[0] or 0
        for terminal in self.targets(host):
            terminal.wrap_card_reader(partial(_ColdReader, self, start_ms=start,
                                              terminal=terminal))

    def temperature(self, now_ms: int, start_ms: int) -> float:
        hours = max(0, now_ms - start_ms) / 3_600_000
        return float(self.values["temperature_c"] + self.values["warming_per_hour"] * hours)


class _ColdReader:
    """A card reader in the cold, around the reader it wraps."""

    def __init__(self, fault: ColdCardReader, inner: CardReader, *, start_ms: int,
                 terminal: FaultTerminal) -> None:
        self.fault = fault
        self.inner = inner
        self.start_ms = start_ms
        self.terminal = terminal

    def read(self, card: Card, now: int) -> ReadResult:
        result = self.inner.read(card, now)
        fault = self.fault
        values = fault.values
        temperature = fault.temperature(now, self.start_ms)
        below = values["threshold_c"] - temperature
        if below <= 0 or not fault.trigger.fires(now, fault.stream):
            return result
        delay = result.delay_ms + int(below * values["slow_ms_per_degree"])
        chance = min(values["max_failure"], below * values["failure_per_degree"])
        if fault.stream.chance(chance):
            fault.record(self.terminal, "card read failed", temperature_c=round(temperature, 1),
                         failure_chance=round(chance, 3))
            return ReadResult(delay, None, "CARD READ ERROR")
        return ReadResult(delay, result.card, result.reason)


class TornCard(Fault):
    """The card is pulled away mid-read: the read fails with "card removed".

    Each read is an opportunity (use ``nth``, ``probability``, ``from``/``until``).
    """

    name = "torn-card"
    summary = "the card is pulled away mid-read; the read fails"
    params: ClassVar[dict[str, Param]] = {
        "after_ms": Param(int, 150, "how long the read ran before the card left", low=0,
                          explore=(0, 2_000)),
    }

    def install(self, host: FaultHost) -> None:
        for terminal in self.targets(host):
            terminal.wrap_card_reader(partial(_TornReader, self, terminal=terminal))


class _TornReader:
    """A read that the customer cuts short, around the reader it wraps."""

    def __init__(self, fault: TornCard, inner: CardReader, *, terminal: FaultTerminal
                 ) -> None:
        self.fault = fault
        self.inner = inner
        self.terminal = terminal

    def read(self, card: Card, now: int) -> ReadResult:
        fault = self.fault
        if fault.trigger.fires(now, fault.stream):
            fault.record(self.terminal, "card pulled mid-read")
            return ReadResult(fault.values["after_ms"], None, "CARD REMOVED")
        return self.inner.read(card, now)
