"""``python -m terminal_sim`` is ``pos-sim``: ``python -m terminal_sim studio``,
``python -m terminal_sim acquirer serve`` and every other command (the crash loop
starts its terminal processes this way)."""

from terminal_sim.cli.main import main

if __name__ == "__main__":
    main()
