"""One job of a campaign: a scenario, a seed, a profile in; a small picklable outcome out.

:func:`run_job` is what every executor of :func:`terminal_sim.harness.campaign.run_campaign`
calls. It swarms the scenario's faults (:mod:`terminal_sim.harness.swarm`), runs it, and
reduces the result to an :class:`Outcome`: unmet expectations, forbidden findings (under
the robust profile), liveness problems, findings by code and by (code, fault, crash point).
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal_sim.harness.swarm import Intensity, swarm_scenario
from terminal_sim.scenario.loader import Scenario, parse_scenario

__all__ = ["FORBIDDEN", "Job", "Outcome", "finding_keys", "forbidden_findings", "run_job",
           "run_jobs"]

#: Findings a robust terminal must never produce (as in :mod:`terminal_sim.harness.sweep`).
FORBIDDEN = ("LOST_RECORD", "ORPHAN_AUTHORIZATION", "DUPLICATE_CHARGE")


@dataclass(frozen=True)
class Job:
    """One run of a campaign: small and picklable, so any executor can carry it."""

    order: int  # the scenario's position in the campaign
    path: str
    source: str
    seed: int
    profile: str | None = None
    swarm: bool = True
    out_dir: str | None = None  # write artifacts there (the kept failing runs)


@dataclass
class Outcome:
    """What one job found (small, picklable)."""

    order: int
    scenario: str
    path: str
    seed: int
    profile: str
    passed: bool = True
    unmet: list[str] = field(default_factory=list)
    forbidden: list[dict[str, Any]] = field(default_factory=list)
    liveness: list[str] = field(default_factory=list)
    by_code: dict[str, int] = field(default_factory=dict)
    #: one (code, fault, crash point) per finding and distinct cause ("" when none)
    keys: list[tuple[str, str, str]] = field(default_factory=list)
    intensities: list[Intensity] = field(default_factory=list)
    derived_source: str | None = None  # the swarm's scenario text, when it scaled any
    error: str | None = None
    #: False when the campaign overrides the scenario's profile (see the module docstring)
    expectations_apply: bool = True

    @property
    def failed(self) -> bool:
        return bool(self.error or (self.unmet and self.expectations_apply) or self.forbidden
                    or (self.profile == "robust" and self.liveness))

    def reasons(self) -> list[str]:
        why = [f"expectation {e} unmet" for e in self.unmet] if self.expectations_apply else []
        why += [f"forbidden {f['code']}: {f['summary']}" for f in self.forbidden]
        if self.profile == "robust":
            why += [f"liveness: {problem}" for problem in self.liveness]
        if self.error:
            why.append(f"SIMULATOR_ERROR: {self.error}")
        return why


def forbidden_findings(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings a robust terminal must never produce (see the module docstring)."""
    bad = []
    for finding in findings:
        if finding["code"] in FORBIDDEN:
            bad.append(finding)
        elif finding["code"] == "STRAY_RECEIPT":
            receipt = (finding.get("evidence") or {}).get("receipt") or {}
            if receipt.get("outcome") == "APPROVED":
                bad.append(finding)
    return bad


def finding_keys(finding: dict[str, Any]) -> list[tuple[str, str, str]]:
    """One (code, fault, crash point) per distinct cause of ``finding`` (``""`` for none)."""
    pairs = []
    for cause in finding.get("causes") or []:
        pair = (str(cause.get("fault") or ""), str(cause.get("crash_point") or ""))
        if pair not in pairs:
            pairs.append(pair)
    return [(finding["code"], fault, point) for fault, point in pairs or [("", "")]]


@functools.lru_cache(maxsize=64)
def _parsed(source: str, path: str) -> Scenario:
    """A worker parses each scenario once, not once per seed (a ``Scenario`` is frozen)."""
    return parse_scenario(source, path)


def run_job(job: Job) -> Outcome:
    """Run one job (the function every executor calls; a top-level function, picklable).

    An exception of the simulator becomes the outcome's ``error``: a finding of the
    campaign, not the end of it.
    """
    from terminal_sim.harness.run import write_run_extras
    from terminal_sim.sim.simulation import Simulation

    scenario = _parsed(job.source, job.path)
    outcome = Outcome(job.order, scenario.name, job.path, job.seed,
                      job.profile or scenario.profile,
                      expectations_apply=job.profile in (None, scenario.profile))
    try:
        if job.swarm:
            scenario, outcome.intensities = swarm_scenario(scenario, job.seed)
            if outcome.intensities:
                outcome.derived_source = scenario.source
        sim = Simulation(scenario, seed=job.seed, profile=job.profile, out_dir=job.out_dir)
        outcome.profile = sim.profile.name
        result = sim.run()
        write_run_extras(result)
    # any exception here is a bug of the simulator, and the campaign's job is to report it
    # as a failing seed (SIMULATOR_ERROR) rather than stop: the catch is blind on purpose
    except Exception as exc:  # noqa: BLE001
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        outcome.error = f"{type(exc).__name__}: {exc} (at {where})"
        outcome.passed = False
        return outcome
    report = result.report
    outcome.passed = bool(report["passed"])
    outcome.unmet = [f"{e['code']} {e['expect']} (actual {e['actual']})"
                     for e in report["expectations"] if not e["passed"]]
    outcome.by_code = dict(report["findings_by_code"])
    outcome.liveness = list(result.liveness)
    if outcome.profile == "robust":
        outcome.forbidden = [{"code": f["code"], "summary": f["summary"],
                              "terminal_id": f.get("terminal_id"), "stan": f.get("stan")}
                             for f in forbidden_findings(report["findings"])]
    outcome.keys = [key for finding in report["findings"] for key in finding_keys(finding)]
    return outcome


def run_jobs(jobs: list[Job]) -> list[Outcome]:
    """Run a batch of jobs, one after another: one task of a pool or cluster carries a few
    runs, so the cost of sending a task is shared (a top-level function, picklable)."""
    return [run_job(job) for job in jobs]
