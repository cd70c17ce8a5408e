"""Every action the studio's page may post, checked before it reaches a terminal.

The bounds are the scenario files' (:mod:`terminal_sim.scenario.schema`): an amount is
1 to 999,999,999,999 minor units (ISO 8583 field 4 has twelve digits), a currency three
capital letters of a known code. A bad action raises :class:`ActionError`, which names
the field; the server answers it with ``400`` and ``{"error": ..., "field": ...}``.

Each action is a table of its fields (:data:`LIVE_ACTIONS`, :data:`REPLAY_ACTIONS`); a
field the table does not know is refused, as a scenario file refuses one.
:func:`parse_body` reads the JSON without letting a number of thousands of digits or a
thousand nested brackets turn into an error of the parser.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from terminal_sim.errors import ConfigurationError
from terminal_sim.scenario.schema import SCHEMA

__all__ = ["LIVE_ACTIONS", "MAX_ADVANCE_MS", "MAX_AMOUNT", "REPLAY_ACTIONS", "ActionError",
           "Field", "check", "minor_units", "parse_body"]

_SALE = SCHEMA["properties"]["workload"]["properties"]["sales"]["items"]["properties"]
#: Largest amount in minor units, as in scenario files.
MAX_AMOUNT: int = _SALE["amount"]["maximum"]
_CURRENCY = re.compile(_SALE["currency"]["pattern"])
#: Digits an integer in a request may have: more is out of every range we accept.
_MAX_DIGITS = 30
MAX_TEXT = 200
#: Longest the clock may be moved in one request (a week of virtual time).
MAX_ADVANCE_MS = 7 * 86_400_000


class ActionError(ConfigurationError):
    """An action the studio refuses; ``field`` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class _Huge(float):
    """An integer in the request too long to be one we accept (kept out of ``int``)."""


@dataclass(frozen=True)
class Field:
    """One field of an action: ``kind`` is int, number, flag, text, amount or currency."""

    kind: str
    low: float = 0
    high: float = 0
    choices: tuple[str, ...] = ()


LIVE_ACTIONS: dict[str, dict[str, Field]] = {
    "sale": {"amount": Field("amount"), "currency": Field("currency"), "card": Field("text")},
    "void": {},
    "reprint": {"amount": Field("amount")},
    "plug": {"on": Field("flag")},
    "fault": {"fault": Field("text", choices=("cold", "sync", "paper", "update")),
              "on": Field("flag")},
    "dip": {"at": Field("text")},
    "speed": {"speed": Field("number", 0, 100_000)},
    "pause": {"paused": Field("flag")},
    "advance": {"ms": Field("int", 1, MAX_ADVANCE_MS)},
    "morning": {},
    "reset": {},
}

REPLAY_ACTIONS: dict[str, dict[str, Field]] = {
    "play": {},
    "pause": {},
    "step": {"delta": Field("int", -1_000_000_000, 1_000_000_000)},
    "seek": {"position": Field("int", 0, 1_000_000_000)},
    "next_finding": {},
    "speed": {"speed": Field("number", 0, 100_000)},
}


def parse_body(body: bytes) -> Any:
    """The JSON of a request; ``ActionError`` (field ``body``) when it is not JSON."""
    try:
        return json.loads(body or b"{}", parse_int=_parse_int, parse_constant=_no_constant)
    except RecursionError:
        raise ActionError("body", "nested too deep") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ActionError("body", f"not JSON ({exc})") from None


def _parse_int(text: str) -> int | float:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        return _Huge("-inf" if text.startswith("-") else "inf")
    return int(text)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def check(action: Any, actions: Mapping[str, Mapping[str, Field]],
          what: str = "action") -> dict[str, Any]:
    """``action`` checked against the table: its name and fields, with their bounds
    (``what`` names the kind of action in the error)."""
    if not isinstance(action, dict):
        raise ActionError("body", "send a JSON object")
    name = action.get("action")
    if not isinstance(name, str) or name not in actions:
        shown = str(name)[:MAX_TEXT] if isinstance(name, str | int | float) else "?"
        raise ActionError("action", f"unknown {what} {shown!r}; one of {', '.join(actions)}")
    fields = actions[name]
    for key, value in action.items():
        if key == "action":
            continue
        if key not in fields:
            raise ActionError(str(key)[:MAX_TEXT], f"not a field of {name}")
        if value is not None:
            _check_field(key, fields[key], value)
    return action


def _check_field(key: str, field: Field, value: Any) -> None:
    kind = field.kind
    if kind == "flag":
        if not isinstance(value, bool):
            raise ActionError(key, "true or false")
    elif kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                kind == "int" and not isinstance(value, int)):
            raise ActionError(key, f"a number from {field.low:g} to {field.high:g}")
        if math.isnan(value) or not field.low <= value <= field.high:
            raise ActionError(key, f"from {field.low:g} to {field.high:g}")
    elif kind == "amount":  # its bounds are checked by minor_units, in minor units
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ActionError(key, "an amount, like 12.50")
        if isinstance(value, str) and len(value) > _MAX_DIGITS:
            raise ActionError(key, "too long for an amount")
    elif not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ActionError(key, f"a text of at most {MAX_TEXT} characters")
    elif kind == "currency" and value and not _CURRENCY.fullmatch(value):
        raise ActionError(key, "an ISO 4217 code of three capital letters")
    elif field.choices and value not in field.choices:
        raise ActionError(key, f"one of {', '.join(field.choices)}")


def minor_units(raw: Any, exponent: int, key: str = "amount") -> int:
    """``"12.50"`` or ``12.5`` or ``1250`` (already minor, when an int) into minor units,
    1 to :data:`MAX_AMOUNT`."""
    if isinstance(raw, _Huge):
        raise ActionError(key, f"from 1 to {MAX_AMOUNT} minor units")
    if isinstance(raw, int) and not isinstance(raw, bool):
        minor = raw
    else:
        text = (f"{raw:.{exponent}f}" if isinstance(raw, float) else
                str(raw or "")).strip().replace(",", ".")
        if not text:
            raise ActionError(key, "give an amount, like 12.50")
        whole, _, fraction = text.partition(".")
        if (whole and not whole.isdigit()) or (fraction and not fraction.isdigit()) \
                or len(fraction) > exponent or len(whole) > _MAX_DIGITS:
            raise ActionError(key, f"{text[:MAX_TEXT]!r} is not an amount with at most "
                                   f"{exponent} decimals")
        scale: int = 10**exponent
        minor = int(whole or "0") * scale + int((fraction or "0").ljust(exponent, "0") or "0")
    if not 1 <= minor <= MAX_AMOUNT:
        raise ActionError(key, f"from 1 to {MAX_AMOUNT} minor units")
    return minor
