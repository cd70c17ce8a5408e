"""``python bench/run.py --quick`` runs and prints every row of its table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import ROOT

ROWS = [
    "simulated sales/s per core, in memory (full fidelity)",
    "simulated sales/s, writing every artifact (pos-sim run)",
    "time compression, busy day",
    "memory, Simulation with 1,000 terminals",
    "memory, Simulation with 10,000 terminals",
    "memory, TerminalFleet alone (10,000 cores)",
    "campaign speed-up",
    "campaign seeds/s, local process pool",
    "campaign seeds/s, --cluster local:2 (Dask)",
    "explored worlds/s",
    "simulated sales/s, one terminal, ",
    "TCP host, ours (disk), 1 connection(s)",
    "TCP host, ours (memory), 1 connection(s)",
    "TCP host, ours (disk), 20 connection(s)",
    "TCP host, ours (memory), 20 connection(s)",
    "interpreter, receipts read back/s",
    "report.html of a ",
    "report.html opened in headless Chromium",
    "real-process crash loop, robust, 10 SIGKILL cycles",
]


@pytest.mark.slow
@pytest.mark.timeout(600)  # it installs the peer host (iso8583sim) on first use
def test_the_quick_benchmark_prints_every_row() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick"],
                          capture_output=True, text=True, cwd=ROOT, timeout=320, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("python bench/run.py --quick: ")
    assert "Python 3." in lines[0]
    assert lines[1].split() == ["measure", "figure", "baseline", "(same", "run)", "ratio",
                                "target", "status"]
    for row in ROWS:
        found = [line for line in lines if line.startswith(row)]
        assert found, f"no row {row!r} in:\n{done.stdout}"
        assert "failed" not in found[0], found[0]
        assert "not measured" not in found[0], found[0]
    statuses = [line for line in lines if line.rstrip().endswith(("met", "NOT met"))]
    assert len(statuses) >= 5  # every row with a target says where it stands
