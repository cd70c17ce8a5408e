"""``pos-sim audit``: exit codes, the JSON shape, damaged run dirs, and nothing written."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from terminal_sim.audit import INVARIANTS
from terminal_sim.cli.main import main
from tests.terminal_sim.audit.conftest import RunDir


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), os.stat(p).st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def test_help() -> None:
    result = CliRunner().invoke(main, ["audit", "--help"])
    assert result.exit_code == 0
    assert "RUN_DIR" in result.output
    assert "--json" in result.output


@pytest.mark.parametrize(("scenario", "code"), [("happy-day", 0), ("late-host-reply", 1)])
def test_json_shape_and_exit_code(run_dir: RunDir, scenario: str, code: int) -> None:
    path = run_dir(scenario, "naive")
    before = _snapshot(path)
    result = CliRunner().invoke(main, ["audit", str(path), "--json"])
    assert result.exit_code == code, result.output
    verdict = json.loads(result.output)
    assert [i["name"] for i in verdict["invariants"]] == list(INVARIANTS)
    for invariant in verdict["invariants"]:
        assert set(invariant) == {"name", "holds", "evidence"}
        assert invariant["holds"] == (invariant["evidence"] == [])
        for entry in invariant["evidence"]:
            assert {"terminal_id", "stan", "what"} <= set(entry)
    assert verdict["agrees_with_report"] is True
    assert verdict["disagreements"] == []
    assert _snapshot(path) == before


def test_human_table(run_dir: RunDir) -> None:
    result = CliRunner().invoke(main, ["audit", str(run_dir("late-host-reply", "naive"))])
    assert result.exit_code == 1
    assert "no_duplicate_charge" in result.output
    assert "FAILS" in result.output
    assert "agrees with report.json: yes" in result.output


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:3000])


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database" * 100)


def _bad_line(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")


@pytest.mark.parametrize(("artifact", "damage"), [
    ("journal.sqlite", _truncate), ("host.sqlite", _garbage), ("backoffice.sqlite", _truncate),
    ("trace.jsonl", _bad_line), ("report.json", _truncate), ("receipts.bin", Path.unlink),
    ("host.sqlite", Path.unlink)])
def test_a_damaged_run_dir_exits_2_and_is_left_as_it_is(
        run_dir: RunDir, tmp_path: Path, artifact: str, damage: object) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir("power-dip-print-before-save", "naive"), copy)
    damage(copy / artifact)  # type: ignore[operator]
    before = _snapshot(copy)
    result = CliRunner().invoke(main, ["audit", str(copy)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert result.output.count("\n") == 1
    assert "Traceback" not in result.output
    assert _snapshot(copy) == before


def test_not_a_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["audit", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "not a directory" in result.output


def test_a_report_claiming_no_journal_does_not_switch_the_books_checks_off(
        run_dir: RunDir, tmp_path: Path) -> None:
    """report.json may say ``journal_known: false`` (a lab session's own folder), but a
    run whose journal holds records is judged all the same: a tampered report cannot
    silence the auditor's invariants over the books."""
    copy = tmp_path / "run"
    shutil.copytree(run_dir("power-dip-print-before-save", "naive"), copy)
    report = json.loads((copy / "report.json").read_text(encoding="utf-8"))
    report.update(journal_known=False, lab={"run": "forged"})
    (copy / "report.json").write_text(json.dumps(report), encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(copy), "--json"])
    assert result.exit_code == 1, result.output
    verdict = json.loads(result.output)
    assert all("not_judged" not in invariant for invariant in verdict["invariants"])
    assert not next(i for i in verdict["invariants"] if i["name"] == "conservation")["holds"]
