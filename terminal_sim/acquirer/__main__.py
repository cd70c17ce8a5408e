"""``python -m terminal_sim.acquirer serve ...``: the acquirer's commands without pos-sim."""

from terminal_sim.cli.acquirer_commands import acquirer

if __name__ == "__main__":
    acquirer(prog_name="python -m terminal_sim.acquirer")
