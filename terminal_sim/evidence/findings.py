"""A finding, and the references to evidence rows it carries into ``report.json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from terminal_sim.evidence.sources import PaperReceipt


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


def journal_ref(row: dict[str, Any]) -> dict[str, Any]:
    """The columns of a journal (or back-office) row a finding shows."""
    return {k: row[k] for k in ("terminal_id", "stan", "type", "state", "amount_minor",
                                "currency", "rrn", "approval_code", "masked_pan")}


def host_ref(row: dict[str, Any]) -> dict[str, Any]:
    """The columns of a host ledger row a finding shows."""
    return {k: row[k] for k in ("terminal_id", "stan", "type", "status", "response_code",
                                "amount_minor", "currency", "rrn", "approval_code")}


def receipt_ref(receipt: PaperReceipt) -> dict[str, Any]:
    """What a finding shows of a receipt: its ref, what it says, where its bytes are."""
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
