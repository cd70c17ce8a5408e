"""The trainer's page: one simulated terminal in a browser, live or replayed.

``pos-sim studio`` serves, on 127.0.0.1 only, a page with one terminal: customer and
operator controls, fault switches, the state diagram with the current state lit, the
receipt roll as it prints, the journal, host ledger and back-office panes, and the
findings with their stories as they appear. ``--replay RUN_DIR`` steps through a
finished run instead.

==============================  ==========================================================
module                          job
==============================  ==========================================================
:mod:`~.live`                   a :class:`~terminal_sim.sim.session.Session` behind buttons
:mod:`~.replay`                 a run directory, replayed record by record
:mod:`~.snapshot`               a view of either, as the JSON the page polls
:mod:`~.diagram`                the state diagram, laid out from the ``transitions`` machine
:mod:`~.page`                   the page: HTML, CSS and script
:mod:`~.server`                 the standard library's HTTP server, a lock and a clock
==============================  ==========================================================

Importing this package starts nothing; :class:`~.server.StudioServer` does.
"""

from __future__ import annotations

__all__ = ["LiveTerminal", "Replay", "StudioServer"]


def __getattr__(name: str) -> object:
    # the modules import the simulator: load them when asked for, not with the package
    if name == "LiveTerminal":
        from terminal_sim.studio.live import LiveTerminal

        return LiveTerminal
    if name == "Replay":
        from terminal_sim.studio.replay import Replay

        return Replay
    if name == "StudioServer":
        from terminal_sim.studio.server import StudioServer

        return StudioServer
    raise AttributeError(name)
