"""Lab scripts (a YAML timeline of faults) and the ``pos-sim lab`` process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from terminal_sim.errors import ScenarioError
from terminal_sim.lab import LabClient, LabConfig, LabSession
from terminal_sim.lab.script import load_script, parse_at

SCRIPT = """\
steps:
  - at: +0s
    add: printer-paper-out
    as: paper
  - at: 200ms
    add: link-drop-reply
    message: "0200"
    limit: 1
  - at: +0.4s
    remove: paper
"""


@pytest.mark.parametrize(("text", "line", "field"), [
    ("steps:\n  - at: +1s\n    add: printer-paper-oot\n", 3, "steps.0.add"),
    ("steps:\n  - at: soon\n    add: printer-paper-out\n", 2, "steps.0.at"),
    ("steps:\n  - at: 1s\n    add: printer-paper-out\n    refill_s: x\n", 4,
     "steps.0.refill_s"),
    ("steps:\n  - at: 1s\n    remove: paper\n", 3, "steps.0.remove"),
    ("steps:\n  - at: 1s\n    reset: true\n    add: printer-paper-out\n", 2, "steps.0"),
    ("stepz: []\n", 1, "stepz"),
])
def test_script_errors_name_file_line_and_field(tmp_path: Path, text: str, line: int,
                                                field: str) -> None:
    path = tmp_path / "bad.lab.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_script(path)
    assert (caught.value.path, caught.value.line, caught.value.field) == (
        str(path), line, field), str(caught.value)


def test_times() -> None:
    assert [parse_at(v) for v in ("+30s", "1m30s", "500ms", 2, "2h")] == [
        30.0, 90.0, 0.5, 2.0, 7200.0]


def test_a_script_plays_in_real_time(tmp_path: Path) -> None:
    script = tmp_path / "paper.lab.yaml"
    script.write_text(SCRIPT)
    config = LabConfig(out=tmp_path / "lab", printers=("tcp://127.0.0.1:0",),
                       acquirer=("127.0.0.1", 0))
    with LabSession(config, script=script) as lab:
        for _ in range(500):  # a hang guard, not a time limit
            steps = [e for e in lab.lab.fault_trace() if e["event"] == "script"]
            if len(steps) == 3:
                break
            time.sleep(0.02)
        names = [f["name"] for f in lab.client.faults()]
        paper = lab.client.state()["printers"][0]["state"]["paper"]
    assert [(s["line"], s["step"]) for s in steps] == [
        (2, "add printer-paper-out"), (5, "add link-drop-reply"), (9, "remove paper")]
    assert steps[2]["removed"] is True
    assert names == ["link-drop-reply"]
    assert paper == "ok"


def test_pos_sim_lab_process_serves_and_writes_its_run_directory(tmp_path: Path) -> None:
    out = tmp_path / "lab"
    process = subprocess.Popen(
        [sys.executable, "-m", "terminal_sim", "lab", "--out", str(out), "--printer",
         "tcp://127.0.0.1:0", "--printer", "serial", "--acquirer", "127.0.0.1:0",
         "--control", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    assert process.stdout is not None
    lines = {}
    try:
        for _ in range(5):
            key, _, value = process.stdout.readline().strip().partition(": ")
            lines[key] = value
        client = LabClient(lines["control"])
        assert client.describe()["printers"]["p2"].startswith("serial:///dev/")
        fault = client.add_fault("printer-cover-open", printer="p2")
        assert client.state()["printers"][1]["state"]["cover_open"] is True
        client.remove_fault(fault["id"])
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    evidence = json.loads((out / "evidence.json").read_text())
    assert [e["event"] for e in evidence["faults"]] == [
        "started", "added", "fired", "removed", "stopped"]
    assert (out / "host.sqlite").is_file()
    assert (out / "lab.json").is_file()


def test_pos_sim_lab_refuses_a_busy_port(tmp_path: Path) -> None:
    config = LabConfig(out=tmp_path / "first", printers=(), acquirer=("127.0.0.1", 0))
    with LabSession(config) as lab:
        host, port = lab.acquirer
        result = subprocess.run(
            [sys.executable, "-m", "terminal_sim", "lab", "--out", str(tmp_path / "second"),
             "--printer", "none", "--acquirer", f"{host}:{port}", "--control",
             "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"{host}:{port}" in result.stderr
