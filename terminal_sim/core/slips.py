"""What the terminal means to print. The printer package turns a Slip into ESC/POS bytes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Slip:
    """One customer slip. ``masked_pan`` already hides all but the last four digits."""

    kind: str  # sale | void | error
    outcome: str  # APPROVED | DECLINED | NOT COMPLETED | CARD UNREADABLE ...
    merchant_name: str
    merchant_id: str
    terminal_id: str
    printed_at: dt.datetime
    amount_minor: int | None = None
    currency: str | None = None
    masked_pan: str = ""
    scheme: str = ""
    stan: str = ""
    rrn: str = ""
    approval_code: str = ""
    response_code: str = ""
    message: str = ""
    copy_label: str = ""  # "DUPLICATE" on a reprint

    def trace_data(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "outcome": self.outcome,
            "stan": self.stan,
            "rrn": self.rrn,
            "amount": self.amount_minor,
        }
