"""The pos-sim command line: exit codes, artifacts, determinism, and no card numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from terminal_sim.cli.main import main
from terminal_sim.evidence.privacy import scan_run
from terminal_sim.harness.run import ARTIFACTS
from tests.support import ROOT

HAPPY = ROOT / "scenarios" / "happy-day.yaml"


def pos_sim(*args: str, hashseed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    return subprocess.run([sys.executable, "-m", "terminal_sim", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def happy_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The showcase run twice, in separate processes with different hash seeds."""
    first = tmp_path_factory.mktemp("run") / "a"
    second = tmp_path_factory.mktemp("run") / "b"
    one = pos_sim("run", str(HAPPY), "--out", str(first), hashseed="1")
    two = pos_sim("run", str(HAPPY), "--out", str(second), hashseed="4242")
    assert one.returncode == 0, one.stdout + one.stderr
    assert two.returncode == 0, two.stdout + two.stderr
    return first, second


def test_happy_day_passes_with_no_findings(happy_runs: tuple[Path, Path]) -> None:
    report = json.loads((happy_runs[0] / "report.json").read_text())
    assert report["findings"] == []
    assert report["passed"] is True
    assert report["scenario"] == "happy-day"
    assert report["seed"] == 20260105
    counts = report["counts"]
    assert counts["receipts"] == 200
    assert counts["journal_records"] == 200
    assert counts["host_transactions"] == 200
    approved = counts["journal"].get("sale:approved", 0)
    declined = counts["journal"].get("sale:declined", 0)
    assert approved > 150
    assert declined > 5
    assert approved + declined == 200


@pytest.mark.parametrize("artifact", ["trace.jsonl", "receipts.bin", "receipts.txt",
                                      "report.json"])
def test_same_seed_same_bytes_across_processes(happy_runs: tuple[Path, Path],
                                               artifact: str) -> None:
    first, second = happy_runs
    assert (first / artifact).read_bytes() == (second / artifact).read_bytes()


def test_same_seed_same_journal_and_ledger_dump(happy_runs: tuple[Path, Path]) -> None:
    import sqlite3

    for name in ("journal.sqlite", "host.sqlite"):
        dumps = ["\n".join(sqlite3.connect(run / name).iterdump()) for run in happy_runs]
        assert dumps[0] == dumps[1]


def test_other_seed_other_day(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(HAPPY), "--out", str(tmp_path), "--seed", "9"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["seed"] == 9


def test_no_artifact_contains_a_full_card_number(happy_runs: tuple[Path, Path]) -> None:
    run = happy_runs[0]
    assert sorted(p.name for p in run.iterdir()) == sorted(ARTIFACTS)
    assert scan_run(run) == []


def test_the_scan_finds_a_planted_card_number(tmp_path: Path) -> None:
    """The scan above can fail: a PAN planted in any artifact kind is found."""
    import sqlite3

    (tmp_path / "trace.jsonl").write_text('{"data": {"pan": "4111111111111111"}}\n')
    (tmp_path / "receipts.bin").write_bytes(b"\x1b@CARD: 5555555555554444\n\x1dV\x00")
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    db.execute("CREATE TABLE t (v TEXT)")
    db.execute("INSERT INTO t VALUES ('378282246310005')")
    db.commit()
    db.close()
    leaks = scan_run(tmp_path)
    assert {leak.artifact for leak in leaks} == {"trace.jsonl", "receipts.bin", "journal.sqlite"}
    assert all("*" in leak.masked for leak in leaks)


def test_receipts_show_only_the_last_four(happy_runs: tuple[Path, Path]) -> None:
    text = (happy_runs[0] / "receipts.txt").read_text()
    cards = [line.split()[-1] for line in text.splitlines() if line.startswith("CARD:")]
    assert len(cards) == 200
    assert all(c.lstrip("*").isdigit() and len(c.lstrip("*")) == 4 for c in cards)


def test_malformed_scenario_exits_2_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nseed: 1\nworkload:\n  generate:\n    count: many\n")
    result = pos_sim("run", str(bad), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert f"{bad}:5: workload.generate.count:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_yaml_syntax_error_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nseed: [1\n")
    result = CliRunner().invoke(main, ["run", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:" in result.output
    assert "(syntax)" in result.output


def test_unmet_expectation_exits_1(tmp_path: Path) -> None:
    scenario = tmp_path / "strict.yaml"
    scenario.write_text(HAPPY.read_text().replace("STRAY_RECEIPT: 0", "STRAY_RECEIPT: 3"))
    result = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "FAIL expect STRAY_RECEIPT == 3 (actual 0)" in result.output
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["passed"] is False


def test_unknown_profile_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(HAPPY), "--profile", "x", "--out",
                                       str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown profile 'x'" in result.output


def test_schema_is_json_schema() -> None:
    import jsonschema

    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "workload" in schema["properties"]


def _command_paths(command: click.Command, path: tuple[str, ...] = ()
                   ) -> Iterator[tuple[str, ...]]:
    """``path`` and, for a group, the path of every command below it (hidden ones too)."""
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _command_paths(sub, (*path, name))


COMMAND_PATHS = list(_command_paths(main))


def test_the_command_tree_is_walked() -> None:
    # the walk must reach nested groups, or the help test below covers too little
    assert ("acquirer", "serve") in COMMAND_PATHS
    assert ("run",) in COMMAND_PATHS
    assert len(COMMAND_PATHS) >= 20


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "pos-sim")
def test_every_subcommand_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="pos-sim")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: {' '.join(('pos-sim', *path))} ")
