"""Effects the terminal core asks its runtime to perform, in order.

Every boundary between two effects is a crash point named ``{flow}/after:{step}``
where ``step`` is the event that started the batch or the effect just done.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any

from terminal_sim.base.cards import Card
from terminal_sim.core.messages import AuthorizationRequest
from terminal_sim.core.slips import Slip


@dataclass(frozen=True, slots=True)
class Effect:
    """Base of all effects; ``step`` names it in crash points and the trace."""

    @property
    def step(self) -> str:
        raise NotImplementedError

    def trace_data(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class ReadCard(Effect):
    """Ask the reader to read the presented card."""

    sale_id: str
    card: Card = field(repr=False)

    @property
    def step(self) -> str:
        return "read_card"

    def trace_data(self) -> dict[str, Any]:
        return {"sale_id": self.sale_id}


@dataclass(frozen=True, slots=True)
class SendToHost(Effect):
    """Send a request to the acquirer (the link encodes it as ISO 8583)."""

    request: AuthorizationRequest

    @property
    def step(self) -> str:
        return f"send_{self.request.kind}"

    def trace_data(self) -> dict[str, Any]:
        return self.request.trace_data()


@dataclass(frozen=True, slots=True)
class StartTimer(Effect):
    """Deliver ``TimerExpired(timer, token)`` after ``delay_ms`` unless cancelled."""

    timer: str
    delay_ms: int
    token: int

    @property
    def step(self) -> str:
        return "start_timer"

    def trace_data(self) -> dict[str, Any]:
        return {"timer": self.timer, "delay_ms": self.delay_ms, "token": self.token}


@dataclass(frozen=True, slots=True)
class CancelTimer(Effect):
    """Forget the running timer called ``timer``."""

    timer: str

    @property
    def step(self) -> str:
        return "cancel_timer"

    def trace_data(self) -> dict[str, Any]:
        return {"timer": self.timer}


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One row of the terminal journal, keyed by (terminal_id, stan). No PAN: masked + token."""

    terminal_id: str
    stan: str
    sale_id: str
    type: str  # sale | void | refund
    state: str  # pending | approved | declined | failed | voided
    amount_minor: int
    currency: str
    masked_pan: str
    card_token: str
    created_vt: int
    updated_vt: int
    response_code: str = ""
    rrn: str = ""
    approval_code: str = ""
    original_stan: str = ""
    receipt: str = ""  # "printed" once the printer took the slip
    #: when the request left the terminal by its own clock (ISO, seconds): field 7 of the
    #: original, which a reversal's field 90 must repeat even after the clock moved
    sent_at: str = ""

    def as_row(self) -> dict[str, Any]:
        # a flat record of str and int: no recursive ``asdict`` (it deep-copies each value)
        return dict(zip(_ENTRY_FIELDS, _entry_values(self), strict=True))

    def values(self) -> tuple[Any, ...]:
        """The fields' values in field order (the journal's row, positionally)."""
        return _entry_values(self)

    def replaced(self, **changes: Any) -> JournalEntry:
        """``dataclasses.replace(self, **changes)`` for this flat record, without its
        per-field introspection (a sale makes one or two of these)."""
        unknown = changes.keys() - _ENTRY_FIELD_SET
        if unknown:
            raise TypeError(f"JournalEntry has no field {sorted(unknown)[0]!r}")
        return JournalEntry(**{**self.as_row(), **changes})


_ENTRY_FIELDS = tuple(f.name for f in fields(JournalEntry))
_ENTRY_FIELD_SET = frozenset(_ENTRY_FIELDS)
_entry_values = attrgetter(*_ENTRY_FIELDS)


@dataclass(frozen=True, slots=True)
class WriteJournal(Effect):
    """Commit one journal row (insert or replace by key)."""

    entry: JournalEntry
    purpose: str  # intent | commit

    @property
    def step(self) -> str:
        return f"journal_{self.purpose}"

    def trace_data(self) -> dict[str, Any]:
        return {"stan": self.entry.stan, "state": self.entry.state, "type": self.entry.type}


@dataclass(frozen=True, slots=True)
class QueueReversal(Effect):
    """Put a reversal of the transaction ``stan`` into the store-and-forward queue.

    The queue is durable and is drained by the runtime's reversal agent: 0400 first,
    then 0420/0421 repeats with backoff until the host acknowledges. ``original`` is
    the record of the transaction reversed: the queue entry copies what its message
    needs from it, so the reversal does not depend on the record staying in the journal.
    """

    stan: str
    reason: str
    original: JournalEntry | None = None

    @property
    def step(self) -> str:
        return "queue_reversal"

    def trace_data(self) -> dict[str, Any]:
        return {"stan": self.stan, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PrintSlip(Effect):
    """Print a slip; the runtime answers with ``PrintDone``."""

    slip: Slip

    @property
    def step(self) -> str:
        return "print"

    def trace_data(self) -> dict[str, Any]:
        return self.slip.trace_data()
