"""One rule per finding code, over one shared join of the evidence.

Each rule reads the :class:`Join` and returns its findings in the order its source
gives them (receipts in roll order, host rows in ledger order, journal records in key
order); :class:`~terminal_sim.evidence.reconcile.Reconciler` runs :data:`RULES`, adds
the causes and sorts. The rules themselves are documented in the reconcile module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from terminal_sim.base.money import Money
from terminal_sim.evidence.findings import Finding, host_ref, journal_ref, receipt_ref
from terminal_sim.evidence.links import TraceLinks
from terminal_sim.evidence.sources import Evidence, PaperReceipt

Key = tuple[str, str]  # (terminal id, STAN)
Rows = dict[Key, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Join:
    """The evidence joined on (terminal id, STAN)."""

    evidence: Evidence
    links: TraceLinks
    journal: Rows
    #: the journal and the back office together: a record evicted after sync is not lost
    books: Rows
    #: the receipts that show a STAN, by key, in roll order
    paper: dict[Key, list[PaperReceipt]]

    @classmethod
    def of(cls, evidence: Evidence) -> Join:
        journal = {(r["terminal_id"], r["stan"]): r for r in evidence.journal}
        books = {(r["terminal_id"], r["stan"]): r for r in evidence.backoffice or []}
        books.update(journal)
        paper: dict[Key, list[PaperReceipt]] = defaultdict(list)
        for receipt in evidence.receipts:
            if receipt.facts.stan:
                paper[(receipt.terminal_id, receipt.facts.stan)].append(receipt)
        return cls(evidence, TraceLinks(evidence.trace), journal, books, paper)

    def approved_host_sales(self) -> list[dict[str, Any]]:
        """Sales the host approved and that still stand (not voided or reversed)."""
        return [row for row in self.evidence.host
                if row["type"] == "sale" and row["status"] == "approved"]

    def sale_of(self, key: Key) -> str:
        """The sale intent a STAN belongs to: from the journal, else from the device log."""
        record = self.journal.get(key)
        if record is not None and record.get("sale_id"):
            return str(record["sale_id"])
        return self.links.sale_id(*key)


def _paper_finding(join: Join, code: str, receipt: PaperReceipt, stan: str, summary: str,
                   **more: Any) -> Finding:
    return Finding(code, receipt.terminal_id, stan, summary,
                   {"receipt": receipt_ref(receipt), **more}, join.links.paper_ids(receipt))


def blank_receipt(join: Join) -> list[Finding]:
    return [_paper_finding(join, "BLANK_RECEIPT", receipt, "",
                           f"receipt {receipt.ref} came out blank: no transaction data on paper")
            for receipt in join.evidence.receipts if receipt.blank]


def truncated_receipt(join: Join) -> list[Finding]:
    return [_paper_finding(join, "TRUNCATED_RECEIPT", receipt, receipt.facts.stan,
                           f"receipt {receipt.ref} was cut off mid-print")
            for receipt in join.evidence.receipts if receipt.truncated]


def _stray(join: Join, receipt: PaperReceipt) -> Finding | None:
    facts = receipt.facts
    if not facts.stan:
        if receipt.truncated and not receipt.blank:
            return None  # cut off before its STAN: TRUNCATED_RECEIPT says it all
        what = "blank slip" if receipt.blank else (
            f"'{facts.outcome}' slip" if facts.outcome else "slip without transaction data")
        return _paper_finding(
            join, "STRAY_RECEIPT", receipt, "",
            f"receipt {receipt.ref} is a {what}: paper with no transaction behind it")
    record = join.books.get((receipt.terminal_id, facts.stan))
    if record is None:
        kind = "an APPROVED" if facts.approved else f"a '{facts.outcome}'"
        return _paper_finding(
            join, "STRAY_RECEIPT", receipt, facts.stan,
            f"receipt {receipt.ref} shows {kind} STAN {facts.stan} the journal "
            "has no record of", journal=None)
    if facts.approved and record["state"] not in ("approved", "voided"):
        return _paper_finding(
            join, "STRAY_RECEIPT", receipt, facts.stan,
            f"receipt {receipt.ref} shows STAN {facts.stan} APPROVED but the books "
            f"hold it as '{record['state']}': the paper contradicts the record",
            journal=journal_ref(record))
    return None


def stray_receipt(join: Join) -> list[Finding]:
    found = (_stray(join, receipt) for receipt in join.evidence.receipts)
    return [finding for finding in found if finding is not None]


def lost_record(join: Join) -> list[Finding]:
    return [Finding(
        "LOST_RECORD", row["terminal_id"], row["stan"],
        f"the host approved STAN {row['stan']} "
        f"({Money(row['amount_minor'], row['currency']).format()}) and neither the journal "
        "nor the back office has a record of it",
        {"host": host_ref(row), "journal": None}, join.links.ids(row["terminal_id"], row["stan"]))
        for row in join.approved_host_sales()
        if (row["terminal_id"], row["stan"]) not in join.books]


def orphan_authorization(join: Join) -> list[Finding]:
    found = []
    for row in join.approved_host_sales():
        record = join.books.get((row["terminal_id"], row["stan"]))
        if record is None or record["state"] == "approved":
            continue
        evidence: dict[str, Any] = {"host": host_ref(row), "journal": journal_ref(record)}
        summary = (f"the host approved STAN {row['stan']} but the terminal recorded it as "
                   f"'{record['state']}' and never reversed it: the customer is charged "
                   "for nothing")
        abandoned = _reversal_abandoned(join, row["terminal_id"], row["stan"])
        if abandoned is not None:
            evidence["reversal"] = abandoned
            summary += f" (reversal abandoned after {abandoned['attempts']} attempts)"
        found.append(Finding("ORPHAN_AUTHORIZATION", row["terminal_id"], row["stan"], summary,
                             evidence, join.links.ids(row["terminal_id"], row["stan"])))
    return found


def _reversal_abandoned(join: Join, terminal_id: str, stan: str) -> dict[str, Any] | None:
    """The terminal's note that it gave up reversing ``stan``, if it did."""
    for record in join.evidence.trace:
        data = record.get("data") or {}
        if (record.get("name") == "reversal_given_up" and record.get("terminal") == terminal_id
                and data.get("stan") == stan):
            return {"state": "given-up", "attempts": data.get("attempts"),
                    "trace_id": record.get("id")}
    return None


def missing_receipt(join: Join) -> list[Finding]:
    found = []
    for key, record in join.journal.items():
        if record["type"] != "sale" or record["state"] != "approved":
            continue
        printed = join.paper.get(key, [])
        if any(not receipt.truncated for receipt in printed):
            continue
        found.append(Finding(
            "MISSING_RECEIPT", record["terminal_id"], record["stan"],
            f"the journal has approved STAN {record['stan']} and no complete receipt "
            "shows it (recoverable: reprint)",
            {"journal": journal_ref(record), "receipts": [receipt_ref(r) for r in printed]},
            join.links.ids(*key)))
    return found


def duplicate_charge(join: Join) -> list[Finding]:
    by_intent: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in join.approved_host_sales():
        sale_id = join.sale_of((row["terminal_id"], row["stan"]))
        if sale_id:
            by_intent[(row["terminal_id"], sale_id)].append(row)
    found = []
    for (terminal_id, sale_id), rows in sorted(by_intent.items()):
        if len(rows) < 2:
            continue
        stans = [r["stan"] for r in rows]
        ids = sorted({i for stan in stans for i in join.links.ids(terminal_id, stan)})
        found.append(Finding(
            "DUPLICATE_CHARGE", terminal_id, stans[-1],
            f"sale {sale_id} was charged {len(rows)} times by the host "
            f"(STANs {', '.join(stans)})",
            {"host": [host_ref(r) for r in rows], "sale_id": sale_id}, ids))
    return found


_SIGN = {"sale": 1, "void": -1, "refund": -1}


def _totals(rows: list[dict[str, Any]], state: str
            ) -> tuple[dict[tuple[str, str], int], set[Key]]:
    """End-of-day totals per (terminal, currency) of ``rows``, and the keys counted."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    counted: set[Key] = set()
    for row in rows:
        sign = _SIGN.get(row["type"], 0)
        if row[state] == "approved" or (row["type"] == "sale" and row[state] == "voided"):
            totals[(row["terminal_id"], row["currency"])] += sign * row["amount_minor"]
            counted.add((row["terminal_id"], row["stan"]))
    return totals, counted


def totals_mismatch(join: Join) -> list[Finding]:
    terminal, in_books = _totals(list(join.books.values()), "state")
    host, in_host = _totals(join.evidence.host, "status")
    differing = sorted(in_books ^ in_host)
    found = []
    for key in sorted(set(terminal) | set(host)):
        if terminal[key] == host[key]:
            continue
        ours, theirs = Money(terminal[key], key[1]), Money(host[key], key[1])
        found.append(Finding(
            "TOTALS_MISMATCH", key[0], "",
            f"end-of-day totals disagree: the books say {ours.format()}, "
            f"the host says {theirs.format()}",
            {"terminal_total": terminal[key], "host_total": host[key], "currency": key[1],
             "stans_on_one_side": [s for t, s in differing if t == key[0]]},
            sorted({i for t, s in differing if t == key[0] for i in join.links.ids(t, s)})))
    reported = {finding.terminal_id for finding in found}
    return found + [f for f in settlement_out_of_balance(join) if f.terminal_id not in reported]


def settlement_out_of_balance(join: Join) -> list[Finding]:
    """Each settlement the host answered out of balance (``95``): the terminal's totals
    (from its journal) and the host's disagree, even when the books agree with the host
    (a journal trimmed by eviction or a migration settles short)."""
    found = []
    for record in join.evidence.trace:
        data = record.get("data") or {}
        if record.get("name") != "totals_reply" or data.get("rc") in (None, "00"):
            continue
        differences = data.get("differences") or {}
        found.append(Finding(
            "TOTALS_MISMATCH", str(record.get("terminal")), "",
            f"the host answered the settlement with {data.get('rc')} (out of balance): the "
            "terminal's totals and the host's disagree"
            + (f" in fields {', '.join(sorted(differences))}" if differences else ""),
            {"response_code": data.get("rc"), "settlement_stan": data.get("stan"),
             "terminal_vs_host": differences},
            [int(record["id"])]))
    return found


def unsynced_record(join: Join) -> list[Finding]:
    if join.evidence.backoffice is None:  # no back office ran: nothing to be synced to
        return []
    synced = {(r["terminal_id"], r["stan"]) for r in join.evidence.backoffice}
    return [Finding(
        "UNSYNCED_RECORD", record["terminal_id"], record["stan"],
        f"the journal has STAN {record['stan']} ({record['state']}) and the back "
        "office does not",
        {"journal": journal_ref(record), "backoffice": None}, join.links.ids(*key))
        for key, record in join.journal.items()
        if record["state"] != "pending" and key not in synced]


Rule = Callable[[Join], list[Finding]]

#: Every finding code and the rule that finds it (the order of codes in DESIGN.md).
RULES: dict[str, Rule] = {
    "STRAY_RECEIPT": stray_receipt,
    "LOST_RECORD": lost_record,
    "ORPHAN_AUTHORIZATION": orphan_authorization,
    "DUPLICATE_CHARGE": duplicate_charge,
    "UNSYNCED_RECORD": unsynced_record,
    "MISSING_RECEIPT": missing_receipt,
    "BLANK_RECEIPT": blank_receipt,
    "TRUNCATED_RECEIPT": truncated_receipt,
    "TOTALS_MISMATCH": totals_mismatch,
}
