"""Shrinking a failing world to a minimal scenario that fails for the same reason.

Deterministic greedy delta debugging over the scenario dict: each pass tries, in order,
removing faults (in halves, then quarters ... then one by one), terminals (with their
workload and their mentions in fault triggers), workload items (likewise in chunks),
profile settings, each parameter of each fault (back to its default, the trigger back to
none), and moving the workload to the start of the day one minute apart. A candidate is
kept when it loads and still fails for the same reason. Passes repeat until one changes nothing or
the budget of runs (:data:`SHRINK_BUDGET`) is spent. The same world, reason and predicate
give the same minimal scenario.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from terminal_sim.errors import ConfigurationError, ScenarioError
from terminal_sim.explore.draw import clock_text
from terminal_sim.explore.world import dump_yaml
from terminal_sim.plugins.registry import fault_class
from terminal_sim.scenario.loader import parse_scenario

__all__ = ["SHRINK_BUDGET", "Shrunk", "shrink"]

#: At most this many runs are spent shrinking one failure.
SHRINK_BUDGET = 150
_SECTIONS = ("sales", "refunds", "voids")

Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class Shrunk:
    """The smallest scenario found, and what was taken away."""

    data: dict[str, Any]
    runs: int = 0
    removed: list[str] = field(default_factory=list)


class _Budget(Exception):
    """The run budget is spent (internal)."""


class _Shrinker:
    def __init__(self, data: dict[str, Any], fails: Predicate, budget: int) -> None:
        self.data = copy.deepcopy(data)
        self.fails = fails
        self.budget = budget
        self.runs = 0

    def attempt(self, candidate: dict[str, Any]) -> bool:
        if candidate == self.data or not _valid(candidate):
            return False
        if self.runs >= self.budget:
            raise _Budget
        self.runs += 1
        if self.fails(candidate):
            self.data = candidate
            return True
        return False

    # -- lists, in chunks --------------------------------------------------------------------

    def chunks(self, count: Callable[[], int],
               without: Callable[[set[int]], dict[str, Any]]) -> bool:
        changed = False
        size = max(1, count() // 2)
        while size >= 1:
            start = 0
            while start < count():
                drop = set(range(start, min(start + size, count())))
                if self.attempt(without(drop)):
                    changed = True
                else:
                    start += size
            size //= 2
        return changed

    def faults(self) -> bool:
        def without(drop: set[int]) -> dict[str, Any]:
            candidate = copy.deepcopy(self.data)
            candidate["faults"] = [f for i, f in enumerate(candidate["faults"]) if i not in drop]
            return candidate

        return self.chunks(lambda: len(self.data.get("faults", [])), without)

    def items(self) -> bool:
        def flat() -> list[tuple[str, int]]:
            workload = self.data.get("workload", {})
            return [(key, i) for key in _SECTIONS for i in range(len(workload.get(key, [])))]

        def without(drop: set[int]) -> dict[str, Any]:
            gone = {pair for i, pair in enumerate(flat()) if i in drop}
            candidate = copy.deepcopy(self.data)
            workload = candidate["workload"]
            for key in _SECTIONS:
                if key in workload:
                    workload[key] = [item for i, item in enumerate(workload[key])
                                     if (key, i) not in gone]
                    if not workload[key]:
                        del workload[key]
            return candidate

        return self.chunks(lambda: len(flat()), without)

    def terminals(self) -> bool:
        changed = False
        for terminal in [t["id"] for t in self.data["terminals"]]:
            if len(self.data["terminals"]) > 1:
                changed |= self.attempt(_without_terminal(self.data, terminal))
        return changed

    # -- values ------------------------------------------------------------------------------

    def settings(self) -> bool:
        changed = False
        for key in list(self.data.get("profile_settings", {})):
            candidate = copy.deepcopy(self.data)
            del candidate["profile_settings"][key]
            if not candidate["profile_settings"]:
                del candidate["profile_settings"]
            changed |= self.attempt(candidate)
        return changed

    def params(self) -> bool:
        changed = False
        for index in range(len(self.data.get("faults", []))):
            for key in _simplifiable(self.data["faults"][index]):
                candidate = copy.deepcopy(self.data)
                del candidate["faults"][index][key]
                changed |= self.attempt(candidate)
        return changed

    def day(self) -> bool:
        candidate = copy.deepcopy(self.data)
        workload = candidate.get("workload", {})
        items = sorted(((item["at"], key, i) for key in _SECTIONS
                        for i, item in enumerate(workload.get(key, []))))
        for minute, (_, key, i) in enumerate(items, start=1):
            workload[key][i]["at"] = clock_text(60 * minute)
        return self.attempt(candidate)

    def passes(self) -> Iterator[bool]:
        yield self.faults()
        yield self.terminals()
        yield self.items()
        yield self.settings()
        yield self.params()
        yield self.day()


def _simplifiable(entry: dict[str, Any]) -> list[str]:
    """The parameters of a fault entry the shrinker may drop: not its name, and not what
    makes the world heal (``until``, a ``lasting`` duration): without them a fault
    would last for ever and a liveness failure would have another cause."""
    known = fault_class(str(entry["name"])).all_params()
    return [key for key in entry if key not in ("name", "until")
            and not (key in known and known[key].lasting)]


def _valid(candidate: dict[str, Any]) -> bool:
    """Does the scenario load? (Dropping a parameter can leave a fault without one it
    needs: such a candidate is skipped, not run.)"""
    try:
        parse_scenario(dump_yaml(candidate), f"{candidate['name']}.yaml")
    except (ScenarioError, ConfigurationError):
        return False
    return True


def _without_terminal(data: dict[str, Any], terminal: str) -> dict[str, Any]:
    candidate = copy.deepcopy(data)
    candidate["terminals"] = [t for t in candidate["terminals"] if t["id"] != terminal]
    workload = candidate.get("workload", {})
    for key in _SECTIONS:
        if key in workload:
            workload[key] = [item for item in workload[key] if item.get("terminal") != terminal]
            if not workload[key]:
                del workload[key]
    faults = []
    for fault in candidate.get("faults", []):
        if "terminals" in fault:
            fault["terminals"] = [t for t in fault["terminals"] if t != terminal]
            if not fault["terminals"]:
                continue
        faults.append(fault)
    candidate["faults"] = faults
    return candidate


def shrink(data: dict[str, Any], fails: Predicate, budget: int = SHRINK_BUDGET) -> Shrunk:
    """The smallest scenario found from ``data`` (which ``fails``) that still ``fails``."""
    shrinker = _Shrinker(data, fails, budget)
    try:
        while any(list(shrinker.passes())):
            pass
    except _Budget:
        pass
    return Shrunk(shrinker.data, shrinker.runs, _removed(data, shrinker.data))


def _count_items(data: dict[str, Any]) -> int:
    workload = data.get("workload", {})
    return sum(len(workload.get(key, [])) for key in _SECTIONS)


def _removed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    notes = []
    gone = len(before["terminals"]) - len(after["terminals"])
    if gone:
        notes.append(f"{gone} of {len(before['terminals'])} terminals")
    gone = _count_items(before) - _count_items(after)
    if gone:
        notes.append(f"{gone} of {_count_items(before)} workload items")
    kept = [f["name"] for f in after.get("faults", [])]
    dropped = [f["name"] for f in before.get("faults", [])]
    for name in kept:
        dropped.remove(name)
    if dropped:
        notes.append(f"{len(dropped)} of {len(before.get('faults', []))} faults: "
                     f"{', '.join(dropped)}")
    settings = sorted(set(before.get("profile_settings", {}))
                      - set(after.get("profile_settings", {})))
    if settings:
        notes.append(f"profile settings {', '.join(settings)}")
    return notes
