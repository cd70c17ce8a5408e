"""Drawing one fault's parameters and trigger from a stream, generically.

Every parameter of a fault (built-in or third-party) is drawn the same way, from what its
:class:`~terminal_sim.plugins.faults.Param` declares: half the time it keeps its default,
otherwise the value comes from, in this order, its vocabulary (a crash point, an MTI:
:mod:`terminal_sim.explore.vocabulary`), its ``choices``, its ``explore`` range, a tight
``low``..``high``, or, for a time of day, the explored day. The trigger (``terminals``,
``from``/``until``, ``nth``, ``probability``, ``limit``) is drawn the same way for every
fault.

**Every world heals** (as in FoundationDB's simulation and TigerBeetle's VOPR, where
faults stop so that liveness can be checked): every fault's trigger ends at the latest
at the plan's :attr:`DayPlan.heal_s` (an hour after the last customer), times of day are
drawn before it, and a parameter that says how long a fault lasts (``Param.lasting``,
e.g. ``refill_s``: ``None`` would be for ever) is always drawn. After the heal the
robust firmware must finish its work: reversals, reprints, syncs, settlement.

A draw the fault's own validation refuses is repaired by drawing the parameter it
names (when it was missing) or dropping it (when it was drawn); a few rounds, then the
fault is left out of the world.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from terminal_sim.base.seeds import Stream
from terminal_sim.errors import ConfigurationError
from terminal_sim.explore.vocabulary import vocabulary, vocabulary_of
from terminal_sim.plugins.faults import Fault, Param

__all__ = ["DayPlan", "clock_text", "draw_fault"]

#: The explored day starts at this hour (the scenario's ``start`` is that time).
DAY_START_HOUR = 8
#: A tight ``low``..``high`` (no ``explore`` range) is drawn from when this narrow.
_TIGHT = 10_000
_REPAIR_ROUNDS = 8
#: The faults stop this long after the last customer of the day.
HEAL_AFTER_S = 3600


@dataclass(frozen=True)
class DayPlan:
    """What a fault's draw needs to know of its world."""

    terminal_ids: tuple[str, ...]
    day_s: int  # the workload's span, in seconds after the start

    @property
    def heal_s(self) -> int:
        """No fault fires from this time on (seconds after the start)."""
        return self.day_s + HEAL_AFTER_S


def clock_text(seconds: int) -> str:
    """Seconds after the day's start as a time of day (``"09:14:05"``)."""
    total = DAY_START_HOUR * 3600 + seconds
    return f"{total // 3600:02d}:{total // 60 % 60:02d}:{total % 60:02d}"


def _is_time(param: Param) -> bool:
    kinds = param.kind if isinstance(param.kind, tuple) else (param.kind,)
    return str in kinds and int in kinds and not param.choices


def _number(param: Param, low: float, high: float, stream: Stream) -> int | float:
    kinds = param.kind if isinstance(param.kind, tuple) else (param.kind,)
    if float in kinds and int not in kinds:  # a decimal: a hundredth of the range per step
        step = stream.between(0, 100)
        return round(low + (high - low) * step / 100, 4)
    return stream.between(int(low), int(high))


def draw_value(name: str, param: Param, plan: DayPlan, stream: Stream) -> Any:
    """A value for ``name`` (``None``: the parameter has nothing worth drawing)."""
    kind = vocabulary_of(name, param)
    if kind is not None:
        return stream.pick(vocabulary(kind))
    if param.choices:
        return stream.pick(param.choices)
    if param.explore is not None:
        return _number(param, *param.explore, stream)
    if param.low >= -_TIGHT and param.high <= _TIGHT and param.low < param.high:
        return _number(param, param.low, param.high, stream)
    if _is_time(param):
        return clock_text(stream.between(0, plan.heal_s - 1))
    return None


def _trigger(plan: DayPlan, stream: Stream) -> dict[str, Any]:
    trigger: dict[str, Any] = {}
    ids = plan.terminal_ids
    if len(ids) > 1 and stream.chance(0.3):
        chosen = [tid for tid in ids if stream.chance(0.5)]
        trigger["terminals"] = chosen or [stream.pick(ids)]
    start = None
    if stream.chance(0.25):
        start = stream.between(0, plan.day_s)
        trigger["from"] = clock_text(start)
    until = plan.heal_s
    if stream.chance(0.25):
        until = stream.between(min((start or 0) + 60, plan.heal_s), plan.heal_s)
    trigger["until"] = clock_text(until)  # every world heals (see the module docstring)
    if stream.chance(0.3):
        first = stream.between(1, 5)
        trigger["nth"] = first if stream.chance(0.7) else [first, first + stream.between(1, 4)]
    if stream.chance(0.3):
        trigger["probability"] = stream.between(1, 20) / 20
    if stream.chance(0.3):
        trigger["limit"] = stream.between(1, 3)
    return trigger


def draw_fault(name: str, cls: type[Fault], plan: DayPlan, stream: Stream
               ) -> dict[str, Any] | None:
    """One scenario fault entry of ``cls`` (``None`` when no valid draw was found)."""
    params: dict[str, Any] = {}
    for key, param in cls.params.items():
        if stream.chance(0.5) or param.lasting:
            value = draw_value(key, param, plan, stream)
            if value is not None:
                params[key] = value
    params.update(_trigger(plan, stream))
    known = cls.all_params()
    for _ in range(_REPAIR_ROUNDS):
        try:
            cls.validate(params)
        except ConfigurationError as exc:
            bad = str(exc).split(":", 1)[0].strip()
            if bad in params:
                del params[bad]
                continue
            value = draw_value(bad, known[bad], plan, stream) if bad in known else None
            if value is None:
                return None
            params[bad] = value
            continue
        return {"name": name, **params}
    return None
