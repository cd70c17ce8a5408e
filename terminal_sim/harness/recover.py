"""``pos-sim recover RUN_DIR``: the lost-records procedure, as a tool.

The field procedure for missing transaction records: confirm, recover from the
acquirer's records and the device logs, verify and correct. For each approved host
transaction the terminal's books lack (LOST_RECORD) or hold as failed
(ORPHAN_AUTHORIZATION), the tool gathers every source that speaks of it:

* ``host``: the acquirer ledger row (amount, RRN, approval code, masked card, token);
* ``paper``: receipts on the roll that show its STAN (read from ``receipts.bin``);
* ``trace``: the device log: the request sent with that STAN, and its sale id.

It writes a record into the journal only with the host's approval behind it (the
host is the system of record for money), fills each field only from a source that
has it, and records the sources in the journal's ``recovered`` table. Nothing is
invented: a receipt without a host approval (an error slip, a blank slip) stays
unexplained, and so does anything no source supports. It then reconciles again.

The run's evidence is never modified: the journal is copied and the copy is corrected.
The recovered journal and ``recovery.json`` go into ``RUN_DIR/recovered/`` (or the
directory given), written beside and swapped in whole
(:func:`~terminal_sim.harness.out_dir.output_dir`), so ``pos-sim replay RUN_DIR`` still
matches after a recovery. A damaged or incomplete run directory (a source missing, a
store that does not open, a bad trace line) is refused before anything is written
(:func:`~terminal_sim.stores.run_files.check_run_dir`).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal_sim.errors import ConfigurationError
from terminal_sim.evidence.artifacts import load_evidence
from terminal_sim.evidence.reconcile import Reconciler
from terminal_sim.evidence.sources import Evidence
from terminal_sim.harness.out_dir import OutputKind, output_dir
from terminal_sim.harness.run import RECOVERED_DIR
from terminal_sim.stores.run_files import check_run_dir
from terminal_sim.stores.sqlite import open_read_write

__all__ = ["RECOVERABLE", "RECOVERY_OUTPUT", "Recovery", "recover", "recovery_dir"]

RECOVERABLE = ("LOST_RECORD", "ORPHAN_AUTHORIZATION")

#: What a recovery writes: the corrected copy of the journal and what was done.
RECOVERY_OUTPUT = OutputKind("recovery", frozenset(("journal.sqlite", "recovery.json")),
                             "recovery.json")

_RECOVERED_SCHEMA = """
CREATE TABLE IF NOT EXISTS recovered (
    terminal_id TEXT NOT NULL,
    stan        TEXT NOT NULL,
    action      TEXT NOT NULL,
    sources     TEXT NOT NULL,
    note        TEXT NOT NULL,
    PRIMARY KEY (terminal_id, stan)
);
"""


@dataclass
class Recovery:
    """What the procedure did."""

    out_dir: Path = Path()
    recovered: list[dict[str, Any]] = field(default_factory=list)
    remaining: list[dict[str, Any]] = field(default_factory=list)
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"recovered": self.recovered, "remaining": self.remaining,
                "findings_before": self.before, "findings_after": self.after}


def _sources(evidence: Evidence, terminal_id: str, stan: str) -> dict[str, Any]:
    paper = [r for r in evidence.receipts
             if r.terminal_id == terminal_id and r.facts.stan == stan]
    trace = [t for t in evidence.trace if t.get("terminal") == terminal_id
             and isinstance(t.get("data"), dict) and t["data"].get("stan") == stan]
    sale_ids = sorted({t["data"]["sale_id"] for t in trace if t["data"].get("sale_id")})
    return {"paper": paper, "trace": trace, "sale_id": sale_ids[0] if sale_ids else ""}


def _record(host: dict[str, Any], found: dict[str, Any], existing: dict[str, Any] | None
            ) -> dict[str, Any]:
    """The journal row the sources support; every field from a source that has it."""
    paper = found["paper"]
    created = existing["created_vt"] if existing else host["received_vt"]
    return {
        "terminal_id": host["terminal_id"],
        "stan": host["stan"],
        "sale_id": (existing or {}).get("sale_id") or found["sale_id"] or "",
        "type": host["type"],
        "state": "approved",
        "amount_minor": host["amount_minor"],
        "currency": host["currency"],
        "masked_pan": host["masked_pan"],
        "card_token": host["card_token"],
        "created_vt": created,
        "updated_vt": host["updated_vt"],
        "response_code": host["response_code"],
        "rrn": host["rrn"],
        "approval_code": host["approval_code"],
        "original_stan": host.get("original_stan", ""),
        "receipt": "printed" if any(not r.truncated for r in paper) else "",
    }


def recovery_dir(run_dir: Path, out_dir: Path | None = None) -> Path:
    """Where :func:`recover` writes: ``out_dir``, by default ``RUN_DIR/recovered``."""
    return out_dir if out_dir is not None else run_dir / RECOVERED_DIR


def _correct(journal_path: Path, evidence: Evidence, targets: list[tuple[str, str]],
             result: Recovery) -> None:
    """Insert or correct the records of ``targets`` in the journal copy."""
    host = {(r["terminal_id"], r["stan"]): r for r in evidence.host
            if r["type"] == "sale" and r["status"] == "approved"}
    journal = {(r["terminal_id"], r["stan"]): r for r in evidence.journal}
    db = open_read_write(journal_path, synchronous="FULL")
    try:
        db.executescript(_RECOVERED_SCHEMA)
        columns = [c[1] for c in db.execute("PRAGMA table_info(records)")]
        for key in targets:
            approved = host.get(key)
            if approved is None:  # only the host's approval can stand behind a record
                continue
            found = _sources(evidence, *key)
            existing = journal.get(key)
            row = _record(approved, found, existing)
            row = {k: v for k, v in row.items() if k in columns}
            sources = ["host"] + (["paper"] if found["paper"] else []) + (
                ["trace"] if found["trace"] else [])
            action = "corrected" if existing else "inserted"
            note = (f"journal said '{existing['state']}', the host approved" if existing
                    else "no journal record; rebuilt from the sources")
            db.execute("BEGIN IMMEDIATE")
            db.execute(f"INSERT OR REPLACE INTO records ({', '.join(row)}) "
                       f"VALUES ({', '.join('?' for _ in row)})", tuple(row.values()))
            db.execute("INSERT OR REPLACE INTO recovered VALUES (?, ?, ?, ?, ?)",
                       (key[0], key[1], action, ",".join(sources), note))
            db.execute("COMMIT")
            result.recovered.append({
                "terminal_id": key[0], "stan": key[1], "action": action, "sources": sources,
                "note": note, "amount_minor": row["amount_minor"], "currency": row["currency"],
                "rrn": row["rrn"], "receipts": [r.ref for r in found["paper"]],
                "trace_ids": [t["id"] for t in found["trace"]]})
    finally:
        db.close()


def recover(run_dir: Path, out_dir: Path | None = None) -> Recovery:
    """Run the procedure on ``run_dir``; writes the recovered journal and recovery.json
    into :func:`recovery_dir` and changes nothing else (the run's evidence stays as it is).

    Raises :class:`~terminal_sim.errors.StoreUnreadable` (naming the file) for a damaged
    or incomplete run directory, :class:`~terminal_sim.errors.ConfigurationError` for an
    unusable or foreign output directory; nothing is written then.
    """
    check_run_dir(run_dir)  # every source is there and readable, or nothing happens
    target = recovery_dir(run_dir, out_dir)
    if target.resolve() == run_dir.resolve():
        raise ConfigurationError(f"--out {target}: is the run directory itself; recovery "
                                 "never overwrites the run's evidence")
    evidence = load_evidence(run_dir)
    findings = Reconciler(evidence).findings()
    result = Recovery(out_dir=target, before=dict(Counter(f.code for f in findings)))
    targets = sorted({(f.terminal_id, f.stan) for f in findings if f.code in RECOVERABLE})
    with output_dir(target, RECOVERY_OUTPUT) as staging:
        shutil.copyfile(run_dir / "journal.sqlite", staging / "journal.sqlite")
        _correct(staging / "journal.sqlite", evidence, targets, result)
        _reconcile_again(run_dir, staging, result)
    return result


def _reconcile_again(run_dir: Path, staging: Path, result: Recovery) -> None:
    after = Reconciler(load_evidence(run_dir, journal=staging / "journal.sqlite")).findings()
    result.after = dict(Counter(f.code for f in after))
    for finding in after:
        reason = {
            "STRAY_RECEIPT": "paper with no approval at the host: nothing to recover it from",
            "BLANK_RECEIPT": "a slip with nothing on it: no transaction to recover",
            "TRUNCATED_RECEIPT": "paper cut off mid-print: irreversible, reprint if needed",
            "MISSING_RECEIPT": "the record stands; the customer copy can be reprinted",
            "UNSYNCED_RECORD": "the journal has it: sync it to the back office",
            "DUPLICATE_CHARGE": "refund or reverse one of the charges",
            "TOTALS_MISMATCH": "see the other findings",
        }.get(finding.code, "no source supports a recovery")
        result.remaining.append({"code": finding.code, "terminal_id": finding.terminal_id,
                                 "stan": finding.stan, "summary": finding.summary,
                                 "why_not_recovered": reason})
    (staging / "recovery.json").write_text(
        json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
