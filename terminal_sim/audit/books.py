"""What each source says a (terminal, STAN) moved: the signed standing amount.

The auditor's own definitions, from the ledger's and the journal's documented states
(not from the reconciler):

* host ``transactions`` (types sale, void, refund): a sale the host approved stands for
  ``+amount`` whether it is still ``approved`` or was later ``voided`` (the void is its
  own row and carries ``-amount``); an approved void or refund stands for ``-amount``;
  ``declined``, ``unanswered`` and ``reversed`` stand for nothing (a reversal puts back
  what it reverses; a reversed void puts its sale back to ``approved``);
* the journal and the back office: a record ``approved`` (or a sale ``voided`` by a
  void record) stands for its signed amount; ``pending``, ``failed``, ``declined``,
  ``reversed`` for nothing.

So summing the standing amounts of every key of a card gives its net charge, and every
source can be compared with the host key by key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from terminal_sim.audit.artifacts import BookRow, HostRow

__all__ = ["FINANCIAL", "Standing", "book_standing", "host_standing", "sign"]

FINANCIAL = ("sale", "void", "refund")
_HOST_STANDS = {"sale": ("approved", "voided"), "void": ("approved",), "refund": ("approved",)}
_BOOK_STANDS = {"sale": ("approved", "voided"), "void": ("approved",), "refund": ("approved",)}

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Standing:
    """One source's view of one key: its type, state and signed standing amount."""

    type: str
    state: str
    amount_minor: int
    net_minor: int
    currency: str

    def describe(self) -> dict[str, object]:
        return {"type": self.type, "state": self.state, "amount_minor": self.amount_minor,
                "net_minor": self.net_minor}


def sign(kind: str) -> int:
    """+1 for what charges the card (a sale), -1 for what pays back (void, refund)."""
    return 1 if kind == "sale" else -1


def host_standing(rows: Iterable[HostRow]) -> dict[Key, Standing]:
    """The host's financial transactions by (terminal, STAN)."""
    standing: dict[Key, Standing] = {}
    for row in rows:
        if row.type not in FINANCIAL:
            continue
        stands = row.status in _HOST_STANDS[row.type]
        net = sign(row.type) * row.amount_minor if stands else 0
        standing[(row.terminal_id, row.stan)] = Standing(row.type, row.status, row.amount_minor,
                                                         net, row.currency)
    return standing


def book_standing(rows: Iterable[BookRow]) -> dict[Key, Standing]:
    """A book's (journal or back office) records by (terminal, STAN)."""
    standing: dict[Key, Standing] = {}
    for row in rows:
        stands = row.state in _BOOK_STANDS.get(row.type, ())
        net = sign(row.type) * row.amount_minor if stands else 0
        standing[(row.terminal_id, row.stan)] = Standing(row.type, row.state, row.amount_minor,
                                                         net, row.currency)
    return standing
