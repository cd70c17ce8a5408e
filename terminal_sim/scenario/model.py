"""What a scenario is, once validated: terminals, workload, faults and expectations.

:func:`terminal_sim.scenario.loader.parse_scenario` makes a :class:`Scenario` from YAML;
the harness and the session build them in code. All are frozen values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from terminal_sim.base.cards import Card

__all__ = ["CashierSpec", "Expectation", "FaultSpec", "GenerateSpec", "SaleSpec", "Scenario",
           "TerminalSpec", "VoidSpec"]


@dataclass(frozen=True, slots=True)
class TerminalSpec:
    id: str
    merchant_id: str
    merchant_name: str


@dataclass(frozen=True, slots=True)
class SaleSpec:
    at_ms: int
    terminal: str
    amount_minor: int
    currency: str
    card: Card = field(repr=False)
    kind: str = "sale"  # sale | refund


@dataclass(frozen=True, slots=True)
class VoidSpec:
    at_ms: int
    terminal: str


@dataclass(frozen=True, slots=True)
class GenerateSpec:
    count: int
    start_ms: int
    interval_s: tuple[int, int]
    amount: tuple[int, int]
    currency: str
    cards: tuple[tuple[str, int], ...]
    void_rate: float


@dataclass(frozen=True, slots=True)
class CashierSpec:
    """What the cashier does when a sale ends without an approval on paper.

    With ``retry`` the cashier presents the same purchase again as a new sale
    (:class:`terminal_sim.sim.workload.Cashier` says exactly when), ``retry_after_s``
    later (drawn per retry), at most ``max_retries`` times per purchase. The default
    cashier does not retry (only the customer re-presents an unread card).
    """

    retry: bool = False
    retry_after_s: tuple[int, int] = (20, 120)
    max_retries: int = 2


@dataclass(frozen=True, slots=True)
class FaultSpec:
    name: str
    params: dict[str, Any]
    line: int | None


@dataclass(frozen=True, slots=True)
class Expectation:
    """``code`` compared with ``op`` to ``value``: ``STRAY_RECEIPT >= 1``."""

    code: str
    op: str
    value: int

    def holds(self, actual: int) -> bool:
        return {
            "==": actual == self.value,
            "!=": actual != self.value,
            ">=": actual >= self.value,
            "<=": actual <= self.value,
            ">": actual > self.value,
            "<": actual < self.value,
        }[self.op]

    def describe(self) -> str:
        return f"{self.code} {self.op} {self.value}"


@dataclass(frozen=True)
class Scenario:
    path: str
    name: str
    description: str
    seed: int
    profile: str
    profile_settings: dict[str, Any]
    start: dt.datetime
    terminals: tuple[TerminalSpec, ...]
    sales: tuple[SaleSpec, ...]
    voids: tuple[VoidSpec, ...]
    generate: GenerateSpec | None
    faults: tuple[FaultSpec, ...]
    expect: tuple[Expectation, ...]
    source: str = field(default="", repr=False)
    cashier: CashierSpec = field(default_factory=CashierSpec)
