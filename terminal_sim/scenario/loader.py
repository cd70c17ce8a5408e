"""Scenario files: YAML in, a validated :class:`Scenario` out, or a precise error.

Every problem is a :class:`~terminal_sim.errors.ScenarioError` naming the file, the
line and the field (``workload.generate.count``): YAML syntax, unknown keys, duplicate
keys, wrong types and bad values (against :data:`~terminal_sim.scenario.schema.SCHEMA`),
then what a schema cannot say (unknown test cards or faults, unknown terminals, times
before the start).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from terminal_sim.base.cards import TEST_CARDS, Card, catalog_card
from terminal_sim.base.clock import DEFAULT_EPOCH
from terminal_sim.base.money import CURRENCIES
from terminal_sim.core.profiles import PROFILES
from terminal_sim.errors import ConfigurationError, ScenarioError
from terminal_sim.scenario.schema import SCHEMA

_COMPARISON = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*(\d+)\s*$")


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


#: Scenario files are small and flat; deeper nesting is an error, not a stack overflow.
MAX_DEPTH = 64


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as the strings they were written as, and refuses
    aliases (an alias bomb would make the duplicate-key walk explode) and deep nesting."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, f"aliases (*{event.anchor}) are not allowed in scenario files",
                event.start_mark)  # type: ignore[arg-type]
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


class _Located:
    """The YAML node tree, to answer "which line holds this path?"."""

    def __init__(self, path: str, root: yaml.Node) -> None:
        self.path = path
        self.root = root

    def node(self, keys: list[Any]) -> yaml.Node:
        node = self.root
        for key in keys:
            child = self._child(node, key)
            if child is None:
                break
            node = child
        return node

    @staticmethod
    def _child(node: yaml.Node, key: Any) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    found: yaml.Node = value_node
                    return found
        if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child: yaml.Node = node.value[key]
            return child
        return None

    def key_line(self, keys: list[Any], key: str) -> int:
        """The line of mapping key ``key`` inside the mapping at ``keys``."""
        node = self.node(keys)
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                if key_node.value == key:
                    return int(key_node.start_mark.line) + 1
        return int(node.start_mark.line) + 1

    def line(self, keys: list[Any]) -> int:
        return int(self.node(keys).start_mark.line) + 1

    def error(self, keys: list[Any], reason: str, *, line: int | None = None) -> ScenarioError:
        dotted = ".".join(str(k) for k in keys) or "(document)"
        return ScenarioError(self.path, line if line is not None else self.line(keys), dotted,
                             reason)


def _check_duplicates(located: _Located, node: yaml.Node, keys: list[Any]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            name = key_node.value
            if name in seen:
                raise ScenarioError(located.path, key_node.start_mark.line + 1,
                                    ".".join(str(k) for k in [*keys, name]), "duplicate key")
            seen.add(name)
            _check_duplicates(located, value_node, [*keys, name])
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_duplicates(located, item, [*keys, index])


def _parse(path: str, text: str) -> tuple[_Located, Any]:
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                raise ScenarioError(path, 1, "(document)", "the file is empty")
            data = loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(p for p in (exc.context, exc.problem) if p) or "YAML syntax error"
        raise ScenarioError(path, line, "(syntax)", reason) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, None, "(syntax)", str(exc)) from None
    located = _Located(path, root)
    _check_duplicates(located, root, [])
    return located, data


# JSON Schema counts 1.0 as an integer; a scenario's integers are written as integers
_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool))
_VALIDATOR = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                          type_checker=_TYPES)(SCHEMA)


def _path_key(path: list[Any]) -> list[tuple[int, str]]:
    """A sort key for mixed int/str paths (list indexes and mapping keys)."""
    return [(0, f"{p:09d}") if isinstance(p, int) else (1, str(p)) for p in path]


def _schema_error(located: _Located, data: Any) -> ScenarioError | None:
    errors = sorted(_VALIDATOR.iter_errors(data),
                    key=lambda e: (located.line(list(e.absolute_path)),
                                   _path_key(list(e.absolute_path))))
    if not errors:
        return None
    error = errors[0]
    keys = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            known = ", ".join(sorted(allowed))
            return located.error([*keys, extra[0]], f"unknown key; known keys here: {known}",
                                 line=located.key_line(keys, extra[0]))
    if error.validator == "required":
        return located.error(keys, error.message)
    if error.validator == "oneOf" and isinstance(error.schema, dict):
        descr = error.schema.get("description")
        reason = f"{error.instance!r} is not valid" + (f": {descr}" if descr else "")
        return located.error(keys, reason)
    return located.error(keys, error.message)


def _time_ms(value: int | str, start: dt.datetime) -> int:
    if isinstance(value, int):
        return value * 1000
    parts = [int(p) for p in value.split(":")]
    hours, minutes, seconds = [*parts, 0][:3]
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = midnight + dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return int((moment - start).total_seconds() * 1000)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(name, None, "(file)", f"cannot read: {exc}") from None
    return parse_scenario(text, name)


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Validate scenario ``text`` (``path`` only names it in errors)."""
    located, data = _parse(path, text)
    problem = _schema_error(located, data)
    if problem is not None:
        raise problem
    return _build(located, data, text)


def _build(located: _Located, data: dict[str, Any], text: str) -> Scenario:
    from terminal_sim.plugins.registry import (  # the fault layer owns them
        fault_class,
        known_fault_names,
    )

    profile = data.get("profile", "naive")
    if profile not in PROFILES:
        raise located.error(["profile"], f"unknown profile {profile!r}; choose one of: "
                            f"{', '.join(PROFILES)}")
    settings = dict(data.get("profile_settings", {}))
    try:
        PROFILES[profile].with_settings(**settings)
    except Exception as exc:  # ConfigurationError or a TypeError of a bad value
        raise located.error(["profile_settings"], str(exc)) from None

    start_text = data.get("start")
    start = DEFAULT_EPOCH
    if start_text is not None:
        try:
            start = dt.datetime.fromisoformat(start_text)
        except ValueError:
            raise located.error(["start"], f"not a date and time: {start_text!r}") from None

    terminals_data = data.get("terminals") or [{"id": "T0000001"}]
    terminals = []
    seen_ids: set[str] = set()
    for index, item in enumerate(terminals_data):
        if item["id"] in seen_ids:
            raise located.error(["terminals", index, "id"], f"terminal {item['id']} twice")
        seen_ids.add(item["id"])
        terminals.append(TerminalSpec(
            item["id"],
            item.get("merchant_id", f"M{index + 1:014d}"),
            item.get("merchant_name", "TERMINAL-SIM DEMO SHOP"),
        ))
    default_terminal = terminals[0].id

    def terminal_of(keys: list[Any], item: dict[str, Any]) -> str:
        tid = item.get("terminal", default_terminal)
        if tid not in seen_ids:
            raise located.error([*keys, "terminal"], f"no terminal {tid!r} in terminals")
        return str(tid)

    def time_of(keys: list[Any], value: int | str) -> int:
        at = _time_ms(value, start)
        if at < 0:
            raise located.error(keys, f"{value!r} is before the start {start:%H:%M:%S}")
        return at

    def currency_of(keys: list[Any], value: str) -> str:
        if value not in CURRENCIES:
            raise located.error(keys, f"unknown currency {value!r}; known: {', '.join(CURRENCIES)}")
        return value

    def card_of(keys: list[Any], name: str) -> Card:
        try:
            known = catalog_card(name)
        except ValueError as exc:
            raise located.error(keys, str(exc)) from None
        return Card(known.pan, label=known.name)

    workload = data.get("workload", {})
    sales = []
    for section, kind in (("sales", "sale"), ("refunds", "refund")):
        for index, item in enumerate(workload.get(section, [])):
            keys = ["workload", section, index]
            sales.append(SaleSpec(
                time_of([*keys, "at"], item["at"]),
                terminal_of(keys, item),
                item["amount"],
                currency_of([*keys, "currency"], item.get("currency", "EUR")),
                card_of([*keys, "card"], item.get("card", "visa-approve")),
                kind=kind,
            ))
    voids = []
    for index, item in enumerate(workload.get("voids", [])):
        keys = ["workload", "voids", index]
        voids.append(VoidSpec(time_of([*keys, "at"], item["at"]), terminal_of(keys, item)))

    generate = None
    gen = workload.get("generate")
    if gen is not None:
        keys = ["workload", "generate"]
        interval = tuple(gen.get("interval_s", [20, 240]))
        amount = tuple(gen.get("amount", [100, 25_000]))
        for label, pair in (("interval_s", interval), ("amount", amount)):
            if pair[0] > pair[1]:
                raise located.error([*keys, label], f"low {pair[0]} is above high {pair[1]}")
        if interval[0] < 1:
            raise located.error([*keys, "interval_s"], "sales need at least 1 s between them")
        cards = gen.get("cards") or {"visa-approve": 6, "mastercard-approve": 3,
                                     "amex-approve": 1}
        for card_name in cards:
            card_of([*keys, "cards", card_name], card_name)
        if sum(cards.values()) == 0:
            raise located.error([*keys, "cards"], "the weights add up to zero")
        generate = GenerateSpec(
            count=gen["count"],
            start_ms=time_of([*keys, "start"], gen.get("start", 0)),
            interval_s=(int(interval[0]), int(interval[1])),
            amount=(int(amount[0]), int(amount[1])),
            currency=currency_of([*keys, "currency"], gen.get("currency", "EUR")),
            cards=tuple(cards.items()),
            void_rate=float(gen.get("void_rate", 0.0)),
        )

    known_faults = known_fault_names()
    faults = []
    for index, item in enumerate(data.get("faults", [])):
        fault_name = item["name"]
        if fault_name not in known_faults:
            listed = ", ".join(known_faults) or "none are registered yet"
            raise located.error(["faults", index, "name"],
                                f"unknown fault {fault_name!r}; known: {listed}")
        params = {k: v for k, v in item.items() if k != "name"}
        for target in params.get("terminals") or []:
            if target not in seen_ids:
                raise located.error(["faults", index, "terminals"],
                                    f"no terminal {target!r} in terminals")
        try:
            fault_class(fault_name).validate(params)
        except ConfigurationError as exc:
            param = str(exc).split(":", 1)[0]
            where: list[Any] = ["faults", index]
            if param in params:
                where.append(param)
            raise located.error(where, str(exc).split(": ", 1)[-1]) from None
        faults.append(FaultSpec(fault_name, params, located.line(["faults", index])))

    expect = []
    for code, value in data.get("expect", {}).items():
        if isinstance(value, int):
            expect.append(Expectation(code, "==", value))
        else:
            match = _COMPARISON.match(value)
            if match is None:  # the schema pattern already guarantees this
                raise located.error(["expect", code], f"not a comparison: {value!r}")
            expect.append(Expectation(code, match.group(1), int(match.group(2))))

    return Scenario(
        path=located.path,
        name=data["name"],
        description=data.get("description", ""),
        seed=data["seed"],
        profile=profile,
        profile_settings=settings,
        start=start,
        terminals=tuple(terminals),
        sales=tuple(sales),
        voids=tuple(voids),
        generate=generate,
        faults=tuple(faults),
        expect=tuple(expect),
        source=text,
    )


__all__ = [
    "TEST_CARDS",
    "Expectation",
    "FaultSpec",
    "GenerateSpec",
    "SaleSpec",
    "Scenario",
    "TerminalSpec",
    "VoidSpec",
    "load_scenario",
    "parse_scenario",
]
