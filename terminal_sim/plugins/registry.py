"""The fault registry: every fault, built-in or third-party, found by entry point.

A package registers its faults under the entry-point group ``terminal_sim.faults``, one
entry per fault, named as the fault is (``name = "package.module:FaultClass"``). The
built-in faults of the ``faults`` package register the same way (in this project's
``pyproject.toml``): ``terminal_sim`` never imports them. Entry points are read once,
on first use, never at import time; a class is loaded when its name is first asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points

from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.faults import Fault

ENTRY_POINT_GROUP = "terminal_sim.faults"


class FaultRegistry:
    """Fault classes by name, from entry points (those of the installed packages'
    ``terminal_sim.faults`` group unless given), each loaded on first use."""

    def __init__(self, points: Mapping[str, EntryPoint] | None = None) -> None:
        self._points: dict[str, EntryPoint] | None = dict(points) if points is not None else None
        self._loaded: dict[str, type[Fault]] = {}

    def points(self) -> dict[str, EntryPoint]:
        if self._points is None:
            self._points = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}
        return self._points

    def load(self, name: str) -> type[Fault]:
        """The class registered as ``name``; ``ConfigurationError`` when there is none or
        it is not a fault of that name."""
        found = self._loaded.get(name)
        if found is not None:
            return found
        point = self.points().get(name)
        if point is None:
            known = ", ".join(sorted(self.points())) or "none"
            raise ConfigurationError(f"unknown fault {name!r}; known: {known}")
        try:
            loaded = point.load()
        except (ImportError, AttributeError) as exc:
            raise ConfigurationError(
                f"fault {name!r} ({point.value}) cannot be loaded: {exc}") from exc
        if not (isinstance(loaded, type) and issubclass(loaded, Fault)):
            raise ConfigurationError(f"fault {name!r} ({point.value}) is not a Fault class")
        if loaded.name != name:
            raise ConfigurationError(
                f"fault {name!r} ({point.value}) calls itself {loaded.name!r}")
        self._loaded[name] = loaded
        return loaded


_REGISTRY = FaultRegistry()


def known_fault_names() -> list[str]:
    """Every fault name, sorted."""
    return sorted(_REGISTRY.points())


def fault_class(name: str) -> type[Fault]:
    """The class registered as ``name`` (``ConfigurationError`` when there is none)."""
    return _REGISTRY.load(name)
