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

**Swarm intensities** (``swarm=True``; ``pos-sim campaign --swarm``, off by default on the
command line, :mod:`terminal_sim.harness.swarm`): each seed scales each fault by its own
factor, so a campaign visits weaker and stronger versions of the scenario's faults rather
than one fixed point. A scenario's expectations are written for its own faults, so a
swarm campaign is a search (its failing seeds are leads), not a check of the scenarios.

The pool is a :class:`concurrent.futures.Executor` behind one seam: :func:`run_campaign`
takes any executor (a cluster's: ``pos-sim campaign --cluster`` passes Dask's, from
:mod:`terminal_sim.harness.cluster`; ``mpi4py.futures.MPIPoolExecutor`` fits too); by
default it makes a ``ProcessPoolExecutor`` for ``workers > 1`` and runs in process for
one. Jobs are made lazily and sent in small batches, a few per worker in flight; outcomes
stream into ``OUT/campaign.sqlite`` as they finish (:mod:`terminal_sim.harness.campaign_store`)
and every aggregate is read back from there in (scenario, seed) order, so the result is
the same for any number of workers, any completion order, and an interrupted campaign
continued with ``resume``, and the client's memory does not grow with the seeds.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
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
    run_jobs,
)
from terminal_sim.harness.campaign_store import STORE_NAME, CampaignStore, fingerprint
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
#: Batches in flight per worker (the client holds no more than these), runs per batch.
IN_FLIGHT_PER_WORKER = 3
MAX_BATCH = 16
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
    """The aggregate of a campaign; :meth:`to_dict` is ``campaign.json``.

    The outcomes live in ``store`` (:mod:`terminal_sim.harness.campaign_store`), read
    back in (scenario order, seed) order whenever they are needed: nothing here grows
    with the number of seeds but the seed list itself.
    """

    scenarios: list[Scenario]
    seeds: list[int]
    seeds_text: str
    profile: str | None
    swarm: bool
    store: CampaignStore
    #: (scenario order, seed) -> the kept run directory, the check of its report
    kept: dict[tuple[int, int], tuple[str, str | None]] = field(default_factory=dict)
    skipped: int = 0  # finished runs a resumed campaign found in its store
    ran: int = 0  # runs this call executed

    @property
    def outcomes(self) -> Iterator[Outcome]:
        """Every outcome, in (scenario order, seed) order, one at a time."""
        return self.store.outcomes()

    @property
    def failing(self) -> list[Outcome]:
        return list(self.store.outcomes(failed=True))

    def close(self) -> None:
        """Close the store (the file keeps everything; a closed campaign reads nothing)."""
        self.store.close()

    def aggregate(self) -> list[dict[str, Any]]:
        """Findings by (code, fault, crash point): how many, in how many runs, where first."""
        findings: Counter[tuple[str, str, str]] = Counter()
        runs: Counter[tuple[str, str, str]] = Counter()
        first: dict[tuple[str, str, str], tuple[str, int]] = {}
        scenarios: dict[tuple[str, str, str], set[str]] = {}
        for outcome in self.outcomes:
            findings.update(outcome.keys)
            for key in dict.fromkeys(outcome.keys):
                runs[key] += 1
                first.setdefault(key, (outcome.scenario, outcome.seed))
                scenarios.setdefault(key, set()).add(outcome.scenario)
        rows = []
        for key, count in sorted(findings.items(), key=lambda kv: (-kv[1], kv[0])):
            code, fault, point = key
            rows.append({"code": code, "fault": fault or None, "crash_point": point or None,
                         "findings": count, "runs": runs[key],
                         "first": {"scenario": first[key][0], "seed": first[key][1]},
                         "scenarios": sorted(scenarios[key])})
        return rows

    def per_scenario(self) -> dict[str, dict[str, Any]]:
        table: dict[str, dict[str, Any]] = {}
        for order, scenario in enumerate(self.scenarios):
            codes: Counter[str] = Counter()
            with_finding: Counter[str] = Counter()
            for outcome in self.store.outcomes(order=order):
                codes.update(outcome.by_code)
                with_finding.update(outcome.by_code.keys())
            table[scenario.name] = {
                "path": scenario.path,
                "runs": self.store.count(order=order),
                "failing": self.store.count(order=order, failed=True),
                "errors": self.store.count(order=order, error=True),
                "findings_by_code": dict(sorted(codes.items())),
                "runs_with_finding": dict(sorted(with_finding.items())),
            }
        return table

    def regressions(self, out_dir: Path | None = None) -> list[dict[str, Any]]:
        """The failing seeds, each with the command that reproduces it."""
        entries = []
        for outcome in self.store.outcomes(failed=True):
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
        gives the same file however it was spread (or interrupted and resumed)."""
        return {
            "campaign_version": CAMPAIGN_VERSION,
            "scenarios": [{"name": s.name, "path": s.path, "profile": self.profile or s.profile}
                          for s in self.scenarios],
            "seeds": {"spec": self.seeds_text, "count": len(self.seeds)},
            "swarm": {"enabled": self.swarm, "factor_percent": list(SWARM_PERCENT),
                      "stream": "campaign/swarm/{index}/{fault}"},
            "runs": self.store.count(),
            "failing": self.store.count(failed=True),
            "errors": self.store.count(error=True),
            "failing_seeds": {s.name: self.store.seeds(order, failed=True)
                              for order, s in enumerate(self.scenarios)},
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


def _stream(jobs: Iterable[Job], workers: int, executor: Executor | None,
            factory: ExecutorFactory, batch: int) -> Iterator[list[Outcome]]:
    """Run ``jobs`` (a lazy iterable) and yield their outcomes batch by batch, as they
    finish: at most a few batches per worker are in flight, so neither the jobs nor the
    outcomes of a long campaign pile up in this process."""
    if executor is None and workers <= 1:
        for job in jobs:
            yield [run_job(job)]
        return
    owned = executor is None
    pool = factory(workers) if executor is None else executor
    window = max(2, IN_FLIGHT_PER_WORKER * workers)
    pending: set[Future[list[Outcome]]] = set()
    try:
        for chunk in _batched(jobs, batch):
            pending.add(pool.submit(run_jobs, chunk))
            if len(pending) >= window:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        for future in pending:  # interrupted: what has not started never will
            future.cancel()
        if owned:
            pool.shutdown(wait=True, cancel_futures=True)


def _batched(jobs: Iterable[Job], size: int) -> Iterator[list[Job]]:
    chunk: list[Job] = []
    for job in jobs:
        chunk.append(job)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _batch_size(runs: int, workers: int) -> int:
    """A few batches per worker and round: small enough to balance and to lose little to
    a dead worker, large enough to share the cost of sending a task."""
    return max(1, min(MAX_BATCH, runs // (max(workers, 1) * 16)))


def run_campaign(scenarios: Sequence[Scenario], seeds: Sequence[int], *,
                 seeds_text: str | None = None, profile: str | None = None,
                 swarm: bool = True, workers: int = 1, executor: Executor | None = None,
                 executor_factory: ExecutorFactory = default_executor,
                 out_dir: str | Path | None = None, keep_runs: int = 20,
                 progress: IO[str] | None = None, resume: bool = False) -> Campaign:
    """Run every scenario for every seed and aggregate (see the module docstring).

    ``executor`` is the seam for other pools (it is not shut down here; ``workers`` then
    says how many it runs at once, for the number of tasks in flight); without one,
    ``executor_factory(workers)`` makes a pool when ``workers > 1``. Outcomes stream into
    ``out_dir/campaign.sqlite`` (in memory without ``out_dir``); ``resume`` continues the
    campaign stored there, running only the seeds it has not finished (a store of another
    campaign is refused). With ``out_dir``, the first ``keep_runs`` failing seeds are run
    again with artifacts into ``out_dir/runs/``, always on this machine (in a local pool
    from ``executor_factory``: a cluster's workers share no filesystem with us), and their
    swarm scenarios written to ``out_dir/scenarios/``. ``progress`` (a stream, e.g.
    ``sys.stderr``) gets progress lines. The caller closes the result
    (:meth:`Campaign.close`) when done with it.
    """
    _check(scenarios, workers, profile)
    target = Path(out_dir) if out_dir is not None else None
    store = CampaignStore(target / STORE_NAME if target is not None else None,
                          fingerprint(scenarios, seeds, profile, swarm), resume=resume)
    ok = False
    try:
        skipped = store.count()
        todo = len(scenarios) * len(seeds) - skipped
        jobs = (Job(order, s.path, s.source, seed, profile, swarm)
                for order, s in enumerate(scenarios) for seed in seeds
                if not (skipped and store.finished(order, seed)))
        meter = _meter(todo, "campaign", progress, failures=True)
        failed = True
        try:
            for batch in _stream(jobs, workers, executor, executor_factory,
                                 _batch_size(todo, workers)):
                for outcome in batch:
                    store.add(outcome)
                if meter is not None:
                    meter.advance(len(batch), failed=sum(1 for o in batch if o.failed))
            store.commit()
            failed = False
        finally:  # an interrupted campaign still closes its progress line, as failed
            if meter is not None:
                meter.close(failed=failed)
        campaign = Campaign(list(scenarios), list(seeds),
                            seeds_text or runs_text(seeds, separator=","), profile, swarm,
                            store, skipped=skipped, ran=todo)
        if target is not None:
            # on this machine: a given executor's workers may not share our filesystem
            _keep_failing(campaign, target, keep_runs, min(workers, default_workers()),
                          executor_factory, progress)
        ok = True
    finally:  # interrupted or broken: commit what was finished, for --resume
        if not ok:
            store.close()
    return campaign


def _check(scenarios: Sequence[Scenario], workers: int, profile: str | None) -> None:
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


def _meter(total: int, label: str, stream: IO[str] | None, *, failures: bool = False) -> Any:
    if stream is None:
        return None
    from terminal_sim.reporting.progress import Progress

    return Progress(total, label, stream=stream, unit="runs", count_failed=failures)


def _keep_failing(campaign: Campaign, out_dir: Path, keep_runs: int, workers: int,
                  factory: ExecutorFactory, progress: IO[str] | None) -> None:
    chosen: list[Outcome] = []
    for outcome in campaign.store.outcomes(failed=True):
        if outcome.derived_source is not None:
            path = _derived_path(out_dir, outcome)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(outcome.derived_source, encoding="utf-8", newline="\n")
        if not outcome.error and len(chosen) < keep_runs:
            chosen.append(outcome)
    if not chosen:
        return
    sources = {s.name: s.source for s in campaign.scenarios}
    jobs = []
    for outcome in chosen:
        run_dir = _run_dir(out_dir, outcome)
        run_dir.mkdir(parents=True, exist_ok=True)
        jobs.append(Job(outcome.order, outcome.path, sources[outcome.scenario], outcome.seed,
                        campaign.profile, campaign.swarm, str(run_dir)))
    rerun = _collect(jobs, workers, None, factory, progress, "keeping failing runs")
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

