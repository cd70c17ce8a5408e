"""Lab mode: the virtual printers and the acquirer as fault-injecting stand-ins for a
real POS application, controlled at run time (``pos-sim lab``).

============================  ===========================================================
:mod:`~terminal_sim.lab.faults`   the run-time faults (scenario names and parameters)
:mod:`~terminal_sim.lab.proxy`    the acquirer's frame-aware fault layer, ``LabAcquirer``
:mod:`~terminal_sim.lab.printers` the virtual printers (TCP, pty)
:mod:`~terminal_sim.lab.lab`      ``Lab``: the devices, the fault table, the run directory
:mod:`~terminal_sim.lab.control`  the HTTP + JSON control API
:mod:`~terminal_sim.lab.session`  ``LabSession``: a lab with its control API (and script)
:mod:`~terminal_sim.lab.client`   ``LabClient``: the API from Python
:mod:`~terminal_sim.lab.script`   the YAML timeline of fault changes
:mod:`~terminal_sim.lab.journal`  the application's journal export, reconciled
============================  ===========================================================
"""

from __future__ import annotations

from typing import Any

__all__ = ["Lab", "LabClient", "LabConfig", "LabRequestError", "LabSession"]

_WHERE = {"Lab": "lab", "LabConfig": "lab", "LabClient": "client",
          "LabRequestError": "client", "LabSession": "session"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'terminal_sim.lab' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"terminal_sim.lab.{module}"), name)
