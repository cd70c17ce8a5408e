"""The paper in the customer's hand, read back from ``receipts.bin`` by the ESC/POS interpreter.

``receipts.bin`` holds the bytes every terminal sent its printer, the terminals' streams
one after the other in terminal-id order, each job starting with ``ESC @``. The auditor
cuts the file into jobs at those bytes, reads each job alone with
:func:`printer.interpreter.parse` (the printer package's "eyes", tested on their own) and
the slip text with :mod:`terminal_sim.audit.slips`; a job's terminal is the TID on it.

Not every byte sent reached paper, and the byte stream does not say so; the trace does:

* a fault record with ``bytes_printed`` (a printer losing power mid-job): only that prefix
  of the job is on paper;
* a fault record with ``bytes_lost`` and no ``bytes_printed`` (a job sent to a printer
  without power or paper): nothing of the job is on paper;
* between a ``paper out`` / ``cover open`` / ``printer power lost mid-job`` fault and the
  matching ``printer_refilled`` / ``printer_cover_closed`` / ``printer_power_restored``
  note, the printer prints nothing.

A trace print record (``at_byte`` in its data) is tied to its job through the terminal's
stream offset: the first job on file showing the terminal's TID is its first print effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from printer.interpreter import parse
from terminal_sim.audit.slips import SlipText, read_slip_text

__all__ = ["Paper", "read_paper"]

JOB_START = b"\x1b@"
_BLOCKING = {"paper out", "cover open", "printer power lost mid-job"}
_UNBLOCKING = {"printer_refilled", "printer_cover_closed", "printer_power_restored"}


@dataclass(frozen=True, slots=True)
class Paper:
    """One print job as it came out of the printer."""

    offset: int  # in receipts.bin
    slip: SlipText  # what the paper says
    truncated: bool  # cut off before the end of the job
    printed: bool  # False: nothing of the job reached paper


def _job_offsets(data: bytes) -> list[int]:
    offsets: list[int] = []
    at = data.find(JOB_START)
    if at != 0 and data:
        offsets.append(0)
    while at >= 0:
        offsets.append(at)
        at = data.find(JOB_START, at + 1)
    return offsets


def _text_of(job: bytes) -> tuple[str, bool]:
    roll = parse(job)
    text = "\n".join(receipt.text for receipt in roll.receipts)
    return text, any(receipt.truncated for receipt in roll.receipts)


def _print_fates(trace: list[dict[str, Any]]) -> tuple[dict[str, list[int]],
                                                       dict[tuple[str, int], int | None]]:
    """Per terminal, its print jobs' ``at_byte`` in order; and the bytes of a job that
    reached paper when not all of it did (None: nothing)."""
    jobs: dict[str, list[int]] = {}
    fates: dict[tuple[str, int], int | None] = {}
    blocked: set[str] = set()
    for record in trace:
        terminal = str(record.get("terminal", ""))
        data = record.get("data") or {}
        if not isinstance(data, dict):
            continue
        name = str(record.get("name", ""))
        if record.get("kind") in ("effect", "note") and "at_byte" in data:
            at = int(data["at_byte"])
            jobs.setdefault(terminal, []).append(at)
            if terminal in blocked:
                fates[(terminal, at)] = None
        elif record.get("kind") == "fault" and jobs.get(terminal):
            last = (terminal, jobs[terminal][-1])
            if "bytes_printed" in data:
                fates[last] = int(data["bytes_printed"])
            elif "bytes_lost" in data:
                fates[last] = None
        if record.get("kind") == "fault" and data.get("effect") in _BLOCKING:
            blocked.add(terminal)
        elif name in _UNBLOCKING:
            blocked.discard(terminal)
    return jobs, fates


def read_paper(data: bytes, trace: list[dict[str, Any]]) -> list[Paper]:
    """Every print job in ``receipts.bin``, in file order, as the customer got it."""
    offsets = _job_offsets(data)
    bounds = [*offsets[1:], len(data)] if offsets else []  # an empty roll has no job
    full = [(start, data[start:end]) for start, end in zip(offsets, bounds, strict=True)]
    texts = [_text_of(job) for _, job in full]
    slips = [read_slip_text(text) for text, _ in texts]
    jobs, fates = _print_fates(trace)
    base: dict[str, int] = {}
    for (start, _), slip in zip(full, slips, strict=True):
        if slip.terminal_id and slip.terminal_id not in base and jobs.get(slip.terminal_id):
            base[slip.terminal_id] = start - jobs[slip.terminal_id][0]
    fate_at = {base[terminal] + at: keep for (terminal, at), keep in fates.items()
               if terminal in base}
    papers: list[Paper] = []
    for (start, job), slip, (_, truncated) in zip(full, slips, texts, strict=True):
        if start not in fate_at:
            papers.append(Paper(start, slip, truncated, True))
            continue
        keep = fate_at[start]
        if keep is None:
            papers.append(Paper(start, SlipText(), False, False))
            continue
        text, cut_short = _text_of(job[:keep])
        papers.append(Paper(start, read_slip_text(text), cut_short or keep < len(job), True))
    return papers
