"""Voids and refunds count like sales: regression scenarios of issue 13.

Each scenario in ``scenarios/regressions/`` shows a void or refund the reconciler used
to be blind to (it looked only at sale rows), or a refund slip robust firmware did not
reprint at power-on. Under the scenario's own profile its expectations hold and the
finding about the void or refund names the fault as its cause; under robust the same
day ends with no forbidden finding and no missing receipt.
"""

from __future__ import annotations

import dataclasses

import pytest

from terminal_sim.harness.run import run_scenario
from terminal_sim.scenario.loader import load_scenario
from terminal_sim.sim.simulation import RunResult
from tests.support import SCENARIOS

REGRESSIONS = SCENARIOS / "regressions"

#: scenario -> (finding code under its own profile, the type of the transaction it is about)
FOUND = {
    "lost-refund-power-dip": ("LOST_RECORD", "refund"),
    "lost-void-power-dip": ("LOST_RECORD", "void"),
    "refund-slip-never-printed": ("MISSING_RECEIPT", "refund"),
    "refund-reply-dropped": ("ORPHAN_AUTHORIZATION", "refund"),
    "void-reply-dropped": ("ORPHAN_AUTHORIZATION", "void"),
}
#: what robust must never show, for any type of transaction
FORBIDDEN = {"LOST_RECORD", "ORPHAN_AUTHORIZATION", "DUPLICATE_CHARGE", "MISSING_RECEIPT"}


def _run(name: str, profile: str | None = None) -> tuple[RunResult, set[str]]:
    scenario = load_scenario(REGRESSIONS / f"{name}.yaml")
    assert scenario.description.strip(), "a trainer needs the story"
    if profile is not None:
        scenario = dataclasses.replace(scenario, expect=())
    return run_scenario(scenario, profile=profile), {f.name for f in scenario.faults}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_the_void_or_refund_is_found(name: str) -> None:
    result, faults = _run(name)
    assert result.passed, result.report["expectations"]
    code, kind = FOUND[name]
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, [f.summary for f in result.findings]
    finding = found[0]
    rows = [finding.evidence.get("host"), finding.evidence.get("journal")]
    assert kind in {row["type"] for row in rows if isinstance(row, dict)}
    assert f"{kind} STAN {finding.stan}" in finding.summary
    assert {c["fault"] for c in finding.causes} & faults, finding.summary


@pytest.mark.parametrize("name", sorted([*FOUND, "refund-slip-lost-to-power-dip"]))
def test_robust_firmware_leaves_nothing_wrong(name: str) -> None:
    result, _ = _run(name, profile="robust")
    assert any(r["kind"] == "fault" for r in result.evidence.trace), "the fault must fire"
    bad = [f.summary for f in result.findings if f.code in FORBIDDEN]
    assert bad == []
    assert result.liveness == []


def _duplicate_refund_slips(result: RunResult) -> list[str]:
    """The STANs of complete DUPLICATE slips showing a refund of the journal."""
    refunds = {r["stan"] for r in result.evidence.journal if r["type"] == "refund"}
    return [p.facts.stan for p in result.evidence.receipts
            if p.facts.copy_label == "DUPLICATE" and p.facts.stan in refunds
            and not p.truncated]


def test_robust_reprints_a_refund_slip_lost_to_a_power_dip_at_power_on() -> None:
    result, _ = _run("refund-slip-lost-to-power-dip")
    assert result.passed, result.report["expectations"]
    refund = next(r for r in result.evidence.journal if r["type"] == "refund")
    assert _duplicate_refund_slips(result) == [refund["stan"]]
    boots = [r for r in result.evidence.trace if r["name"] == "power_on"
             and (r.get("data") or {}).get("unprinted")]
    assert boots
    assert refund["stan"] in boots[0]["data"]["unprinted"]


def test_robust_reprints_a_refund_slip_once_paper_is_back() -> None:
    result, _ = _run("refund-slip-never-printed", profile="robust")
    refund = next(r for r in result.evidence.journal if r["type"] == "refund")
    assert _duplicate_refund_slips(result) == [refund["stan"]]
