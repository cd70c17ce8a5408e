"""Read a run directory back: the four evidence sources, from the artifacts alone.

Paper is re-read from ``receipts.bin`` with the ESC/POS interpreter (each printer's
slice, located by ``report.json``'s ``printers``), never from what the terminal meant
to print; the stores are opened read-only.
"""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Any

from terminal_sim.evidence.sources import Evidence, PaperReceipt
from terminal_sim.stores.run_files import read_report
from terminal_sim.stores.sqlite import open_read_only


def read_rows(path: Path, sql: str) -> list[dict[str, Any]]:
    """Rows of ``sql`` from the SQLite file at ``path``, opened read-only ([] if absent)."""
    if not path.exists():
        return []
    # a live run's host ledger is read while the acquirer writes it: wait for its lock
    with closing(open_read_only(path, timeout=10, rows_as_mappings=True)) as db:
        return [dict(r) for r in db.execute(sql).fetchall()]


def load_report(run_dir: Path) -> dict[str, Any]:
    """``report.json`` of a run; a directory without one, or with a damaged one, is not a
    run (:class:`~terminal_sim.errors.StoreUnreadable` naming the file)."""
    return read_report(run_dir / "report.json")


def load_evidence(run_dir: Path, *, journal: Path | None = None) -> Evidence:
    """The evidence of a finished run, read from its artifacts (``journal``: another
    journal file to read instead of the run's own, e.g. a recovered copy).

    Reads what is there; :func:`~terminal_sim.stores.run_files.check_run_dir` first
    when the directory may be damaged or incomplete.
    """
    from printer.interpreter import parse

    report = load_report(run_dir)
    evidence = Evidence()
    raw = (run_dir / "receipts.bin").read_bytes() if (run_dir / "receipts.bin").exists() else b""
    for terminal_id, where in sorted(report.get("printers", {}).items()):
        stream = raw[where["offset"]: where["offset"] + where["bytes"]]
        roll = parse(stream)
        for index, receipt in enumerate(roll.receipts, start=1):
            evidence.receipts.append(PaperReceipt.from_receipt(terminal_id, index, receipt))
    evidence.journal = read_rows(journal or run_dir / "journal.sqlite",
                             "SELECT * FROM records ORDER BY terminal_id, stan")
    host = read_rows(run_dir / "host.sqlite",
                 "SELECT * FROM transactions ORDER BY received_vt, terminal_id, stan")
    for row in host:
        row.pop("reply", None)
    evidence.host = host
    evidence.backoffice = read_rows(run_dir / "backoffice.sqlite",
                                "SELECT * FROM records ORDER BY terminal_id, stan")
    trace_path = run_dir / "trace.jsonl"
    if trace_path.exists():
        with trace_path.open(encoding="utf-8") as lines:
            evidence.trace = [json.loads(line) for line in lines if line.strip()]
    return evidence
