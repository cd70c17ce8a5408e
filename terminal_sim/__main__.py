"""``python -m terminal_sim`` is ``pos-sim``."""

from terminal_sim.cli.main import main

main()
