"""Campaigns: one or more scenarios over many seeds, in parallel, with swarm intensities.

A campaign runs every scenario once per seed (in memory: no artifacts), aggregates the
findings by **code x fault x crash point** (read from each finding's ``causes``) and keeps
the **failing seeds** as a regression list:

* a seed fails when one of the scenario's expectations is unmet (only under the profile
  the scenario names: its expectations describe that firmware, and a naive scenario's
  "LOST_RECORD >= 1" is what ``--profile robust`` is meant to refute), or, under the
  robust profile, when a forbidden finding shows up (``LOST_RECORD``, ``ORPHAN_AUTHORIZATION``,
  ``DUPLICATE_CHARGE``, a ``STRAY_RECEIPT`` of an approved sale) or a terminal ends the
  day with work left (liveness), or when the simulator itself raised (``SIMULATOR_ERROR``:
  a bug, kept like any other failure instead of ending the campaign);
* each failing seed gets the exact ``pos-sim run ... --seed N`` command that reproduces
  it, and the first ``keep_runs`` of them (in scenario and seed order) a run directory
  written with every artifact, which ``pos-sim replay`` repeats byte for byte. Writing it
  is also a check: the run with artifacts must find what the run in memory found.

**Swarm intensities** (on by default, :mod:`terminal_sim.harness.swarm`): each seed
scales each fault by its own factor, so a campaign visits weaker and stronger versions of
the scenario's faults rather than one fixed point.

The pool is a :class:`concurrent.futures.Executor` behind one seam: :func:`run_campaign`
takes any executor (a cluster's, e.g. ``dask.distributed.Client.get_executor()`` or
``mpi4py.futures.MPIPoolExecutor``); by default it makes a ``ProcessPoolExecutor`` for
``workers > 1`` and runs in process for one. Jobs and outcomes are small picklable
values; results are ordered by (scenario, seed) before anything is aggregated, so the
result is the same for any number of workers and any completion order.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from terminal_sim.base.ranges import runs_text
from terminal_sim.errors import ConfigurationError
from terminal_sim.harness.campaign_job import (
    FORBIDDEN,
    Job,
    Outcome,
    forbidden_findings,
    run_job,
)
from terminal_sim.harness.swarm import SWARM_PERCENT, Intensity, swarm_scenario
from terminal_sim.scenario.loader import Scenario, load_scenario

__all__ = [
    "CAMPAIGN_VERSION",
    "FORBIDDEN",
    "SWARM_PERCENT",
    "Campaign",
    "ExecutorFactory",
    "Intensity",
    "Job",
    "Outcome",
    "default_executor",
    "forbidden_findings",
    "load_scenarios",
    "map_in_pool",
    "parse_seeds",
    "run_campaign",
    "run_job",
    "swarm_scenario",
    "write_campaign",
]

CAMPAIGN_VERSION = 1
#: At most this many seeds in one campaign (a typo like 1-10000000000 is refused).
MAX_SEEDS = 10_000_000
_SEEDS = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_seeds(text: str) -> list[int]:
    """``"1-1000"``, ``"7"``, ``"1-5,9,20-22"``: the seeds, in order, without repeats."""
    seeds: dict[int, None] = {}
    for part in str(text).split(","):
        match = _SEEDS.match(part)
        if match is None:
            raise ConfigurationError(f"seeds: {part.strip()!r} is not N or N-M "
                                     "(e.g. --seeds 1-1000 or --seeds 1-5,9)")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if high < low:
            raise ConfigurationError(f"seeds: {part.strip()!r} ends before it starts")
        if high - low + 1 + len(seeds) > MAX_SEEDS:
            raise ConfigurationError(f"seeds: more than {MAX_SEEDS:,} seeds")
        for seed in range(low, high + 1):
            seeds[seed] = None
    if not seeds:
        raise ConfigurationError("seeds: none given")
    return list(seeds)


def load_scenarios(target: str | Path) -> list[Scenario]:
    """A scenario file, or every ``*.yaml``/``*.yml`` file of a directory (by name)."""
    path = Path(target)
    if path.is_dir():
        files = sorted(p for p in path.iterdir()
                       if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise ConfigurationError(f"{path} holds no scenario files (*.yaml)")
        scenarios = [load_scenario(p) for p in files]
    elif path.is_file():
        scenarios = [load_scenario(path)]
    else:
        raise ConfigurationError(f"{path}: no such scenario file or directory")
    names = Counter(s.name for s in scenarios)
    twice = sorted(name for name, n in names.items() if n > 1)
    if twice:
        raise ConfigurationError(f"two scenarios are called {twice[0]!r}; names must differ")
    return scenarios


# -- the campaign ---------------------------------------------------------------------------


@dataclass
class Campaign:
    """The aggregate of a campaign; :meth:`to_dict` is ``campaign.json``."""

    scenarios: list[Scenario]
    seeds: list[int]
    seeds_text: str
    profile: str | None
    swarm: bool
    outcomes: list[Outcome]
    #: (scenario order, seed) -> the kept run directory, the check of its report
    kept: dict[tuple[int, int], tuple[str, str | None]] = field(default_factory=dict)

    @property
    def failing(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]

    def aggregate(self) -> list[dict[str, Any]]:
        """Findings by (code, fault, crash point): how many, in how many runs, where first."""
        findings: Counter[tuple[str, str, str]] = Counter()
        runs: dict[tuple[str, str, str], list[tuple[str, int]]] = {}
        for outcome in self.outcomes:
            findings.update(outcome.keys)
            for key in dict.fromkeys(outcome.keys):
                runs.setdefault(key, []).append((outcome.scenario, outcome.seed))
        rows = []
        for key, count in sorted(findings.items(), key=lambda kv: (-kv[1], kv[0])):
            code, fault, point = key
            where = runs[key]
            rows.append({"code": code, "fault": fault or None, "crash_point": point or None,
                         "findings": count, "runs": len(where),
                         "first": {"scenario": where[0][0], "seed": where[0][1]},
                         "scenarios": sorted({s for s, _ in where})})
        return rows

    def per_scenario(self) -> dict[str, dict[str, Any]]:
        table: dict[str, dict[str, Any]] = {}
        for scenario in self.scenarios:
            mine = [o for o in self.outcomes if o.scenario == scenario.name]
            codes: Counter[str] = Counter()
            for outcome in mine:
                codes.update(outcome.by_code)
            table[scenario.name] = {
                "path": scenario.path,
                "runs": len(mine),
                "failing": sum(1 for o in mine if o.failed),
                "errors": sum(1 for o in mine if o.error),
                "findings_by_code": dict(sorted(codes.items())),
                "runs_with_finding": dict(sorted(Counter(
                    code for o in mine for code in o.by_code).items())),
            }
        return table

    def regressions(self, out_dir: Path | None = None) -> list[dict[str, Any]]:
        """The failing seeds, each with the command that reproduces it."""
        entries = []
        for outcome in self.failing:
            scenario_file = outcome.path
            if outcome.derived_source is not None:
                scenario_file = str(_derived_path(out_dir, outcome))
            command = ["pos-sim", "run", scenario_file, "--seed", str(outcome.seed)]
            if self.profile is not None:
                command += ["--profile", self.profile]
            entry: dict[str, Any] = {
                "scenario": outcome.scenario,
                "scenario_path": outcome.path,
                "seed": outcome.seed,
                "profile": outcome.profile,
                "why": outcome.reasons(),
                "findings_by_code": dict(sorted(outcome.by_code.items())),
                "swarm": [i.to_dict() for i in outcome.intensities],
                "scenario_file": scenario_file,
                "command": shlex.join(command),
            }
            kept = self.kept.get((outcome.order, outcome.seed))
            if kept is not None:
                run_dir, problem = kept
                entry["run_dir"] = run_dir
                entry["replay"] = shlex.join(["pos-sim", "replay", run_dir])
                if problem:
                    entry["nondeterminism"] = problem
            entries.append(entry)
        return entries

    def to_dict(self) -> dict[str, Any]:
        """``campaign.json``: no wall-clock time and no worker count, so the same campaign
        gives the same file however it was spread."""
        failing = self.failing
        return {
            "campaign_version": CAMPAIGN_VERSION,
            "scenarios": [{"name": s.name, "path": s.path, "profile": self.profile or s.profile}
                          for s in self.scenarios],
            "seeds": {"spec": self.seeds_text, "count": len(self.seeds)},
            "swarm": {"enabled": self.swarm, "factor_percent": list(SWARM_PERCENT),
                      "stream": "campaign/swarm/{index}/{fault}"},
            "runs": len(self.outcomes),
            "failing": len(failing),
            "errors": sum(1 for o in self.outcomes if o.error),
            "failing_seeds": {s.name: [o.seed for o in failing if o.scenario == s.name]
                              for s in self.scenarios},
            "per_scenario": self.per_scenario(),
            "aggregate": self.aggregate(),
            "nondeterministic": sorted(
                f"{run}: {problem}" for run, problem in self.kept.values() if problem),
        }


def _derived_path(out_dir: Path | None, outcome: Outcome) -> Path:
    name = f"{outcome.scenario}.seed-{outcome.seed}.yaml"
    return (out_dir / "scenarios" / name) if out_dir is not None else Path(name)


def _run_dir(out_dir: Path, outcome: Outcome) -> Path:
    return out_dir / "runs" / f"{outcome.scenario}.seed-{outcome.seed}"


ExecutorFactory = Callable[[int], Executor]
T = TypeVar("T")
R = TypeVar("R")


def default_executor(workers: int) -> Executor:
    return ProcessPoolExecutor(max_workers=workers)


def map_in_pool(fn: Callable[[T], R], items: Sequence[T], workers: int,
                executor: Executor | None, factory: ExecutorFactory,
                on_done: Callable[[], None] | None = None) -> Iterator[R]:
    """``fn`` over ``items`` in order: in process with one worker and no ``executor``,
    else in ``executor`` (not shut down here) or a pool ``factory(workers)`` makes.
    ``fn`` and the items must pickle (a top-level function, small dataclasses)."""
    if executor is None and workers <= 1:
        for item in items:
            yield fn(item)
            if on_done is not None:
                on_done()
        return
    # a few chunks per worker: small enough to balance, large enough to amortize pickling
    chunk = max(1, len(items) // (max(workers, 1) * 8))
    owned = executor is None
    pool = factory(workers) if executor is None else executor
    try:
        for result in pool.map(fn, items, chunksize=chunk):
            yield result
            if on_done is not None:
                on_done()
    finally:
        if owned:
            pool.shutdown(wait=True, cancel_futures=True)


def run_campaign(scenarios: Sequence[Scenario], seeds: Sequence[int], *,
                 seeds_text: str | None = None, profile: str | None = None,
                 swarm: bool = True, workers: int = 1, executor: Executor | None = None,
                 executor_factory: ExecutorFactory = default_executor,
                 out_dir: str | Path | None = None, keep_runs: int = 20,
                 progress: IO[str] | None = None) -> Campaign:
    """Run every scenario for every seed and aggregate (see the module docstring).

    ``executor`` is the seam for other pools (it is not shut down here); without one,
    ``executor_factory(workers)`` makes a pool when ``workers > 1``. With ``out_dir``,
    the first ``keep_runs`` failing seeds are run again with artifacts into
    ``out_dir/runs/`` (and their swarm scenarios written to ``out_dir/scenarios/``).
    ``progress`` (a stream, e.g. ``sys.stderr``) gets progress lines.
    """
    if not scenarios:
        raise ConfigurationError("a campaign needs at least one scenario")
    if workers < 1:
        raise ConfigurationError(f"workers: at least 1, got {workers}")
    for scenario in scenarios:
        if not scenario.source:
            raise ConfigurationError(f"{scenario.path}: a campaign needs scenarios loaded "
                                     "from YAML (the source travels to the workers)")
    if profile is not None:
        from terminal_sim.core.profiles import get_profile

        get_profile(profile)  # an unknown profile fails here, not in every worker
    jobs = [Job(order, s.path, s.source, seed, profile, swarm)
            for order, s in enumerate(scenarios) for seed in seeds]
    outcomes = _collect(jobs, workers, executor, executor_factory, progress, "campaign")
    campaign = Campaign(list(scenarios), list(seeds), seeds_text or runs_text(seeds, separator=","),
                        profile, swarm, outcomes)
    if out_dir is not None:
        _keep_failing(campaign, Path(out_dir), keep_runs, workers, executor,
                      executor_factory, progress)
    return campaign


def _collect(jobs: Sequence[Job], workers: int, executor: Executor | None,
             factory: ExecutorFactory, progress: IO[str] | None, label: str) -> list[Outcome]:
    meter = _meter(len(jobs), label, progress)
    failed = True
    try:
        outcomes = list(map_in_pool(run_job, jobs, workers, executor, factory,
                                    meter.advance if meter is not None else None))
        failed = False
    finally:  # an interrupted campaign still closes its progress line, as failed
        if meter is not None:
            meter.close(failed=failed)
    return sorted(outcomes, key=lambda o: (o.order, o.seed))


def _meter(total: int, label: str, stream: IO[str] | None) -> Any:
    if stream is None:
        return None
    from terminal_sim.reporting.progress import Progress

    return Progress(total, label, stream=stream, unit="runs")


def _keep_failing(campaign: Campaign, out_dir: Path, keep_runs: int, workers: int,
                  executor: Executor | None, factory: ExecutorFactory,
                  progress: IO[str] | None) -> None:
    failing = campaign.failing
    for outcome in failing:
        if outcome.derived_source is not None:
            path = _derived_path(out_dir, outcome)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(outcome.derived_source, encoding="utf-8", newline="\n")
    chosen = [o for o in failing if not o.error][:max(0, keep_runs)]
    if not chosen:
        return
    sources = {s.name: s.source for s in campaign.scenarios}
    jobs = []
    for outcome in chosen:
        run_dir = _run_dir(out_dir, outcome)
        run_dir.mkdir(parents=True, exist_ok=True)
        jobs.append(Job(outcome.order, outcome.path, sources[outcome.scenario], outcome.seed,
                        campaign.profile, campaign.swarm, str(run_dir)))
    rerun = _collect(jobs, workers, executor, factory, progress, "keeping failing runs")
    first = {(o.order, o.seed): o for o in chosen}
    for again in rerun:
        before = first[(again.order, again.seed)]
        problem = None
        if (again.by_code, again.unmet, again.error) != (before.by_code, before.unmet,
                                                         before.error):
            problem = (f"in memory {before.by_code or 'no findings'}, with artifacts "
                       f"{again.by_code or 'no findings'}")
        campaign.kept[(again.order, again.seed)] = (str(_run_dir(out_dir, again)), problem)


def write_campaign(campaign: Campaign, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``campaign.json`` and ``regressions.json`` into ``out_dir``."""
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    summary = target / "campaign.json"
    summary.write_text(json.dumps(campaign.to_dict(), indent=2, sort_keys=True,
                                  ensure_ascii=False) + "\n", encoding="utf-8")
    regressions = target / "regressions.json"
    regressions.write_text(json.dumps({"campaign_version": CAMPAIGN_VERSION,
                                       "regressions": campaign.regressions(target)},
                                      indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                           encoding="utf-8")
    return summary, regressions


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)

