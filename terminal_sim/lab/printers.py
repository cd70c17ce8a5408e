"""The lab's virtual printers: :class:`printer.servers.DeviceServer` on TCP or a pty.

Each printer has a name (``p1``, ``p2`` ... in the order given), its own state (paper,
cover, power) and its own folder of filed jobs (``printers/NAME/`` of the run
directory: ``NNNN.bin/.txt`` and ``index.jsonl``, see :mod:`printer.filing`). Printer
faults change the state the way the world does; ``printer-power-loss`` with ``at_byte``
cuts the power between two bytes of the next job (the device server's
``schedule_state``: it reads no further than that byte before the cut).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from printer.filing import ReceiptSink
from printer.servers import DeviceServer
from printer.state import PrinterState
from terminal_sim.errors import ConfigurationError
from terminal_sim.lab.faults import PRINTER, ActiveFault, FaultTable


def parse_printer(spec: str) -> tuple[str, tuple[str, int] | None]:
    """``tcp://HOST:PORT`` -> ("tcp", (host, port)); ``serial`` -> ("serial", None)."""
    if spec in ("serial", "serial://", "pty"):
        return "serial", None
    parts = urlsplit(spec)
    if parts.scheme == "tcp" and parts.hostname and parts.port is not None:
        return "tcp", (parts.hostname, parts.port)
    raise ConfigurationError(f"--printer {spec!r}: expected tcp://HOST:PORT (port 0: any "
                             "free one) or serial (a pseudo-terminal)")


class LabPrinter:
    """One virtual printer of the lab, served on its own thread."""

    def __init__(self, name: str, spec: str, folder: Path, table: FaultTable) -> None:
        self.name = name
        self.kind, address = parse_printer(spec)
        self.table = table
        self.folder = folder
        self.state = PrinterState()
        self.sink = ReceiptSink(folder)
        self.server = DeviceServer(self.sink, state=self.state)
        self._lock = threading.Lock()
        self._cuts: dict[str, tuple[ActiveFault, int, int]] = {}  # id -> (fault, byte, ticket)
        if address is not None:
            bound = self.server.listen_tcp(*address)
            self.endpoint = f"tcp://{bound[0]}:{bound[1]}"
        else:
            self.endpoint = f"serial://{self.server.open_pty()}"
        self._thread = threading.Thread(target=self.server.serve, name=f"lab-printer-{name}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.stop()
        self._thread.join(10)

    def state_dict(self) -> dict[str, Any]:
        return {"name": self.name, "endpoint": self.endpoint, "state": self.state.to_dict(),
                "connections": self.server.connections,
                "blocked": self.state.blocked_reason(), "held_bytes": self.server.held,
                "received": self.server.received,
                "jobs": sum("event" not in entry for entry in self.jobs()),
                "armed_cuts": sorted(self._cuts)}

    def jobs(self) -> list[dict[str, Any]]:
        """The index of filed jobs (and held events), in filing order, read from disk
        (every line is flushed as it is written; a torn last line is skipped)."""
        path = self.folder / "index.jsonl"
        if not path.exists():
            return []
        entries = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
        return entries

    # -- faults -------------------------------------------------------------------------

    def poll(self) -> None:
        """Note the armed power cuts the printer has reached (the lab's housekeeping)."""
        with self._lock:
            reached = [(fid, cut) for fid, cut in self._cuts.items()
                       if self.server.received >= cut[1]]
            for fid, _ in reached:
                del self._cuts[fid]
        for _, (fault, at, _) in reached:
            fault.fired += 1
            fault.armed = False
            self.table.listener("fired", {"id": fault.id, "name": fault.name,
                                          "printer": self.name, "at_received": at,
                                          "effect": "power cut at byte "
                                                    f"{fault.values['at_byte']} of the job"})
            fault.heal_after(fault.values.get("down_s"))

    def _set(self, **changes: Any) -> None:
        self.server.update_state(**changes)

    def apply(self, fault: ActiveFault) -> Callable[[], None]:
        """Change the printer as ``fault`` says; return what undoes it."""
        state, values, name = self.state, fault.values, fault.name
        undo: Callable[[], None]
        if name == "printer-power-loss" and values.get("at_byte") is not None:
            at = self.server.received + values["at_byte"]
            with self._lock:
                ticket = self.server.schedule_state(at, powered=False)
                self._cuts[fault.id] = (fault, at, ticket)

            def undo_cut() -> None:
                with self._lock:
                    armed = self._cuts.pop(fault.id, None)
                if armed is None or not self.server.cancel_scheduled(armed[2]):
                    self._set(powered=True)  # it was cut: the power comes back

            return undo_cut
        if name == "printer-paper-out":
            self._set(paper="out")
            undo, heal = (lambda: self._set(paper="ok")), values["refill_s"]
        elif name == "printer-paper-near-end":
            self._set(paper="near-end")
            undo, heal = (lambda: self._set(paper="ok")), None
        elif name == "printer-cover-open":
            self._set(cover_open=True)
            undo, heal = (lambda: self._set(cover_open=False)), values["close_s"]
        elif name == "printer-offline":
            self._set(online=False)
            undo, heal = (lambda: self._set(online=True)), values["online_s"]
        else:  # printer-power-loss, now
            self._set(powered=False)
            undo, heal = (lambda: self._set(powered=True)), values["down_s"]
        fault.fired += 1
        self.table.listener("fired", {"id": fault.id, "name": name, "printer": self.name,
                                      "effect": state.blocked_reason() or str(state.paper)})
        fault.heal_after(heal)
        return undo


def printer_targets(printers: list[LabPrinter], fault: ActiveFault) -> list[LabPrinter]:
    wanted = fault.values.get("printer")
    chosen = [p for p in printers if wanted is None or p.name == wanted]
    if fault.device == PRINTER and not chosen:
        known = ", ".join(p.name for p in printers) or "none"
        raise ConfigurationError(f"printer: no printer {wanted!r} in this lab; printers: "
                                 f"{known}")
    return chosen
