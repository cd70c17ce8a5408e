"""One run, ready to be looked at: report, trace, paper and the books in one object.

A :class:`RunView` is what the HTML report, ``pos-sim explain`` and the trainer's page
read. It is built three ways, all giving the same shape:

* :func:`load_run_dir`: from the artifacts of a run directory alone (``report.json``,
  ``trace.jsonl``, ``receipts.txt`` + ``receipts.bin``, the three SQLite files), so a
  report can be regenerated at any time;
* :func:`view_of_result`: from a :class:`~terminal_sim.sim.simulation.RunResult` in memory;
* :func:`view_of_session`: from a live :class:`~terminal_sim.sim.session.Session`.

Paper is read the way reconciliation reads it. From artifacts, ``receipts.txt`` is the
authority on which receipts exist (refs, byte ranges, truncated/blank), and each
receipt's elements, needed to draw it, are read again from its byte range of
``receipts.bin`` by the ESC/POS interpreter. A printer losing power is not in the byte
stream, so when the bytes do not give back exactly the recorded text the receipt is
drawn from its text (``Slip.exact`` is then False).

The rows of the books are joined with paper on (terminal id, STAN) into
:class:`LedgerRow` s, in the order the evidence appeared, and each finding is mapped to
the rows it points at, so a page can show the four sources side by side.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from printer.roll import Receipt
from terminal_sim.errors import ConfigurationError, StoreUnreadable
from terminal_sim.evidence.sources import PaperReceipt
from terminal_sim.reporting.timeline import PRINT_RECORDS
from terminal_sim.stores.run_files import read_checked_run_dir
from terminal_sim.stores.sqlite import open_read_only

if TYPE_CHECKING:
    from terminal_sim.sim.session import Session
    from terminal_sim.sim.simulation import RunResult

__all__ = [
    "LedgerRow",
    "NotARunDirectory",
    "RunView",
    "Slip",
    "load_run_dir",
    "view_of_result",
    "view_of_session",
]

_RECEIPT_HEADER = re.compile(r"^===== (\S+)#(\d+) bytes (\d+)-(\d+)((?: [A-Z]+)*) =====$",
                             re.MULTILINE)


class NotARunDirectory(ConfigurationError):
    """A directory that ``pos-sim run`` did not write (or that is damaged)."""


@dataclass(frozen=True)
class Slip:
    """One receipt off a printer: what reconciliation read, and what to draw.

    What to draw (:attr:`receipt`, :attr:`exact`) is read again from the printer's bytes
    only when asked: a page that shows most slips as their text never pays for it.
    """

    paper: PaperReceipt
    print_id: int | None = None  # the trace record that sent its bytes to the printer
    t: int | None = None  # when, in virtual ms
    stream: bytes = field(default=b"", repr=False, compare=False)  # its terminal's bytes
    on_roll: Receipt | None = field(default=None, repr=False, compare=False)  # a live roll's

    @property
    def ref(self) -> str:
        return self.paper.ref

    @property
    def receipt(self) -> Receipt:
        """The elements to draw."""
        return self._drawing[0]

    @property
    def exact(self) -> bool:
        """Drawn from the printer's own bytes (False: from the text alone)."""
        return self._drawing[1]

    @cached_property
    def _drawing(self) -> tuple[Receipt, bool]:
        receipt = self.on_roll if self.on_roll is not None else _elements_from_bytes(
            self.stream, self.paper)
        if receipt is not None:
            return receipt, True
        from terminal_sim.reporting.receipt_images import text_receipt

        return text_receipt(self.paper.text, truncated=self.paper.truncated), False


@dataclass
class LedgerRow:
    """One transaction (or one piece of paper with none) across the four sources."""

    key: str  # "T0000001/000042", or "T0000001#7" for paper without a STAN
    terminal_id: str
    stan: str
    t: int  # when the first of its evidence appeared
    slips: list[Slip] = field(default_factory=list)
    journal: dict[str, Any] | None = None
    host: list[dict[str, Any]] = field(default_factory=list)
    backoffice: dict[str, Any] | None = None
    findings: list[int] = field(default_factory=list)  # 1-based finding numbers

    @property
    def anchor(self) -> str:
        return "row-" + re.sub(r"[^A-Za-z0-9]+", "-", self.key)


@dataclass
class RunView:
    """A finished (or running) simulation, as the report and the pages see it."""

    report: dict[str, Any]
    trace: list[dict[str, Any]]
    slips: list[Slip]
    journal: list[dict[str, Any]]
    host: list[dict[str, Any]]
    host_messages: list[dict[str, Any]]
    backoffice: list[dict[str, Any]] | None
    start: dt.datetime | None = None
    run_dir: Path | None = None
    _by_id: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {int(r["id"]): r for r in self.trace}

    # -- what the report says ------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self.report.get("scenario", "run"))

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(self.report.get("findings", []))

    @property
    def journal_unknown(self) -> bool:
        """A lab session's own folder: the application under test keeps the journal
        (report.json says so, and the run holds no journal record)."""
        return self.report.get("journal_known") is False and not self.journal

    @property
    def virtual_ms(self) -> int:
        last = self.trace[-1]["t"] if self.trace else 0
        return int(self.report.get("virtual_ms", last) or last)

    def record(self, ident: int) -> dict[str, Any] | None:
        return self._by_id.get(ident)

    # -- time ----------------------------------------------------------------------------

    def wall(self, t_ms: int) -> dt.datetime | None:
        """The calendar time of virtual time ``t_ms`` (None when the start is unknown)."""
        if self.start is None:
            return None
        return self.start + dt.timedelta(milliseconds=t_ms)

    # -- joins ---------------------------------------------------------------------------

    def slips_by_ref(self) -> dict[str, Slip]:
        return {slip.ref: slip for slip in self.slips}

    def ledger_rows(self) -> list[LedgerRow]:
        """Paper, journal, host and back office joined on (terminal, STAN), oldest first."""
        rows: dict[str, LedgerRow] = {}

        def row(terminal: str, stan: str, t: int) -> LedgerRow:
            key = f"{terminal}/{stan}"
            found = rows.get(key)
            if found is None:
                found = rows[key] = LedgerRow(key, terminal, stan, t)
            found.t = min(found.t, t)
            return found

        for slip in self.slips:
            t = slip.t if slip.t is not None else 0
            stan = slip.paper.facts.stan
            if stan:
                row(slip.paper.terminal_id, stan, t).slips.append(slip)
            else:
                rows[slip.ref] = LedgerRow(slip.ref, slip.paper.terminal_id, "", t, [slip])
        for record in self.journal:
            row(record["terminal_id"], record["stan"], int(record["created_vt"])).journal = record
        for record in self.host:
            row(record["terminal_id"], record["stan"], int(record["received_vt"])
                ).host.append(record)
        for record in self.backoffice or []:
            row(record["terminal_id"], record["stan"], int(record["received_vt"])
                ).backoffice = record
        for number, finding in enumerate(self.findings, start=1):
            for key in finding_row_keys(finding):
                if key in rows and number not in rows[key].findings:
                    rows[key].findings.append(number)
        # paper of one moment in roll order, by number (#2 before #10), not as text
        return sorted(rows.values(), key=lambda r: (r.t, r.terminal_id, r.stan,
                                                    [s.paper.index for s in r.slips], r.key))


def finding_row_keys(finding: dict[str, Any]) -> list[str]:
    """The ledger-row keys a finding points at (its evidence, by STAN or receipt ref)."""
    terminal = finding.get("terminal_id", "")
    evidence = finding.get("evidence") or {}
    keys: list[str] = []
    receipts = []
    if isinstance(evidence.get("receipt"), dict):
        receipts.append(evidence["receipt"])
    receipts += [r for r in evidence.get("receipts") or [] if isinstance(r, dict)]
    for receipt in receipts:
        keys.append(f"{terminal}/{receipt['stan']}" if receipt.get("stan") else receipt["ref"])
    if finding.get("stan"):
        keys.append(f"{terminal}/{finding['stan']}")
    host = evidence.get("host")
    for entry in host if isinstance(host, list) else [host] if host else []:
        keys.append(f"{entry['terminal_id']}/{entry['stan']}")
    for stan in evidence.get("stans_on_one_side") or []:
        keys.append(f"{terminal}/{stan}")
    return list(dict.fromkeys(keys))


# -- building views ----------------------------------------------------------------------


def print_records(trace: Iterable[dict[str, Any]]) -> dict[str, list[tuple[int, int, int]]]:
    """Per terminal: (byte offset, trace id, t) of every record that sent a print job."""
    found: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for record in trace:
        data = record.get("data") or {}
        if (record["kind"], record["name"]) in PRINT_RECORDS and data.get("at_byte") is not None:
            found[record["terminal"]].append((int(data["at_byte"]), record["id"], record["t"]))
    for entries in found.values():
        entries.sort()
    return found


def _printed_by(entries: list[tuple[int, int, int]], paper: PaperReceipt
                ) -> tuple[int | None, int | None]:
    """The last print job that started inside this receipt's bytes: it made the paper.
    ``entries`` are sorted by byte offset (:func:`print_records`)."""
    first = bisect_left(entries, (paper.start_offset,))
    end = bisect_left(entries, (max(paper.end_offset, paper.start_offset + 1),))
    if first >= end:
        return None, None
    best = max(entries[first:end], key=lambda entry: entry[1])
    return best[1], best[2]


def _elements_from_bytes(stream: bytes, paper: PaperReceipt) -> Receipt | None:
    """Read the receipt's byte range again; None unless it gives back the very same text."""
    from printer.interpreter import parse

    chunk = stream[paper.start_offset:paper.end_offset]
    if not chunk and not paper.text:
        return None
    # parse is lenient: damaged bytes become warnings of the roll, never an exception,
    # and a range that does not read back the same falls back to the text below
    receipts = parse(chunk).receipts
    # bytes dropped while the printer had no power precede the receipt in its range:
    # the receipt is the last one read, and it must read the same as on the roll
    for candidate in reversed(receipts):
        if candidate.text == paper.text and candidate.truncated == paper.truncated:
            return candidate
    return None


def _slips(papers: Iterable[PaperReceipt], streams: dict[str, bytes],
           trace: list[dict[str, Any]], devices: dict[str, list[Receipt]] | None = None
           ) -> list[Slip]:
    printed = print_records(trace)
    slips = []
    for paper in papers:
        on_roll: Receipt | None = None
        if devices is not None and paper.terminal_id in devices:
            roll = devices[paper.terminal_id]
            if paper.index - 1 < len(roll):
                on_roll = roll[paper.index - 1]
        print_id, t = _printed_by(printed.get(paper.terminal_id, []), paper)
        slips.append(Slip(paper, print_id, t, streams.get(paper.terminal_id, b""), on_roll))
    return slips


def _infer_start(slips: list[Slip]) -> dt.datetime | None:
    """The calendar time of virtual time zero, from slips that print their time.

    ``printed_at`` is the wall time truncated to the second, so each slip bounds the start
    from below (printed_at - t) and from above (that plus one second); the tightest lower
    bound, rounded up to a whole second, is the start.
    """
    lowest: dt.datetime | None = None
    for slip in slips:
        stamp = slip.paper.facts.printed_at
        if not stamp or slip.t is None:
            continue
        try:
            printed = dt.datetime.fromisoformat(stamp)
        except ValueError:
            continue
        bound = printed - dt.timedelta(milliseconds=slip.t)
        lowest = bound if lowest is None or bound > lowest else lowest
    if lowest is None:
        return None
    if lowest.microsecond:
        lowest = lowest.replace(microsecond=0) + dt.timedelta(seconds=1)
    return lowest


def _start_from_report(report: dict[str, Any]) -> dt.datetime | None:
    raw = report.get("start")
    if isinstance(raw, str):
        try:
            return dt.datetime.fromisoformat(raw)
        except ValueError:
            return None
    return None


def _sqlite_rows(path: Path, sql: str) -> list[dict[str, Any]] | None:
    """Rows of a query on an artifact, read-only; None when the file or table is absent."""
    if not path.is_file():
        return None
    try:
        db = open_read_only(path, rows_as_mappings=True)
    except StoreUnreadable:
        return None
    try:
        return [dict(row) for row in db.execute(sql)]
    except sqlite3.Error:
        return None
    finally:
        db.close()


def _host_rows(path: Path) -> list[dict[str, Any]]:
    rows = _sqlite_rows(path, "SELECT * FROM transactions "
                              "ORDER BY received_vt, terminal_id, stan, mti_class") or []
    for row in rows:
        row.pop("reply", None)  # the raw 0210 bytes: the ledger's business, not the page's
    return rows


def _receipts_txt(path: Path) -> Iterator[tuple[str, int, int, int, bool, bool, str]]:
    """(terminal, index, start, end, truncated, blank, text) of each receipt on record."""
    text = path.read_text(encoding="utf-8")
    headers = list(_RECEIPT_HEADER.finditer(text))
    for position, header in enumerate(headers):
        body_end = headers[position + 1].start() if position + 1 < len(headers) else len(text)
        body = text[header.end() + 1:body_end]
        if body.endswith("\n"):
            body = body[:-1]
        flags = header.group(5).split()
        yield (header.group(1), int(header.group(2)), int(header.group(3)),
               int(header.group(4)), "TRUNCATED" in flags, "BLANK" in flags, body)


def _split_streams(data: bytes, terminals: list[str], lengths: dict[str, int]
                   ) -> dict[str, bytes]:
    """receipts.bin holds every terminal's bytes, in terminal-id order: cut it apart.

    The report may say how many bytes each printer received (``printer_bytes``);
    otherwise a printer's stream is taken to end with the end of its last receipt,
    which holds for every stream that ends with a cut or a power loss.
    """
    streams: dict[str, bytes] = {}
    position = 0
    ordered = sorted(terminals)
    for number, terminal in enumerate(ordered):
        size = lengths.get(terminal, 0)
        if number == len(ordered) - 1 and terminal not in lengths:
            size = len(data) - position  # the last printer has the rest
        streams[terminal] = data[position:position + size]
        position += size
    return streams


def load_run_dir(run_dir: str | Path) -> RunView:
    """The view of a run directory written by ``pos-sim run`` (or a Session's close)."""
    root = Path(run_dir)
    if not root.is_dir():
        raise NotARunDirectory(f"{root}: not a directory (give the --out of a pos-sim run)")
    # a damaged or incomplete run: StoreUnreadable, the file named; the trace comes parsed
    checked = read_checked_run_dir(root)
    report, trace = checked.report, checked.trace
    from terminal_sim.receipts.layout import read_slip

    papers: list[PaperReceipt] = []
    if (root / "receipts.txt").is_file():
        for terminal, index, first, end, truncated, blank, text in _receipts_txt(
                root / "receipts.txt"):
            papers.append(PaperReceipt(terminal, index, text, truncated, blank, first, end,
                                       read_slip(text)))
    terminals = [str(t) for t in report.get("terminals") or []] or sorted(
        {p.terminal_id for p in papers})
    lengths = dict(report.get("printer_bytes") or {})
    for paper in papers:
        if paper.terminal_id not in report.get("printer_bytes", {}):
            lengths[paper.terminal_id] = max(lengths.get(paper.terminal_id, 0), paper.end_offset)
    data = (root / "receipts.bin").read_bytes() if (root / "receipts.bin").is_file() else b""
    streams = _split_streams(data, terminals, lengths) if data else {}
    slips = _slips(papers, streams, trace)
    journal = _sqlite_rows(root / "journal.sqlite",
                           "SELECT * FROM records ORDER BY terminal_id, stan") or []
    backoffice = _sqlite_rows(root / "backoffice.sqlite",
                              "SELECT * FROM records ORDER BY terminal_id, stan")
    messages = _sqlite_rows(root / "host.sqlite", "SELECT * FROM messages ORDER BY seq") or []
    start = _start_from_report(report) or _infer_start(slips)
    return RunView(report, trace, slips, journal, _host_rows(root / "host.sqlite"), messages,
                   backoffice, start, root)


def view_of_result(result: RunResult, run_dir: str | Path | None = None) -> RunView:
    """The view of a run just finished (its artifacts need not be on disk)."""
    root = Path(run_dir) if run_dir is not None else result.out_dir
    trace = list(result.evidence.trace)
    slips = _slips(result.evidence.receipts, dict(result.receipts_bin), trace)
    messages: list[dict[str, Any]] = []
    if root is not None:
        messages = _sqlite_rows(root / "host.sqlite", "SELECT * FROM messages ORDER BY seq") or []
    hosts = [{k: v for k, v in row.items() if k != "reply"} for row in result.evidence.host]
    return RunView(result.report, trace, slips, list(result.evidence.journal), hosts, messages,
                   result.evidence.backoffice, result.scenario.start, root)


def view_of_session(session: Session) -> RunView:
    """The view of a live session: reconciled now, paper drawn from the printer's roll."""
    sim = session.sim
    evidence = session.evidence()
    findings = [f.to_dict() for f in session.findings()]
    devices = {tid: list(node.ports.printer.device.receipts)
               for tid, node in sim.nodes.items()}
    slips = _slips(evidence.receipts, {}, evidence.trace, devices)
    by_code: dict[str, int] = defaultdict(int)
    for finding in findings:
        by_code[finding["code"]] += 1
    report = {
        "scenario": "studio session",
        "seed": sim.seed,
        "profile": sim.profile.name,
        "terminals": sorted(sim.nodes),
        "faults": [f.name for f in sim.faults],
        "findings": findings,
        "findings_by_code": dict(sorted(by_code.items())),
        "expectations": [],
        "passed": True,
        "virtual_ms": session.now,
    }
    hosts = [{k: v for k, v in row.items() if k != "reply"} for row in evidence.host]
    return RunView(report, list(evidence.trace), slips, evidence.journal, hosts,
                   sim.ledger.messages(), evidence.backoffice, sim.scenario.start, None)
