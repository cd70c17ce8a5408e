"""The application's own records against the lab's evidence: ``pos-sim lab reconcile``.

The application under test exports its journal as CSV (a header row) or JSON lines,
one transaction each:

================  ===============================================================
``terminal_id``   the terminal id it sends in field 41
``stan``          the STAN of the transaction (digits; padded to 6)
``type``          ``sale``, ``refund`` or ``void``
``amount_minor``  the amount in minor units (``amount`` is accepted too)
``state``         what the application believes: ``approved``, ``declined``,
                  ``failed``, ``pending``, ``reversed``, ``voided`` ...
``time``          when (ISO 8601; kept as written)
``currency``      optional (default: the host's for that STAN, else EUR)
``sale_id``       optional: the sale intent (retries of one sale share it)
================  ===============================================================

:func:`reconcile_lab` joins it with the lab's paper (every printed job of every
printer, read back by the ESC/POS interpreter) and host ledger through the project's
:class:`~terminal_sim.evidence.reconcile.Reconciler`, and writes a run directory of
its own: ``report.json`` (the usual finding codes), ``report.html``, ``journal.sqlite``
(the export, imported), ``backoffice.sqlite`` (empty: the lab sees no back office),
``host.sqlite`` (a copy), ``receipts.bin``/``receipts.txt``, ``trace.jsonl`` (empty):
the files every run directory has, so ``explain``, ``audit`` and ``report`` read it.
The lab's run directory is only read. :func:`write_lab_run` writes the same files into
the lab's own folder when it stops, with no journal.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.errors import ConfigurationError, ScenarioError
from terminal_sim.evidence.artifacts import read_rows
from terminal_sim.evidence.reconcile import Reconciler
from terminal_sim.evidence.sources import Evidence, PaperReceipt
from terminal_sim.scenario.schema import FINDING_CODES
from terminal_sim.stores.backoffice import BackOffice
from terminal_sim.stores.journal import Journal

REQUIRED = ("terminal_id", "stan", "type", "amount_minor", "state", "time")
TYPES = ("sale", "refund", "void")
MAX_ROWS = 1_000_000


def read_export(path: Path) -> list[dict[str, Any]]:
    """The export's rows, checked; ``ScenarioError`` names the file, line and field."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(name, None, "(file)", exc.strerror or str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(name, None, "(file)", f"not UTF-8: {exc.reason}") from exc
    raw: list[tuple[int, Any]] = []
    if text.lstrip().startswith("{"):
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    raw.append((number, json.loads(line)))
                except ValueError as exc:
                    raise ScenarioError(name, number, "(line)", f"not JSON: {exc}") from None
    else:
        reader = csv.DictReader(io.StringIO(text))
        raw = [(reader.line_num, dict(row)) for row in reader]
    if len(raw) > MAX_ROWS:
        raise ScenarioError(name, None, "(file)", f"more than {MAX_ROWS} rows")
    return [_row(name, number, item) for number, item in raw]


def _row(name: str, line: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ScenarioError(name, line, "(line)", "expected an object with "
                                                  + ", ".join(REQUIRED))
    item = {str(k).strip(): v for k, v in item.items() if k is not None}
    if "amount_minor" not in item and "amount" in item:
        item["amount_minor"] = item.pop("amount")
    for key in REQUIRED:
        if item.get(key) in (None, ""):
            raise ScenarioError(name, line, key, "missing")
    stan = str(item["stan"]).strip()
    if not stan.isdigit() or len(stan) > 6:
        raise ScenarioError(name, line, "stan", f"{stan!r} is not a STAN (1-6 digits)")
    kind = str(item["type"]).strip().lower()
    if kind not in TYPES:
        raise ScenarioError(name, line, "type", f"{kind!r} is not one of {', '.join(TYPES)}")
    try:
        amount = int(str(item["amount_minor"]).strip())
    except ValueError:
        raise ScenarioError(name, line, "amount_minor",
                            f"{item['amount_minor']!r} is not a whole number of minor "
                            "units") from None
    if amount < 0:
        raise ScenarioError(name, line, "amount_minor", "negative")
    terminal_id = str(item["terminal_id"]).strip()
    return {"terminal_id": terminal_id, "stan": stan.zfill(6), "type": kind,
            "state": str(item["state"]).strip().lower(), "amount_minor": amount,
            "currency": str(item.get("currency") or "").strip().upper(),
            "sale_id": str(item.get("sale_id") or f"{terminal_id}-{stan.zfill(6)}"),
            "time": str(item["time"]), "rrn": str(item.get("rrn") or ""),
            "approval_code": str(item.get("approval_code") or ""),
            "response_code": str(item.get("response_code") or ""),
            "masked_pan": str(item.get("masked_pan") or "")}


def lab_paper(run_dir: Path, terminals: list[str]) -> tuple[dict[str, bytes],
                                                             list[PaperReceipt]]:
    """Every printed job of the lab's printers, read back: bytes and receipts by
    terminal (the terminal id the slip shows; else the only terminal; else the printer)."""
    from printer.interpreter import parse

    streams: dict[str, bytearray] = {}
    receipts: list[PaperReceipt] = []
    counts: Counter[str] = Counter()
    for index_path in sorted((run_dir / "printers").glob("*/index.jsonl")):
        folder = index_path.parent
        for line in index_path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line torn by a kill
            if "event" in entry or not entry.get("printed") or not entry.get("bin"):
                continue
            data = (folder / entry["bin"]).read_bytes() if (folder / entry["bin"]).exists() \
                else b""
            for receipt in parse(data).receipts:
                probe = PaperReceipt.from_receipt(folder.name, 0, receipt)
                owner = probe.facts.terminal_id or (
                    terminals[0] if len(terminals) == 1 else folder.name)
                stream = streams.setdefault(owner, bytearray())
                base = len(stream)
                stream += data[receipt.start_offset:receipt.end_offset]
                counts[owner] += 1
                receipts.append(PaperReceipt(
                    owner, counts[owner], probe.text, probe.truncated, probe.blank,
                    base + receipt.start_offset - receipt.start_offset,
                    base + receipt.end_offset - receipt.start_offset, probe.facts))
    return {k: bytes(v) for k, v in streams.items()}, receipts


def reconcile_lab(run_dir: Path, export: Path, out: Path, *,
                  into: Path | None = None) -> dict[str, Any]:
    """Reconcile ``export`` against the lab run in ``run_dir`` for ``--out`` ``out``;
    the files are written into ``into`` when given (the staging directory the command
    swaps in at ``out`` once it is complete), else into ``out``."""
    if not (run_dir / "lab.json").is_file():
        raise ConfigurationError(f"{run_dir}: not a lab run directory (no lab.json); "
                                 "make one with: pos-sim lab --out DIR")
    journal = read_export(export)
    if out.resolve() == run_dir.resolve():
        raise ConfigurationError(f"--out {out}: the lab's run directory is evidence: "
                                 "write the reconciliation beside it")
    return _reconcile(run_dir, journal, into or out)


def write_lab_run(run_dir: Path) -> dict[str, Any]:
    """Make the lab's own folder a run directory (what ``explain``, ``audit`` and
    ``report`` read): the paper and the host ledger reconciled without a journal (the
    lab holds none of the application's records: ``pos-sim lab reconcile`` adds them;
    until then nothing is judged against the books, and ``report.json`` says
    ``"journal_known": false``), ``report.json``, ``report.html``, ``journal.sqlite``
    and ``backoffice.sqlite`` (empty), ``trace.jsonl`` (empty: the faults are in
    ``faults.jsonl``), and ``receipts.bin``/``receipts.txt`` (the printed paper, by
    terminal)."""
    return _reconcile(run_dir, None, run_dir)


def _reconcile(run_dir: Path, journal: list[dict[str, Any]] | None,
               out: Path) -> dict[str, Any]:
    """Reconcile the lab run in ``run_dir`` with ``journal`` (None: not known, the lab's
    own folder) and write the result into ``out``."""
    known = journal is not None
    journal = journal or []
    try:
        lab = json.loads((run_dir / "lab.json").read_text(encoding="utf-8"))
        host = read_rows(run_dir / "host.sqlite",
                         "SELECT * FROM transactions ORDER BY received_vt, terminal_id, stan"
                         ) if (run_dir / "host.sqlite").exists() else []  # no acquirer
    except (OSError, ValueError, sqlite3.Error) as exc:
        raise ConfigurationError(f"{run_dir}: a damaged lab run directory: {exc}") from exc
    for row in host:
        row.pop("reply", None)
    currency = {(r["terminal_id"], r["stan"]): r["currency"] for r in host}
    for record in journal:
        record["currency"] = record["currency"] or currency.get(
            (record["terminal_id"], record["stan"]), "EUR")
    terminals = sorted({r["terminal_id"] for r in journal} | {r["terminal_id"] for r in host})
    try:
        paper, receipts = lab_paper(run_dir, terminals)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{run_dir}/printers: a damaged job: {exc}") from exc
    trace = fault_trace(run_dir)
    evidence = Evidence(receipts=receipts, journal=journal, host=host, backoffice=None,
                        trace=trace, journal_known=known)
    findings = Reconciler(evidence).findings()
    report = _report(lab, evidence, findings, paper, run_dir)
    # what the auditor reads too: without the journal, nothing is judged against the books
    report["journal_known"] = known
    if out.resolve() == run_dir.resolve():
        # the lab's own folder: ``pos-sim lab reconcile`` adds the application's journal
        report.update(scenario="lab session", journal_export=None)
    _write(out, run_dir, report, journal, paper, receipts, trace)
    return report


def fault_trace(run_dir: Path) -> list[dict[str, Any]]:
    """The faults the lab applied (``faults.jsonl``'s ``fired`` events) as the trace
    records of a run (``kind: fault``, the terminal and STAN they hit), so the findings
    and ``pos-sim explain`` name the fault behind a lost reply or a cut slip."""
    path = run_dir / "faults.jsonl"
    if not path.is_file():
        return []
    records: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line torn by a kill
        if not isinstance(event, dict) or event.get("event") != "fired":
            continue
        name = str(event.get("name", ""))
        data: dict[str, Any] = {"fault": name, "effect": str(event.get("effect", name))}
        if isinstance(event.get("stan"), str) and event["stan"]:
            data["stan"] = event["stan"]
        records.append({"id": len(records) + 1, "t": int(event.get("ms", 0) or 0),
                        "kind": "fault", "name": name, "flow": "lab", "state": "",
                        "terminal": str(event.get("terminal_id") or event.get("printer")
                                        or ""), "data": data})
    return records


def _report(lab: dict[str, Any], evidence: Evidence, findings: list[Any],
            paper: dict[str, bytes], run_dir: Path) -> dict[str, Any]:
    by_code = Counter(f.code for f in findings)
    faults = []
    trace = run_dir / "faults.jsonl"
    if trace.is_file():
        for line in trace.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "added":
                faults.append(str(event.get("name")))
    offset, printers = 0, {}
    for terminal_id in sorted(paper):
        printers[terminal_id] = {"offset": offset, "bytes": len(paper[terminal_id])}
        offset += len(paper[terminal_id])
    times = sorted(str(r["time"]) for r in evidence.journal)
    return {
        "report_version": 1, "scenario": "lab reconcile", "seed": lab.get("seed", 0),
        "start": times[0] if times else "", "profile": "application",
        "terminals": sorted({r["terminal_id"] for r in evidence.journal}
                            | {r["terminal_id"] for r in evidence.host}),
        "faults": faults, "findings": [f.to_dict() for f in findings],
        "findings_by_code": {code: by_code[code] for code in FINDING_CODES if by_code[code]},
        "expectations": [], "passed": True,
        "counts": {"receipts": len(evidence.receipts),
                   "journal_records": len(evidence.journal),
                   "journal": dict(sorted(Counter(f"{r['type']}:{r['state']}"
                                                  for r in evidence.journal).items())),
                   "host_transactions": len(evidence.host),
                   "host": dict(sorted(Counter(f"{r['type']}:{r['status']}"
                                               for r in evidence.host).items()))},
        "virtual_ms": 0, "printers": printers, "liveness": [],
        "lab": {"run": str(run_dir), **lab},
    }


def _write(out: Path, run_dir: Path, report: dict[str, Any], journal: list[dict[str, Any]],
           paper: dict[str, bytes], receipts: list[PaperReceipt],
           trace: list[dict[str, Any]]) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"--out {out}: {exc.strerror or exc}") from exc
    for name in ("journal.sqlite", "backoffice.sqlite"):
        for stale in (name, f"{name}-wal", f"{name}-shm"):
            (out / stale).unlink(missing_ok=True)
    BackOffice(out / "backoffice.sqlite").close()  # the lab sees no back office: empty
    store = Journal(out / "journal.sqlite")
    try:
        for record in journal:
            row = {"terminal_id": record["terminal_id"], "stan": record["stan"],
                   "sale_id": record["sale_id"], "type": record["type"],
                   "state": record["state"], "amount_minor": record["amount_minor"],
                   "currency": record["currency"], "masked_pan": record["masked_pan"],
                   "card_token": "", "created_vt": 0, "updated_vt": 0,
                   "response_code": record["response_code"], "rrn": record["rrn"],
                   "approval_code": record["approval_code"], "sent_at": record["time"]}
            store.execute(f"INSERT OR REPLACE INTO records ({', '.join(row)}) "
                          f"VALUES ({', '.join(':' + c for c in row)})", row)
    finally:
        store.close()
    if not (run_dir / "host.sqlite").is_file():
        HostLedger(out / "host.sqlite").close()  # a lab without an acquirer: no ledger
    elif out.resolve() != run_dir.resolve():
        shutil.copyfile(run_dir / "host.sqlite", out / "host.sqlite")
    (out / "receipts.bin").write_bytes(b"".join(paper[t] for t in sorted(paper)))
    (out / "receipts.txt").write_text("".join(
        f"===== {r.ref} bytes {r.start_offset}-{r.end_offset}"
        f"{' TRUNCATED' if r.truncated else ''} =====\n{r.text}\n" for r in receipts),
        encoding="utf-8")
    (out / "trace.jsonl").write_text("".join(
        json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n" for record in trace),
        encoding="utf-8")
    (out / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True,
                                                ensure_ascii=False) + "\n", encoding="utf-8")
    from terminal_sim.reporting.report_html import write_report_html

    write_report_html(out)
