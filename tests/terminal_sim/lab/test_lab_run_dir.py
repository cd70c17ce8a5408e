"""A lab's ``--out`` after a session with faults is a run directory the other commands read:
``explain`` and ``audit`` and ``report`` read it, ``replay`` refuses it in one line."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from pathlib import Path

from click.testing import CliRunner

from terminal_sim.cli.main import main
from terminal_sim.lab.lab import LabConfig
from terminal_sim.lab.session import LabSession
from tests.terminal_sim.acquirer.wire import Wire

WIRE = Wire()
SLIP = b"\x1b@TERMINAL T0000001\nSTAN 000002\nSALE 12.50 EUR\nAPPROVED\n\x1dV\x00"


def _session(out: Path) -> None:
    config = LabConfig(out=out, printers=("tcp://127.0.0.1:0",), acquirer=("127.0.0.1", 0))
    with LabSession(config) as lab:
        lab.client.add_fault("link-drop-reply", message="0200", limit=1)
        with WIRE.connect(lab.acquirer, timeout=10) as sock:
            sock.sendall(WIRE.frame(WIRE.sale(stan="000001")))
            sock.settimeout(0.5)
            with contextlib.suppress(TimeoutError):  # the reply was dropped
                assert sock.recv(1) == b""
        assert WIRE.exchange(lab.acquirer, WIRE.sale(stan="000002"))["39"] == "00"
        fault = lab.client.add_fault("printer-paper-out")
        host, port = lab.printer()[len("tcp://"):].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as printer:
            printer.sendall(SLIP)
            for _ in range(200):
                if lab.lab.printers[0].server.held:
                    break
                time.sleep(0.02)
        lab.client.remove_fault(fault["id"])
        for _ in range(200):  # printed once the paper is back
            if any(job.get("printed") for job in lab.lab.printers[0].jobs()):
                break
            time.sleep(0.02)


def test_a_lab_session_is_a_run_directory(tmp_path: Path) -> None:
    out = tmp_path / "lab"
    _session(out)
    runner = CliRunner()
    explained = runner.invoke(main, ["explain", str(out)])
    assert explained.exit_code == 0, explained.output
    # the lab holds no journal of the application: the approval whose reply was dropped
    # is not called lost (pos-sim lab reconcile judges it, with the application's export)
    assert "nothing was judged against the books" in explained.output
    audited = runner.invoke(main, ["audit", str(out)])
    assert audited.exit_code == 0, audited.output
    assert "not judged: the run has no journal" in audited.output
    assert "agrees with report.json: yes" in audited.output
    assert runner.invoke(main, ["report", str(out)]).exit_code == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "not known: the application under test keeps it" in page  # not "0 records"
    replayed = runner.invoke(main, ["replay", str(out)])
    assert replayed.exit_code == 2
    assert "is a lab session (pos-sim lab)" in replayed.output
    assert "not replayable" in replayed.output
    assert "Traceback" not in replayed.output
    report = json.loads((out / "report.json").read_text())
    assert report["scenario"] == "lab session"
    assert report["faults"] == ["link-drop-reply", "printer-paper-out"]
    assert report["counts"]["receipts"] == 1  # the slip printed after the refill
    trace = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["name"], r["data"].get("stan")) for r in trace] == [
        ("fault", "link-drop-reply", "000001"), ("fault", "printer-paper-out", None)]


def test_a_reconciliation_is_a_run_directory_too(tmp_path: Path) -> None:
    out = tmp_path / "lab"
    _session(out)
    export = tmp_path / "journal.csv"
    export.write_text("terminal_id,stan,type,amount_minor,state,time\n"
                      "T0000001,000001,sale,1250,failed,2026-01-05T08:00:00\n"
                      "T0000001,000002,sale,1250,approved,2026-01-05T08:01:00\n")
    runner = CliRunner()
    reconciled = tmp_path / "reconciled"
    result = runner.invoke(main, ["lab", "reconcile", "--journal", str(export), "--run",
                                  str(out), "--out", str(reconciled)])
    assert result.exit_code == 0, result.output
    for command in (["explain"], ["audit"]):
        read = runner.invoke(main, [*command, str(reconciled)])
        assert read.exit_code in (0, 1), read.output
    explained = runner.invoke(main, ["explain", str(reconciled)]).output
    # the application says 000001 failed; the host approved it: the dropped reply is why
    assert "ORPHAN_AUTHORIZATION" in json.loads((reconciled / "report.json").read_text())[
        "findings_by_code"]
    assert "link-drop-reply" in explained  # the fault is named as the cause
    assert runner.invoke(main, ["replay", str(reconciled)]).exit_code == 2


def test_a_lab_without_an_acquirer_is_a_run_directory(tmp_path: Path) -> None:
    out = tmp_path / "lab"
    config = LabConfig(out=out, printers=("tcp://127.0.0.1:0",), acquirer=None)
    with LabSession(config) as lab:
        lab.client.add_fault("printer-cover-open", close_s=60)
    runner = CliRunner()
    for command in ("explain", "audit", "report"):
        result = runner.invoke(main, [command, str(out)])
        assert result.exit_code == 0, (command, result.output)
