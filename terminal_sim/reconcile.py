"""Reconciliation: join paper, journal, host ledger (and back office) and name the gaps.

The join key is (terminal id, STAN): the STAN is printed on the slip, stored in the
journal and sent to the host. Each finding carries a stable code (DESIGN.md), the
evidence rows it points at, and the trace event ids behind it.

=========================  ==============================================================
code                       rule
=========================  ==============================================================
``STRAY_RECEIPT``          a receipt whose STAN has no journal record, or with no
                           transaction data at all (error slip, blank slip)
``BLANK_RECEIPT``          a receipt with nothing printed on it but feeds and a cut
``TRUNCATED_RECEIPT``      a receipt cut off mid-print (no cut at the end of the stream)
``LOST_RECORD``            the host approved a sale (not voided or reversed), the journal
                           has no record of it
``ORPHAN_AUTHORIZATION``   the host approved, the journal says the sale failed or was
                           declined or is still pending: the customer is charged for nothing
``MISSING_RECEIPT``        the journal has an approved sale, no complete receipt shows it
``UNSYNCED_RECORD``        the journal has a final record the back office lacks
=========================  ==============================================================
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from terminal_sim.evidence import Evidence, PaperReceipt


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
        self._trace_by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
        for record in evidence.trace:
            data = record.get("data") or {}
            stan = data.get("stan") if isinstance(data, dict) else None
            if stan:
                self._trace_by_key[(record["terminal"], stan)].append(record["id"])

    def _ids(self, terminal_id: str, stan: str) -> list[int]:
        return list(self._trace_by_key.get((terminal_id, stan), []))

    def findings(self) -> list[Finding]:
        ev = self.evidence
        journal = {(r["terminal_id"], r["stan"]): r for r in ev.journal}
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
                    {"receipt": _receipt_ref(receipt)}))
            if receipt.truncated:
                found.append(Finding(
                    "TRUNCATED_RECEIPT", receipt.terminal_id, facts.stan,
                    f"receipt {receipt.ref} was cut off mid-print",
                    {"receipt": _receipt_ref(receipt)}, self._ids(*key) if facts.stan else []))
            if not facts.stan:
                what = "blank slip" if receipt.blank else (
                    f"'{facts.outcome}' slip" if facts.outcome else "slip without transaction data")
                found.append(Finding(
                    "STRAY_RECEIPT", receipt.terminal_id, "",
                    f"receipt {receipt.ref} is a {what}: paper with no transaction behind it",
                    {"receipt": _receipt_ref(receipt)}))
            elif key not in journal:
                kind = "an APPROVED" if facts.approved else f"a '{facts.outcome}'"
                found.append(Finding(
                    "STRAY_RECEIPT", receipt.terminal_id, facts.stan,
                    f"receipt {receipt.ref} shows {kind} STAN {facts.stan} the journal "
                    "has no record of",
                    {"receipt": _receipt_ref(receipt), "journal": None},
                    self._ids(*key)))

        for row in ev.host:
            if row["type"] != "sale" or row["status"] != "approved":
                continue
            key = (row["terminal_id"], row["stan"])
            record = journal.get(key)
            if record is None:
                found.append(Finding(
                    "LOST_RECORD", row["terminal_id"], row["stan"],
                    f"the host approved STAN {row['stan']} "
                    f"({row['amount_minor']} {row['currency']}) and the journal has no record",
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

        found.sort(key=lambda f: (f.code, f.terminal_id, f.stan, f.summary))
        return found
