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

#: The transaction types that move money: each counts like a sale in every rule.
FINANCIAL = ("sale", "refund", "void")


def _kind(kind: str) -> str:
    """How a summary names a transaction type: nothing for a sale (the wording every
    sale finding always had), "refund " or "void " otherwise."""
    return "" if kind in ("sale", "") else f"{kind} "


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
        return self.standing_host_rows(("sale",))

    def standing_host_rows(self, kinds: tuple[str, ...] = FINANCIAL
                           ) -> list[dict[str, Any]]:
        """Rows of these types the host approved that still stand (not voided or
        reversed), in ledger order: a standing void is a sale the host cancelled."""
        return [row for row in self.evidence.host
                if row["type"] in kinds and row["status"] == "approved"]

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
    if not join.evidence.journal_known:
        return None  # whether the books hold its STAN is not known
    record = join.books.get((receipt.terminal_id, facts.stan))
    what = _kind(facts.kind) if facts.kind in FINANCIAL else ""
    if record is None:
        kind = "an APPROVED" if facts.approved else f"a '{facts.outcome}'"
        return _paper_finding(
            join, "STRAY_RECEIPT", receipt, facts.stan,
            f"receipt {receipt.ref} shows {kind} {what}STAN {facts.stan} the journal "
            "has no record of", journal=None)
    if facts.approved and record["state"] not in ("approved", "voided"):
        return _paper_finding(
            join, "STRAY_RECEIPT", receipt, facts.stan,
            f"receipt {receipt.ref} shows {what}STAN {facts.stan} APPROVED but the books "
            f"hold it as '{record['state']}': the paper contradicts the record",
            journal=journal_ref(record))
    return None


def stray_receipt(join: Join) -> list[Finding]:
    found = (_stray(join, receipt) for receipt in join.evidence.receipts)
    return [finding for finding in found if finding is not None]


#: What it costs, per type, when the books miss what the host did.
_BOOKS_MISS = {
    "sale": "",
    "refund": ": the customer is credited and the merchant's books do not show it",
    "void": ": the merchant's books still show the sale as charged",
}


def _amount(row: dict[str, Any]) -> str:
    return Money(row["amount_minor"], row["currency"]).format()


def _of_sale(row: dict[str, Any]) -> str:
    original = row.get("original_stan")
    return f" of sale STAN {original}" if original else ""


def lost_record(join: Join) -> list[Finding]:
    """The host holds a transaction the books do not: money moved that nobody booked.

    A sale, refund or void the host approved and that stands, with no record in the
    journal or the back office. A lost void leaves the books showing its sale as
    charged, a lost refund leaves them without the customer's credit. Also a reversal
    the books never learnt: the host reversed a transaction the books hold as approved.
    """
    found: list[Finding] = []
    if not join.evidence.journal_known:
        return found  # the books are not known: nothing is missing from them
    for row in join.evidence.host:
        key = (row["terminal_id"], row["stan"])
        kind, what = row["type"], _kind(row["type"])
        if kind not in FINANCIAL:
            continue
        record = join.books.get(key)
        if row["status"] == "approved" and record is None:
            summary = (f"the host approved {what}STAN {row['stan']}{_of_sale(row)} "
                       f"({_amount(row)}) and neither the journal nor the back office has "
                       f"a record of it{_BOOKS_MISS[kind]}")
        elif row["status"] == "reversed" and record is not None \
                and record["state"] == "approved":
            summary = (f"the host reversed {what}STAN {row['stan']} ({_amount(row)}) and "
                       "the books still hold it as approved: the reversal is missing from "
                       "the books")
        else:
            continue
        found.append(Finding(
            "LOST_RECORD", row["terminal_id"], row["stan"], summary,
            {"host": host_ref(row), "journal": journal_ref(record) if record else None},
            join.links.ids(*key)))
    return found


#: Who an orphan wrongs, per type: the host did it, the terminal says it did not.
_ORPHAN_WRONGS = {
    "sale": "the customer is charged for nothing",
    "refund": "the customer is credited while the merchant's books say no refund was made "
              "(a refund given again credits twice)",
    "void": "the host cancelled the sale while the merchant's books still show it charged",
}


def orphan_authorization(join: Join) -> list[Finding]:
    """The host approved a transaction that stands; the terminal believes it failed
    (declined, failed, still pending) and no reversal reached the host.

    Who is wronged depends on the type: for a sale the customer, charged for nothing;
    for a refund the merchant, whose money went to the customer with nothing in the
    books (and a cashier told "not completed" gives the refund again); for a void the
    merchant, whose books count a sale the host cancelled and will never pay.
    """
    found = []
    for row in join.standing_host_rows():
        record = join.books.get((row["terminal_id"], row["stan"]))
        if record is None or record["state"] == "approved":
            continue
        evidence: dict[str, Any] = {"host": host_ref(row), "journal": journal_ref(record)}
        summary = (f"the host approved {_kind(row['type'])}STAN {row['stan']} but the terminal "
                   f"recorded it as '{record['state']}' and never reversed it: "
                   f"{_ORPHAN_WRONGS[row['type']]}")
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
    """An approved sale, refund or void in the journal with no complete slip on paper."""
    found = []
    for key, record in join.journal.items():
        if record["type"] not in FINANCIAL or record["state"] != "approved":
            continue
        printed = join.paper.get(key, [])
        if any(not receipt.truncated for receipt in printed):
            continue
        found.append(Finding(
            "MISSING_RECEIPT", record["terminal_id"], record["stan"],
            f"the journal has approved {_kind(record['type'])}STAN {record['stan']} and no "
            "complete receipt shows it (recoverable: reprint)",
            {"journal": journal_ref(record), "receipts": [receipt_ref(r) for r in printed]},
            join.links.ids(*key)))
    return found


def duplicate_charge(join: Join) -> list[Finding]:
    """Two standing host approvals for one intent: a sale charged twice, or a refund
    credited twice. (A void carries its sale's id, and the host approves one void per
    sale: a second is declined.)"""
    by_intent: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in join.standing_host_rows(("sale", "refund")):
        sale_id = join.sale_of((row["terminal_id"], row["stan"]))
        if sale_id:  # a cashier's retry is the same purchase as its first attempt
            intent = join.links.intent(row["terminal_id"], sale_id)
            by_intent[(row["terminal_id"], intent, row["type"])].append(row)
    found = []
    for (terminal_id, sale_id, kind), rows in sorted(by_intent.items()):
        if len(rows) < 2:
            continue
        stans = [r["stan"] for r in rows]
        ids = sorted({i for stan in stans for i in join.links.ids(terminal_id, stan)})
        found.append(Finding(
            "DUPLICATE_CHARGE", terminal_id, stans[-1],
            f"{kind} {sale_id} was {'credited' if kind == 'refund' else 'charged'} "
            f"{len(rows)} times by the host (STANs {', '.join(stans)})",
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
    if not join.evidence.journal_known:  # the host's own verdicts on settlements only
        return settlement_out_of_balance(join)
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
        if record.get("name") != "totals_reply":  # (the name first: most records)
            continue
        data = record.get("data") or {}
        if data.get("rc") in (None, "00"):
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
        f"the journal has {_kind(record['type'])}STAN {record['stan']} ({record['state']}) "
        "and the back office does not",
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
