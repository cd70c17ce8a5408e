"""``pos-sim replay``: the same scenario and seed again, every artifact byte for byte."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from terminal_sim.cli.harness_commands import replay
from terminal_sim.harness.replay import COMPARED, compare_runs
from terminal_sim.harness.replay import replay as replay_run
from terminal_sim.harness.run import ARTIFACTS
from tests.support import SMALL


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(replay, list(args))
    return result.exit_code, result.output


def test_every_artifact_of_a_run_is_compared() -> None:
    assert set(ARTIFACTS) <= set(COMPARED)
    assert COMPARED[0] == "trace.jsonl"


def test_an_untouched_run_replays_identically(recorded_run: Path) -> None:
    code, output = invoke(str(recorded_run))
    assert code == 0, output
    assert "identical" in output
    assert "power-dip-print-before-save" in output
    result = replay_run(recorded_run)
    assert result.identical
    assert set(result.compared) == {
        name for name in COMPARED if (recorded_run / name).exists()}
    assert "scenario.yaml" in result.compared
    assert "host.sqlite" in result.compared


def test_a_tampered_trace_line_is_named_with_both_versions(run_copy: Path) -> None:
    trace = run_copy / "trace.jsonl"
    lines = trace.read_text(encoding="utf-8").splitlines(keepends=True)
    record = json.loads(lines[39])
    record["t"] += 1
    lines[39] = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
    trace.write_text("".join(lines), encoding="utf-8")
    code, output = invoke(str(run_copy))
    assert code == 1, output
    first = next(line for line in output.splitlines() if line.startswith("trace.jsonl:"))
    assert "first differing event at line 40" in first
    assert f"id {record['id']}" in first
    assert f"t {record['t']} ms" in first
    assert f'"t":{record["t"]}' in output
    assert f'"t":{record["t"] - 1}' in output
    # the trace is where a divergence begins: it comes first
    assert output.index("trace.jsonl:") < output.index("DIFFERENT") + 200


def test_a_changed_journal_row_is_named_by_its_sql(run_copy: Path) -> None:
    db = sqlite3.connect(run_copy / "journal.sqlite")
    db.execute("UPDATE records SET amount_minor = amount_minor + 1 WHERE stan = '000003'")
    db.commit()
    db.close()
    code, output = invoke(str(run_copy))
    assert code == 1
    assert "journal.sqlite: first differing SQL statement" in output
    assert "(table records)" in output
    assert "'000003'" in output
    assert "trace.jsonl" not in output  # only what differs is reported


def test_sqlite_is_compared_by_content_not_pages(run_copy: Path) -> None:
    path = run_copy / "host.sqlite"
    before = path.read_bytes()
    db = sqlite3.connect(path)
    db.execute("PRAGMA page_size=8192")
    db.execute("VACUUM")  # same rows, other pages
    db.close()
    assert path.read_bytes() != before
    code, output = invoke(str(run_copy))
    assert code == 0, output


def test_a_flipped_receipt_byte_is_located(run_copy: Path) -> None:
    path = run_copy / "receipts.bin"
    data = bytearray(path.read_bytes())
    data[1000] ^= 0x20
    path.write_bytes(bytes(data))
    code, output = invoke(str(run_copy))
    assert code == 1
    assert "receipts.bin: first differing byte at offset 1000 (printer of T0000003" in output


def test_an_artifact_only_one_side_has_is_a_difference(run_copy: Path) -> None:
    (run_copy / "receipts.txt").unlink()
    code, output = invoke(str(run_copy))
    assert code == 1
    assert "receipts.txt: only the replay has it" in output


def test_a_directory_that_is_not_a_run_exits_2(tmp_path: Path) -> None:
    code, output = invoke(str(tmp_path))
    assert code == 2
    assert "not a run directory" in output
    code, output = invoke(str(tmp_path / "missing"))
    assert code == 2


def test_without_its_scenario_copy_the_file_is_asked_for(run_copy: Path) -> None:
    (run_copy / "scenario.yaml").unlink()
    code, output = invoke(str(run_copy))
    assert code == 2
    assert "--scenario FILE" in output
    code, output = invoke(str(run_copy), "--scenario", str(SMALL))
    assert code == 0, output


def test_another_scenario_is_refused(run_copy: Path) -> None:
    other = SMALL.parent / "happy-day.yaml"
    code, output = invoke(str(run_copy), "--scenario", str(other))
    assert code == 2
    assert "is a run of scenario 'power-dip-print-before-save'" in output


def test_keep_leaves_the_replay_for_inspection(recorded_run: Path, tmp_path: Path) -> None:
    code, output = invoke(str(recorded_run), "--keep", str(tmp_path / "again"))
    assert code == 0
    assert str(tmp_path / "again") in output
    assert not compare_runs(recorded_run, tmp_path / "again")


def test_replay_has_help() -> None:
    result = CliRunner().invoke(replay, ["--help"])
    assert result.exit_code == 0
    assert "RUN_DIR" in result.output
    assert "--scenario" in result.output
