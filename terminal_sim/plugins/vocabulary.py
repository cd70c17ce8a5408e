"""What a fault parameter's value may name: a crash point, an MTI, a time of day.

A :class:`~terminal_sim.plugins.faults.Param` that declares ``vocabulary="crash_point"``
(or ``"mti"``, ``"time"``) has its value checked when the scenario is loaded, so a
misspelt name is an error naming the file, the line and the valid names instead of a
trigger that never fires. Third-party faults declare the same and get the same check.

==================  =====================================================================
vocabulary          a valid value
==================  =====================================================================
``crash_point``     ``{flow}/after:{step}`` or ``{flow}/during:print`` with a flow and a
                    step the terminal names (:data:`FLOWS`, :func:`steps`), or a glob
                    (``*/after:host_reply``) that matches at least one of them
``mti``             a message type the terminal sends (:data:`~terminal_sim.iso.messages.
                    MESSAGE_TYPES`) or the host's answer to one (``0210``, ``0430``)
``time``            a time of day ``"HH:MM[:SS]"`` (24:00-47:59 is the next day) or
                    seconds after the start; the scenario loader also refuses a time of
                    day before the scenario's ``start``
==================  =====================================================================

Crash points are named by the runtime as it runs the core's effects
(:mod:`terminal_sim.sim.node`): the flow is the kind of the transaction in flight (or
what the event starts), the step is the event that started a batch of effects or the
effect just done. The steps come from the core's events and effects and from the
runtime's own agents (store and forward, settlement); ``pos-sim crashpoints`` lists the
ones each lifecycle passes, and a test checks every one of them is in this vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches
from fnmatch import fnmatchcase
from functools import cache

from terminal_sim.core.events import Event
from terminal_sim.errors import ConfigurationError
from terminal_sim.iso.messages import MESSAGE_TYPES, reply_mti

__all__ = ["FLOWS", "VOCABULARIES", "check_vocabulary", "crash_point_names", "mti_names",
           "parse_time_ms", "steps"]

#: What a crash point's first part names: the transaction in flight or what an event starts.
FLOWS = ("sale", "refund", "void", "reprint", "reversal", "settlement", "power_on", "power",
         "idle")
#: The steps of the core's effects (``Effect.step``; sends and journal writes by kind).
EFFECT_STEPS = ("read_card", "send_sale", "send_refund", "send_void", "start_timer",
                "cancel_timer", "journal_intent", "journal_commit", "journal_receipt",
                "journal_recovery", "queue_reversal", "print")
#: The steps the runtime's agents name (store-and-forward of reversals, settlement).
RUNTIME_STEPS = ("send_reversal", "reversal_reply", "saf_acked", "journal_reversed",
                 "send_totals", "totals_reply")


def _triggers(cls: type[Event]) -> list[str]:
    found = [cls.trigger] if cls.trigger else []
    for sub in cls.__subclasses__():
        found += _triggers(sub)
    return found


@cache
def steps() -> tuple[str, ...]:
    """Every step a crash point can name: event triggers, effect and runtime steps."""
    return tuple(dict.fromkeys([*_triggers(Event), *EFFECT_STEPS, *RUNTIME_STEPS]))


@cache
def crash_point_names() -> tuple[str, ...]:
    """Every crash-point name the vocabulary accepts."""
    names = [f"{flow}/after:{step}" for flow in FLOWS for step in steps()]
    return (*names, *(f"{flow}/during:print" for flow in FLOWS))


@cache
def mti_names() -> tuple[str, ...]:
    """The message types on the acquirer link: requests and the answers to them."""
    return tuple(dict.fromkeys([*MESSAGE_TYPES, *(reply_mti(m) for m in MESSAGE_TYPES)]))


def _check_crash_point(name: str, value: str) -> None:
    if any(fnmatchcase(point, value) for point in crash_point_names()):
        return
    listed = ", ".join(steps())
    close = get_close_matches(value, crash_point_names(), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ConfigurationError(
        f"{name}: {value!r} is no crash point; {hint}a crash point is {{flow}}/after:{{step}} or "
        f"{{flow}}/during:print (or a glob matching one), flows: {', '.join(FLOWS)}; "
        f"steps: {listed}; `pos-sim crashpoints` lists those a sale passes")


def _check_mti(name: str, value: str) -> None:
    if value not in mti_names():
        raise ConfigurationError(f"{name}: {value!r} is no message type on the link; "
                                 f"valid: {', '.join(sorted(mti_names()))}")


def parse_time_ms(name: str, value: object) -> int:
    """``"06:30"``/``"06:30:15"`` (time of day on the run's start day: ms since its
    midnight; 24:00-47:59 is the next day) or seconds after the start (as ms)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value * 1000
    if isinstance(value, str):
        parts = value.split(":")
        if 2 <= len(parts) <= 3 and all(p.isdigit() for p in parts):
            hours, minutes, seconds = (int(p) for p in [*parts, "0"][:3])
            if hours < 48 and minutes < 60 and seconds < 60:
                return ((hours * 60 + minutes) * 60 + seconds) * 1000
    raise ConfigurationError(f"{name}: expected a time of day like '06:30' or seconds, "
                             f"got {value!r}")


def _check_time(name: str, value: object) -> None:
    parse_time_ms(name, value)


#: vocabulary name -> check(param name, value) raising ``ConfigurationError``
VOCABULARIES: dict[str, Callable[[str, object], None]] = {
    "crash_point": lambda name, value: _check_crash_point(name, str(value)),
    "mti": lambda name, value: _check_mti(name, str(value)),
    "time": _check_time,
}


def check_vocabulary(vocabulary: str, name: str, value: object) -> None:
    """Check ``value`` (or each item of a list) against ``vocabulary``."""
    try:
        check = VOCABULARIES[vocabulary]
    except KeyError:
        raise ConfigurationError(f"{name}: unknown vocabulary {vocabulary!r}; known: "
                                 f"{', '.join(VOCABULARIES)}") from None
    for item in value if isinstance(value, list) else [value]:
        check(name, item)
