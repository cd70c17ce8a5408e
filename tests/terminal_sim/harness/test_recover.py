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
    recovery = json.loads((out / "recovery.json").read_text())
    assert recovery["findings_before"]["LOST_RECORD"] == 1
    assert "LOST_RECORD" not in recovery["findings_after"]
    assert recovery["recovered"]
    assert all("host" in r["sources"] for r in recovery["recovered"])
    db = sqlite3.connect(out / "journal.sqlite")
    provenance = db.execute("SELECT stan, sources, action FROM recovered").fetchall()
    assert provenance == [(r["stan"], ",".join(r["sources"]), r["action"])
                          for r in recovery["recovered"]]


def test_recover_corrects_an_orphan_and_keeps_what_it_cannot_explain(tmp_path: Path) -> None:
    out = run(tmp_path, "late-host-reply")
    CliRunner().invoke(main, ["recover", str(out)])
    recovery = json.loads((out / "recovery.json").read_text())
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
    after = sqlite3.connect(out / "journal.sqlite").execute(
        "SELECT count(*) FROM records").fetchone()[0]
    assert before == after
    recovery = json.loads((out / "recovery.json").read_text())
    assert {r["code"] for r in recovery["remaining"]} == {"STRAY_RECEIPT"}


def test_recover_refuses_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["recover", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a run directory" in result.output
