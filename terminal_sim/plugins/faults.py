"""The fault protocol: a fault is data (name, trigger, parameters) plus hooks on a port.

Every fault class declares

* ``name`` (the registry key), ``summary`` (one line) and a docstring (the details
  ``pos-sim faults show NAME`` prints);
* ``params``: its parameters as :class:`Param` rows (type, default, meaning), validated
  when the scenario is loaded, so a bad value is an error naming the file and line;
* :meth:`Fault.install`, which gets the run as a :class:`~terminal_sim.plugins.host.FaultHost`
  and wraps the ports of the terminals it targets (with wrapper objects, through the
  host) or observes their crash points. It never changes the terminal core.

Common parameters every fault accepts (its *trigger*), checked at each opportunity the
fault gets (a card read, a crash point, a message, a print):

==============  ==================================================================
``terminals``   list of terminal ids the fault applies to (default: all)
``from``        time of day (``"06:00"``) or seconds after start: opportunities
                before it are ignored
``until``       time of day or seconds: opportunities from then on are ignored
``nth``         only the n-th opportunity (1-based) fires, or a list of them
``probability`` each opportunity fires with this probability, drawn from the fault's
                own seeded stream (adding a fault never perturbs the others)
``limit``       fire at most this many times (1 or more)
==============  ==================================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from terminal_sim.base.seeds import Stream
from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.host import FaultHost, FaultTerminal
from terminal_sim.plugins.vocabulary import check_vocabulary
from terminal_sim.plugins.vocabulary import parse_time_ms as parse_time_ms


class FaultParams(Protocol):
    """Where a fault's parameters come from (a scenario's fault entry)."""

    @property
    def params(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a fault.

    ``vocabulary`` says what the value names, so the loader can check it like the
    built-in faults' values: ``"crash_point"``, ``"mti"`` or ``"time"`` (see
    :mod:`terminal_sim.plugins.vocabulary`); a list value has each item checked.
    """

    kind: type | tuple[type, ...]
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    #: bounds of a number (a scenario's numbers are small; huge ones are mistakes)
    low: float = -1e9
    high: float = 1e9
    vocabulary: str = ""
    #: the range ``pos-sim explore`` draws the value from (``None``: it draws from
    #: ``choices``, or a tight ``low``..``high``, or keeps the default)
    explore: tuple[float, float] | None = None
    #: how long the fault lasts, where ``None`` means for ever (paper never refilled):
    #: the explorer always draws one, so that every explored world heals and a robust
    #: terminal can be asked to finish its work (liveness) once the faults are over
    lasting: bool = False

    def check(self, name: str, value: Any) -> Any:
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            try:
                value = float(value)
            except OverflowError:
                raise ConfigurationError(
                    f"{name}: {len(str(abs(value)))} digits is too large") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigurationError(f"{name}: expected a finite number, got {value!r}")
        if isinstance(value, bool) and bool not in kinds:
            raise ConfigurationError(f"{name}: expected {_names(kinds)}, got {value!r}")
        if not isinstance(value, kinds):
            raise ConfigurationError(f"{name}: expected {_names(kinds)}, got {value!r}")
        if isinstance(value, int | float) and not isinstance(value, bool) and not (
                self.low <= value <= self.high):
            raise ConfigurationError(f"{name}: {value!r} is outside {self.low:g} to "
                                     f"{self.high:g}")
        if self.choices and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise ConfigurationError(f"{name}: {value!r} is not one of {allowed}")
        if self.vocabulary:
            check_vocabulary(self.vocabulary, name, value)
        return value


def _names(kinds: Sequence[type]) -> str:
    return " or ".join(k.__name__ for k in kinds)


TRIGGER_PARAMS: dict[str, Param] = {
    "terminals": Param(list, None, "terminal ids the fault applies to (default: all)"),
    "from": Param((str, int), None, "ignore opportunities before this time of day",
                  vocabulary="time"),
    "until": Param((str, int), None, "ignore opportunities from this time of day on",
                   vocabulary="time"),
    "nth": Param((int, list), None, "only the n-th opportunity fires (or a list of them)"),
    "probability": Param(float, 1.0, "chance that an opportunity fires"),
    "limit": Param(int, None, "fire at most this many times", low=1),
}


@dataclass
class Trigger:
    """When a fault fires; counts opportunities and firings per fault."""

    window: tuple[int | None, int | None] = (None, None)
    nth: tuple[int, ...] = ()
    probability: float = 1.0
    limit: int | None = None
    seen: int = 0
    fired: int = 0
    #: a fault switched off (the trainer stops the cold weather) sees no opportunity
    enabled: bool = True

    def fires(self, now_ms: int, stream: Stream) -> bool:
        """Is this opportunity (at virtual time ``now_ms``) one that fires?"""
        if not self.enabled:
            return False
        start, end = self.window
        if (start is not None and now_ms < start) or (end is not None and now_ms >= end):
            return False
        self.seen += 1
        if self.nth and self.seen not in self.nth:
            return False
        if self.limit is not None and self.fired >= self.limit:
            return False
        if self.probability < 1.0 and not stream.chance(self.probability):
            return False
        self.fired += 1
        return True


class Fault:
    """Base class of every fault. Subclasses set the class variables and ``install``."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}

    def __init__(self, values: dict[str, Any], stream: Stream, *, start_offset_ms: int = 0
                 ) -> None:
        self.values = values
        self.stream = stream
        self.fired_at: list[int] = []
        self.trigger = self._trigger(values, start_offset_ms)
        self.terminals: tuple[str, ...] | None = (
            tuple(values["terminals"]) if values.get("terminals") else None)

    # -- construction and validation -----------------------------------------------------

    @classmethod
    def all_params(cls) -> dict[str, Param]:
        return {**cls.params, **TRIGGER_PARAMS}

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter, checked and with defaults filled; ``ConfigurationError`` names
        the first bad one."""
        known = cls.all_params()
        unknown = [k for k in given if k not in known]
        if unknown:
            raise ConfigurationError(
                f"{unknown[0]}: not a parameter of fault {cls.name!r}; "
                f"parameters: {', '.join(known)}")
        values = {}
        for key, param in known.items():
            if key in given:
                values[key] = param.check(key, given[key])
            else:
                values[key] = param.default
        if not 0.0 <= values["probability"] <= 1.0:
            raise ConfigurationError("probability: must be between 0 and 1")
        nth = values["nth"]
        if nth is not None:
            listed = nth if isinstance(nth, list) else [nth]
            if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1
                       for n in listed):
                raise ConfigurationError("nth: positive integers, counted from 1")
        cls.check_values(values)
        return values

    @classmethod
    def times_before(cls, values: Mapping[str, Any], start_of_day_ms: int) -> list[str]:
        """The parameters (``time`` vocabulary) whose time of day falls before the run's
        start, which is ``start_of_day_ms`` after its midnight: they would act at once."""
        early = []
        for key, param in cls.all_params().items():
            value = values.get(key)
            items = value if isinstance(value, list) else [value]
            if param.vocabulary == "time" and any(
                    isinstance(item, str) and parse_time_ms(key, item) < start_of_day_ms
                    for item in items):
                early.append(key)
        return early

    @classmethod
    def check_values(cls, values: dict[str, Any]) -> None:
        """Checks across parameters a subclass needs (raise ``ConfigurationError``)."""

    @classmethod
    def from_spec(cls, spec: FaultParams, stream: Stream, *, start_offset_ms: int = 0
                  ) -> Fault:
        return cls(cls.validate(spec.params), stream, start_offset_ms=start_offset_ms)

    @staticmethod
    def _trigger(values: dict[str, Any], offset: int) -> Trigger:
        def moment(key: str) -> int | None:
            raw = values.get(key)
            if raw is None:
                return None
            at = parse_time_ms(key, raw)
            return at - offset if isinstance(raw, str) else at

        nth = values.get("nth")
        return Trigger(
            window=(moment("from"), moment("until")),
            nth=tuple(nth if isinstance(nth, list) else [nth]) if nth is not None else (),
            probability=values.get("probability", 1.0),
            limit=values.get("limit"),
        )

    # -- installation --------------------------------------------------------------------

    def targets(self, host: FaultHost) -> list[FaultTerminal]:
        """The terminals this fault applies to, in id order."""
        known = host.terminal_ids()
        chosen = [host.terminal(terminal_id) for terminal_id in known
                  if self.terminals is None or terminal_id in self.terminals]
        if self.terminals is not None:
            missing = sorted(set(self.terminals) - set(known))
            if missing:
                raise ConfigurationError(f"fault {self.name}: no terminal {missing[0]}")
        return chosen

    def install(self, host: FaultHost) -> None:
        """Wrap the ports (or observe the crash points) of the terminals it targets."""
        raise NotImplementedError

    def latest_ms(self) -> int:
        """The last virtual time this fault plans to act at (the run lasts at least that)."""
        end = self.trigger.window[1]
        return end if end is not None else 0

    def record(self, terminal: FaultTerminal, what: str, **data: object) -> int:
        """Write a ``fault`` record to the trace; findings cite it as their cause."""
        self.fired_at.append(terminal.now())
        flight = terminal.in_flight
        context: dict[str, object] = {"fault": self.name, "effect": what}
        if flight is not None:
            context["sale_id"] = flight.sale_id
            if flight.stan:
                context["stan"] = flight.stan
        context.update(data)
        return terminal.record_fault(self.name, context)


@dataclass(frozen=True)
class FaultInfo:
    """What ``pos-sim faults list/show`` prints about a fault."""

    name: str
    summary: str
    details: str
    params: dict[str, Param] = field(default_factory=dict)
