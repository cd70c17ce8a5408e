"""Judging: the reasons of a run, and the auditor's seam."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from terminal_sim.explore.judge import audit_reasons, judge_world, liveness_reason
from terminal_sim.explore.world import generate_world


@dataclass
class _Audit:
    agrees_with_report: bool
    disagreements: list[str] = field(default_factory=list)


def test_an_auditor_that_disagrees_is_an_oracle_disagreement() -> None:
    assert audit_reasons(_Audit(True)) == []
    assert audit_reasons(_Audit(False, ["net_charge: T1/000004 charged 500, books 0",
                                        "net_charge: again", "slip_has_record: x"])) == [
        "oracle-disagreement:net_charge", "oracle-disagreement:slip_has_record"]
    assert audit_reasons(_Audit(False)) == ["oracle-disagreement:unnamed"]


def test_liveness_problems_become_short_reasons() -> None:
    assert liveness_reason("T0000001 still has reversals queued: 000003") == "liveness:reversal"
    assert liveness_reason("T0000001 never reprinted: 000002") == "liveness:reprint"
    assert liveness_reason("T0000001 ends in state printing") == "liveness:state"
    assert liveness_reason("T0000001 gave up") == "liveness:other"


def _naive_lost_record() -> dict[str, object]:
    return {"name": "lost", "seed": 1, "profile": "naive",
            "start": "2026-03-02T08:00:00", "terminals": [{"id": "T0000001"}],
            "workload": {"sales": [{"at": "08:01:00", "amount": 500}]},
            "faults": [{"name": "power-dip", "at": "sale/after:host_reply"}]}


def test_a_forbidden_finding_fails_naive_too_and_judges_see_the_run_dir() -> None:
    seen: list[Path] = []

    def judge(run_dir: Path) -> list[str]:
        seen.append(run_dir)
        return ["fake:x"] if (run_dir / "report.json").exists() else []

    verdict = judge_world(_naive_lost_record(), "naive", [judge])
    assert verdict.reasons == ("fake:x", "LOST_RECORD")
    assert verdict.reason == "fake:x"
    assert not seen[0].exists()  # the temp run dir is gone


def test_a_world_without_faults_passes_under_robust() -> None:
    data = generate_world(2, 0, "robust").data
    data["faults"] = []
    assert not judge_world(data, "robust", []).failed
