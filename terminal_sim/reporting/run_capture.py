"""A run's printers as :class:`printer.capture.Capture` s: ``pos-sim printer render RUN``.

``receipts.bin`` holds every byte each terminal sent its printer (the streams one after
the other, where ``report.json``'s ``printers`` says). Not all of it is paper: the trace
says when a printer lost power (a ``printer power lost mid-job`` fault: after
``bytes_printed`` bytes of the job at ``at_byte``), ran out of paper or had its cover open
(faults struck just before a job: from that job's first byte), and when that ended (the
``printer_power_restored``, ``printer_refilled``, ``printer_cover_closed`` notes: from the
next byte the terminal sent). A terminal's own power cut (a ``power_cut`` fault) takes its
printer down with it, and its ``power_on`` event brings both back. Replayed with those
changes, the stream gives the receipts the run printed, nothing sent into the dark; at the
run's width: slips are laid out :data:`~terminal_sim.receipts.layout.WIDTH` (32) columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from printer.capture import Capture
from terminal_sim.receipts.layout import WIDTH
from terminal_sim.reporting.run_view import NotARunDirectory
from terminal_sim.stores.run_files import read_checked_run_dir

__all__ = ["run_captures"]

JOB_START = b"\x1b@"  # every print job starts by initialising the printer
_FAULT_CHANGES = {"printer power lost mid-job": "power_off", "paper out": "paper_out",
                  "cover open": "cover_open"}
_NOTE_CHANGES = {"printer_power_restored": "power_on", "printer_refilled": "paper_ok",
                 "printer_cover_closed": "cover_closed"}


def run_captures(path: str | Path) -> list[Capture] | None:
    """The printers of the run directory ``path`` (or of the ``receipts.bin`` inside one),
    in terminal-id order; None when ``path`` is a stream outside a run directory."""
    target = Path(path)
    root = target if target.is_dir() else target.parent
    if not (root / "report.json").is_file():
        if target.is_dir():
            raise NotARunDirectory(f"{root}: not a run directory: no report.json "
                                   "(give a pos-sim run's --out, or a captured .bin file)")
        return None
    if not target.is_dir() and target.name != "receipts.bin":
        return None
    checked = read_checked_run_dir(root)  # a damaged run is one line and exit 2
    report = checked.report
    printers = report.get("printers") if isinstance(report, dict) else None
    if not isinstance(printers, dict):
        raise NotARunDirectory(f"{root / 'report.json'}: no printers (where each printer's "
                               "bytes sit in receipts.bin)")
    try:
        data = (root / "receipts.bin").read_bytes()
    except OSError as exc:
        raise NotARunDirectory(f"{root / 'receipts.bin'}: cannot be read ({exc})") from exc
    changes = _changes(checked.trace)
    captures = []
    for terminal in sorted(printers):
        place = printers[terminal]
        start, size = int(place["offset"]), int(place["bytes"])
        if start < 0 or size < 0 or start + size > len(data):
            raise NotARunDirectory(f"{root / 'receipts.bin'}: {terminal}'s bytes "
                                   f"{start}-{start + size} are beyond its {len(data)} bytes")
        stream = data[start:start + size]
        moments = tuple((_offset(stream, at, into_job), change)
                        for at, into_job, change in changes.get(terminal, []))
        captures.append(Capture(terminal, stream, moments, columns=WIDTH))
    return captures


def _offset(stream: bytes, at: int | None, into_job: int | None) -> int:
    """``at`` (None: the stream's end), or ``into_job`` bytes into the job sent from ``at``
    (a job starts with ``ESC @``; a status query may come before it)."""
    if at is None:
        return len(stream)
    if into_job is not None:
        start = stream.find(JOB_START, at)
        at = (start if start >= 0 else at) + into_job
    return min(at, len(stream))


_Change = tuple[int | None, int | None, str]  # at_byte (None: the end), bytes into its job


def _changes(trace: list[dict[str, Any]]) -> dict[str, list[_Change]]:
    """Per terminal, its printer's changes, where they happened in its stream."""
    found: dict[str, list[_Change]] = {}
    last_job: dict[str, int] = {}
    waiting: dict[str, list[str]] = {}  # notes: in effect from the next byte sent
    cut: set[str] = set()  # terminals whose own power is off
    for record in trace:
        terminal = str(record.get("terminal", ""))
        data = record.get("data")
        data = data if isinstance(data, dict) else {}
        kind, name = record.get("kind"), str(record.get("name", ""))
        if kind in ("effect", "note") and "at_byte" in data:
            last_job[terminal] = int(data["at_byte"])
            found.setdefault(terminal, []).extend(
                (last_job[terminal], None, change) for change in waiting.pop(terminal, []))
        elif kind == "fault" and data.get("effect") in _FAULT_CHANGES:
            into = int(data["bytes_printed"]) if "bytes_printed" in data else None
            found.setdefault(terminal, []).append(
                (last_job.get(terminal, 0), into, _FAULT_CHANGES[data["effect"]]))
        elif kind == "note" and name in _NOTE_CHANGES:
            waiting.setdefault(terminal, []).append(_NOTE_CHANGES[name])
        elif kind == "fault" and name == "power_cut":  # the terminal and its printer
            cut.add(terminal)
            waiting.setdefault(terminal, []).append("power_off")
        elif kind == "event" and name == "power_on" and terminal in cut:
            cut.discard(terminal)
            waiting.setdefault(terminal, []).append("power_on")
    for terminal, changes in waiting.items():
        found.setdefault(terminal, []).extend((None, None, change) for change in changes)
    return found
