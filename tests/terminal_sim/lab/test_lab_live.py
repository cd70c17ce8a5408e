"""The project's own live terminal as the application under test, against the lab."""

from __future__ import annotations

import csv
import json
import socket
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from terminal_sim.cli.main import main
from terminal_sim.lab import LabConfig, LabSession

SCENARIO = """\
name: lab-live
seed: 5
profile: {profile}
start: "2026-01-05T08:00:00"
terminals: [{{id: T0000001}}]
workload:
  generate: {{count: 2, interval_s: [20, 40]}}
"""

#: the simulated twin: the first 0200's reply is lost after the host committed it
FAULT = """\
faults:
  - {name: link-drop-reply, message: "0210", nth: 1}
"""


def _export(journal: Path, target: Path) -> None:
    """The application's journal export (what a QA team gets from its POS)."""
    with sqlite3.connect(journal) as db:
        rows = db.execute("SELECT terminal_id, stan, type, amount_minor, state, sent_at, "
                          "sale_id FROM records ORDER BY stan").fetchall()
    with target.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["terminal_id", "stan", "type", "amount_minor", "state", "time",
                         "sale_id"])
        writer.writerows(rows)


def _print_to_lab(endpoint: str, paper: bytes) -> None:
    host, port = endpoint.removeprefix("tcp://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(paper)


def _printed(lab: LabSession, size: int) -> None:
    """Wait until the lab's printer has read ``size`` bytes, printed them and filed the job
    (its connection closed): a hang guard, not a time limit."""
    for _ in range(1000):
        printer = lab.client.state()["printers"][0]
        if (printer["received"] >= size and not printer["held_bytes"]
                and not printer["connections"]):
            return
        time.sleep(0.02)
    raise AssertionError(f"the lab's printer never filed the {size} bytes sent to it")


@pytest.mark.parametrize("profile", ["robust", "naive"])
def test_live_terminal_times_out_reverses_and_reconciles_like_the_simulation(
        tmp_path: Path, profile: str) -> None:
    scenario = tmp_path / "live.yaml"
    scenario.write_text(SCENARIO.format(profile=profile))
    config = LabConfig(out=tmp_path / "lab", printers=("tcp://127.0.0.1:0",),
                       acquirer=("127.0.0.1", 0))
    with LabSession(config) as lab:
        fault = lab.client.add_fault("link-drop-reply", message="0200", limit=1)
        host, port = lab.acquirer
        out = tmp_path / "live"
        result = CliRunner().invoke(main, [
            "run", str(scenario), "--acquirer", f"tcp://{host}:{port}", "--speed", "200",
            "--host-ledger", str(tmp_path / "lab" / "host.sqlite"), "--out", str(out)])
        assert result.exit_code in (0, 1), result.output
        assert lab.client.faults() == []  # the one-shot fault is spent
        ledger = lab.client.evidence()["host"]
        # the application prints its slips on the lab's printer
        paper = (out / "receipts.bin").read_bytes()
        _print_to_lab(lab.printer(), paper)
        _printed(lab, len(paper))  # before the session ends: what it has not filed is lost
    # the lab's own folder: paper and ledger without the application's journal, so
    # nothing is judged against the books (not: every approval a LOST_RECORD)
    own = json.loads((tmp_path / "lab" / "report.json").read_text())
    assert own["journal_known"] is False
    assert not {"LOST_RECORD", "ORPHAN_AUTHORIZATION", "MISSING_RECEIPT"} & set(
        own["findings_by_code"]), own["findings_by_code"]
    assert [f for f in own["findings"] if f["code"] == "STRAY_RECEIPT" and f["stan"]] == []
    audited = CliRunner().invoke(main, ["audit", str(tmp_path / "lab")])
    assert audited.exit_code == 0, audited.output
    assert "conservation                   not judged: the run has no journal" in (
        audited.output)
    assert "agrees with report.json: yes" in audited.output
    sales = [r for r in ledger if r["type"] == "sale"]
    dropped = sales[0]
    trace = [json.loads(line) for line in (tmp_path / "lab" / "faults.jsonl").open()]
    assert [e["event"] for e in trace if e.get("id") == fault["id"]] == [
        "added", "fired", "spent"]
    if profile == "robust":  # it timed out and reversed: the lab's ledger shows it
        assert dropped["status"] == "reversed", ledger
    else:  # the naive firmware never reverses: the host keeps the approval
        assert dropped["status"] == "approved", ledger

    export = tmp_path / "journal.csv"
    _export(out / "journal.sqlite", export)
    reconciled = tmp_path / "reconciled"
    result = CliRunner().invoke(main, ["lab", "reconcile", "--journal", str(export),
                                       "--run", str(tmp_path / "lab"), "--out",
                                       str(reconciled)])
    assert result.exit_code == 0, result.output
    lab_codes = set(json.loads((reconciled / "report.json").read_text())["findings_by_code"])
    assert (reconciled / "report.html").is_file()

    scenario.write_text(SCENARIO.format(profile=profile) + FAULT)
    result = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "sim")])
    sim_codes = set(json.loads((tmp_path / "sim" / "report.json").read_text())[
        "findings_by_code"])
    sim_codes.discard("UNSYNCED_RECORD")  # the lab sees no back office
    assert lab_codes == sim_codes, (lab_codes, sim_codes)
    if profile == "naive":
        assert "ORPHAN_AUTHORIZATION" in lab_codes


def test_reconcile_names_a_bad_export_line_and_a_damaged_run(tmp_path: Path) -> None:
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "lab.json").write_text("{}")
    (tmp_path / "lab" / "host.sqlite").write_bytes(b"not a database at all" * 100)
    export = tmp_path / "journal.csv"
    export.write_text("terminal_id,stan,type,amount_minor,state,time\n"
                      "T0000001,000001,sale,1250,approved,2026-01-05T08:00:00\n"
                      "T0000001,000002,sale,12.50,approved,2026-01-05T08:01:00\n")
    runner = CliRunner()
    command = ["lab", "reconcile", "--journal", str(export), "--run", str(tmp_path / "lab")]
    result = runner.invoke(main, command)
    assert result.exit_code == 2
    assert f"{export}:3: amount_minor" in result.output
    export.write_text("\n".join(export.read_text().splitlines()[:2]) + "\n")
    before = {p.name: p.read_bytes() for p in (tmp_path / "lab").iterdir()}
    result = runner.invoke(main, command)
    assert result.exit_code == 2
    assert "damaged" in result.output
    assert {p.name: p.read_bytes() for p in (tmp_path / "lab").iterdir()} == before


def test_reconcile_refuses_a_foreign_out_and_replaces_a_previous_one_whole(
        tmp_path: Path) -> None:
    """--out is a run directory like pos-sim run's: someone else's files are refused
    (nothing written there), a previous reconciliation is replaced as a whole."""
    lab_dir = tmp_path / "lab"
    config = LabConfig(out=lab_dir, printers=("tcp://127.0.0.1:0",),
                       acquirer=("127.0.0.1", 0))
    with LabSession(config):
        pass
    export = tmp_path / "journal.csv"
    export.write_text("terminal_id,stan,type,amount_minor,state,time\n"
                      "T0000001,000001,sale,1250,approved,2026-01-05T08:00:00\n")
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("mine")
    runner = CliRunner()
    command = ["lab", "reconcile", "--journal", str(export), "--run", str(lab_dir)]
    refused = runner.invoke(main, [*command, "--out", str(foreign)])
    assert refused.exit_code == 2, refused.output
    assert "not empty and not a previous run directory" in refused.output
    assert sorted(p.name for p in foreign.iterdir()) == ["thesis.txt"]
    out = tmp_path / "reconciled"
    assert runner.invoke(main, [*command, "--out", str(out)]).exit_code == 0
    (out / "journal.sqlite-wal").write_bytes(b"")  # left by a previous output
    assert runner.invoke(main, [*command, "--out", str(out)]).exit_code == 0
    assert not (out / "journal.sqlite-wal").exists()  # replaced whole
    assert (out / "report.json").is_file()
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []
