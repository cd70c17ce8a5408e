"""Lab scripts: a YAML timeline of fault changes, played in real time.

A QA fault scenario replayed against the application under test::

    # paper.lab.yaml
    steps:
      - at: +0s
        add: printer-paper-out        # a fault as in a scenario file ...
        as: paper                     # ... named for a later step
      - at: +30s
        remove: paper
      - at: +45s
        add: link-drop-reply
        message: "0200"               # the fault's parameters and trigger beside it
        limit: 1
      - at: 2m
        reset: true                   # every fault removed

``at`` is the time after the lab started: ``+30s``, ``90s``, ``1m30s``, ``500ms`` or a
number of seconds. Each step does one thing: ``add`` (with ``as``: a name for it),
``remove`` (a name given by ``as``) or ``reset``. Steps play in file order; a step
earlier than its predecessor waits for nothing. Every problem is a
:class:`~terminal_sim.errors.ScenarioError` naming the file, the line and the field,
found when the script is loaded, before the lab starts.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal_sim.errors import ConfigurationError, ScenarioError
from terminal_sim.lab.faults import LabFaultError, validate_fault
from terminal_sim.lab.lab import Lab
from terminal_sim.scenario.loader import _parse

_DURATION = re.compile(r"^\+?\s*(?:(\d+)h)?\s*(?:(\d+)m(?!s))?\s*(?:(\d+(?:\.\d+)?)s)?"
                       r"\s*(?:(\d+)ms)?$")
_STEP_KEYS = ("at", "add", "as", "remove", "reset")


@dataclass(frozen=True)
class Step:
    at_s: float
    line: int
    add: dict[str, Any] | None = None
    label: str | None = None
    remove: str | None = None
    reset: bool = False


@dataclass
class Script:
    path: str
    steps: list[Step] = field(default_factory=list)


def parse_at(value: Any) -> float:
    """``+30s``, ``1m30s``, ``500ms``, ``2h`` or a number of seconds -> seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str) and value.strip():
        found = _DURATION.match(value.strip())
        if found and any(found.groups()):
            hours, minutes, seconds, millis = found.groups()
            return (int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
                    + int(millis or 0) / 1000)
    raise ConfigurationError(f"expected a time after the start like '+30s', '1m30s' or "
                             f"'500ms', got {value!r}")


def load_script(path: str | Path) -> Script:
    """A checked script; ``ScenarioError`` (file, line, field) for any problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(name, None, "(file)", exc.strerror or str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(name, None, "(file)", f"not UTF-8: {exc.reason}") from exc
    return parse_script(text, name)


def parse_script(text: str, path: str = "<script>") -> Script:
    located, data = _parse(path, text)
    if isinstance(data, dict):
        unknown = [key for key in data if key != "steps"]
        if unknown:
            raise located.error([unknown[0]], "unknown key; a script has 'steps'",
                                line=located.key_line([], unknown[0]))
        data = data.get("steps")
        base: list[Any] = ["steps"]
    else:
        base = []
    if not isinstance(data, list) or not data:
        raise located.error(base, "expected a list of steps (at: ..., add: ...)")
    script = Script(path)
    labels: set[str] = set()
    for index, raw in enumerate(data):
        keys = [*base, index]
        script.steps.append(_step(located, keys, raw, labels))
    return script


def _step(located: Any, keys: list[Any], raw: Any, labels: set[str]) -> Step:
    line = located.line(keys)
    if not isinstance(raw, dict):
        raise located.error(keys, "a step is a mapping: at, and one of add, remove, reset")
    if "at" not in raw:
        raise located.error(keys, "every step needs 'at' (a time after the start)")
    try:
        at_s = parse_at(raw["at"])
    except ConfigurationError as exc:
        raise located.error([*keys, "at"], str(exc)) from None
    actions = [key for key in ("add", "remove", "reset") if key in raw]
    if len(actions) != 1:
        raise located.error(keys, "a step does exactly one of add, remove, reset")
    action = actions[0]
    if action != "add":
        extra = [key for key in raw if key not in ("at", action)]
        if extra:
            raise located.error([*keys, extra[0]], f"not a key of a {action} step",
                                line=located.key_line(keys, extra[0]))
    if action == "reset":
        if raw["reset"] is not True:
            raise located.error([*keys, "reset"], "write 'reset: true'")
        return Step(at_s, line, reset=True)
    if action == "remove":
        label = raw["remove"]
        if not isinstance(label, str) or label not in labels:
            raise located.error([*keys, "remove"], f"{label!r} names no fault added before "
                                                   "(give the add step 'as: NAME')")
        return Step(at_s, line, remove=label)
    label = raw.get("as")
    if label is not None:
        if not isinstance(label, str) or label in labels:
            raise located.error([*keys, "as"], f"{label!r}: a new name for this fault")
        labels.add(label)
    spec = {"name": raw["add"], **{k: v for k, v in raw.items() if k not in _STEP_KEYS}}
    try:
        validate_fault(spec)
    except LabFaultError as exc:
        where = "add" if exc.field == "name" else exc.field
        message = str(exc).split(": ", 1)[1] if ": " in str(exc) else str(exc)
        raise located.error([*keys, where], message,
                            line=located.key_line(keys, where)) from None
    return Step(at_s, line, add=spec, label=label)


def play(script: Script, lab: Lab, stop: threading.Event) -> None:
    """Play ``script`` against ``lab`` in real time (from when the lab started) until it
    ends or ``stop`` is set; each step is in the lab's fault trace."""
    ids: dict[str, str] = {}
    for step in script.steps:
        wait = lab.started + step.at_s - time.monotonic()
        if wait > 0 and stop.wait(wait):
            return
        where = {"script": script.path, "line": step.line}
        try:
            if step.reset:
                lab.reset()
                lab.table.listener("script", {**where, "step": "reset"})
            elif step.remove is not None:
                fault_id = ids.get(step.remove)
                removed = fault_id is not None and lab.remove_fault(fault_id)
                lab.table.listener("script", {**where, "step": f"remove {step.remove}",
                                              "removed": removed})
            elif step.add is not None:
                fault = lab.add_fault(step.add)
                if step.label is not None:
                    ids[step.label] = fault.id
                lab.table.listener("script", {**where, "step": f"add {fault.name}",
                                              "id": fault.id})
        except ConfigurationError as exc:  # e.g. a printer the lab does not have
            lab.table.listener("script", {**where, "error": str(exc)})
