"""The real-process crash loop: a live terminal is SIGKILLed at random moments.

One acquirer server runs as a subprocess for the whole loop. Each cycle starts a live
terminal process (``pos-sim live-terminal``) on the same run directory: it boots,
recovers what the previous process left (its profile's power-on path), drains its
reversal queue over TCP, prints ``recovered`` and waits. The loop then reconciles
the evidence on disk (receipt roll, journal, back office, the host's ledger) and
checks the promises of the robust profile:

* no approved sale lost (``LOST_RECORD``), none left charged while the terminal says
  it failed (``ORPHAN_AUTHORIZATION``), no double charge (``DUPLICATE_CHARGE``);
* no receipt of an approved sale without a record (``STRAY_RECEIPT`` of an APPROVED
  slip).

Then it lets the terminal sell and kills it with SIGKILL after a random delay. The
delays come from a seeded stream so a loop's schedule can be repeated; the moments
they hit in the terminal's work cannot (this is real time), which is the point.

A cycle costs what the terminal's boot and the checks cost, so both are cut without
skipping any of it:

* the terminal processes are forked from one loaded process (``pos-sim live-terminal
  --fork-server``, :func:`fork_server`): it imports everything once (python-escpos
  included, ~0.35 CPU-seconds a process would pay at every start), then, per ``boot N``
  line, forks a child that opens the run directory, recovers and sells. The child is a
  process of its own (its own journal connection, socket and files), SIGKILLed like
  any other; only the interpreter's start and the imports are shared;
* the receipt roll is read by one interpreter that is fed only the bytes appended since
  the last look (:class:`EvidenceReader`): the same stream, so the same receipts as
  reading the whole file again, which the loop checks once at its end;
* the checks of a cycle run on a snapshot taken while the recovered terminal waits (the
  ledger and the journal copied with SQLite's backup, the roll's length noted), in a
  thread, while the terminal sells and until the next boot has recovered: one check in
  flight at a time, every one of them waited for.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from terminal_sim.base.seeds import SeedTree
from terminal_sim.errors import SimulationError
from terminal_sim.evidence.artifacts import read_rows
from terminal_sim.evidence.reconcile import Reconciler
from terminal_sim.evidence.sources import Evidence, PaperReceipt
from terminal_sim.stores.sqlite import open_read_only

SCENARIO = """\
name: crash-loop
description: a busy counter, sold on until the process is killed
seed: {seed}
profile: {profile}
start: "2026-03-02T09:00:00"
terminals:
  - {{id: T0000042, merchant_id: "M00000000000042", merchant_name: CRASH LOOP SHOP}}
workload:
  generate:
    count: 400
    interval_s: [2, 12]
    amount: [100, 9000]
    cards: {{visa-approve: 6, mastercard-approve: 3, visa-decline: 1}}
"""

FORBIDDEN = ("LOST_RECORD", "ORPHAN_AUTHORIZATION", "DUPLICATE_CHARGE")


@dataclass
class Tally:
    cycles: int = 0
    kills: int = 0
    approved_at_host: int = 0
    reversed_at_host: int = 0
    receipts: int = 0
    journal_records: int = 0
    violations: list[dict[str, Any]] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: of ``seconds``, the random waits before the kills (the part no speed-up removes)
    kill_wait_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "cycles", "kills", "approved_at_host", "reversed_at_host", "receipts",
            "journal_records", "findings", "seconds", "kill_wait_s")} | {
            "violations": self.violations[:20], "violation_count": len(self.violations)}


class EvidenceReader:
    """The evidence on disk after each boot; the roll is read incrementally.

    ``printer.interpreter.parse`` of the whole of ``receipts.bin`` would cost more every
    cycle (the roll only grows). This keeps one interpreter and feeds it what was appended
    since the last read: an interpreter fed a stream in pieces reads what it reads from the
    whole, and the receipt in progress (cut off by a kill) is shown truncated, as
    ``parse`` closes it. Closed receipts are converted once.
    """

    def __init__(self, run_dir: Path, host_ledger: Path) -> None:
        from printer.interpreter import EscPosInterpreter

        self.run_dir = run_dir
        self.host_ledger = host_ledger
        self._interpreter = EscPosInterpreter()
        self._read = 0
        self._closed: list[PaperReceipt] = []

    def receipts(self, upto: int | None = None) -> list[PaperReceipt]:
        """The roll, up to byte ``upto`` of the file (None: all of it now)."""
        path = self.run_dir / "receipts.bin"
        if path.exists():
            with open(path, "rb") as paper:
                paper.seek(self._read)
                added = paper.read(-1 if upto is None else max(0, upto - self._read))
            self._read += len(added)
            self._interpreter.feed(added)
        done, _ = self._interpreter.take()
        for receipt in done:
            self._closed.append(PaperReceipt.from_receipt(
                "T0000042", len(self._closed) + 1, receipt))
        current = [PaperReceipt.from_receipt("T0000042", len(self._closed) + 1 + i, r)
                   for i, r in enumerate(self._interpreter.roll.receipts)]
        return self._closed + current

    def snapshot(self) -> Snapshot:
        """The evidence as it is now, copied (cheaply) to be read later."""
        paper = self.run_dir / "receipts.bin"
        return Snapshot(self, paper.stat().st_size if paper.exists() else 0,
                        _copy(self.run_dir / "journal.sqlite"), _copy(self.host_ledger))


def _copy(path: Path) -> sqlite3.Connection:
    """An in-memory copy of the SQLite file at ``path`` (an empty one if it is absent)."""
    copy = sqlite3.connect(":memory:", check_same_thread=False)
    if path.exists():
        with contextlib.closing(open_read_only(path, timeout=10)) as source:
            source.backup(copy)
    return copy


@dataclass
class Snapshot:
    """What :meth:`EvidenceReader.snapshot` took; :meth:`check` reads it (once)."""

    reader: EvidenceReader
    paper_bytes: int
    journal: sqlite3.Connection
    host: sqlite3.Connection

    def _rows(self, db: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
        try:
            cursor = db.execute(f"SELECT * FROM {table}")
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor]
        except sqlite3.OperationalError:  # not created yet
            return []
        finally:
            db.close()

    def check(self) -> tuple[list[dict[str, Any]], dict[str, int]]:
        host = self._rows(self.host, "transactions")
        for row in host:
            row.pop("reply", None)
        return violations_of(Evidence(receipts=self.reader.receipts(self.paper_bytes),
                                      journal=self._rows(self.journal, "records"),
                                      host=host, backoffice=None, trace=[]))


def _evidence(receipts: list[PaperReceipt], run_dir: Path, host_ledger: Path,
              trace: list[dict[str, Any]]) -> Evidence:
    host = read_rows(host_ledger, "SELECT * FROM transactions")
    for row in host:
        row.pop("reply", None)
    return Evidence(receipts=receipts,
                    journal=read_rows(run_dir / "journal.sqlite", "SELECT * FROM records"),
                    host=host,
                    backoffice=None,  # the back office syncs on its own schedule
                    trace=trace)


def gather(run_dir: Path, host_ledger: Path, *, with_trace: bool = False) -> Evidence:
    """The evidence on disk now. The trace (the device log) is read only when asked:
    the checks join paper, journal and host, and the log grows with every cycle."""
    from printer.interpreter import parse

    raw = (run_dir / "receipts.bin").read_bytes() if (run_dir / "receipts.bin").exists() else b""
    receipts = [PaperReceipt.from_receipt("T0000042", i, r)
                for i, r in enumerate(parse(raw).receipts, start=1)]
    trace = []
    path = run_dir / "trace.jsonl"
    if with_trace and path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                trace.append(json.loads(line))
            except ValueError:
                continue  # a line torn by a kill
    return _evidence(receipts, run_dir, host_ledger, trace)


def violations_of(evidence: Evidence) -> tuple[list[dict[str, Any]], dict[str, int]]:
    findings = Reconciler(evidence).findings()
    counts: dict[str, int] = {}
    bad = []
    for finding in findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
        approved_stray = (finding.code == "STRAY_RECEIPT" and
                          (finding.evidence.get("receipt") or {}).get("outcome") == "APPROVED")
        if finding.code in FORBIDDEN or approved_stray:
            bad.append({"code": finding.code, "stan": finding.stan, "summary": finding.summary})
    return bad, counts


def _python() -> list[str]:
    return [sys.executable, "-m", "terminal_sim"]


class LineReader:
    """Lines from a child's pipe, each waited for at most ``timeout`` seconds.

    It reads the descriptor itself (``os.read``) and keeps what follows the line in its
    own buffer. ``select`` on a buffered file object followed by its ``readline`` lost
    lines: when two lines came in one chunk (``pid P`` and ``recovered`` of a terminal
    that recovered at once), ``readline`` took both into the file's buffer, returned
    the first, and the next ``select`` waited for bytes that had already come (CI saw
    a terminal "silent" for 60 s while it waited for its ``go``).
    """

    def __init__(self, stream: IO[str]) -> None:
        self._fd = stream.fileno()
        self._buffer = b""

    def readline(self, timeout: float) -> str:
        """The next line (with its newline; what is left at end of input, without)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._fd], [], [], max(0.0, remaining))
            if not ready:
                raise TimeoutError(f"no answer within {timeout} s")
            chunk = os.read(self._fd, 65536)
            if not chunk:  # end of input: the rest, as a file's readline gives it
                rest, self._buffer = self._buffer, b""
                return rest.decode("utf-8", errors="replace")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", errors="replace") + "\n"


def fork_server(boot: Callable[[int, bool], object], stdin: IO[str], stdout: IO[str]) -> None:
    """The loop's terminal processes, forked from this one, one at a time.

    Loads what a boot and a sale load (python-escpos, the printer's code pages), says
    ``ready``, then for each ``boot N`` (or ``boot N last``: no sales) line forks a
    child that says ``pid P``, runs ``boot(N, last)`` on this process's stdin and
    stdout, and exits; this process waits for it and says ``exited P STATUS``. Other
    lines (a ``go`` that a killed child never read) are skipped; end of input ends it.
    """
    import faulthandler
    import threading
    import traceback

    from printer.virtual import VirtualPrinter
    from terminal_sim.acquirer.client import TcpAcquirerLink  # noqa: F401
    from terminal_sim.sim.settle import Settlement  # noqa: F401

    VirtualPrinter()  # python-escpos imported, the printer class and its code pages built
    if threading.active_count() != 1:
        raise SimulationError("the fork server must not run threads: a child would "
                              "inherit their locks")
    stdout.write("ready\n")
    stdout.flush()
    for line in stdin:
        words = line.split()
        if len(words) < 2 or words[0] != "boot" or not words[1].isdigit():
            continue
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the terminal
            code = 1
            # a terminal that never says what the loop waits for is sent SIGABRT: its
            # threads' stacks then go to stderr (the loop's terminals.log)
            faulthandler.enable(file=sys.stderr, all_threads=True)
            try:
                stdout.write(f"pid {os.getpid()}\n")
                stdout.flush()
                boot(int(words[1]), words[2:] == ["last"])
                code = 0
            except Exception:  # noqa: BLE001  (reported, then the child exits 1)
                traceback.print_exc()
            finally:
                stdout.flush()
                sys.stderr.flush()
                os._exit(code)  # never back into this loop
        _, status = os.waitpid(pid, 0)
        stdout.write(f"exited {pid} {os.waitstatus_to_exitcode(status)}\n")
        stdout.flush()


class _Terminals:
    """The loop's side of :func:`fork_server`."""

    def __init__(self, scenario: Path, run_dir: Path, port: int, profile: str, speed: float,
                 log: IO[str]) -> None:
        self.server = subprocess.Popen(
            [*_python(), "live-terminal", str(scenario), "--out", str(run_dir),
             "--acquirer", f"tcp://127.0.0.1:{port}", "--profile", profile,
             "--speed", str(speed), "--handshake", "--fork-server"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        self.log = log
        if self.server.stdout is None:
            raise SimulationError("the terminals' fork server has no pipes")
        self._lines = LineReader(self.server.stdout)  # the only reader of that pipe
        self.pid = 0
        self.running = False  # a child booted and not yet reported exited
        self.expect("ready", 0)

    def expect(self, word: str, cycle: int, timeout: float = 60) -> list[str]:
        try:
            answer = self._lines.readline(timeout).split()
        except TimeoutError as exc:
            raise SimulationError(f"cycle {cycle}: no {word!r} from the terminal within "
                                  f"{timeout:g} s; where it was:\n{self.stacks()}") from exc
        if answer[:1] != [word]:
            self.log.flush()
            raise SimulationError(f"cycle {cycle}: terminal said {answer!r}, not {word!r} "
                                  f"(its errors: {getattr(self.log, 'name', 'stderr')})")
        return answer[1:]

    def stacks(self) -> str:
        """The stuck terminal's stacks (SIGABRT: faulthandler writes them to the log)."""
        if not (self.running and self.pid):
            return "(no terminal running)"
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGABRT)
        time.sleep(1.0)
        self.log.flush()
        name = getattr(self.log, "name", None)
        if not isinstance(name, str) or not os.path.exists(name):
            return "(see the terminals' stderr)"
        with open(name, encoding="utf-8", errors="replace") as written:
            return written.read()[-6000:]

    def say(self, line: str) -> None:
        if self.server.stdin is None:
            raise SimulationError("the terminals' fork server has no pipes")
        self.server.stdin.write(line + "\n")
        self.server.stdin.flush()

    def boot(self, cycle: int, *, last: bool) -> None:
        self.say(f"boot {cycle}" + (" last" if last else ""))
        self.pid = int(self.expect("pid", cycle)[0])
        self.running = True
        self.expect("recovered", cycle)

    def kill(self, cycle: int) -> None:
        os.kill(self.pid, signal.SIGKILL)
        pid, status = self.expect("exited", cycle)
        self.running = False
        if int(pid) != self.pid or int(status) != -signal.SIGKILL:
            raise SimulationError(f"cycle {cycle}: terminal {self.pid} exited {status}, "
                                  "not killed")

    def finish(self, cycle: int) -> None:
        # the last boot closes the day and writes the run's report (report.html draws
        # every receipt of every boot): a hang guard, not a time limit
        _, status = self.expect("exited", cycle, timeout=900)
        self.running = False
        if status != "0":
            raise SimulationError(f"cycle {cycle}: the last terminal exited {status}")

    def close(self) -> None:
        if self.running:  # the loop stopped early (an error, Ctrl-C): stop the terminal too
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        if self.server.stdin is not None:
            self.server.stdin.close()
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
        if self.server.stdout is not None:
            self.server.stdout.close()


def crash_loop(cycles: int, workdir: Path, *, seed: int = 1, profile: str = "robust",
               speed: float = 300.0, kill_after: tuple[float, float] = (0.02, 0.6),
               on_cycle: Callable[[int, Tally], None] | None = None) -> Tally:
    """Run ``cycles`` kill/restart cycles in ``workdir``; returns the tally."""
    started = time.monotonic()  # live: wall time only for the report
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = workdir / "crash-loop.yaml"
    scenario.write_text(SCENARIO.format(seed=seed, profile=profile), encoding="utf-8")
    ledger = workdir / "host.sqlite"
    run_dir = workdir / "run"
    stream = SeedTree(seed).stream("crash-loop/kill-delays")
    tally = Tally()
    reader = EvidenceReader(run_dir, ledger)
    server = subprocess.Popen([*_python(), "acquirer", "serve", "--port", "0", "--ledger",
                               str(ledger), "--seed", str(seed)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    terminals: _Terminals | None = None
    checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crash-loop-check")
    checking: tuple[int, Future[tuple[list[dict[str, Any]], dict[str, int]]]] | None = None

    def checked() -> None:  # the previous cycle's checks, into the tally
        nonlocal checking
        if checking is not None:
            number, future = checking
            checking = None
            bad, counts = future.result()
            tally.violations.extend({"cycle": number, **item} for item in bad)
            tally.findings = counts

    try:
        if server.stdout is None:  # Popen with PIPE always has one
            raise SimulationError("acquirer server has no stdout")
        port = int(LineReader(server.stdout).readline(30).strip().rsplit(":", 1)[1])
        with open(workdir / "terminals.log", "w", encoding="utf-8") as log:
            terminals = _Terminals(scenario, run_dir, port, profile, speed, log)
            for cycle in range(1, cycles + 2):
                last = cycle == cycles + 1
                terminals.boot(cycle, last=last)
                snapshot = reader.snapshot()  # the recovered terminal waits: nothing moves
                checked()
                terminals.say("go")
                checking = (cycle, checks.submit(snapshot.check))
                if last:
                    terminals.finish(cycle)
                    checked()
                    break
                low, high = kill_after
                wait = low + stream.random() * (high - low)
                time.sleep(wait)
                tally.kill_wait_s += wait
                terminals.kill(cycle)
                tally.kills += 1
                tally.cycles = cycle
                if on_cycle is not None:
                    on_cycle(cycle, tally)
    finally:
        checks.shutdown(wait=True)
        if terminals is not None:
            terminals.close()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    final = gather(run_dir, ledger)
    if final.receipts != reader.receipts():
        raise SimulationError("the roll read piece by piece differs from the roll read "
                              "whole: the cycles' checks read the wrong paper")
    tally.approved_at_host = sum(1 for r in final.host if r["status"] == "approved")
    tally.reversed_at_host = sum(1 for r in final.host if r["status"] == "reversed")
    tally.receipts = len(final.receipts)
    tally.journal_records = len(final.journal)
    tally.seconds = round(time.monotonic() - started, 1)
    tally.kill_wait_s = round(tally.kill_wait_s, 1)
    return tally
