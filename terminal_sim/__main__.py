"""``python -m terminal_sim`` is ``pos-sim``."""

from terminal_sim.cli import main

main()
