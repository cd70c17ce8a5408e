"""The scenario library: each reproduces its failure by its mechanism.

Each scenario's expectations hold; its findings carry causes naming its fault; and
with the fault removed the same day produces no finding at all, so the finding came
from the mechanism, not from the workload.
"""

from __future__ import annotations

import dataclasses

import pytest

from terminal_sim.harness.run import run_scenario
from terminal_sim.scenario.loader import load_scenario
from terminal_sim.sim.simulation import RunResult
from tests.support import SCENARIOS

#: scenario -> finding codes it must show (the issue's list)
REQUIRED = {
    "nightly-update-blank-receipts": {"STRAY_RECEIPT", "BLANK_RECEIPT"},
    "cold-reader-error-slips": {"STRAY_RECEIPT"},
    "power-dip-print-before-save": {"STRAY_RECEIPT"},
    "power-dip-lost-approval": {"LOST_RECORD"},
    "sync-failure-backoffice-gap": {"UNSYNCED_RECORD", "LOST_RECORD"},
    "rogue-reprint": {"STRAY_RECEIPT"},
    "printer-powered-down-mid-job": {"TRUNCATED_RECEIPT", "MISSING_RECEIPT"},
    "register-never-heard": {"UNSYNCED_RECORD"},
    "late-host-reply": {"ORPHAN_AUTHORIZATION", "DUPLICATE_CHARGE"},
}


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_scenario_reproduces_its_findings(name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    assert scenario.description.strip(), "a trainer needs the story"
    result = run_scenario(scenario)
    assert result.passed, result.report["expectations"]
    codes = {f.code for f in result.findings}
    assert REQUIRED[name] <= codes
    fault_names = {spec.name for spec in scenario.faults}
    for finding in result.findings:
        if finding.code in REQUIRED[name]:
            assert {c["fault"] for c in finding.causes} & fault_names, (
                f"{finding.code} {finding.summary} names no cause")


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_without_the_fault_the_findings_disappear(name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    calm = dataclasses.replace(scenario, faults=(), expect=())
    result = run_scenario(calm)
    assert [f.summary for f in result.findings] == []


@pytest.mark.parametrize("name", ["cold-reader-error-slips", "sync-failure-backoffice-gap"])
def test_fault_schedule_is_part_of_the_seed(name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    first = run_scenario(scenario).report
    again = run_scenario(scenario).report
    other = run_scenario(scenario, seed=scenario.seed + 1).report
    assert first == again
    assert first["findings"] != other["findings"]


#: scenario -> what in the robust run shows the safeguard that caught the fault
SAFEGUARDS = {
    "nightly-update-blank-receipts": lambda r: _traced(r, "note", "spooler_dropped_empty_jobs"),
    "cold-reader-error-slips": lambda r: _traced(r, "note", "customer_retries") and not [
        p for p in r.evidence.receipts if "CARD UNREADABLE" in p.text],
    "power-dip-print-before-save": lambda r: any(
        p.facts.copy_label == "DUPLICATE" for p in r.evidence.receipts),
    "power-dip-lost-approval": lambda r: _traced(r, "effect", "queue_reversal")
    and _traced(r, "event", "reversal_reply"),
    "late-host-reply": lambda r: _traced(r, "effect", "queue_reversal")
    and _traced(r, "event", "reversal_reply"),
    "printer-powered-down-mid-job": lambda r: any(
        p.facts.copy_label == "DUPLICATE" for p in r.evidence.receipts),
    "rogue-reprint": lambda r: _traced(r, "note", "ignored") and not [
        p for p in r.evidence.receipts if p.facts.copy_label == "COPY"],
    "register-never-heard": lambda r: _traced(r, "sync", "push_failed"),
    "sync-failure-backoffice-gap": lambda r: _traced(r, "sync", "push_failed") and all(
        not t["data"]["unsynced"] for t in r.evidence.trace if t["name"] == "evict"),
}
FORBIDDEN = {"LOST_RECORD", "ORPHAN_AUTHORIZATION", "DUPLICATE_CHARGE"}


def _traced(result: RunResult, kind: str, name: str) -> bool:
    return any(r["kind"] == kind and r["name"] == name for r in result.evidence.trace)


@pytest.mark.parametrize("name", sorted(SAFEGUARDS))
def test_robust_profile_catches_every_seed_fault(name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    result = run_scenario(scenario, profile="robust")
    trace = result.evidence.trace
    assert any(r["kind"] == "fault" and r["name"] in {f.name for f in scenario.faults}
               for r in trace), "the fault must still fire"
    for finding in result.findings:
        assert finding.code not in FORBIDDEN, finding.summary
        if finding.code == "STRAY_RECEIPT":
            assert finding.evidence["receipt"]["outcome"] != "APPROVED", finding.summary
    assert SAFEGUARDS[name](result), "the trace does not show the safeguard"
    assert result.liveness == []
