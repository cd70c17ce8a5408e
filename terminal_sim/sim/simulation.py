"""A run: one scenario, one seed, every component wired, every artifact written.

:class:`Simulation` builds the world from a :class:`~terminal_sim.scenario.loader.Scenario`:
the virtual clock and scheduler, the seed tree, the mock acquirer with its ledger, and
per terminal a core, a card reader, a journal view and a virtual printer; then it
installs the scenario's faults (which wrap those ports), plays the workload, and
reconciles the evidence.

Artifacts (when ``out_dir`` is given): ``trace.jsonl``, ``journal.sqlite``,
``host.sqlite``, ``backoffice.sqlite``,
``receipts.bin`` (every ESC/POS byte each printer received, terminals
in id order), ``receipts.txt`` (the interpreted roll) and ``report.json``. The layers
above add ``report.html`` and ``scenario.yaml`` (:func:`terminal_sim.harness.run.run_scenario`).

A run can be driven whole (:meth:`Simulation.run`) or step by step, which is what the
session, the crash-point sweep and the studio do::

    sim = Simulation(scenario)
    sim.build()            # stores, ports, terminals, faults: nothing has happened yet
    sim.power_on()         # every terminal boots; sync agents start
    sim.step(until=60_000) # let virtual time pass, with everything that happens in it
    result = sim.finish()  # reconcile, write the artifacts, release the files
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.base.clock import VirtualClock
from terminal_sim.base.heap import freeze_more, frozen_heap
from terminal_sim.base.seeds import SeedTree, derive_seed
from terminal_sim.core.lifecycle import TerminalCore, TerminalFleet
from terminal_sim.core.profiles import Profile, get_profile
from terminal_sim.evidence.reconcile import Finding, Reconciler
from terminal_sim.evidence.report import build_report
from terminal_sim.evidence.sources import Evidence, PaperReceipt
from terminal_sim.iso.framing import get_framing
from terminal_sim.plugins.faults import Fault
from terminal_sim.plugins.registry import fault_class
from terminal_sim.scenario.loader import FaultSpec, Scenario
from terminal_sim.sim.fault_host import SimulationFaultHost
from terminal_sim.sim.node import Ports, TerminalNode
from terminal_sim.sim.ports import AcquirerLink, InProcessLink, ReceiptPrinter, SimCardReader
from terminal_sim.sim.saf import ReversalAgent, abandoned_reversals
from terminal_sim.sim.scheduler import Scheduler
from terminal_sim.sim.settle import Settlement
from terminal_sim.sim.sync import DirectBackOfficeLink, SyncAgent
from terminal_sim.sim.trace import Trace
from terminal_sim.sim.workload import install_cashier, plan
from terminal_sim.stores.backoffice import BackOffice
from terminal_sim.stores.journal import Durability, Journal

#: What :meth:`Simulation.finish` writes into a run directory (the harness adds the rest).
RUN_ARTIFACTS = ("trace.jsonl", "journal.sqlite", "host.sqlite", "backoffice.sqlite",
                 "receipts.bin", "receipts.txt", "report.json")

#: After the last customer action the day goes on this long (syncs, retries, reboots).
SETTLE_MS = 30 * 60_000


def fault_stream_name(spec: FaultSpec, seen: Counter[str]) -> str:
    """The name of a fault's random stream: its name and parameters (and, for identical
    entries, which one), never its position in the list, so that adding or removing
    another fault changes nothing in this one (the shrinker relies on it)."""
    text = json.dumps(spec.params, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{spec.name}\0{text}".encode()).hexdigest()[:16]
    seen[digest] += 1
    return f"fault/{spec.name}/{digest}/{seen[digest]}"


@dataclass
class RunResult:
    """What a run produced."""

    scenario: Scenario
    seed: int
    profile: Profile
    findings: list[Finding]
    report: dict[str, Any]
    evidence: Evidence
    out_dir: Path | None = None
    receipts_bin: dict[str, bytes] = field(default_factory=dict)
    #: what was still unfinished at the end of the day (queues not drained, busy states)
    liveness: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.report["passed"])


class Simulation:
    """One deterministic run of a scenario."""

    def __init__(self, scenario: Scenario, *, seed: int | None = None,
                 profile: str | None = None, out_dir: str | Path | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        base = get_profile(profile or scenario.profile)
        self.profile = base.with_settings(**scenario.profile_settings)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.seeds = SeedTree(self.seed)
        self.clock = VirtualClock(scenario.start)
        self.scheduler = Scheduler(self.clock)
        self.token_key = f"{derive_seed(self.seed, 'tokenization'):016x}"
        self.nodes: dict[str, TerminalNode] = {}
        self.faults: list[Fault] = []
        self._trace_file: IO[str] | None = None
        start = scenario.start
        #: virtual time is counted from the scenario's start; faults speak in time of day
        self.start_of_day_ms = ((start.hour * 60 + start.minute) * 60 + start.second) * 1000
        self.horizon_ms = 0
        self._heap_frozen = False  # run() froze the objects there before it (frozen_heap)

    # -- building the world --------------------------------------------------------------

    def _path(self, name: str) -> str:
        if self.out_dir is None:
            return ":memory:"
        target = self.out_dir / name
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(target) + suffix).unlink()
        return str(target)

    def _open_stores(self) -> None:
        """The trace, the host (ledger and acquirer), the journal and the back office."""
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._trace_file = open(self.out_dir / "trace.jsonl", "w", encoding="utf-8",  # noqa: SIM115
                                    newline="\n")
        self.trace = Trace(self._trace_file)
        # The host's ledger and the back office sync once, when the run closes them
        # (a checkpoint into each file), not at every commit: only terminals lose power
        # in a run, so a sync per commit there protects nothing the run models, and it
        # cost a 3,000-sale run on disk 0.24 ms of CPU a sale (bench/RESULTS.md, issue
        # 19). The journal keeps its profile's settings: its durability is what the run
        # models.
        self.ledger = HostLedger(self._path("host.sqlite"))
        self.ledger.defer_sync()
        self.journal = Journal(self._path("journal.sqlite"))
        self.backoffice = BackOffice(self._path("backoffice.sqlite"), synchronous="NORMAL")
        self.host = MockAcquirer(self.ledger, stream=self.seeds.stream("acquirer"),
                                 token_key=self.token_key)

    def _make_link(self) -> AcquirerLink:
        return InProcessLink(self.host, self.scheduler, self.clock, self.seeds.stream("link"),
                             self.trace, mac=self.profile.mac_messages,
                             framing=get_framing(self.profile.link_framing))

    def _make_printer(self, terminal_id: str) -> ReceiptPrinter:
        from printer.virtual import VirtualPrinter

        return ReceiptPrinter(VirtualPrinter(), check_status=self.profile.check_printer_status,
                              skip_empty_jobs=self.profile.spooler_skips_empty_jobs)

    def build(self) -> None:
        """Open the stores and wire the world: acquirer, terminals with their ports, faults.

        Nothing runs yet; call :meth:`power_on` and :meth:`step` (or :meth:`play`) next,
        and :meth:`finish` at the end. Subclasses add to the world by extending it.
        """
        self._open_stores()
        self.link = self._make_link()
        durability = Durability(synchronous=self.profile.journal_synchronous)
        fleet = TerminalFleet()
        cores = []
        for spec in self.scenario.terminals:
            core = TerminalCore(spec.id, merchant_id=spec.merchant_id,
                                merchant_name=spec.merchant_name, profile=self.profile,
                                token_key=self.token_key)
            cores.append(core)
            ports = Ports(
                reader=SimCardReader(self.seeds.stream(f"reader/{spec.id}")),
                link=self.link,
                journal=self.journal.terminal(spec.id, durability),
                printer=self._make_printer(spec.id),
            )
            node = TerminalNode(core, ports, scheduler=self.scheduler, clock=self.clock,
                                trace=self.trace)
            node.sync = SyncAgent(node, DirectBackOfficeLink(self.backoffice))
            node.saf = ReversalAgent(node)
            self.nodes[spec.id] = node
        fleet.add(cores)
        self.fleet = fleet
        install_cashier(self.scenario.cashier, self.nodes, self.seeds)
        host = SimulationFaultHost(self)
        seen: Counter[str] = Counter()
        for fault_spec in self.scenario.faults:
            stream = self.seeds.stream(fault_stream_name(fault_spec, seen))
            fault = fault_class(fault_spec.name).from_spec(
                fault_spec, stream, start_offset_ms=self.start_of_day_ms)
            fault.install(host)
            self.faults.append(fault)

    # -- running -------------------------------------------------------------------------

    def run(self) -> RunResult:
        """Play the scenario to the end and reconcile; writes artifacts when asked."""
        with frozen_heap() as froze:  # full collections walk the run's objects, not the imports
            self._heap_frozen = froze
            self.build()
            try:
                self.play()
                return self.finish()
            finally:
                self._heap_frozen = False
                self.close_trace()

    def power_on(self, *, sync_until_ms: int | None = None) -> None:
        """Boot every terminal and start its sync agent (until ``sync_until_ms``, by
        default the end of the scenario's day)."""
        until = self.horizon_ms if sync_until_ms is None else sync_until_ms
        for node in self.nodes.values():
            if node.saf is not None:
                node.saf.until_ms = until
            node.reprint_until_ms = until
            node.power_on()
            if node.sync is not None:
                node.sync.start(until)

    def play(self) -> None:
        """The scenario's day after :meth:`build`: boot, every customer action at its
        time, then :meth:`end_of_day`."""
        actions = plan(self.scenario, self.seeds)
        last = max((a.at_ms for a in actions), default=0)
        self.horizon_ms = max(last, *(f.latest_ms() for f in self.faults), 0) + SETTLE_MS
        self.power_on()
        for action in actions:
            node = self.nodes[action.terminal]
            self.scheduler.at(action.at_ms, partial(node.request, action.event))
        self.step()
        self.end_of_day()

    def step(self, *, until: int | None = None, until_quiet: bool = False) -> None:
        """Run what is scheduled: everything, or up to virtual time ``until``, or
        (``until_quiet``) until only background housekeeping is left."""
        self.scheduler.run(until=until, until_quiet=until_quiet)

    def close_trace(self) -> None:
        """Flush and close ``trace.jsonl`` (idempotent; :meth:`finish` does it too)."""
        if self._trace_file is not None:
            self._trace_file.close()

    def end_of_day(self) -> None:
        """Close the day: settle with the host (when the firmware does), a last sync."""
        for node in self.nodes.values():
            if self.profile.settle_at_end_of_day:
                node.settlement = Settlement(node)
                node.settlement.start()
        self.step()
        for node in self.nodes.values():
            if node.sync is not None and node.powered:
                node.sync.sync_once()

    def liveness(self) -> list[str]:
        """What a terminal left unfinished: it should be idle with its queues drained."""
        problems = []
        for terminal_id, node in sorted(self.nodes.items()):
            if node.core.state != "idle":
                problems.append(f"{terminal_id} ends in state {node.core.state}")
            if node.saf is not None and node.saf.pending():
                problems.append(f"{terminal_id} still has reversals queued: "
                                f"{', '.join(node.saf.pending())}")
            problems += abandoned_reversals(node)
            if node.core.reprints:
                problems.append(f"{terminal_id} never reprinted: "
                                f"{', '.join(e.stan for e in node.core.reprints)}")
        return problems

    def _host_rows(self) -> list[dict[str, Any]]:
        return self.ledger.transactions()

    def _close_stores(self) -> None:
        self.journal.close()
        self.ledger.close()
        self.backoffice.close()

    def _paper(self) -> tuple[dict[str, bytes], list[PaperReceipt]]:
        """Each printer's bytes, and the receipts read from them."""
        receipts_bin: dict[str, bytes] = {}
        receipts: list[PaperReceipt] = []
        for terminal_id, node in self.nodes.items():
            device = node.ports.printer.device
            receipts_bin[terminal_id] = bytes(device.output)
            # each receipt's text where the device gives it (no receipt objects built), else
            # one receipt at a time where it can: a day's roll is not built at once
            each = getattr(device, "iter_receipt_texts", None) or getattr(
                device, "iter_receipts", None)
            for index, receipt in enumerate(each() if each else device.receipts, start=1):
                receipts.append(PaperReceipt.from_receipt(terminal_id, index, receipt))
        return receipts_bin, receipts

    def finish(self) -> RunResult:
        """Reconcile the evidence as it stands, write the run's artifacts (with an
        ``out_dir``), close the stores and the trace; returns what the run produced."""
        try:
            return self._reconcile_and_write()
        finally:
            self.close_trace()

    def _reconcile_and_write(self) -> RunResult:
        freeze_more(self._heap_frozen)  # a full collection here walks what the end makes
        receipts_bin, receipts = self._paper()
        evidence = Evidence(receipts=receipts, journal=self.journal.rows(),
                            host=self._host_rows(), backoffice=self.backoffice.rows(),
                            trace=self.trace.records)
        findings = Reconciler(evidence).findings()
        liveness = self.liveness()
        report = build_report(
            self.scenario, evidence, findings, seed=self.seed, profile=self.profile.name,
            power_cuts=sum(node.power_cuts for node in self.nodes.values()),
            virtual_ms=self.clock.now())
        report["liveness"] = liveness
        offset = 0
        report["printers"] = {}
        for terminal_id in sorted(receipts_bin):  # where each printer's bytes sit in receipts.bin
            size = len(receipts_bin[terminal_id])
            report["printers"][terminal_id] = {"offset": offset, "bytes": size}
            offset += size
        result = RunResult(self.scenario, self.seed, self.profile, findings, report, evidence,
                           self.out_dir, receipts_bin, liveness)
        if self.out_dir is not None:
            self._write_artifacts(result)
        self._close_stores()
        return result

    def _write_artifacts(self, result: RunResult) -> None:
        out = self.out_dir
        if out is None:
            return
        (out / "receipts.bin").write_bytes(b"".join(result.receipts_bin[t]
                                                    for t in sorted(result.receipts_bin)))
        text = io.StringIO()
        for receipt in result.evidence.receipts:
            flags = "".join([" TRUNCATED" if receipt.truncated else "",
                             " BLANK" if receipt.blank else ""])
            text.write(f"===== {receipt.ref} bytes {receipt.start_offset}-"
                       f"{receipt.end_offset}{flags} =====\n{receipt.text}\n")
        (out / "receipts.txt").write_text(text.getvalue(), encoding="utf-8")
        (out / "report.json").write_text(
            json.dumps(result.report, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8")
