"""Crash-point enumeration and the sweep: robust is safe under every dip, naive is not."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from terminal_sim.cli.main import main
from terminal_sim.harness.sweep import crash_points, run_lifecycle, sweep


def test_crash_points_are_read_off_the_running_code() -> None:
    found = crash_points("robust")
    assert "sale/after:journal_intent" in found["sale"]
    assert found["sale"].index("sale/after:journal_commit") < found["sale"].index(
        "sale/after:print")  # robust journals before it prints
    assert "reversal/after:send_reversal" in found["reversal"]
    assert "settlement/after:totals_reply" in found["sale"]
    assert "power_on/after:queue_reversal" in found["recovery"]
    # voids and refunds are swept like sales, their reversals too
    assert "void/after:host_reply" in found["void"]
    assert "refund/after:host_reply" in found["refund"]
    assert "void/after:queue_reversal" in found["void-reversal"]
    assert "refund/after:queue_reversal" in found["refund-reversal"]
    naive = crash_points("naive")["sale"]
    assert naive.index("sale/after:print") < naive.index("sale/after:journal_commit")


def test_robust_sweep_json_is_clean() -> None:
    result = CliRunner().invoke(main, ["sweep", "--profile", "robust", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["crash_points"] >= 20
    assert report["runs"] > report["crash_points"]
    for code in ("LOST_RECORD", "ORPHAN_AUTHORIZATION", "DUPLICATE_CHARGE"):
        assert report["findings"].get(code, 0) == 0
    assert report["forbidden"] == 0
    assert report["liveness_failures"] == []
    assert set(report) >= {"profile", "crash_points", "runs", "findings", "by_crash_point"}


def test_naive_sweep_shows_the_field_failures() -> None:
    report = sweep("naive", pairs=False).to_dict()
    assert report["findings"].get("STRAY_RECEIPT", 0) >= 1
    lost = report["findings"].get("LOST_RECORD", 0)
    orphan = report["findings"].get("ORPHAN_AUTHORIZATION", 0)
    assert lost + orphan >= 1
    assert report["by_crash_point"]["sale/after:print"].get("STRAY_RECEIPT", 0) >= 1
    for point in ("void/after:host_reply", "refund/after:host_reply"):  # a lost void/refund
        assert report["by_crash_point"][point].get("LOST_RECORD", 0) >= 1, point


@pytest.mark.slow
def test_power_loss_versus_process_kill_on_normal_and_full() -> None:
    """NORMAL can lose a commit to a power loss, never to a kill; FULL loses none."""
    normal_power = sweep("robust", synchronous="NORMAL", pairs=False)
    normal_kill = sweep("robust", synchronous="NORMAL", cut="kill", pairs=False)
    full_power = sweep("robust", synchronous="FULL", pairs=False)
    assert normal_power.findings["LOST_RECORD"] >= 1
    assert normal_power.forbidden
    assert not normal_kill.forbidden
    assert not full_power.forbidden


def test_one_dip_leaves_a_trace_of_the_safeguard() -> None:
    from terminal_sim.scenario.loader import FaultSpec

    dip = FaultSpec("power-dip", {"at": "sale/after:host_reply", "nth": 1}, None)
    robust = run_lifecycle("sale", "robust", faults=(dip,))
    assert "power_on/after:queue_reversal" in robust.points
    assert "reversal/after:journal_reversed" in robust.points
    assert robust.findings == []
    assert robust.liveness == []
    naive = run_lifecycle("sale", "naive", faults=(dip,))
    assert "LOST_RECORD" in {f["code"] for f in naive.findings}


def test_crashpoints_command_lists_them() -> None:
    result = CliRunner().invoke(main, ["crashpoints", "--profile", "naive"])
    assert result.exit_code == 0
    assert "sale/after:print" in result.output
    assert "distinct crash points" in result.output
