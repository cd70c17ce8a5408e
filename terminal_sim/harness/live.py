"""Live mode: the same terminal against a real TCP acquirer, in real (scaled) time.

:class:`LiveSimulation` is a :class:`~terminal_sim.sim.simulation.Simulation` whose clock
runs by itself (:class:`~terminal_sim.base.clock.ScaledClock`), whose link is
:class:`~terminal_sim.acquirer.client.TcpAcquirerLink` (ISO 8583 in 2-byte frames
over a socket), and whose stores live in the run directory and survive the process:
a restarted terminal reopens its journal, appends to its receipt roll and trace, and
boots through the power-on path of its profile. Every printed job is appended to
``receipts.bin`` and flushed as it is printed, so a killed process leaves exactly the
paper that came out.

The run folder holds what a simulated run's does: ``scenario.yaml``, and a
``host.sqlite`` with the acquirer's rows of *this* run only (the acquirer's ledger may
hold many runs; :mod:`terminal_sim.harness.live_state` picks them by the STANs the run
used), so ``explain``, ``recover``, ``audit`` and ``replay`` work on it; the report is
reconciled against those same rows. With a terminal state directory
(``LiveOptions.state_dir``) the STAN counter survives the run, as on a real terminal,
and a second run against the same acquirer continues the numbering. While it runs,
:mod:`terminal_sim.harness.live_progress` writes progress lines to a stream (stderr).

Used by ``pos-sim run SCENARIO --acquirer tcp://HOST:PORT`` and by the real-process
crash loop (:mod:`terminal_sim.harness.crashloop`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from terminal_sim.base.clock import ScaledClock
from terminal_sim.errors import ConfigurationError
from terminal_sim.evidence.reconcile import Reconciler
from terminal_sim.evidence.sources import Evidence, PaperReceipt
from terminal_sim.harness.live_progress import LiveProgress
from terminal_sim.harness.live_state import (
    BOOT_NOTE,
    STAN_MAX,
    StanKeepingLink,
    StanStore,
    copy_host_rows,
    first_boot_bases,
    host_rows_of_run,
    run_stans,
)
from terminal_sim.iso.framing import Framing, get_framing
from terminal_sim.plugins.ports import PrinterLine
from terminal_sim.scenario.loader import Scenario
from terminal_sim.sim.ports import AcquirerLink, ReceiptPrinter
from terminal_sim.sim.realtime import RealTimeScheduler
from terminal_sim.sim.simulation import RunResult, Simulation
from terminal_sim.sim.trace import Trace
from terminal_sim.sim.workload import plan
from terminal_sim.stores.backoffice import BackOffice
from terminal_sim.stores.journal import Journal


def parse_acquirer_url(url: str) -> tuple[str, int]:
    """``tcp://127.0.0.1:8583`` -> (host, port); anything else is a clear error."""
    parts = urlsplit(url)
    if parts.scheme != "tcp" or not parts.hostname or parts.port is None:
        raise ConfigurationError(f"acquirer URL {url!r}: expected tcp://HOST:PORT, "
                                 "e.g. tcp://127.0.0.1:8583")
    return parts.hostname, parts.port


def last_trace_id(path: Path, *, chunk: int = 1 << 16) -> int:
    """The id of the last whole line of a trace (0: none), read from the end of the file:
    ids only grow, and a restarted terminal must not reread every earlier boot's lines.
    A line torn by a kill (the last one, or lines before a torn one) is skipped."""
    try:
        handle = open(path, "rb")  # noqa: SIM115  (closed below)
    except FileNotFoundError:
        return 0
    with handle:
        end = handle.seek(0, 2)
        tail = b""
        while end > 0:
            start = max(0, end - chunk)
            handle.seek(start)
            tail = handle.read(end - start) + tail
            end = start
            lines = tail.split(b"\n")
            # the first piece may be the end of a line that began before this chunk
            for line in reversed(lines if start == 0 else lines[1:]):
                try:
                    return int(json.loads(line)["id"])
                except (ValueError, KeyError, TypeError):
                    continue  # torn by a kill, or empty
            if start > 0:
                tail = lines[0]
    return 0


def _notes(path: Path) -> Iterator[dict[str, Any]]:
    """The trace's notes from its first line on, lazily: the first boot's note is near the
    start, and whoever looks for it stops there (a restart must not reread every boot)."""
    if not path.exists():
        return
    with open(path, "rb") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line torn by a kill
            if isinstance(record, dict) and record.get("kind") == "note":
                yield record


@dataclass(frozen=True)
class LiveOptions:
    """How a live terminal runs."""

    acquirer: tuple[str, int]
    speed: float = 1.0
    #: this process's boot number: sale ids stay unique across restarts
    boot: int = 1
    #: after boot recovery, print ``recovered`` and wait for a line on stdin before selling
    handshake: bool = False
    #: play the scenario's workload (False: boot, recover, drain, stop)
    sales: bool = True
    #: the acquirer's ledger file, read (read-only) for the run's reconciliation
    host_ledger: Path | None = None
    #: where the terminal keeps its STAN counter between runs (None: only in the journal)
    state_dir: Path | None = None
    #: progress lines go here (stderr); None: silent
    progress: IO[str] | None = None
    #: framing of the link (the URL's ``?framing=``); None: the profile's ``link_framing``
    framing: Framing | None = None


class _PaperTee:
    """Wraps the printer port's line: every job is appended to receipts.bin at once."""

    def __init__(self, inner: PrinterLine, sink: IO[bytes]) -> None:
        self.inner = inner
        self.sink = sink

    def send(self, data: bytes) -> None:
        self.inner.send(data)
        self.sink.write(data)
        self.sink.flush()


class LiveSimulation(Simulation):
    """A scenario against a TCP acquirer, in real time scaled by ``speed``."""

    def __init__(self, scenario: Scenario, out_dir: Path, options: LiveOptions, *,
                 profile: str | None = None) -> None:
        super().__init__(scenario, seed=scenario.seed + options.boot - 1, profile=profile,
                         out_dir=out_dir)
        if len(scenario.terminals) != 1:
            raise ConfigurationError("live mode drives one terminal; the scenario has "
                                     f"{len(scenario.terminals)}")
        self.options = options
        ledger = options.host_ledger
        if ledger is not None and ledger.resolve() == (out_dir / "host.sqlite").resolve():
            raise ConfigurationError(f"--host-ledger {ledger} is where the run folder's copy "
                                     "of this run's host rows goes: keep the acquirer's "
                                     "ledger outside the run folder")
        clock = ScaledClock(scenario.start, speed=options.speed)
        # the ports and nodes are typed for the virtual clock; they only read now() and wall()
        self.clock = clock  # type: ignore[assignment]
        self.live_scheduler = RealTimeScheduler(clock)
        self.scheduler = self.live_scheduler
        self._paper_file: IO[bytes] | None = None
        self.link_errors: list[str] = []
        self.stan_store = StanStore(options.state_dir) if options.state_dir else None
        #: each terminal's STAN counter when this run folder's first boot began
        self.stan_base: dict[str, int] = {}
        self._earlier_bases: dict[str, int] | None = None
        self.progress: LiveProgress | None = None

    # -- the world, persistent ---------------------------------------------------------------

    def _path(self, name: str) -> str:
        return str(self.out_dir / name) if self.out_dir is not None else ":memory:"

    def _open_stores(self) -> None:
        out = self.out_dir
        if out is None:
            raise ConfigurationError("live mode needs a run directory")
        out.mkdir(parents=True, exist_ok=True)
        trace_path = out / "trace.jsonl"
        last = last_trace_id(trace_path)
        self._earlier_bases = first_boot_bases(_notes(trace_path))
        self._trace_file = open(trace_path, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.trace = Trace(self._trace_file, first_id=last + 1)
        self.journal = Journal(self._path("journal.sqlite"))
        self.backoffice = BackOffice(self._path("backoffice.sqlite"))
        self._paper_file = open(out / "receipts.bin", "ab")  # noqa: SIM115

    def _make_link(self) -> AcquirerLink:
        from terminal_sim.acquirer.client import TcpAcquirerLink

        host, port = self.options.acquirer

        def on_error(offset: int | None, reason: str) -> None:
            self.link_errors.append(reason)
            self.trace.write(self.clock.now(), "", "", "note", "link_error",
                             data={"offset": offset, "reason": reason})

        link = TcpAcquirerLink(host, port, post=self.live_scheduler.call_soon_threadsafe,
                               on_error=on_error, framing=self.options.framing or get_framing(
                                   self.profile.link_framing))
        if self.stan_store is None:
            return link
        return StanKeepingLink(link, self.stan_store,
                               lambda terminal_id: self.nodes[terminal_id].core.last_stan)

    def _make_printer(self, terminal_id: str) -> ReceiptPrinter:
        printer = super()._make_printer(terminal_id)
        if self._paper_file is not None:
            printer.wrap_line(partial(_PaperTee, sink=self._paper_file))
        return printer

    def build(self) -> None:
        super().build()
        for terminal_id, node in self.nodes.items():
            # the STAN counter is non-volatile: continue after the highest one on record
            # (the terminal's state file of earlier runs, else its journal)
            stans = [int(e.stan) for e in node.ports.journal.entries() if e.stan.isdigit()]
            stans += [int(r["stan"]) for r in node.ports.journal.saf_rows()]
            if self.stan_store is not None:
                stans.append(self.stan_store.load(terminal_id))
            node.core.last_stan = max(stans, default=0)
            self.stan_base[terminal_id] = node.core.last_stan
        if self._earlier_bases is not None:  # a restart in the same run folder
            self.stan_base.update(self._earlier_bases)
        self.trace.write(self.clock.now(), "", "", "note", BOOT_NOTE,
                         data={"boot": self.options.boot, "stan_base": self.stan_base})

    # -- running -----------------------------------------------------------------------------

    def run(self, *, stdin: IO[str] | None = None, stdout: IO[str] | None = None
            ) -> RunResult:
        """Boot (recovering what a previous process left), then sell, then close the day."""
        self.build()
        try:
            for node in self.nodes.values():
                node.power_on()
            self.live_scheduler.run(until_quiet=True, idle_grace_ms=50)
            if self.options.handshake:
                out = stdout or sys.stdout
                out.write("recovered\n")
                out.flush()
                (stdin or sys.stdin).readline()
            if self.options.sales:
                start = self.clock.now()
                # plan() draws from the workload streams: call it once
                actions = plan(self.scenario, self.seeds)
                self._start_progress(sum(1 for a in actions if hasattr(a.event, "sale_id")))
                for action in actions:
                    node = self.nodes[action.terminal]
                    event = action.event
                    if hasattr(event, "sale_id"):
                        event = _renamed(event, self.options.boot)
                    self.scheduler.at(start + action.at_ms,
                                      partial(self._request, node.request, event))
                for node in self.nodes.values():
                    if node.sync is not None:
                        node.sync.start(start + max((a.at_ms for a in actions), default=0))
                self.live_scheduler.run(idle_grace_ms=200)
            self.end_of_day()
            self.live_scheduler.ticker = None
            self._keep_stans()
            result = self.finish()
            # imported here: a terminal process killed before the end of its day (the
            # crash loop kills hundreds) should not pay for the reporting layer at boot
            from terminal_sim.harness.run import write_run_extras

            # scenario.yaml is kept like a simulated run's: `pos-sim replay` of a live
            # run checks the folder against it (terminal_sim.harness.replay)
            write_run_extras(result)
            if self.progress is not None:
                self.progress.done(len(result.findings))
            return result
        finally:
            link = getattr(self, "link", None)
            if link is not None and hasattr(link, "close"):
                link.close()
            if self._trace_file is not None:
                self._trace_file.close()
            if self._paper_file is not None:
                self._paper_file.close()

    def _start_progress(self, planned: int) -> None:
        if self.options.progress is None:
            return
        self.progress = LiveProgress(self.options.progress, planned=planned,
                                     now=self.clock.wall, findings=self._findings_now)
        self.live_scheduler.ticker = self.progress.tick

    def _request(self, request: Callable[[Any], None], event: Any) -> None:
        if self.progress is not None and hasattr(event, "sale_id"):
            self.progress.sale_started()
        request(event)

    def _findings_now(self) -> int:
        """How many findings the evidence as it stands gives (for the progress line)."""
        _, receipts = self._paper()
        evidence = Evidence(receipts=receipts, journal=self.journal.rows(),
                            host=self._host_rows(), backoffice=self.backoffice.rows(),
                            trace=self.trace.records)
        return len(Reconciler(evidence).findings())

    def _keep_stans(self) -> None:
        if self.stan_store is not None:
            for terminal_id, node in self.nodes.items():
                self.stan_store.save(terminal_id, node.core.last_stan)

    def _run_stans(self) -> dict[str, frozenset[str]]:
        """Each terminal's STANs of this run folder: from its first boot's counter on."""
        return {terminal_id: run_stans(self.stan_base.get(terminal_id, 0),
                                       node.core.last_stan)
                for terminal_id, node in self.nodes.items()}

    def end_of_day(self) -> None:
        for node in self.nodes.values():
            if self.profile.settle_at_end_of_day and self.options.sales:
                from terminal_sim.sim.settle import Settlement

                node.settlement = Settlement(node)
                node.settlement.start()
        self.live_scheduler.run(until_quiet=True, idle_grace_ms=200)
        for node in self.nodes.values():
            if node.sync is not None and node.powered:
                node.sync.sync_once()

    def _host_rows(self) -> list[dict[str, Any]]:
        ledger = self.options.host_ledger
        if ledger is None:
            return []
        # the acquirer's ledger may hold other runs (other terminals, earlier STANs)
        rows = host_rows_of_run(ledger, self._run_stans())
        for row in rows:
            row.pop("reply", None)
        return rows

    def _close_stores(self) -> None:
        self.journal.close()
        self.backoffice.close()

    def _paper(self) -> tuple[dict[str, bytes], list[PaperReceipt]]:
        """The whole roll as it is on disk: every boot's jobs, read back from receipts.bin."""
        from printer.interpreter import parse

        (terminal_id,) = list(self.nodes)
        if self._paper_file is not None:
            self._paper_file.flush()
        raw = (self.out_dir / "receipts.bin").read_bytes() if self.out_dir else b""
        receipts = [PaperReceipt.from_receipt(terminal_id, index, receipt)
                    for index, receipt in enumerate(parse(raw).receipts, start=1)]
        return {terminal_id: raw}, receipts

    def _write_artifacts(self, result: RunResult) -> None:
        """receipts.bin is already on disk, appended job by job: keep it."""
        out = self.out_dir
        if out is None:
            return
        host, port = self.options.acquirer
        stans = {terminal_id: {"first": f"{base % STAN_MAX + 1:06d}",
                               "last": f"{self.nodes[terminal_id].core.last_stan:06d}"}
                 for terminal_id, base in sorted(self.stan_base.items())}
        result.report["live"] = {"acquirer": f"{host}:{port}", "speed": self.options.speed,
                                 "boot": self.options.boot,
                                 "link_errors": len(self.link_errors), "stans": stans}
        # the host's rows of this run, in the run folder like a simulated run's ledger
        copy_host_rows(self.options.host_ledger, self._run_stans(), out / "host.sqlite")
        lines = []
        for receipt in result.evidence.receipts:
            flags = " TRUNCATED" if receipt.truncated else ""
            lines.append(f"===== {receipt.ref} bytes {receipt.start_offset}-"
                         f"{receipt.end_offset}{flags} =====\n{receipt.text}\n")
        (out / "receipts.txt").write_text("".join(lines), encoding="utf-8")
        (out / "report.json").write_text(
            json.dumps(result.report, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8")


def _renamed(event: Any, boot: int) -> Any:
    """The same customer action with a sale id unique to this boot."""
    from dataclasses import replace

    terminal, _, number = event.sale_id.rpartition("-")
    return replace(event, sale_id=f"{terminal}-B{boot:04d}-{number}")
