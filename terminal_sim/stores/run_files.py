"""Is a run directory whole? One check before any command reads one back.

``recover``, ``replay``, ``explain`` and ``report`` call :func:`check_run_dir` before
they read anything else, so a damaged or incomplete run directory is one line naming the
file and what is wrong (:class:`~terminal_sim.errors.StoreUnreadable`, exit 2), never a
traceback or a half-made result. The check reads only: the SQLite files through
:func:`~terminal_sim.stores.sqlite.open_read_only` with ``immutable`` (no ``-wal`` or
``-shm`` is created), the rest as bytes. The auditor (``pos-sim audit``) has its own
reader with the same rules (:mod:`terminal_sim.audit.artifacts`): it shares no code.

What is checked, per artifact:

=====================  ==============================================================
``report.json``        a JSON object with ``findings`` (a list) and ``printers``
``trace.jsonl``        UTF-8; every non-blank line a JSON object; ends with a newline;
                       the ``id`` of the records runs 1, 2, 3, ... with no gap (a
                       deleted line is a gap; a live run's boots continue the ids), as
                       many records as report.json's ``counts.trace_events`` (a live
                       run's: at least as many, it counts its last boot's)
``*.sqlite``           a file, no ``-wal`` beside it (a run not closed), SQLite's
                       ``quick_check`` passes, the tables the readers query exist
``receipts.bin``       a file at least as long as the printers' slices in report.json
``receipts.txt``       (when there) UTF-8, ends with a newline, holds as many receipt
                       headers as report.json's ``counts.receipts`` (when it says)
=====================  ==============================================================
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminal_sim.errors import StoreUnreadable
from terminal_sim.stores.sqlite import open_read_only

__all__ = ["STORES", "check_run_dir", "read_report"]

#: The SQLite artifacts of a run and the tables their readers query.
STORES: dict[str, tuple[str, ...]] = {
    "journal.sqlite": ("records", "saf"),
    "host.sqlite": ("transactions", "messages"),
    "backoffice.sqlite": ("records",),
}


def read_report(path: Path) -> dict[str, Any]:
    """``report.json`` as a dict, or :class:`StoreUnreadable` naming it and the problem."""
    if not path.is_file():
        raise StoreUnreadable(f"{path}: missing: {path.parent} is not a run directory "
                              "(make one with: pos-sim run SCENARIO --out DIR)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StoreUnreadable(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise StoreUnreadable(f"{path}: not a run report (a JSON object was expected)")
    for key, kind in (("findings", list), ("printers", dict)):
        if not isinstance(data.get(key), kind):
            raise StoreUnreadable(f"{path}: not a run report ({key!r} missing or not a "
                                  f"{kind.__name__})")
    return data


def _whole_text(path: Path) -> str:
    """A text artifact written line by line: UTF-8, and its last line whole."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreUnreadable(f"{path}: cannot be read as text ({exc})") from exc
    if text and not text.endswith("\n"):
        raise StoreUnreadable(f"{path}: the last line is cut (no newline at the end)")
    return text


def _check_trace(path: Path, report: dict[str, Any], *, keep: bool) -> list[dict[str, Any]]:
    """Check the trace's records; with ``keep`` return them parsed (for a reader of the
    trace), else an empty list (a caller that only checks holds one record at a time)."""
    if not path.is_file():
        raise StoreUnreadable(f"{path}: missing (not a finished run directory?)")
    text = _whole_text(path)
    records: list[dict[str, Any]] = []
    count = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise StoreUnreadable(f"{path}:{number}: not a JSON line ({exc})") from exc
        if not isinstance(record, dict):
            raise StoreUnreadable(f"{path}:{number}: not a JSON object")
        count += 1  # ids run 1, 2, 3 ... in the file's order
        if record.get("id") != count or isinstance(record.get("id"), bool):
            raise StoreUnreadable(f"{path}:{number}: id {record.get('id')!r} where "
                                  f"{count} was expected (a line missing or out of order)")
        if keep:
            records.append(record)
    counts = report.get("counts")
    wanted = counts.get("trace_events") if isinstance(counts, dict) else None
    if isinstance(wanted, int) and not isinstance(wanted, bool) and (
            count < wanted or (count != wanted and "live" not in report)):
        # a live run's report counts its last boot's events; the file holds every boot's
        raise StoreUnreadable(f"{path}: {count} records where report.json counts "
                              f"{wanted} trace events (the end is missing)")
    return records


def _check_store(path: Path, tables: tuple[str, ...]) -> None:
    if path.with_name(path.name + "-wal").exists():
        raise StoreUnreadable(f"{path}: has a -wal file beside it: the run was not closed")
    with closing(open_read_only(path, immutable=True)) as db:  # names a missing file
        try:
            problems = [str(row[0]) for row in db.execute("PRAGMA quick_check")]
            have = {str(row[0]) for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as exc:
            raise StoreUnreadable(f"{path}: not a readable SQLite store ({exc})") from exc
    if problems != ["ok"]:
        raise StoreUnreadable(f"{path}: damaged SQLite store ({problems[0]})")
    missing = [table for table in tables if table not in have]
    if missing:
        raise StoreUnreadable(f"{path}: no table {', '.join(missing)} (not a run's store)")


def _check_paper(path: Path, report: dict[str, Any]) -> None:
    if not path.is_file():
        raise StoreUnreadable(f"{path}: missing (not a finished run directory?)")
    try:
        size = path.stat().st_size
        needed = max((int(where["offset"]) + int(where["bytes"])
                      for where in report["printers"].values()), default=0)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise StoreUnreadable(f"{path}: cannot be checked ({exc})") from exc
    if size < needed:
        raise StoreUnreadable(f"{path}: truncated ({size} bytes; report.json's printers "
                              f"need {needed})")


@dataclass(frozen=True)
class CheckedRun:
    """What :func:`read_checked_run_dir` read while checking: the report and the trace."""

    report: dict[str, Any]
    trace: list[dict[str, Any]]


def check_run_dir(run_dir: Path) -> dict[str, Any]:
    """Check every artifact of ``run_dir`` a reader needs; returns its ``report.json``.

    Raises :class:`StoreUnreadable` with one line naming the first damaged or missing
    file. Creates and changes nothing.
    """
    return _checked(run_dir, keep_trace=False).report


def read_checked_run_dir(run_dir: Path) -> CheckedRun:
    """:func:`check_run_dir`, keeping the trace it parsed to check it (a reader of the
    trace need not parse it again: a 3,000-sale day's is 7 MB)."""
    return _checked(run_dir, keep_trace=True)


def _checked(run_dir: Path, *, keep_trace: bool) -> CheckedRun:
    if not run_dir.is_dir():
        raise StoreUnreadable(f"{run_dir}: not a directory (give the --out of a pos-sim run)")
    report = read_report(run_dir / "report.json")
    trace = _check_trace(run_dir / "trace.jsonl", report, keep=keep_trace)
    for name, tables in STORES.items():
        _check_store(run_dir / name, tables)
    _check_paper(run_dir / "receipts.bin", report)
    _check_receipts_text(run_dir / "receipts.txt", report)
    return CheckedRun(report, trace)


#: The line that opens each receipt in ``receipts.txt``.
_RECEIPT_HEADER = re.compile(r"^===== \S+#\d+ bytes \d+-\d+(?: [A-Z]+)* =====$", re.MULTILINE)


def _check_receipts_text(path: Path, report: dict[str, Any]) -> None:
    if not path.exists():
        return
    text = _whole_text(path)
    counts = report.get("counts")
    wanted = counts.get("receipts") if isinstance(counts, dict) else None
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        found = len(_RECEIPT_HEADER.findall(text))
        if found != wanted:
            raise StoreUnreadable(f"{path}: {found} receipts where report.json counts "
                                  f"{wanted} (cut short or changed)")
