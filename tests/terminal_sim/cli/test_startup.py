"""``pos-sim`` starts without loading what only some commands need."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("asyncio", "escpos", "yaml", "jsonschema", "PIL", "transitions", "sqlite3", "dask",
         "terminal_sim.harness.campaign", "terminal_sim.scenario", "terminal_sim.sim")


def test_the_command_line_loads_no_heavy_module() -> None:
    code = ("import sys, terminal_sim.cli.main\n"
            "print('\\n'.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    loaded = done.stdout.split()
    heavy = [m for m in loaded if m in HEAVY or m.startswith(tuple(f"{h}." for h in HEAVY))]
    assert heavy == [], f"imported at start: {heavy}"
