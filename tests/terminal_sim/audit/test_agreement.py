"""The auditor against the reconciler: agreement per key, disagreements in words."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from terminal_sim.audit import audit_run_dir
from tests.terminal_sim.audit.conftest import RunDir


def _edited(run_dir: Path, tmp_path: Path, keep: object) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    report = json.loads((copy / "report.json").read_text(encoding="utf-8"))
    report["findings"] = [f for f in report["findings"] if keep(f)]  # type: ignore[operator]
    (copy / "report.json").write_text(json.dumps(report), encoding="utf-8")
    return copy


def test_both_oracles_agree_on_a_lost_approval(run_dir: RunDir) -> None:
    audit = audit_run_dir(run_dir("power-dip-lost-approval", "naive"))
    assert not audit.holds
    assert audit.agrees_with_report, audit.disagreements


def test_a_finding_the_reconciler_misses_is_a_disagreement(run_dir: RunDir,
                                                           tmp_path: Path) -> None:
    copy = _edited(run_dir("late-host-reply", "naive"), tmp_path,
                   lambda f: f["code"] != "DUPLICATE_CHARGE")
    audit = audit_run_dir(copy)
    assert not audit.agrees_with_report
    assert audit.disagreements == ["duplicates: auditor flags sale T0000010-000006 charged 2 "
                                   "times, report.json has no DUPLICATE_CHARGE for it"]


def test_a_finding_the_auditor_does_not_see_is_a_disagreement(run_dir: RunDir,
                                                              tmp_path: Path) -> None:
    path = run_dir("happy-day", "naive")
    copy = _edited(path, tmp_path, lambda f: True)
    report = json.loads((copy / "report.json").read_text(encoding="utf-8"))
    report["findings"].append({"code": "LOST_RECORD", "terminal_id": "T0000001",
                               "stan": "000001", "evidence": {}})
    (copy / "report.json").write_text(json.dumps(report), encoding="utf-8")
    audit = audit_run_dir(copy)
    assert audit.holds
    assert not audit.agrees_with_report
    assert audit.disagreements == [
        "books: report.json has LOST_RECORD/ORPHAN_AUTHORIZATION for T0000001/000001, "
        "the auditor finds it holds"]


def test_findings_outside_the_invariants_are_not_compared(run_dir: RunDir) -> None:
    audit = audit_run_dir(run_dir("printer-powered-down-mid-job", "naive"))
    report = json.loads((run_dir("printer-powered-down-mid-job", "naive") / "report.json")
                        .read_text(encoding="utf-8"))
    assert {f["code"] for f in report["findings"]} == {"MISSING_RECEIPT", "TRUNCATED_RECEIPT"}
    assert audit.holds
    assert audit.agrees_with_report


def test_an_orphan_only_the_back_office_remembers_is_a_money_loss(run_dir: RunDir) -> None:
    """The journal evicted the failed record after syncing it: the loss is the host's
    standing approval (ORPHAN_AUTHORIZATION), not a back-office gap (UNSYNCED_RECORD)."""
    audit = audit_run_dir(run_dir("evicted-orphan", "naive"))
    evidence = {i.name: i.evidence for i in audit.invariants}["conservation"]
    assert [(e["stan"], e["book"]) for e in evidence if e["stan"]] == [("000001", "evicted")]
    assert audit.agrees_with_report, audit.disagreements
