"""Issue 13's simulator mechanisms: each test failed on the code before its fix.

The regression scenarios under ``scenarios/regressions/`` are day-long mixed-fault
worlds that broke the robust profile; each must now hold its expectations (0 of every
forbidden code) and drain its queues; and every regression scenario, naive ones
included, must hold under the robust profile.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from terminal_sim.harness.campaign_job import forbidden_findings
from terminal_sim.harness.sweep import crash_points, lifecycle_scenario
from terminal_sim.scenario.loader import FaultSpec, load_scenario
from terminal_sim.sim.simulation import RunResult, Simulation
from tests.support import SCENARIOS

REGRESSIONS = sorted((SCENARIOS / "regressions").glob("*.yaml"))


def _run(path: Path, **settings: object) -> RunResult:
    scenario = load_scenario(path)
    if settings:
        scenario = dataclasses.replace(
            scenario, profile_settings={**scenario.profile_settings, **settings})
    return Simulation(scenario).run()


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_regression_scenario_meets_its_expectations(path: Path) -> None:
    """Under the profile it names: a naive one shows its failure, a robust one holds."""
    result = _run(path)
    assert result.report["passed"], result.report["expectations"]


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_regression_scenario_holds_under_robust(path: Path) -> None:
    """Whatever profile it was written for, the robust firmware survives its faults."""
    result = Simulation(load_scenario(path), profile="robust").run()
    assert result.profile.name == "robust"
    assert forbidden_findings(result.report["findings"]) == []
    assert result.liveness == []
    notes = {r["name"] for r in result.evidence.trace}
    assert not notes & {"reversal_unbuildable", "reversal_given_up"}
    settled = [r["data"]["rc"] for r in result.evidence.trace if r["name"] == "totals_reply"]
    assert settled
    assert set(settled) == {"00"}


def test_a_reversal_outage_longer_than_two_hours_is_outlasted() -> None:
    """Robust retries until the gateway is back (main gave up after 30 attempts)."""
    result = _run(SCENARIOS / "regressions" / "reversal-outage-small-journal.yaml")
    codes = Counter(f.code for f in result.findings)
    assert codes["ORPHAN_AUTHORIZATION"] == 0
    assert result.liveness == []
    hosts = Counter(f"{r['type']}:{r['status']}" for r in result.evidence.host)
    assert hosts["reversal:applied"] == 1


def test_an_abandoned_reversal_is_a_finding_and_a_liveness_failure() -> None:
    """With a cap on attempts, giving up is reported: ORPHAN_AUTHORIZATION with its
    cause, and a liveness problem (report.json and the console)."""
    result = _run(SCENARIOS / "regressions" / "reversal-outage-small-journal.yaml",
                  reversal_max_attempts=5)
    orphans = [f for f in result.findings if f.code == "ORPHAN_AUTHORIZATION"]
    assert len(orphans) == 1
    assert "reversal abandoned after 5 attempts" in orphans[0].summary
    assert orphans[0].evidence["reversal"]["attempts"] == 5
    assert any("abandoned the reversal of STAN" in p for p in result.liveness)
    assert result.report["liveness"] == result.liveness


def test_an_out_of_balance_settlement_is_a_finding() -> None:
    """A terminal that may evict its open batch settles short: the host answers 95 and
    the books (journal + back office) still agree with the host. That is reported."""
    result = _run(SCENARIOS / "regressions" / "reversal-outage-small-journal.yaml",
                  evict_open_batch=True)
    replies = [r for r in result.evidence.trace if r["name"] == "totals_reply"]
    assert [r["data"]["rc"] for r in replies] == ["95"]
    mismatches = [f for f in result.findings if f.code == "TOTALS_MISMATCH"]
    assert len(mismatches) == 1
    evidence = mismatches[0].evidence
    assert evidence["response_code"] == "95"
    assert evidence["terminal_vs_host"]  # field -> [terminal, host]


def test_robust_keeps_its_open_batch_and_settles_balanced() -> None:
    result = _run(SCENARIOS / "regressions" / "reversal-outage-small-journal.yaml")
    replies = [r["data"]["rc"] for r in result.evidence.trace if r["name"] == "totals_reply"]
    assert replies == ["00"]


def test_a_migration_that_drops_records_is_undone_by_robust() -> None:
    result = _run(SCENARIOS / "regressions" / "nightly-migration-queued-reversal.yaml")
    restored = [r for r in result.evidence.trace if r["name"] == "journal_migration_restored"]
    assert len(restored) == 1
    assert restored[0]["data"]["stans"]
    assert {f.code for f in result.findings} == set()


def test_field_90_repeats_the_originals_transmission_time() -> None:
    """A clock jump between the original and its reversal must not move field 90: the
    host then matches the late original to the reversal and declines it."""
    result = _run(SCENARIOS / "regressions" / "clock-jump-late-original.yaml")
    hosts = Counter(f"{r['type']}:{r['status']}" for r in result.evidence.host)
    assert hosts["reversal:late-original-declined"] == 1
    assert not [f for f in result.findings if f.code == "ORPHAN_AUTHORIZATION"]


def test_naive_sync_failure_keeps_records_for_the_next_round() -> None:
    """``mode: fail`` (back office unreachable): even naive firmware sent nothing, so the
    records stay unsynced and go in the next round, as ``faults show`` documents."""
    scenario = lifecycle_scenario("two-sales", "naive", faults=(
        FaultSpec("sync-failure", {"mode": "fail", "nth": 1}, None),))
    result = Simulation(scenario).run()
    pushes = [r["data"] for r in result.evidence.trace if r["kind"] == "sync"
              and r["name"] in ("push", "push_failed")]
    assert pushes[0]["marked_synced"] is False
    assert pushes[1]["acked"] is True
    assert set(pushes[0]["stans"]) <= set(pushes[1]["stans"])
    assert not [f for f in result.findings if f.code == "UNSYNCED_RECORD"]


def _reversal_sends(result: RunResult) -> Counter[tuple[str, str, int]]:
    return Counter((r["terminal"], r["data"]["original_stan"], r["t"])
                   for r in result.evidence.trace
                   if r["kind"] == "effect" and r["name"].startswith("send_reversal"))


def test_power_on_sends_one_reversal_message_per_stan_and_instant() -> None:
    """Boot recovery and the queue's resume both used to retry: an 0400 and an 0420 for
    one STAN at one instant. A power dip at every crash point of the sale and reversal
    lifecycles (and of recovery) must never do that."""
    points = crash_points("robust")
    plans = [(name, point) for name in ("sale", "reversal")
             for point in points[name] + points["recovery"]]
    assert len(plans) > 20
    for name, point in plans:
        dip = FaultSpec("power-dip", {"at": point, "nth": 1, "down_s": 30}, None)
        result = Simulation(lifecycle_scenario(name, "robust", faults=(dip,))).run()
        doubled = [key for key, count in _reversal_sends(result).items() if count > 1]
        assert not doubled, (name, point, doubled)
        assert result.liveness == [], (name, point)
