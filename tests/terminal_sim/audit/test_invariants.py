"""Each invariant, broken by a fault on a real run, and holding on a good day."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from terminal_sim.audit import INVARIANTS, audit_run_dir
from terminal_sim.harness.run import run_scenario
from terminal_sim.scenario.loader import load_scenario
from tests.support import SCENARIOS
from tests.terminal_sim.audit.conftest import RunDir


def _failing(path: Path) -> dict[str, list[dict[str, Any]]]:
    return {i.name: i.evidence for i in audit_run_dir(path).invariants if not i.holds}


@pytest.mark.parametrize("profile", ["naive", "robust"])
def test_every_invariant_holds_on_a_happy_day(run_dir: RunDir, profile: str) -> None:
    audit = audit_run_dir(run_dir("happy-day", profile))
    assert [i.name for i in audit.invariants] == list(INVARIANTS)
    assert audit.holds, _failing(run_dir("happy-day", profile))
    assert audit.agrees_with_report, audit.disagreements


def test_conservation_breaks_on_a_lost_approval(run_dir: RunDir) -> None:
    evidence = _failing(run_dir("power-dip-lost-approval", "naive"))["conservation"]
    lost = [e for e in evidence if e["stan"]]
    assert len(lost) == 1
    assert lost[0]["journal"] is None
    assert lost[0]["host"]["state"] == "approved"
    assert any(e["book"] == "totals" for e in evidence)


def test_approved_slip_without_record_breaks_on_print_before_save(run_dir: RunDir) -> None:
    evidence = _failing(run_dir("power-dip-print-before-save", "naive"))
    stray = evidence["approved_slip_has_record"]
    assert len(stray) == 1
    assert stray[0]["books"] is None
    assert stray[0]["receipt"]["outcome"] == "APPROVED"


def test_abandoned_approval_breaks_when_naive_never_reverses(run_dir: RunDir) -> None:
    evidence = _failing(run_dir("late-host-reply", "naive"))["abandoned_approval_reversed"]
    assert [(e["stan"], e["journal"]["state"]) for e in evidence] == [
        ("000006", "failed")]


def test_abandoned_approval_holds_when_robust_reverses(run_dir: RunDir) -> None:
    audit = audit_run_dir(run_dir("late-host-reply", "robust"))
    assert audit.holds, _failing(run_dir("late-host-reply", "robust"))


@pytest.mark.parametrize(("world", "stan", "kind"), [("lost-void", "000003", "void"),
                                                     ("lost-refund", "000002", "refund")])
def test_voids_and_refunds_count_like_sales(run_dir: RunDir, world: str, stan: str,
                                            kind: str) -> None:
    naive = _failing(run_dir(world, "naive"))
    for name in ("conservation", "abandoned_approval_reversed"):
        assert [(e["stan"], e["type"]) for e in naive[name] if e["stan"]] == [(stan, kind)]
    assert audit_run_dir(run_dir(world, "robust")).holds


def test_duplicate_charge_breaks_when_the_cashier_retries_after_a_late_reply(
        run_dir: RunDir) -> None:
    evidence = _failing(run_dir("late-host-reply", "naive"))["no_duplicate_charge"]
    assert [(e["sale_id"], e["stans"]) for e in evidence] == [
        ("T0000010-000006", ["000006", "000007"])]


def test_no_abandoned_work_breaks_when_the_reversal_queue_gives_up(run_dir: RunDir) -> None:
    evidence = _failing(run_dir("reversal-outage", "robust"))["no_abandoned_work"]
    left = {(e["stan"], e["queue"]): e["state"] for e in evidence}
    assert left.get(("000002", "saf")) in {"pending", "given-up"}


def test_no_abandoned_work_reports_records_never_synced(run_dir: RunDir) -> None:
    evidence = _failing(run_dir("sync-failure-backoffice-gap", "robust"))["no_abandoned_work"]
    assert evidence
    assert all(e["queue"] == "sync" for e in evidence)


def test_settlement_holds_when_robust_settles_a_good_day(run_dir: RunDir) -> None:
    path = run_dir("happy-day", "robust")
    with sqlite3.connect(f"{(path / 'host.sqlite').as_uri()}?mode=ro&immutable=1", uri=True) as db:
        assert db.execute("SELECT COUNT(*) FROM transactions WHERE type = 'settlement'"
                          ).fetchone()[0] == 1
    assert audit_run_dir(path).invariant("settlement_balanced").holds


def test_settlement_breaks_when_the_host_says_out_of_balance(run_dir: RunDir,
                                                             tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir("happy-day", "robust"), copy)
    db = sqlite3.connect(copy / "host.sqlite")
    with db:
        db.execute("UPDATE transactions SET status = 'out-of-balance', response_code = '95' "
                   "WHERE type = 'settlement'")
    db.close()
    evidence = audit_run_dir(copy).invariant("settlement_balanced").evidence
    assert [(e["status"], e["response_code"]) for e in evidence] == [("out-of-balance", "95")]
    assert evidence[0]["terminal_totals"] == evidence[0]["host_totals"]


def test_a_cashier_retry_is_the_same_intent_as_its_first_attempt(tmp_path: Path) -> None:
    """The retry has a new sale id; its ``cashier_retry`` note names the first attempt."""
    target = tmp_path / "run"
    run_scenario(load_scenario(SCENARIOS / "regressions" /
                               "cashier-retry-duplicate-charge.yaml"), out_dir=target)
    audit = audit_run_dir(target)
    evidence = {i.name: i.evidence for i in audit.invariants}["no_duplicate_charge"]
    assert [(e["sale_id"], e["stans"]) for e in evidence] == [
        ("T0000013-000002", ["000002", "000003"]), ("T0000013-000004", ["000005", "000006"])]
    assert audit.agrees_with_report, audit.disagreements
