"""One lab process: virtual printers, the acquirer behind its fault layer, the evidence.

:class:`Lab` starts everything, holds the :class:`~terminal_sim.lab.faults.FaultTable`
and writes the run directory (``--out``) as it goes:

=====================  ==============================================================
``lab.json``           the lab's endpoints, seed and options (written at start)
``faults.jsonl``       every fault added, fired, healed, spent or removed, one JSON
                       line each, with the lab's wall time and ms since the start
``host.sqlite``        the acquirer's ledger (the same schema as a run's)
``printers/NAME/``     each printer's filed jobs (``NNNN.bin/.txt``, ``index.jsonl``)
``evidence.json``      at stop: what ``GET /evidence`` answers
``report.json`` ...    at stop: the files of a run directory, so ``pos-sim explain``,
                       ``audit`` and ``report`` read it (the paper and the ledger
                       reconciled with no journal: :func:`~terminal_sim.lab.journal.
                       write_lab_run`); ``receipts.bin`` is the printed paper
=====================  ==============================================================
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.rules import OutcomeRules
from terminal_sim.acquirer.server import AcquirerServer
from terminal_sim.base.seeds import SeedTree, derive_seed
from terminal_sim.errors import ConfigurationError, TerminalSimError, UsageError
from terminal_sim.iso.framing import DEFAULT_FRAMING, Framing
from terminal_sim.lab.faults import ACQUIRER, PRINTER, ActiveFault, FaultTable, LabFaultError
from terminal_sim.lab.printers import LabPrinter, printer_targets
from terminal_sim.lab.proxy import AcquirerFront, LabAcquirer, LoopThread

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 0.1


@dataclass(frozen=True)
class LabConfig:
    """What a lab serves, and where its evidence goes."""

    out: Path
    printers: tuple[str, ...] = ("tcp://127.0.0.1:9100",)
    acquirer: tuple[str, int] | None = ("127.0.0.1", 8583)
    seed: int = 0
    rules: OutcomeRules | None = None
    idle_timeout: float = 300.0
    #: how the acquirer (and the proxy before it) cuts ISO 8583 messages out of TCP
    framing: Framing = DEFAULT_FRAMING
    extra: Mapping[str, Any] = field(default_factory=dict)


class Lab:
    """The devices and the fault table; thread-safe (the control API's threads call it)."""

    def __init__(self, config: LabConfig) -> None:
        self.config = config
        self.out = config.out
        self.started = time.monotonic()
        self._trace_lock = threading.Lock()
        self._trace: IO[str] | None = None
        self._seq = 0
        self.table = FaultTable(config.seed, self._record)
        self.printers: list[LabPrinter] = []
        self.acquirer_address: tuple[str, int] | None = None
        self.ledger: HostLedger | None = None
        self._loop: LoopThread | None = None
        self._front: AcquirerFront | None = None
        self._host: AcquirerServer | None = None
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None
        self.stopped = False

    # -- life -----------------------------------------------------------------------------

    def start(self) -> Lab:
        out = self.out
        try:
            out.mkdir(parents=True, exist_ok=True)
            if any(out.iterdir()):
                raise ConfigurationError(f"--out {out}: not empty (a lab writes a new run "
                                         "directory)")
            self._trace = open(out / "faults.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise ConfigurationError(f"--out {out}: {exc.strerror or exc}") from exc
        started = False
        try:
            for index, spec in enumerate(self.config.printers, start=1):
                name = f"p{index}"
                self.printers.append(LabPrinter(name, spec, out / "printers" / name,
                                                self.table))
            for printer in self.printers:
                printer.start()
            if self.config.acquirer is not None:
                self._start_acquirer(self.config.acquirer)
            started = True
        finally:
            if not started:  # whatever stopped it (a busy port, ^C): no thread left behind
                self.stop()
        self._keeper = threading.Thread(target=self._housekeeping, name="lab-keeper",
                                        daemon=True)
        self._keeper.start()
        (out / "lab.json").write_text(json.dumps(self.describe(), indent=2, sort_keys=True)
                                      + "\n", encoding="utf-8")
        self._record("started", self.describe())
        return self

    def _start_acquirer(self, address: tuple[str, int]) -> None:
        self.ledger = HostLedger(self.out / "host.sqlite")
        seeds = SeedTree(self.config.seed)
        host = LabAcquirer(self.ledger, rules=self.config.rules,
                           stream=seeds.stream("acquirer"),
                           token_key=f"{derive_seed(self.config.seed, 'tokenization'):016x}")
        host.table = self.table
        self._host = AcquirerServer(host, host="127.0.0.1", port=0,
                                    idle_timeout=self.config.idle_timeout,
                                    framing=self.config.framing)
        self._loop = LoopThread("lab-acquirer")
        upstream = self._loop.run(self._host.start())
        self._front = AcquirerFront(upstream, self.table, host=address[0], port=address[1],
                                    idle_timeout=self.config.idle_timeout,
                                    framing=self.config.framing)
        try:
            self.acquirer_address = self._loop.run(self._front.start())
        except OSError as exc:
            raise ConfigurationError(f"--acquirer {address[0]}:{address[1]}: cannot listen: "
                                     f"{exc.strerror or exc}") from exc

    def stop(self) -> None:
        """Stop every device, write ``evidence.json`` and the run directory's files."""
        if self.stopped:
            return
        self.stopped = True
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join(5)
        for printer in self.printers:
            printer.stop()
        if self._loop is not None:
            front, host = self._front, self._host

            async def shutdown() -> None:
                if front is not None:
                    await front.shutdown()
                if host is not None:
                    await host.shutdown()

            self._loop.stop(shutdown())
        if self.ledger is not None:
            self.ledger.close()
        if self._trace is not None:
            self._record("stopped", {})
            with self._trace_lock:
                self._trace.close()
                self._trace = None
            (self.out / "evidence.json").write_text(
                json.dumps(self.evidence(), indent=2, sort_keys=True) + "\n",
                encoding="utf-8")
            from terminal_sim.lab.journal import write_lab_run

            try:
                write_lab_run(self.out)
            except (TerminalSimError, OSError) as exc:  # the raw evidence is kept
                log.error("lab: the run directory's report could not be written: %s", exc)

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _housekeeping(self) -> None:
        while not self._stop.wait(HOUSEKEEPING_S):
            try:
                for printer in self.printers:
                    printer.poll()
                self.table.expire()
            except Exception:
                log.error("lab housekeeping failed", exc_info=True)

    # -- the trace of faults --------------------------------------------------------------

    def _record(self, event: str, data: dict[str, Any]) -> None:
        with self._trace_lock:
            self._seq += 1
            line = {"seq": self._seq, "event": event,
                    "at": dt.datetime.now().isoformat(timespec="milliseconds"),
                    "ms": int((time.monotonic() - self.started) * 1000), **data}
            if self._trace is not None:
                self._trace.write(json.dumps(line, sort_keys=True) + "\n")
                self._trace.flush()
        log.info("lab: %s %s", event, data.get("name", ""))

    def fault_trace(self) -> list[dict[str, Any]]:
        path = self.out / "faults.jsonl"
        with self._trace_lock:
            if not path.exists():
                return []
            lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    # -- faults -----------------------------------------------------------------------------

    def add_fault(self, spec: Mapping[str, Any]) -> ActiveFault:
        """Validate and apply a fault; :class:`LabFaultError` names a bad field."""
        if self.stopped:
            raise UsageError("the lab is stopped")
        from terminal_sim.lab.faults import LAB_FAULTS

        device = LAB_FAULTS.get(str(spec.get("name"))) if isinstance(spec, Mapping) else None
        if device == ACQUIRER and self._front is None:
            raise LabFaultError("name: this lab serves no acquirer", "name")
        if device == PRINTER and isinstance(spec.get("printer"), str):
            names = [p.name for p in self.printers]
            if spec["printer"] not in names:
                raise LabFaultError(f"printer: no printer {spec['printer']!r}; printers: "
                                    f"{', '.join(names) or 'none'}", "printer")
        return self.table.add(spec, apply=self._apply)

    def _apply(self, fault: ActiveFault) -> None:
        if fault.device == PRINTER:
            undos = [printer.apply(fault) for printer in printer_targets(self.printers, fault)]

            def undo() -> None:
                for step in undos:
                    step()

            fault.undo = undo
        elif fault.name == "acquirer-host-down":
            fault.heal_after(fault.values["down_s"])
            if fault.values["mode"] == "refuse" and self._loop is not None and self._front:
                front = self._front
                cut = self._loop.call(front.cut_all)
                self.table.listener("fired", {"id": fault.id, "name": fault.name,
                                              "effect": f"host down: {cut} connections reset"})

    def remove_fault(self, fault_id: str) -> bool:
        return self.table.remove(fault_id) is not None

    def reset(self) -> int:
        """Remove every fault (each device healed); how many there were."""
        return self.table.clear()

    # -- views ------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        acquirer = (f"{self.acquirer_address[0]}:{self.acquirer_address[1]}"
                    if self.acquirer_address else None)
        return {"printers": {p.name: p.endpoint for p in self.printers},
                "acquirer": acquirer,
                "framing": self.config.framing.name if acquirer else None,
                "seed": self.config.seed, "out": str(self.out),
                **dict(self.config.extra)}

    def state(self) -> dict[str, Any]:
        front = self._front
        acquirer: dict[str, Any] | None = None
        if front is not None:
            host = self._host.stats if self._host is not None else None
            acquirer = {"address": self.describe()["acquirer"],
                        "connections": len(front.pairs), **front.counts,
                        "replies_waiting": sum(len(p.later) for p in front.pairs.values()),
                        "host": {"messages": host.messages if host else 0,
                                 "replies": host.replies if host else 0,
                                 "connections": host.connections if host else 0},
                        "down": any(f.name == "acquirer-host-down"
                                    for f in self.table.active())}
        return {"uptime_ms": int((time.monotonic() - self.started) * 1000),
                "printers": [p.state_dict() for p in self.printers], "acquirer": acquirer,
                "faults": [f.to_dict() for f in self.table.active()]}

    def host_rows(self) -> list[dict[str, Any]]:
        """The ledger's transactions, read through a second connection (read-only)."""
        from terminal_sim.evidence.artifacts import read_rows

        path = self.out / "host.sqlite"
        if not path.exists():
            return []
        rows = read_rows(path, "SELECT * FROM transactions ORDER BY received_vt, terminal_id, "
                               "stan")
        for row in rows:
            row.pop("reply", None)
        return rows

    def evidence(self) -> dict[str, Any]:
        return {"lab": self.describe(),
                "printers": {p.name: p.jobs() for p in self.printers},
                "host": self.host_rows(), "faults": self.fault_trace()}
