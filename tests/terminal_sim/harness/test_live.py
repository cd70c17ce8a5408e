"""Live mode over a real TCP acquirer, and the real-process crash loop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from terminal_sim.cli.main import main
from terminal_sim.harness.crashloop import crash_loop

SCENARIO = """\
name: live-test
seed: 3
profile: robust
start: "2026-01-05T08:00:00"
terminals: [{id: T0000001}]
workload:
  generate: {count: 8, interval_s: [20, 60]}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    ledger = tmp_path / "host.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "terminal_sim", "acquirer", "serve", "--port", "0",
         "--ledger", str(ledger)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    port = int(process.stdout.readline().strip().rsplit(":", 1)[1])
    yield port, ledger
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_live_run_over_tcp_reconciles_with_the_server_ledger(
        tmp_path: Path, server: tuple[int, Path]) -> None:
    port, ledger = server
    scenario = tmp_path / "live.yaml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, [
        "run", str(scenario), "--acquirer", f"tcp://127.0.0.1:{port}", "--speed", "400",
        "--host-ledger", str(ledger), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["findings"] == []
    assert report["live"]["acquirer"] == f"127.0.0.1:{port}"
    assert report["counts"]["host_transactions"] >= 8  # the sales, and the 0500
    assert report["counts"]["receipts"] == 8


def test_bad_acquirer_url_exits_2(tmp_path: Path) -> None:
    scenario = tmp_path / "live.yaml"
    scenario.write_text(SCENARIO)
    result = CliRunner().invoke(main, ["run", str(scenario), "--acquirer", "http://x"])
    assert result.exit_code == 2
    assert "tcp://HOST:PORT" in result.output


def test_naive_terminal_loses_records_when_killed(tmp_path: Path) -> None:
    """The crash loop's checks can fail: the naive firmware loses approvals."""
    tally = crash_loop(12, tmp_path, profile="naive", seed=2)
    assert tally.violations, "a naive terminal killed 12 times lost nothing?"
    assert {v["code"] for v in tally.violations} & {"LOST_RECORD", "ORPHAN_AUTHORIZATION",
                                                   "DUPLICATE_CHARGE", "STRAY_RECEIPT"}


@pytest.mark.slow
# a hang guard, not a time limit: 1,000 kills take 7-10 minutes on two cores (most of it
# the random waits before each kill); the suite's default of 600 s is too tight for them
@pytest.mark.timeout(1800)
def test_robust_terminal_survives_1000_kills(tmp_path: Path) -> None:
    tally = crash_loop(1000, tmp_path, profile="robust", seed=1)
    assert tally.kills == 1000
    assert tally.violations == [], tally.violations[:5]
    assert tally.approved_at_host > 1000  # it sold between the kills
