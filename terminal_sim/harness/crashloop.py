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
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from terminal_sim.base.seeds import SeedTree
from terminal_sim.errors import SimulationError
from terminal_sim.evidence.artifacts import read_rows
from terminal_sim.evidence.reconcile import Reconciler
from terminal_sim.evidence.sources import Evidence, PaperReceipt

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

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "cycles", "kills", "approved_at_host", "reversed_at_host", "receipts",
            "journal_records", "findings", "seconds")} | {
            "violations": self.violations[:20], "violation_count": len(self.violations)}


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
    host = read_rows(host_ledger, "SELECT * FROM transactions")
    for row in host:
        row.pop("reply", None)
    return Evidence(receipts=receipts,
                    journal=read_rows(run_dir / "journal.sqlite", "SELECT * FROM records"),
                    host=host,
                    backoffice=None,  # the back office syncs on its own schedule
                    trace=trace)


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


def _read_line(stream: IO[str], timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise TimeoutError(f"no answer within {timeout} s")
    return stream.readline()


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
    server = subprocess.Popen([*_python(), "acquirer", "serve", "--port", "0", "--ledger",
                               str(ledger), "--seed", str(seed)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        if server.stdout is None:  # Popen with PIPE always has one
            raise SimulationError("acquirer server has no stdout")
        line = _read_line(server.stdout, 30)
        port = int(line.strip().rsplit(":", 1)[1])
        for cycle in range(1, cycles + 2):
            last = cycle == cycles + 1
            terminal = subprocess.Popen(
                [*_python(), "live-terminal", str(scenario), "--out", str(run_dir),
                 "--acquirer", f"tcp://127.0.0.1:{port}", "--profile", profile,
                 "--speed", str(speed), "--boot", str(cycle), "--handshake",
                 *(["--no-sales"] if last else [])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
            if terminal.stdout is None or terminal.stdin is None:
                raise SimulationError("live terminal has no pipes")
            try:
                answer = _read_line(terminal.stdout, 60)
            except TimeoutError:
                terminal.kill()
                raise
            if answer.strip() != "recovered":
                terminal.kill()
                _, err = terminal.communicate(timeout=10)
                raise SimulationError(f"cycle {cycle}: terminal did not boot: {err[-2000:]}")
            bad, counts = violations_of(gather(run_dir, ledger))
            for item in bad:
                tally.violations.append({"cycle": cycle, **item})
            tally.findings = counts
            terminal.stdin.write("go\n")
            terminal.stdin.flush()
            if last:
                terminal.stdin.close()
                terminal.wait(timeout=120)
                break
            low, high = kill_after
            time.sleep(low + stream.random() * (high - low))
            os.kill(terminal.pid, signal.SIGKILL)
            terminal.wait(timeout=30)
            for pipe in (terminal.stdin, terminal.stdout, terminal.stderr):
                if pipe is not None:
                    pipe.close()
            tally.kills += 1
            tally.cycles = cycle
            if on_cycle is not None:
                on_cycle(cycle, tally)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    final = gather(run_dir, ledger)
    tally.approved_at_host = sum(1 for r in final.host if r["status"] == "approved")
    tally.reversed_at_host = sum(1 for r in final.host if r["status"] == "reversed")
    tally.receipts = len(final.receipts)
    tally.journal_records = len(final.journal)
    tally.seconds = round(time.monotonic() - started, 1)
    return tally
