"""Reading a run directory's raw artifacts, with the auditor's own SQL.

Nothing here goes through the stores or the reconciler: the three SQLite files are opened
read-only *and* immutable (``file:...?mode=ro&immutable=1``: SQLite creates no ``-wal`` or
``-shm`` beside them and changes no byte), ``trace.jsonl`` is read line by line, and
``receipts.bin`` as bytes (:mod:`terminal_sim.audit.paper` reads the paper from them).
``report.json`` is read only for the agreement check.

Any missing file, non-SQLite or damaged SQLite file (SQLite's ``quick_check``), missing
table, line of the trace that is not a JSON object, trace whose ``id`` values do not run
1, 2, 3, ... (a line deleted) or with fewer records than report.json counts,
``report.json`` that is no run report, ``receipts.bin`` shorter than the printers'
slices report.json names, or ``receipts.txt`` (when there) not ending with a newline
or holding another number of receipts than report.json counts raises
:class:`~terminal_sim.errors.StoreUnreadable` with one line naming the file.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal_sim.errors import StoreUnreadable

__all__ = ["BookRow", "HostRow", "RunArtifacts", "SafRow", "read_json", "read_run_dir"]

REQUIRED = ("journal.sqlite", "host.sqlite", "backoffice.sqlite", "trace.jsonl",
            "receipts.bin", "report.json")


@dataclass(frozen=True, slots=True)
class HostRow:
    """One row of the host ledger's ``transactions`` table."""

    terminal_id: str
    stan: str
    mti_class: str
    type: str
    status: str
    response_code: str
    amount_minor: int
    currency: str
    original_stan: str
    batch: int


@dataclass(frozen=True, slots=True)
class BookRow:
    """One record of the merchant's books: the terminal journal or the back office."""

    terminal_id: str
    stan: str
    type: str
    state: str
    amount_minor: int
    currency: str
    original_stan: str = ""
    sale_id: str = ""
    synced_vt: int = 0
    updated_vt: int = 0


@dataclass(frozen=True, slots=True)
class SafRow:
    """One row of the journal's store-and-forward queue."""

    terminal_id: str
    stan: str
    reason: str
    state: str
    attempts: int


@dataclass(frozen=True)
class RunArtifacts:
    """Everything the auditor reads from a run directory, as it is on disk."""

    root: Path
    host: list[HostRow]
    host_messages: list[dict[str, Any]]
    journal: list[BookRow]
    saf: list[SafRow]
    backoffice: list[BookRow]
    trace: list[dict[str, Any]]
    receipts_bin: bytes
    report: dict[str, Any] = field(default_factory=dict)


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreUnreadable(f"{path}: missing (not a finished run directory?)")
    if path.with_name(path.name + "-wal").exists():
        raise StoreUnreadable(f"{path}: has a -wal file beside it: the run was not closed")
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise StoreUnreadable(f"{path}: cannot be opened read-only ({exc})") from exc
    try:
        problems = [str(row[0]) for row in db.execute("PRAGMA quick_check")]
    except sqlite3.Error as exc:
        db.close()
        raise StoreUnreadable(f"{path}: not a readable store ({exc})") from exc
    if problems != ["ok"]:
        db.close()
        raise StoreUnreadable(f"{path}: damaged SQLite store ({problems[0]})")
    return db


def _query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    db = _connect(path)
    try:
        return list(db.execute(sql))
    except sqlite3.Error as exc:
        raise StoreUnreadable(f"{path}: not a readable store ({exc})") from exc
    finally:
        db.close()


def _host(path: Path) -> tuple[list[HostRow], list[dict[str, Any]]]:
    rows = [HostRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]),
                    int(r[6]), str(r[7]), str(r[8]), int(r[9]))
            for r in _query(path, "SELECT terminal_id, stan, mti_class, type, status, "
                                  "response_code, amount_minor, currency, original_stan, batch "
                                  "FROM transactions ORDER BY terminal_id, stan, mti_class")]
    messages = [{"seq": r[0], "mti": str(r[1]), "terminal_id": str(r[2]), "stan": str(r[3]),
                 "response_code": str(r[4]), "detail": str(r[5])}
                for r in _query(path, "SELECT seq, mti, terminal_id, stan, response_code, detail "
                                      "FROM messages WHERE mti IN ('0500', '0510') "
                                      "ORDER BY seq")]
    return rows, messages


def _journal(path: Path) -> tuple[list[BookRow], list[SafRow]]:
    records = [BookRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), str(r[5]),
                       str(r[6]), str(r[7]), int(r[8]), int(r[9]))
               for r in _query(path, "SELECT terminal_id, stan, type, state, amount_minor, "
                                     "currency, original_stan, sale_id, synced_vt, updated_vt "
                                     "FROM records ORDER BY terminal_id, stan")]
    saf = [SafRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]))
           for r in _query(path, "SELECT terminal_id, stan, reason, state, attempts FROM saf "
                                 "ORDER BY terminal_id, stan")]
    return records, saf


def _backoffice(path: Path) -> list[BookRow]:
    return [BookRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), str(r[5]))
            for r in _query(path, "SELECT terminal_id, stan, type, state, amount_minor, "
                                  "currency FROM records ORDER BY terminal_id, stan")]


def _trace(path: Path, report: dict[str, Any]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    raise StoreUnreadable(f"{path}:{number}: not a JSON line ({exc})") from exc
                if not isinstance(record, dict):
                    raise StoreUnreadable(f"{path}:{number}: not a JSON object")
                want = len(records) + 1
                got = record.get("id")
                if type(got) is not int or got != want:
                    raise StoreUnreadable(f"{path}:{number}: id {got!r}, {want} expected: "
                                          "a line is missing or out of order")
                records.append(record)
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreUnreadable(f"{path}: cannot be read ({exc})") from exc
    counted = report["counts"].get("trace_events") if isinstance(report.get("counts"),
                                                                  dict) else None
    # a live run counts only its last boot's events (its earlier boots are in the file too)
    short = type(counted) is int and (len(records) < counted or (
        len(records) != counted and "live" not in report))
    if short:
        raise StoreUnreadable(f"{path}: {len(records)} records, report.json counts "
                              f"{counted} trace events: lines are missing")
    return records


def read_json(path: Path) -> Any:
    """A JSON file, or :class:`StoreUnreadable` naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StoreUnreadable(f"{path}: not readable JSON ({exc})") from exc


def _report(path: Path) -> dict[str, Any]:
    report = read_json(path)
    if not isinstance(report, dict) or not isinstance(report.get("findings"), list) \
            or not isinstance(report.get("printers"), dict):
        raise StoreUnreadable(f"{path}: not a run report (no findings or printers)")
    return report


def _paper(path: Path, report: dict[str, Any]) -> bytes:
    try:
        paper = path.read_bytes()
        needed = max((int(w["offset"]) + int(w["bytes"]) for w in report["printers"].values()),
                     default=0)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise StoreUnreadable(f"{path}: cannot be read ({exc})") from exc
    if len(paper) < needed:
        raise StoreUnreadable(f"{path}: truncated ({len(paper)} bytes, report.json's "
                              f"printers need {needed})")
    return paper


#: A receipt's opening line in ``receipts.txt`` (``===== T1#2 bytes 0-566 TRUNCATED =====``).
_HEADER = re.compile(rb"^===== [^ ]+#[0-9]+ bytes [0-9]+-[0-9]+( [A-Z]+)* =====$", re.M)


def _receipts_text(path: Path, report: dict[str, Any]) -> None:
    """``receipts.txt`` is not read for evidence, but a cut one is a damaged run."""
    if not path.exists():
        return
    try:
        data = path.read_bytes()
        data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreUnreadable(f"{path}: cannot be read ({exc})") from exc
    if data and not data.endswith(b"\n"):
        raise StoreUnreadable(f"{path}: cut (no newline at the end)")
    counted = (report.get("counts") or {}).get("receipts") \
        if isinstance(report.get("counts"), dict) else None
    headers = sum(1 for _ in _HEADER.finditer(data))
    if type(counted) is int and headers != counted:
        raise StoreUnreadable(f"{path}: holds {headers} receipts, report.json counts {counted}")


def read_run_dir(run_dir: str | Path) -> RunArtifacts:
    """The raw artifacts of ``run_dir``; changes nothing in it."""
    root = Path(run_dir)
    if not root.is_dir():
        raise StoreUnreadable(f"{root}: not a directory (give the --out of a pos-sim run)")
    for name in REQUIRED:
        if not (root / name).is_file():
            raise StoreUnreadable(f"{root}: not a run directory: no {name}")
    report = _report(root / "report.json")
    host, messages = _host(root / "host.sqlite")
    journal, saf = _journal(root / "journal.sqlite")
    paper = _paper(root / "receipts.bin", report)
    _receipts_text(root / "receipts.txt", report)
    return RunArtifacts(root, host, messages, journal, saf, _backoffice(root / "backoffice.sqlite"),
                        _trace(root / "trace.jsonl", report), paper, report)
