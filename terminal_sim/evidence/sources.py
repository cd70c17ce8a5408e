"""The four kinds of evidence a sale leaves, gathered for reconciliation.

* paper: the receipts the printer produced from the bytes it actually received
* journal: the terminal's SQLite records
* host: the acquirer's ledger of transactions
* back office: the merchant's copy, fed by sync (absent until a back office runs)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from terminal_sim.receipts.layout import SlipFacts, read_slip


@dataclass(frozen=True, slots=True)
class PaperReceipt:
    """One receipt off one terminal's printer."""

    terminal_id: str  # whose printer it came out of
    index: int  # 1-based position on that printer's roll
    text: str
    truncated: bool
    blank: bool
    start_offset: int
    end_offset: int
    facts: SlipFacts

    @property
    def ref(self) -> str:
        return f"{self.terminal_id}#{self.index}"

    @classmethod
    def from_receipt(cls, terminal_id: str, index: int, receipt: Any) -> PaperReceipt:
        text = receipt.text
        return cls(
            terminal_id=terminal_id,
            index=index,
            text=text,
            truncated=bool(receipt.truncated),
            blank=bool(receipt.is_blank),
            start_offset=int(receipt.start_offset),
            end_offset=int(receipt.end_offset),
            facts=read_slip(text),
        )


@dataclass
class Evidence:
    """Everything reconciliation joins.

    ``backoffice`` is None when no back office ran. ``journal_known`` is False when the
    terminals' journal is not known at all (a lab session: the application under test
    keeps its own records, ``pos-sim lab reconcile`` brings them): an empty ``journal``
    then says nothing, and nothing is judged against the books.
    """

    receipts: list[PaperReceipt] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)
    host: list[dict[str, Any]] = field(default_factory=list)
    backoffice: list[dict[str, Any]] | None = None
    trace: list[dict[str, Any]] = field(default_factory=list)
    journal_known: bool = True
