"""The scenario library: each reproduces its failure by its mechanism.

Each scenario's expectations hold; its findings carry causes naming its fault; and
with the fault removed the same day produces no finding at all, so the finding came
from the mechanism, not from the workload.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from terminal_sim.scenario import load_scenario
from terminal_sim.simulation import run_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

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
