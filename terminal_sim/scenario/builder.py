"""From a scenario's data (already valid against the schema) to a :class:`Scenario`.

:class:`ScenarioBuilder` checks what a schema cannot say (unknown profiles, test cards,
currencies and faults, unknown terminals, times before the start, fault parameters the
fault refuses) and reports each problem through the locator it is given, which names
the file, the line and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Protocol

from terminal_sim.base.cards import Card, catalog_card
from terminal_sim.base.clock import DEFAULT_EPOCH
from terminal_sim.base.money import CURRENCIES
from terminal_sim.core.profiles import PROFILES
from terminal_sim.errors import ConfigurationError, ScenarioError
from terminal_sim.scenario.model import (
    CashierSpec,
    Expectation,
    FaultSpec,
    GenerateSpec,
    SaleSpec,
    Scenario,
    TerminalSpec,
    VoidSpec,
)
from terminal_sim.scenario.schema import MAX_SALES

if TYPE_CHECKING:
    from terminal_sim.plugins.faults import Fault

__all__ = ["Locator", "ScenarioBuilder", "time_ms"]

_COMPARISON = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*(\d+)\s*$")
#: The cards a generated workload draws from, with their weights, when it names none.
_DEFAULT_CARDS = {"visa-approve": 6, "mastercard-approve": 3, "amex-approve": 1}


class Locator(Protocol):
    """Where a path of keys sits in the scenario's file."""

    path: str

    def line(self, keys: list[Any]) -> int: ...

    def error(self, keys: list[Any], reason: str, *, line: int | None = None
              ) -> ScenarioError: ...


def time_ms(value: int | str, start: dt.datetime) -> int:
    """Seconds since the start (an int), or a time of day ``"HH:MM[:SS]"`` on the start's
    day, as milliseconds since the start."""
    if isinstance(value, int):
        return value * 1000
    parts = [int(p) for p in value.split(":")]
    hours, minutes, seconds = [*parts, 0][:3]
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = midnight + dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return int((moment - start).total_seconds() * 1000)


class ScenarioBuilder:
    """Builds one :class:`Scenario` from ``data``; ``text`` is kept as its source."""

    def __init__(self, located: Locator, data: dict[str, Any], text: str) -> None:
        self.located = located
        self.data = data
        self.text = text
        self.start = DEFAULT_EPOCH
        self.terminal_ids: set[str] = set()
        self.default_terminal = ""

    def build(self) -> Scenario:
        data = self.data
        profile, settings = self._profile()
        self.start = self._start()
        terminals = self._terminals()
        workload = data.get("workload", {})
        self._check_size(workload)
        return Scenario(
            path=self.located.path,
            name=data["name"],
            description=data.get("description", ""),
            seed=data["seed"],
            profile=profile,
            profile_settings=settings,
            start=self.start,
            terminals=terminals,
            sales=self._sales(workload),
            voids=self._voids(workload),
            generate=self._generate(workload.get("generate")),
            faults=self._faults(),
            expect=self._expectations(),
            source=self.text,
            cashier=self._cashier(workload.get("cashier")),
        )

    # -- the parts -------------------------------------------------------------------------

    def _profile(self) -> tuple[str, dict[str, Any]]:
        profile = self.data.get("profile", "naive")
        if profile not in PROFILES:
            raise self.located.error(["profile"], f"unknown profile {profile!r}; choose one "
                                     f"of: {', '.join(PROFILES)}")
        settings = dict(self.data.get("profile_settings", {}))
        try:
            PROFILES[profile].with_settings(**settings)
        except (ConfigurationError, TypeError, ValueError) as exc:  # a bad name or value
            raise self.located.error(["profile_settings"], str(exc)) from None
        return profile, settings

    def _start(self) -> dt.datetime:
        start_text = self.data.get("start")
        if start_text is None:
            return DEFAULT_EPOCH
        try:
            return dt.datetime.fromisoformat(start_text)
        except ValueError:
            raise self.located.error(["start"], f"not a date and time: {start_text!r}") from None

    def _terminals(self) -> tuple[TerminalSpec, ...]:
        terminals = []
        for index, item in enumerate(self.data.get("terminals") or [{"id": "T0000001"}]):
            if item["id"] in self.terminal_ids:
                raise self.located.error(["terminals", index, "id"],
                                         f"terminal {item['id']} twice")
            self.terminal_ids.add(item["id"])
            terminals.append(TerminalSpec(
                item["id"],
                item.get("merchant_id", f"M{index + 1:014d}"),
                item.get("merchant_name", "TERMINAL-SIM DEMO SHOP"),
            ))
        self.default_terminal = terminals[0].id
        return tuple(terminals)

    def _sales(self, workload: dict[str, Any]) -> tuple[SaleSpec, ...]:
        sales = []
        for section, kind in (("sales", "sale"), ("refunds", "refund")):
            for index, item in enumerate(workload.get(section, [])):
                keys = ["workload", section, index]
                sales.append(SaleSpec(
                    self._time([*keys, "at"], item["at"]),
                    self._terminal(keys, item),
                    item["amount"],
                    self._currency([*keys, "currency"], item.get("currency", "EUR")),
                    self._card([*keys, "card"], item.get("card", "visa-approve")),
                    kind=kind,
                ))
        return tuple(sales)

    def _voids(self, workload: dict[str, Any]) -> tuple[VoidSpec, ...]:
        voids = []
        for index, item in enumerate(workload.get("voids", [])):
            keys = ["workload", "voids", index]
            voids.append(VoidSpec(self._time([*keys, "at"], item["at"]),
                                  self._terminal(keys, item)))
        return tuple(voids)

    def _generate(self, gen: dict[str, Any] | None) -> GenerateSpec | None:
        if gen is None:
            return None
        keys = ["workload", "generate"]
        interval = tuple(gen.get("interval_s", [20, 240]))
        amount = tuple(gen.get("amount", [100, 25_000]))
        for label, pair in (("interval_s", interval), ("amount", amount)):
            if pair[0] > pair[1]:
                raise self.located.error([*keys, label],
                                         f"low {pair[0]} is above high {pair[1]}")
        if interval[0] < 1:
            raise self.located.error([*keys, "interval_s"],
                                     "sales need at least 1 s between them")
        cards = gen.get("cards") or _DEFAULT_CARDS
        for card_name in cards:
            self._card([*keys, "cards", card_name], card_name)
        if sum(cards.values()) == 0:
            raise self.located.error([*keys, "cards"], "the weights add up to zero")
        return GenerateSpec(
            count=gen["count"],
            start_ms=self._time([*keys, "start"], gen.get("start", 0)),
            interval_s=(int(interval[0]), int(interval[1])),
            amount=(int(amount[0]), int(amount[1])),
            currency=self._currency([*keys, "currency"], gen.get("currency", "EUR")),
            cards=tuple(cards.items()),
            void_rate=float(gen.get("void_rate", 0.0)),
        )

    def _check_size(self, workload: dict[str, Any]) -> None:
        """The generated sales (``count`` at each terminal) and the listed sales, refunds
        and voids fit in one run (:data:`~terminal_sim.scenario.schema.MAX_SALES`)."""
        count = (workload.get("generate") or {}).get("count", 0)
        listed = sum(len(workload.get(k, [])) for k in ("sales", "refunds", "voids"))
        total = count * len(self.terminal_ids) + listed
        if total > MAX_SALES:
            raise self.located.error(
                ["workload", "generate", "count"] if count else ["workload"],
                f"{count:,} sales at each of {len(self.terminal_ids):,} terminals"
                + (f" plus {listed:,} listed" if listed else "")
                + f" is {total:,} sale intents, more than the maximum {MAX_SALES:,} of one "
                "run: a sale costs ~1 ms and ~21 KB until the run is reconciled; lower "
                "count or split the day into several runs")

    def _cashier(self, item: dict[str, Any] | None) -> CashierSpec:
        if item is None:
            return CashierSpec()
        default = CashierSpec()
        low, high = item.get("retry_after_s", default.retry_after_s)
        if low > high:
            raise self.located.error(["workload", "cashier", "retry_after_s"],
                                     f"low {low} is above high {high}")
        return CashierSpec(retry=bool(item.get("retry", False)),
                           retry_after_s=(int(low), int(high)),
                           max_retries=int(item.get("max_retries", default.max_retries)))

    def _faults(self) -> tuple[FaultSpec, ...]:
        from terminal_sim.plugins.registry import (  # the fault layer owns them
            fault_class,
            known_fault_names,
        )

        known_faults = known_fault_names()
        faults = []
        for index, item in enumerate(self.data.get("faults", [])):
            fault_name = item["name"]
            if fault_name not in known_faults:
                listed = ", ".join(known_faults) or "none are registered yet"
                raise self.located.error(["faults", index, "name"],
                                         f"unknown fault {fault_name!r}; known: {listed}")
            params = {k: v for k, v in item.items() if k != "name"}
            for target in params.get("terminals") or []:
                if target not in self.terminal_ids:
                    raise self.located.error(["faults", index, "terminals"],
                                             f"no terminal {target!r} in terminals")
            cls = fault_class(fault_name)
            try:
                cls.validate(params)
            except ConfigurationError as exc:
                param = str(exc).split(":", 1)[0]
                where: list[Any] = ["faults", index]
                if param in params:
                    where.append(param)
                raise self.located.error(where, str(exc).split(": ", 1)[-1]) from None
            self._check_fault_times(index, cls, params)
            faults.append(FaultSpec(fault_name, params, self.located.line(["faults", index])))
        return tuple(faults)

    def _check_fault_times(self, index: int, cls: type[Fault], params: dict[str, Any]
                           ) -> None:
        """A fault's times of day (params of the ``time`` vocabulary it is given) are not
        before the start: they would silently mean time zero."""
        start = self.start
        early = cls.times_before(params, (start.hour * 3600 + start.minute * 60
                                          + start.second) * 1000)
        if not early:
            return
        key = early[0]
        raise self.located.error(
            ["faults", index, key],
            f"{key} {params[key]!r} is before the start {start:%H:%M:%S} (a time of day "
            "is on the start's day, 24:00-47:59 the next; an earlier one would silently "
            "mean the start)")

    def _expectations(self) -> tuple[Expectation, ...]:
        expect = []
        for code, value in self.data.get("expect", {}).items():
            if isinstance(value, int):
                expect.append(Expectation(code, "==", value))
                continue
            match = _COMPARISON.match(value)
            if match is None:  # the schema pattern already guarantees this
                raise self.located.error(["expect", code], f"not a comparison: {value!r}")
            expect.append(Expectation(code, match.group(1), int(match.group(2))))
        return tuple(expect)

    # -- one value -------------------------------------------------------------------------

    def _terminal(self, keys: list[Any], item: dict[str, Any]) -> str:
        tid = item.get("terminal", self.default_terminal)
        if tid not in self.terminal_ids:
            raise self.located.error([*keys, "terminal"], f"no terminal {tid!r} in terminals")
        return str(tid)

    def _time(self, keys: list[Any], value: int | str) -> int:
        at = time_ms(value, self.start)
        if at < 0:
            raise self.located.error(keys, f"{value!r} is before the start "
                                     f"{self.start:%H:%M:%S}")
        return at

    def _currency(self, keys: list[Any], value: str) -> str:
        if value not in CURRENCIES:
            raise self.located.error(keys, f"unknown currency {value!r}; known: "
                                     f"{', '.join(CURRENCIES)}")
        return value

    def _card(self, keys: list[Any], name: str) -> Card:
        try:
            known = catalog_card(name)
        except (ConfigurationError, ValueError) as exc:  # unknown test card
            raise self.located.error(keys, str(exc)) from None
        return Card(known.pan, label=known.name)
