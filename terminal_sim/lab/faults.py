"""The lab's faults: the scenario files' fault names and parameters, applied at run time.

A fault is posted as it is written in a scenario file, ``{"name": "printer-paper-out",
"refill_s": 60, "limit": 1}``. Names the fault registry knows (``printer-*``,
``link-*``) are checked by their own :class:`~terminal_sim.plugins.faults.Param` table,
so a bad value gets the same message as in a scenario file, naming the field; the
device faults scenario files have no use for are the lab's own, checked the same way:

==========================  ========================================================
fault                       what the lab does
==========================  ========================================================
``printer-paper-out``       paper out now; refilled after ``refill_s`` or on removal
``printer-paper-near-end``  the near-end sensor sees the end of the roll until removed
``printer-cover-open``      cover open now; closed after ``close_s`` or on removal
``printer-offline``         the printer goes offline (received bytes wait or are
                            filed unprinted, as the printer does) until removed or
                            ``online_s`` later
``printer-power-loss``      power off now for ``down_s`` seconds, or, with
                            ``at_byte: N``, in the middle of the next job: its first
                            N bytes print, the rest is lost
``link-*``                  each matching message through the acquirer's front door
                            (see :mod:`terminal_sim.lab.proxy`)
``acquirer-host-down``      the host refuses connections (``mode: refuse``) or reads
                            and never answers (``mode: silent``)
``acquirer-decline``        the next matching requests get response ``code``, a
                            decline code the acquirer knows (05, 51, 91 ...; not 00)
==========================  ========================================================

Every fault takes the scenario trigger (``terminals``, ``from``, ``until``, ``nth``,
``probability``, ``limit``): a number of seconds counts from the moment the fault was
added, a time of day (``"14:30"``) is the lab machine's. ``limit: 1`` is a one-shot
fault, ``limit: N`` a counted one, ``until: 30`` a timed one; a fault whose limit is
spent or whose window ended leaves the active list. A printer fault acts when it is
added (a printer has no opportunities of its own) and lasts until it is removed, its
``until`` passes or its device heals (``refill_s`` ...). Acquirer faults are scoped by
terminal id (``terminals``) and MTI (``message``: a reply matches the MTI of its request
too, so ``message: "0200"`` drops the 0210); printer faults by ``printer`` (its name).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from terminal_sim.base.seeds import Stream, derive_seed
from terminal_sim.core.messages import RC_APPROVED, RESPONSE_TEXT
from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.faults import TRIGGER_PARAMS, Param, Trigger, parse_time_ms
from terminal_sim.plugins.registry import fault_class

PRINTER = "printer"
ACQUIRER = "acquirer"
#: Active faults a lab holds at most (a client posting in a loop cannot grow it further)
MAX_ACTIVE = 256

_MTI = Param(str, None, "MTI to act on (a reply matches its request's MTI too)",
             vocabulary="mti")
_PRINTER_NAME = Param(str, None, "the printer's name (default: every printer)")
#: the response codes the acquirer knows as declines (every known code but approval)
DECLINE_CODES = tuple(code for code in RESPONSE_TEXT if code != RC_APPROVED)

#: faults scenario files do not have: their parameters, checked like the registry's
LAB_ONLY: dict[str, dict[str, Param]] = {
    "printer-paper-near-end": {},
    "printer-offline": {
        "online_s": Param(int, None, "seconds until the printer is online again", low=0)},
    "acquirer-host-down": {
        "down_s": Param(int, None, "seconds until the host is back", low=0),
        "mode": Param(str, "refuse", "refuse connections, or read and never answer",
                      ("refuse", "silent")),
    },
    "acquirer-decline": {
        "code": Param(str, "05", "the decline code to answer", DECLINE_CODES),
        "message": Param(str, "0200", "MTI of the requests to decline", vocabulary="mti"),
    },
}

#: parameters the lab adds to a registered fault (device-side meaning only)
LAB_EXTRAS: dict[str, dict[str, Param]] = {
    "printer-power-loss": {
        "at_byte": Param(int, None, "cut the power at this byte of the next job "
                                    "(default: now)", low=0),
    },
}

#: the faults the lab applies, and to which device
LAB_FAULTS: dict[str, str] = {
    "printer-paper-out": PRINTER, "printer-paper-near-end": PRINTER,
    "printer-cover-open": PRINTER, "printer-offline": PRINTER,
    "printer-power-loss": PRINTER,
    "link-latency": ACQUIRER, "link-drop-request": ACQUIRER, "link-drop-reply": ACQUIRER,
    "link-late-reply": ACQUIRER, "link-duplicate-reply": ACQUIRER, "link-reset": ACQUIRER,
    "link-corrupt": ACQUIRER, "link-slicer": ACQUIRER, "acquirer-host-down": ACQUIRER,
    "acquirer-decline": ACQUIRER,
}


class LabFaultError(ConfigurationError):
    """A fault the lab cannot take; ``field`` names the offending key."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _field_of(message: str, known: Mapping[str, Any]) -> str:
    """The field a registry message names (``"refill_s: expected int ..."``)."""
    head = message.split(":", 1)[0].strip()
    return head if head in known else "name"


def validate_fault(spec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(name, values)`` of a posted fault, every parameter checked and defaults filled;
    :class:`LabFaultError` names the first bad field."""
    if not isinstance(spec, Mapping):
        raise LabFaultError("a fault is a JSON object with a 'name'", "name")
    name = spec.get("name")
    if not isinstance(name, str) or name not in LAB_FAULTS:
        known = ", ".join(sorted(LAB_FAULTS))
        raise LabFaultError(f"name: {name!r} is not a fault the lab applies; known: {known}",
                            "name")
    given = {key: value for key, value in spec.items() if key != "name"}
    if name in LAB_ONLY:
        params = {**LAB_ONLY[name], **TRIGGER_PARAMS}
        unknown = [key for key in given if key not in params]
        if unknown:
            raise LabFaultError(f"{unknown[0]}: not a parameter of fault {name!r}; "
                                f"parameters: {', '.join(params)}", unknown[0])
        values = {}
        for key, param in params.items():
            try:
                values[key] = param.check(key, given[key]) if key in given else param.default
            except ConfigurationError as exc:
                raise LabFaultError(str(exc), key) from exc
        _check_trigger(values)
        return name, values
    extras: dict[str, Param] = {**LAB_EXTRAS.get(name, {})}
    if LAB_FAULTS[name] == PRINTER:
        extras["printer"] = _PRINTER_NAME
    cls = fault_class(name)
    table: dict[str, Param] = {**cls.all_params(), **extras}
    try:
        values = cls.validate({k: v for k, v in given.items() if k not in extras})
    except ConfigurationError as exc:
        raise LabFaultError(str(exc), _field_of(str(exc), {**table, **given})) from exc
    for key, param in extras.items():
        try:
            values[key] = param.check(key, given[key]) if key in given else param.default
        except ConfigurationError as exc:
            raise LabFaultError(str(exc), key) from exc
    return name, values


def _check_trigger(values: dict[str, Any]) -> None:
    if not 0.0 <= values["probability"] <= 1.0:
        raise LabFaultError("probability: must be between 0 and 1", "probability")
    nth = values["nth"]
    if nth is not None:
        listed = nth if isinstance(nth, list) else [nth]
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in listed):
            raise LabFaultError("nth: positive integers, counted from 1", "nth")


def _moment(values: Mapping[str, Any], key: str, day_ms: int) -> int | None:
    """A trigger time as ms after the fault was added (``day_ms`` after midnight)."""
    raw = values.get(key)
    if raw is None:
        return None
    at = parse_time_ms(key, raw)
    return at - day_ms if isinstance(raw, str) else at


@dataclass
class ActiveFault:
    """One fault the lab holds: its values, trigger and what it did."""

    id: str
    name: str
    values: dict[str, Any]
    trigger: Trigger
    stream: Stream
    added: float  # monotonic seconds
    device: str
    #: undo the device change (printer faults): run once, on removal or heal
    undo: Callable[[], None] | None = None
    fired: int = 0
    armed: bool = True  # printer-power-loss at_byte: not yet cut
    #: monotonic seconds at which the device heals (refill_s, close_s, down_s ...)
    heal_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def heal_after(self, seconds: int | None, now: float | None = None) -> None:
        if seconds is not None:
            self.heal_at = (now if now is not None else time.monotonic()) + seconds

    def now_ms(self, now: float | None = None) -> int:
        return int(((now if now is not None else time.monotonic()) - self.added) * 1000)

    def to_dict(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.values.items()
                 if v is not None and not (k == "probability" and v == 1.0)}
        return {"id": self.id, "name": self.name, **shown, "device": self.device,
                "fired": self.fired, "seen": self.trigger.seen}

    def matches(self, terminal_id: str | None, mtis: tuple[str, ...]) -> bool:
        terminals = self.values.get("terminals")
        if terminals and terminal_id not in terminals:
            return False
        wanted = self.values.get("message")
        return wanted is None or not mtis or wanted in mtis

    def spent(self, now: float | None = None) -> bool:
        limit = self.trigger.limit
        end = self.trigger.window[1]
        return (limit is not None and self.trigger.fired >= limit) or (
            end is not None and self.now_ms(now) >= end)


Listener = Callable[[str, dict[str, Any]], None]


class FaultTable:
    """The active faults, shared by the HTTP threads, the acquirer loop and the printers.

    Every change is reported to ``listener(event, data)`` (the lab's fault trace).
    """

    def __init__(self, seed: int, listener: Listener) -> None:
        self.seed = seed
        self.listener = listener
        self._lock = threading.RLock()
        self._faults: dict[str, ActiveFault] = {}
        self._next = 0

    def add(self, spec: Mapping[str, Any], *, apply: Callable[[ActiveFault], None]
            ) -> ActiveFault:
        name, values = validate_fault(spec)
        with self._lock:
            if len(self._faults) >= MAX_ACTIVE:
                raise LabFaultError(f"name: the lab holds {MAX_ACTIVE} active faults, its "
                                    "most; remove some (DELETE /faults/ID, POST /reset)",
                                    "name")
            self._next += 1
            fault_id = f"f{self._next}"
            now = dt.datetime.now()
            day_ms = ((now.hour * 60 + now.minute) * 60 + now.second) * 1000
            nth = values.get("nth")
            trigger = Trigger(
                window=(_moment(values, "from", day_ms), _moment(values, "until", day_ms)),
                nth=tuple(nth if isinstance(nth, list) else [nth]) if nth is not None else (),
                probability=values.get("probability", 1.0), limit=values.get("limit"))
            fault = ActiveFault(fault_id, name, values, trigger,
                                Stream(derive_seed(self.seed, f"lab/{fault_id}"), name),
                                time.monotonic(), LAB_FAULTS[name])
            self._faults[fault_id] = fault
            self.listener("added", fault.to_dict())
            apply(fault)
            return fault

    def remove(self, fault_id: str, *, why: str = "removed") -> ActiveFault | None:
        with self._lock:
            fault = self._faults.pop(fault_id, None)
            if fault is None:
                return None
            undo, fault.undo = fault.undo, None
            if undo is not None:
                undo()
            self.listener(why, {"id": fault.id, "name": fault.name, "fired": fault.fired})
            return fault

    def clear(self) -> int:
        with self._lock:
            ids = list(self._faults)
            for fault_id in ids:
                self.remove(fault_id, why="reset")
            return len(ids)

    def active(self) -> list[ActiveFault]:
        with self._lock:
            return list(self._faults.values())

    def get(self, fault_id: str) -> ActiveFault | None:
        with self._lock:
            return self._faults.get(fault_id)

    def fire(self, device: str, names: tuple[str, ...], terminal_id: str | None,
             mtis: tuple[str, ...], what: str, *,
             accept: Callable[[ActiveFault], bool] | None = None, **data: Any
             ) -> ActiveFault | None:
        """The first active fault of ``names`` that fires on this opportunity (counted,
        traced, and removed when spent), or None."""
        now = time.monotonic()
        with self._lock:
            for fault in list(self._faults.values()):
                if fault.device != device or fault.name not in names or not fault.matches(
                        terminal_id, mtis) or (accept is not None and not accept(fault)):
                    continue
                if not fault.trigger.fires(fault.now_ms(now), fault.stream):
                    if fault.spent(now):
                        self.remove(fault.id, why="expired")
                    continue
                fault.fired += 1
                self.listener("fired", {"id": fault.id, "name": fault.name, "effect": what,
                                        **({"terminal_id": terminal_id} if terminal_id else {}),
                                        **data})
                if fault.spent(now):
                    self.remove(fault.id, why="spent")
                return fault
            return None

    def expire(self) -> None:
        """Drop the faults whose window ended or whose device healed (the lab's
        housekeeping calls this a few times a second)."""
        now = time.monotonic()
        with self._lock:
            for fault in list(self._faults.values()):
                end = fault.trigger.window[1]
                if fault.heal_at is not None and now >= fault.heal_at:
                    self.remove(fault.id, why="healed")
                elif end is not None and fault.now_ms(now) >= end:
                    self.remove(fault.id, why="expired")
