"""``python -m terminal_sim.studio``: the same as ``pos-sim studio``."""

from __future__ import annotations

from terminal_sim.cli.reporting_commands import studio

if __name__ == "__main__":
    studio(prog_name="python -m terminal_sim.studio")
