"""``pos-sim explore``: generate worlds from a seed, judge them, shrink what fails.

Worlds ``0, 1, 2 ...`` of the seed are judged in that order (in a process pool with
``workers > 1``, through the campaign's executor seam
:func:`~terminal_sim.harness.campaign.map_in_pool`). ``runs`` fixes how many; a time
budget instead stops after the batch during which it ran out, so which worlds ran is
always a prefix of the same numbering and the count is reported. Then, for each reason,
the first :data:`SHRINK_PER_REASON` failing worlds (by number) are shrunk
(:mod:`terminal_sim.explore.shrink`); every other failure names the minimal scenario of
its reason. The result (:func:`explore`) holds no time and no absolute path: the same
seed and run count give the same ``explore.json`` bytes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import IO, Any

from terminal_sim.core.profiles import get_profile
from terminal_sim.errors import ConfigurationError
from terminal_sim.explore.judge import DEFAULT_JUDGES, ORACLE, Judge, judge_world
from terminal_sim.explore.shrink import SHRINK_BUDGET, shrink
from terminal_sim.explore.world import generate_world
from terminal_sim.harness.campaign import ExecutorFactory, default_executor, map_in_pool
from terminal_sim.plugins.registry import known_fault_names
from terminal_sim.reporting.progress import Progress

__all__ = ["SHRINK_PER_REASON", "Exploration", "Failure", "WorldResult", "explore"]

#: Failing worlds shrunk per reason (the first ones by number); the rest point at them.
SHRINK_PER_REASON = 2


@dataclass(frozen=True)
class _Task:
    seed: int
    index: int
    profile: str
    judges: tuple[Judge, ...]
    reason: str = ""  # set: shrink toward this reason
    budget: int = SHRINK_BUDGET


@dataclass(frozen=True)
class WorldResult:
    """One judged world."""

    index: int
    name: str
    faults: tuple[str, ...]  # the distinct faults it enabled
    reasons: tuple[str, ...]


@dataclass
class Failure:
    """One failing world, with its minimal scenario once shrunk."""

    world: WorldResult
    reason: str
    scenario: dict[str, Any]
    minimal: dict[str, Any] | None = None
    shrink_runs: int = 0
    removed: list[str] = field(default_factory=list)
    minimal_of: int | None = None  # the world whose minimal scenario stands for this one


@dataclass
class Exploration:
    """What one ``explore`` found."""

    profile: str
    seed: int
    worlds: list[WorldResult]
    failures: list[Failure]

    def summary(self) -> dict[str, Any]:
        covered = Counter(name for world in self.worlds for name in world.faults)
        reasons = Counter(reason for world in self.worlds for reason in world.reasons)
        return {
            "profile": self.profile,
            "seed": self.seed,
            "runs": len(self.worlds),
            "failures": sum(1 for f in self.failures
                            if any(not r.startswith(ORACLE) for r in f.world.reasons)),
            "oracle_disagreements": sum(1 for f in self.failures
                                        if any(r.startswith(ORACLE) for r in f.world.reasons)),
            "faults_covered": {name: covered.get(name, 0) for name in known_fault_names()},
            "by_reason": dict(sorted(reasons.items())),
        }


def _judge(task: _Task) -> WorldResult:
    world = generate_world(task.seed, task.index, task.profile)
    verdict = judge_world(world.data, task.profile, task.judges)
    faults = tuple(sorted({f["name"] for f in world.data["faults"]}))
    return WorldResult(task.index, world.name, faults, verdict.reasons)


def _shrink(task: _Task) -> tuple[dict[str, Any], int, list[str]]:
    world = generate_world(task.seed, task.index, task.profile)

    def fails(data: dict[str, Any]) -> bool:
        return task.reason in judge_world(data, task.profile, task.judges).reasons

    shrunk = shrink(world.data, fails, task.budget)
    return shrunk.data, shrunk.runs, shrunk.removed


def explore(profile: str, seed: int, *, runs: int | None = None,
            time_budget_s: float | None = None, workers: int = 1,
            judges: Sequence[Judge] = DEFAULT_JUDGES,
            executor_factory: ExecutorFactory = default_executor,
            executor: Executor | None = None,
            shrink_budget: int = SHRINK_BUDGET,
            clock: Callable[[], float] = time.monotonic,
            progress: IO[str] | None = None) -> Exploration:
    """Judge worlds ``0..runs-1`` of ``seed`` (or as many as ``time_budget_s`` allows),
    then shrink the failures (see the module docstring). ``executor`` is the seam for
    another pool (a Dask cluster's, see :mod:`terminal_sim.harness.cluster`; not shut
    down here); ``progress`` (e.g. ``sys.stderr``) gets progress lines."""
    get_profile(profile)
    if (runs is None) == (time_budget_s is None):
        raise ConfigurationError("give either runs or a time budget")
    if workers < 1:
        raise ConfigurationError(f"workers: at least 1, got {workers}")
    chosen = tuple(judges)
    worlds: list[WorldResult] = []
    with Progress(runs, "explore", stream=progress, unit="worlds",
                  enabled=progress is not None) as meter:
        if runs is not None:
            tasks = [_Task(seed, i, profile, chosen) for i in range(runs)]
            worlds = list(map_in_pool(_judge, tasks, workers, executor, executor_factory,
                                      meter.advance))
        else:
            deadline = clock() + float(time_budget_s or 0)
            batch = 1 if workers == 1 else workers * 4
            while clock() < deadline:
                tasks = [_Task(seed, len(worlds) + i, profile, chosen) for i in range(batch)]
                worlds += map_in_pool(_judge, tasks, workers, executor, executor_factory,
                                      meter.advance)
    failures = _failures(worlds, seed, profile)
    _shrink_failures(failures, seed, profile, chosen, workers, executor, executor_factory,
                     shrink_budget, progress)
    return Exploration(profile, seed, worlds, failures)


def _failures(worlds: list[WorldResult], seed: int, profile: str) -> list[Failure]:
    return [Failure(world, world.reasons[0], generate_world(seed, world.index, profile).data)
            for world in worlds if world.reasons]


def _shrink_failures(failures: list[Failure], seed: int, profile: str,
                     judges: tuple[Judge, ...], workers: int, executor: Executor | None,
                     factory: ExecutorFactory, budget: int, progress: IO[str] | None
                     ) -> None:

    chosen: list[Failure] = []
    first: dict[str, int] = {}
    for failure in failures:
        shrunk = sum(1 for f in chosen if f.reason == failure.reason)
        if shrunk < SHRINK_PER_REASON:
            chosen.append(failure)
            first.setdefault(failure.reason, failure.world.index)
        else:
            failure.minimal_of = first[failure.reason]
    tasks = [_Task(seed, f.world.index, profile, judges, f.reason, budget) for f in chosen]
    with Progress(len(tasks), "shrink", stream=progress, unit="failures",
                  enabled=progress is not None and bool(tasks)) as meter:
        for failure, (data, runs, removed) in zip(
                chosen, map_in_pool(_shrink, tasks, workers, executor, factory, meter.advance),
                strict=True):
            failure.minimal, failure.shrink_runs, failure.removed = data, runs, removed
