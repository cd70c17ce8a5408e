"""pos-sim recover: lost records rebuilt from the sources, nothing invented."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from terminal_sim.cli.main import main
from tests.support import SCENARIOS


def run(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    result = CliRunner().invoke(main, ["run", str(SCENARIOS / f"{name}.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_recover_rebuilds_the_lost_approval(tmp_path: Path) -> None:
    out = run(tmp_path, "power-dip-lost-approval")
    result = CliRunner().invoke(main, ["recover", str(out)])
    assert result.exit_code == 0, result.output
    recovery = json.loads((out / "recovered" / "recovery.json").read_text())
    assert recovery["findings_before"]["LOST_RECORD"] == 1
    assert "LOST_RECORD" not in recovery["findings_after"]
    assert recovery["recovered"]
    assert all("host" in r["sources"] for r in recovery["recovered"])
    db = sqlite3.connect(out / "recovered" / "journal.sqlite")
    provenance = db.execute("SELECT stan, sources, action FROM recovered").fetchall()
    assert provenance == [(r["stan"], ",".join(r["sources"]), r["action"])
                          for r in recovery["recovered"]]


def test_recover_corrects_an_orphan_and_keeps_what_it_cannot_explain(tmp_path: Path) -> None:
    out = run(tmp_path, "late-host-reply")
    CliRunner().invoke(main, ["recover", str(out)])
    recovery = json.loads((out / "recovered" / "recovery.json").read_text())
    assert [r["action"] for r in recovery["recovered"]] == ["corrected"]
    assert set(recovery["recovered"][0]["sources"]) == {"host", "paper", "trace"}
    remaining = {r["code"] for r in recovery["remaining"]}
    assert "ORPHAN_AUTHORIZATION" not in remaining
    assert "DUPLICATE_CHARGE" in remaining


def test_recover_invents_nothing_for_error_slips(tmp_path: Path) -> None:
    out = run(tmp_path, "cold-reader-error-slips")
    before = sqlite3.connect(out / "journal.sqlite").execute(
        "SELECT count(*) FROM records").fetchone()[0]
    result = CliRunner().invoke(main, ["recover", str(out)])
    assert result.exit_code == 0
    assert "nothing to recover" in result.output
    after = sqlite3.connect(out / "recovered" / "journal.sqlite").execute(
        "SELECT count(*) FROM records").fetchone()[0]
    assert before == after
    recovery = json.loads((out / "recovered" / "recovery.json").read_text())
    assert {r["code"] for r in recovery["remaining"]} == {"STRAY_RECEIPT"}


def test_recover_refuses_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["recover", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a run directory" in result.output


def _contents(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_recover_leaves_the_evidence_alone_and_replay_still_matches(tmp_path: Path) -> None:
    out = run(tmp_path, "power-dip-lost-approval")
    evidence = _contents(out)
    for _ in range(2):  # a second recovery replaces the first as a whole
        result = CliRunner().invoke(main, ["recover", str(out)])
        assert result.exit_code == 0, result.output
    after = _contents(out)
    assert {k: v for k, v in after.items() if not k.startswith("recovered/")} == evidence
    assert sorted(after.keys() - evidence.keys()) == ["recovered/journal.sqlite",
                                                      "recovered/recovery.json"]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
    replayed = CliRunner().invoke(main, ["replay", str(out)])
    assert replayed.exit_code == 0, replayed.output


def test_recover_writes_where_it_is_told_and_never_over_the_run(tmp_path: Path) -> None:
    out = run(tmp_path, "power-dip-lost-approval")
    elsewhere = tmp_path / "fixed"
    result = CliRunner().invoke(main, ["recover", str(out), "--out", str(elsewhere)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in elsewhere.iterdir()) == ["journal.sqlite", "recovery.json"]
    assert not (out / "recovered").exists()
    refused = CliRunner().invoke(main, ["recover", str(out), "--out", str(out)])
    assert refused.exit_code == 2
    assert "evidence" in refused.output
