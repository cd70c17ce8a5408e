"""Events the terminal core consumes. Each names the ``transitions`` trigger it fires."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from terminal_sim.base.cards import Card
from terminal_sim.base.money import Money
from terminal_sim.core.effects import JournalEntry
from terminal_sim.core.messages import HostReply


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events. ``trigger`` is the machine trigger; ``trace_data`` is PAN-free."""

    trigger: ClassVar[str] = ""

    def trace_data(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class SaleRequested(Event):
    """The cashier keyed an amount and the customer presented a card."""

    trigger: ClassVar[str] = "sale_requested"
    sale_id: str
    amount: Money
    card: Card = field(repr=False)

    def trace_data(self) -> dict[str, Any]:
        return {
            "sale_id": self.sale_id,
            "amount": self.amount.minor,
            "currency": self.amount.currency,
            "pan": self.card.masked,
        }


@dataclass(frozen=True, slots=True)
class RefundRequested(SaleRequested):
    """The cashier refunds ``amount`` to the presented card (the same steps as a sale)."""

    trigger: ClassVar[str] = "refund_requested"


@dataclass(frozen=True, slots=True)
class CardRead(Event):
    """The reader finished: ``card`` when it could read it, else ``reason``."""

    trigger: ClassVar[str] = "card_read"
    sale_id: str
    card: Card | None = field(default=None, repr=False)
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.card is not None

    def trace_data(self) -> dict[str, Any]:
        if self.card is not None:
            return {"sale_id": self.sale_id, "ok": True, "pan": self.card.masked}
        return {"sale_id": self.sale_id, "ok": False, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class HostReplied(Event):
    """A reply from the acquirer reached the terminal (maybe late: the core decides)."""

    trigger: ClassVar[str] = "host_reply"
    reply: HostReply

    def trace_data(self) -> dict[str, Any]:
        return self.reply.trace_data()


@dataclass(frozen=True, slots=True)
class TimerExpired(Event):
    """A timer the core started has run out; ``token`` tells a stale timer from the live one."""

    trigger: ClassVar[str] = "timer_expired"
    timer: str
    token: int

    def trace_data(self) -> dict[str, Any]:
        return {"timer": self.timer, "token": self.token}


@dataclass(frozen=True, slots=True)
class SendFailed(Event):
    """The request for ``stan`` never left the terminal (it could not be encoded, say):
    the host cannot have seen it, so no reply is coming and nothing needs reversing."""

    trigger: ClassVar[str] = "send_failed"
    stan: str
    reason: str = ""

    def trace_data(self) -> dict[str, Any]:
        return {"stan": self.stan, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PrintDone(Event):
    """The printer took the slip; ``ok`` is False when it reported it could not print."""

    trigger: ClassVar[str] = "print_done"
    ok: bool = True
    status: str = "ok"

    def trace_data(self) -> dict[str, Any]:
        return {"ok": self.ok, "status": self.status}


@dataclass(frozen=True, slots=True)
class VoidRequested(Event):
    """The operator asked to void the last approved sale."""

    trigger: ClassVar[str] = "void_requested"


@dataclass(frozen=True, slots=True)
class ReprintRequested(Event):
    """The admin menu's print key: reprint the last slip, or print one for a keyed amount."""

    trigger: ClassVar[str] = "reprint_requested"
    keyed_amount: Money | None = None

    def trace_data(self) -> dict[str, Any]:
        if self.keyed_amount is None:
            return {}
        return {"amount": self.keyed_amount.minor, "currency": self.keyed_amount.currency}


@dataclass(frozen=True, slots=True)
class PowerLost(Event):
    """Power is gone; volatile state is lost."""

    trigger: ClassVar[str] = "power_lost"


@dataclass(frozen=True, slots=True)
class PowerOn(Event):
    """Power is back. ``last_approved`` is what the journal holds as the last approved sale."""

    trigger: ClassVar[str] = "power_on"
    last_approved: JournalEntry | None = None
    #: records left ``pending``: intents persisted, never finished (robust recovers them)
    in_flight: tuple[JournalEntry, ...] = ()
    #: approved sales whose receipt never printed (robust reprints them)
    unprinted: tuple[JournalEntry, ...] = ()

    def trace_data(self) -> dict[str, Any]:
        return {
            "last_approved_stan": self.last_approved.stan if self.last_approved else None,
            "in_flight": [e.stan for e in self.in_flight] or None,
            "unprinted": [e.stan for e in self.unprinted] or None,
        }
