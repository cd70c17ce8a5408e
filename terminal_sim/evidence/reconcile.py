"""Reconciliation: join paper, journal, host ledger (and back office) and name the gaps.

The join key is (terminal id, STAN): the STAN is printed on the slip, stored in the
journal and sent to the host. "The books" are the journal and the back office together:
a record the terminal evicted after syncing it is not lost. Each finding carries a
stable code (DESIGN.md), the evidence rows it points at, the trace event ids behind it,
and its causes: the fault records among those events.

=========================  ==============================================================
code                       rule
=========================  ==============================================================
``STRAY_RECEIPT``          a receipt whose STAN has no record in the books, an APPROVED
                           slip whose record says otherwise (failed, pending, reversed),
                           or a slip with no transaction data at all (error slip, blank
                           slip; one cut off before its STAN is only ``TRUNCATED_RECEIPT``)
``BLANK_RECEIPT``          a receipt with nothing printed on it but feeds and a cut
``TRUNCATED_RECEIPT``      a receipt cut off mid-print (no cut at the end of the stream)
``LOST_RECORD``            the host approved a sale (not voided or reversed), the journal
                           has no record of it
``ORPHAN_AUTHORIZATION``   the host approved, the journal says the sale failed or was
                           declined or is still pending: the customer is charged for nothing
``MISSING_RECEIPT``        the journal has an approved sale, no complete receipt shows it
``DUPLICATE_CHARGE``       the host holds two approvals (not voided or reversed) for one
                           sale intent (the sale id the journal or the trace gives a STAN)
``TOTALS_MISMATCH``        a terminal's end-of-day totals (approved sales minus approved
                           voids, per currency) differ between the books and the host
``UNSYNCED_RECORD``        the journal has a final record the back office lacks
=========================  ==============================================================
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from terminal_sim.base.money import Money
from terminal_sim.evidence.sources import Evidence, PaperReceipt


@dataclass
class Finding:
    """One disagreement between the evidence sources."""

    code: str
    terminal_id: str
    stan: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    trace_ids: list[int] = field(default_factory=list)
    causes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "terminal_id": self.terminal_id,
            "stan": self.stan,
            "summary": self.summary,
            "evidence": self.evidence,
            "trace_ids": self.trace_ids,
            "causes": self.causes,
        }


def _journal_ref(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("terminal_id", "stan", "type", "state", "amount_minor",
                                "currency", "rrn", "approval_code", "masked_pan")}


def _host_ref(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("terminal_id", "stan", "type", "status", "response_code",
                                "amount_minor", "currency", "rrn", "approval_code")}


def _receipt_ref(receipt: PaperReceipt) -> dict[str, Any]:
    facts = receipt.facts
    return {
        "ref": receipt.ref,
        "outcome": facts.outcome,
        "stan": facts.stan,
        "amount_minor": facts.amount_minor,
        "truncated": receipt.truncated,
        "blank": receipt.blank,
        "bytes": [receipt.start_offset, receipt.end_offset],
    }


class Reconciler:
    """Joins the evidence and lists findings in a stable order."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        # Trace records are linked by keys they share: a STAN, a sale id, a print job id,
        # or the printer byte offset a job started at (which is where its receipt starts).
        self._by_key: dict[tuple[str, str, Any], list[int]] = defaultdict(list)
        self._records: dict[int, dict[str, Any]] = {}
        for record in evidence.trace:
            data = record.get("data")
            if not isinstance(data, dict):
                continue
            ident = record["id"]
            self._records[ident] = record
            for key in self._keys(record):
                self._by_key[key].append(ident)

    @staticmethod
    def _keys(record: dict[str, Any]) -> list[tuple[str, str, Any]]:
        data = record.get("data") or {}
        terminal = record["terminal"]
        keys = []
        for stan in [*(data.get("stans") or []), data.get("stan")]:
            if stan:
                keys.append((terminal, "stan", stan))
        if data.get("sale_id"):
            keys.append((terminal, "sale", data["sale_id"]))
        for job in [*(data.get("jobs_damaged") or []), data.get("job_id")]:
            if job is not None:
                keys.append((terminal, "job", job))
        if data.get("at_byte") is not None:
            keys.append((terminal, "byte", data["at_byte"]))
        return keys

    def _linked(self, seeds: list[tuple[str, str, Any]]) -> list[int]:
        """Records sharing a seed key, then records sharing their stan/sale/job keys."""
        first: set[int] = set()
        for key in seeds:
            first.update(self._by_key.get(key, []))
        found = set(first)
        for ident in first:
            for key in self._keys(self._records[ident]):
                if key[1] != "byte":
                    found.update(self._by_key.get(key, []))
        return sorted(found)

    def _ids(self, terminal_id: str, stan: str) -> list[int]:
        """Trace ids about this STAN, and about the sale it belongs to."""
        return self._linked([(terminal_id, "stan", stan)])

    def _paper_ids(self, receipt: PaperReceipt) -> list[int]:
        """Trace ids behind a receipt: what printed it (by byte offset), and its sale."""
        seeds: list[tuple[str, str, Any]] = [(receipt.terminal_id, "byte", receipt.start_offset)]
        if receipt.facts.stan:
            seeds.append((receipt.terminal_id, "stan", receipt.facts.stan))
        return self._linked(seeds)

    def _causes(self, ids: list[int]) -> list[dict[str, Any]]:
        causes = []
        for ident in ids:
            record = self._records.get(ident)
            if record is not None and record["kind"] == "fault":
                data = record.get("data") or {}
                causes.append({"fault": data.get("fault", record["name"]),
                               "effect": data.get("effect", record["name"]),
                               "crash_point": record.get("crash_point") or
                               data.get("crash_point"),
                               "trace_id": ident, "t": record["t"]})
        return causes

    def findings(self) -> list[Finding]:
        ev = self.evidence
        journal = {(r["terminal_id"], r["stan"]): r for r in ev.journal}
        books = {(r["terminal_id"], r["stan"]): r for r in ev.backoffice or []}
        books.update(journal)
        paper: dict[tuple[str, str], list[PaperReceipt]] = defaultdict(list)
        found: list[Finding] = []

        for receipt in ev.receipts:
            facts = receipt.facts
            key = (receipt.terminal_id, facts.stan)
            if facts.stan:
                paper[key].append(receipt)
            if receipt.blank:
                found.append(Finding(
                    "BLANK_RECEIPT", receipt.terminal_id, "",
                    f"receipt {receipt.ref} came out blank: no transaction data on paper",
                    {"receipt": _receipt_ref(receipt)}, self._paper_ids(receipt)))
            if receipt.truncated:
                found.append(Finding(
                    "TRUNCATED_RECEIPT", receipt.terminal_id, facts.stan,
                    f"receipt {receipt.ref} was cut off mid-print",
                    {"receipt": _receipt_ref(receipt)}, self._paper_ids(receipt)))
            if not facts.stan and receipt.truncated and not receipt.blank:
                continue  # cut off before its STAN: TRUNCATED_RECEIPT says it all
            if not facts.stan:
                what = "blank slip" if receipt.blank else (
                    f"'{facts.outcome}' slip" if facts.outcome else "slip without transaction data")
                found.append(Finding(
                    "STRAY_RECEIPT", receipt.terminal_id, "",
                    f"receipt {receipt.ref} is a {what}: paper with no transaction behind it",
                    {"receipt": _receipt_ref(receipt)}, self._paper_ids(receipt)))
            elif key in books and facts.approved and books[key]["state"] not in (
                    "approved", "voided"):
                found.append(Finding(
                    "STRAY_RECEIPT", receipt.terminal_id, facts.stan,
                    f"receipt {receipt.ref} shows STAN {facts.stan} APPROVED but the books "
                    f"hold it as '{books[key]['state']}': the paper contradicts the record",
                    {"receipt": _receipt_ref(receipt), "journal": _journal_ref(books[key])},
                    self._paper_ids(receipt)))
            elif key not in books:
                kind = "an APPROVED" if facts.approved else f"a '{facts.outcome}'"
                found.append(Finding(
                    "STRAY_RECEIPT", receipt.terminal_id, facts.stan,
                    f"receipt {receipt.ref} shows {kind} STAN {facts.stan} the journal "
                    "has no record of",
                    {"receipt": _receipt_ref(receipt), "journal": None},
                    self._paper_ids(receipt)))

        for row in ev.host:
            if row["type"] != "sale" or row["status"] != "approved":
                continue
            key = (row["terminal_id"], row["stan"])
            record = books.get(key)
            if record is None:
                found.append(Finding(
                    "LOST_RECORD", row["terminal_id"], row["stan"],
                    f"the host approved STAN {row['stan']} "
                    f"({Money(row['amount_minor'], row['currency']).format()}) and neither "
                    "the journal nor "
                    "the back office has a record of it",
                    {"host": _host_ref(row), "journal": None}, self._ids(*key)))
            elif record["state"] != "approved":
                found.append(Finding(
                    "ORPHAN_AUTHORIZATION", row["terminal_id"], row["stan"],
                    f"the host approved STAN {row['stan']} but the terminal recorded it as "
                    f"'{record['state']}' and never reversed it: the customer is charged for "
                    "nothing",
                    {"host": _host_ref(row), "journal": _journal_ref(record)},
                    self._ids(*key)))

        for key, record in journal.items():
            if record["type"] != "sale" or record["state"] != "approved":
                continue
            complete = [r for r in paper.get(key, []) if not r.truncated]
            if not complete:
                found.append(Finding(
                    "MISSING_RECEIPT", record["terminal_id"], record["stan"],
                    f"the journal has approved STAN {record['stan']} and no complete receipt "
                    "shows it (recoverable: reprint)",
                    {"journal": _journal_ref(record),
                     "receipts": [_receipt_ref(r) for r in paper.get(key, [])]},
                    self._ids(*key)))

        found += self._duplicates(ev, journal)
        found += self._totals(ev, books)

        if ev.backoffice is not None:
            synced = {(r["terminal_id"], r["stan"]) for r in ev.backoffice}
            for key, record in journal.items():
                if record["state"] in ("pending",) or key in synced:
                    continue
                found.append(Finding(
                    "UNSYNCED_RECORD", record["terminal_id"], record["stan"],
                    f"the journal has STAN {record['stan']} ({record['state']}) and the back "
                    "office does not",
                    {"journal": _journal_ref(record), "backoffice": None}, self._ids(*key)))

        for finding in found:
            finding.causes = self._causes(finding.trace_ids)
        return self._sorted(found)

    @staticmethod
    def _sorted(found: list[Finding]) -> list[Finding]:
        found.sort(key=lambda f: (f.code, f.terminal_id, f.stan, f.summary))
        return found

    def _sale_of(self, key: tuple[str, str], journal: dict[tuple[str, str], dict[str, Any]]
                 ) -> str:
        """The sale intent a STAN belongs to: from the journal, else from the device log."""
        record = journal.get(key)
        if record is not None and record.get("sale_id"):
            return str(record["sale_id"])
        for ident in self._by_key.get((key[0], "stan", key[1]), []):
            sale_id = (self._records[ident].get("data") or {}).get("sale_id")
            if sale_id:
                return str(sale_id)
        return ""

    def _duplicates(self, ev: Evidence, journal: dict[tuple[str, str], dict[str, Any]]
                    ) -> list[Finding]:
        by_intent: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in ev.host:
            if row["type"] == "sale" and row["status"] == "approved":
                key = (row["terminal_id"], row["stan"])
                sale_id = self._sale_of(key, journal)
                if sale_id:
                    by_intent[(row["terminal_id"], sale_id)].append(row)
        found = []
        for (terminal_id, sale_id), rows in sorted(by_intent.items()):
            if len(rows) < 2:
                continue
            stans = [r["stan"] for r in rows]
            ids = sorted({i for stan in stans for i in self._ids(terminal_id, stan)})
            found.append(Finding(
                "DUPLICATE_CHARGE", terminal_id, stans[-1],
                f"sale {sale_id} was charged {len(rows)} times by the host "
                f"(STANs {', '.join(stans)})",
                {"host": [_host_ref(r) for r in rows], "sale_id": sale_id}, ids))
        return found

    def _totals(self, ev: Evidence, books: dict[tuple[str, str], dict[str, Any]]
                ) -> list[Finding]:
        counted: dict[str, set[tuple[str, str]]] = {"books": set(), "host": set()}

        def add(totals: dict[tuple[str, str], int], row: dict[str, Any], state: str,
                side: str) -> None:
            sign = {"sale": 1, "void": -1, "refund": -1}.get(row["type"], 0)
            if row[state] == "approved" or (row["type"] == "sale" and row[state] == "voided"):
                totals[(row["terminal_id"], row["currency"])] += sign * row["amount_minor"]
                counted[side].add((row["terminal_id"], row["stan"]))

        terminal: dict[tuple[str, str], int] = defaultdict(int)
        host: dict[tuple[str, str], int] = defaultdict(int)
        for row in books.values():
            add(terminal, row, "state", "books")
        for row in ev.host:
            add(host, row, "status", "host")
        differing = sorted(counted["books"] ^ counted["host"])
        found = []
        for key in sorted(set(terminal) | set(host)):
            if terminal[key] != host[key]:
                ours, theirs = Money(terminal[key], key[1]), Money(host[key], key[1])
                found.append(Finding(
                    "TOTALS_MISMATCH", key[0], "",
                    f"end-of-day totals disagree: the books say {ours.format()}, "
                    f"the host says {theirs.format()}",
                    {"terminal_total": terminal[key], "host_total": host[key],
                     "currency": key[1],
                     "stans_on_one_side": [s for t, s in differing if t == key[0]]},
                    sorted({i for t, s in differing if t == key[0] for i in self._ids(t, s)})))
        return found
