"""The fault registry: built-in faults by name, third-party ones by entry point.

Third-party packages register faults under the entry-point group
``terminal_sim.faults`` (``name = "package.module:FaultClass"``). Entry points are read
once, on first use, never at import time.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from terminal_sim.errors import ConfigurationError

ENTRY_POINT_GROUP = "terminal_sim.faults"

_BUILTIN: dict[str, Any] = {}
_loaded_entry_points: dict[str, Any] | None = None


def register(fault_class: Any) -> Any:
    """Class decorator for built-in faults: ``@register`` on a class with a ``name``."""
    name = getattr(fault_class, "name", None)
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"{fault_class!r} has no fault name")
    if name in _BUILTIN and _BUILTIN[name] is not fault_class:
        raise ConfigurationError(f"fault {name!r} is registered twice")
    _BUILTIN[name] = fault_class
    return fault_class


def _third_party() -> dict[str, Any]:
    global _loaded_entry_points
    if _loaded_entry_points is None:
        found: dict[str, Any] = {}
        for point in entry_points(group=ENTRY_POINT_GROUP):
            found[point.name] = point
        _loaded_entry_points = found
    return _loaded_entry_points


def _load_builtins() -> None:
    # built-in fault modules register themselves when imported
    import faults.builtin  # noqa: F401


def known_fault_names() -> list[str]:
    """Every fault name, built-in and third-party, sorted."""
    _load_builtins()
    return sorted(set(_BUILTIN) | set(_third_party()))


def fault_class(name: str) -> Any:
    """The class registered as ``name``."""
    _load_builtins()
    if name in _BUILTIN:
        return _BUILTIN[name]
    point = _third_party().get(name)
    if point is None:
        known = ", ".join(known_fault_names()) or "none"
        raise ConfigurationError(f"unknown fault {name!r}; known: {known}")
    return point.load()
