"""``pos-sim report`` and ``pos-sim studio`` from the command line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from terminal_sim.cli.reporting_commands import explain, report, studio
from terminal_sim.sim.simulation import RunResult


@pytest.mark.parametrize("command", [explain, report, studio])
def test_help(command: object) -> None:
    result = CliRunner().invoke(command, ["--help"])  # type: ignore[arg-type]
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_report_regenerates_the_page(scenario_runs: dict[str, tuple[Path, RunResult]],
                                     tmp_path: Path) -> None:
    run_dir, _ = scenario_runs["rogue-reprint"]
    result = CliRunner().invoke(report, [str(run_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(run_dir / "report.html")
    elsewhere = tmp_path / "page.html"
    result = CliRunner().invoke(report, [str(run_dir), "-o", str(elsewhere), "--lang", "zh-CN"])
    assert result.exit_code == 0
    assert "STRAY_RECEIPT" in elsewhere.read_text(encoding="utf-8")
    result = CliRunner().invoke(report, [str(tmp_path)])
    assert result.exit_code == 2
    assert "not a run directory" in result.stderr


def test_studio_refuses_a_busy_port_and_a_bad_profile() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(studio, ["--port", str(port), "--speed", "0"])
    assert result.exit_code == 2
    assert "cannot listen on 127.0.0.1" in result.stderr
    result = CliRunner().invoke(studio, ["--profile", "paranoid", "--port", "0"])
    assert result.exit_code == 2
    assert "unknown profile 'paranoid'" in result.stderr


def test_studio_headless_prints_its_url_first_and_saves_on_exit(tmp_path: Path) -> None:
    out = tmp_path / "session"
    process = subprocess.Popen(
        [sys.executable, "-m", "terminal_sim", "studio", "--port", "0", "--speed", "0",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/")
        with urllib.request.urlopen(url + "api/state", timeout=10) as answer:
            assert b'"state":"idle"' in answer.read()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "session saved" in err
    assert (out / "report.json").is_file()
    assert (out / "report.html").is_file()
