"""One terminal's brain: the model ``transitions`` drives, and the helpers its callbacks use.

:class:`TerminalCore` keeps the state of one terminal (the machine sets ``state``);
:meth:`TerminalCore.handle` is the one entry point: an event in, the effects the
callbacks queued out, in order. The table and the shared machine are in
:mod:`terminal_sim.core.lifecycle`, the callbacks in :mod:`terminal_sim.core.conditions`
and :mod:`terminal_sim.core.actions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from transitions import EventData, MachineError

from terminal_sim.base.cards import Card, token_for
from terminal_sim.base.money import Money
from terminal_sim.core.effects import (
    Effect,
    JournalEntry,
    PrintSlip,
    SendToHost,
    StartTimer,
    WriteJournal,
)
from terminal_sim.core.events import Event
from terminal_sim.core.messages import AuthorizationRequest, OriginalRef
from terminal_sim.core.profiles import Profile
from terminal_sim.core.slips import Slip
from terminal_sim.errors import ConfigurationError, TerminalSimError

HOST_TIMER = "host"
REPRINT_TIMER = "reprint"
#: The longest wait between two reprint tries (the backoff doubles up to it).
REPRINT_BACKOFF_CAP_MS = 300_000
#: What the printer answers (DLE EOT) when it cannot print until someone acts: paper
#: refilled, cover closed, power back. A reprint that fails for one of these is waited
#: out, never counted against ``reprint_max_attempts``.
PRINTER_WAITS = ("paper-out", "cover-open", "offline")


def printer_waits(status: str) -> bool:
    """True when the printer explained a failed print with a condition that heals
    (``paper-out``, or ``offline after printing`` for a printer that died mid-job)."""
    return status.removesuffix(" after printing") in PRINTER_WAITS


@dataclass(slots=True)
class InFlight:
    """The transaction the terminal is working on (volatile: lost with power)."""

    kind: str  # sale | void | refund | reprint
    sale_id: str
    amount: Money
    stan: str = ""
    card: Card | None = field(default=None, repr=False)
    request: AuthorizationRequest | None = None
    timer_token: int = 0
    started_vt: int = 0
    original: JournalEntry | None = None  # the sale a void refers to
    #: records whose slips are being printed now; their receipt is confirmed on print_done
    printing: list[JournalEntry] = field(default_factory=list)


class TerminalCore:
    """One terminal's brain. State is kept by ``transitions`` in ``self.state``."""

    state: str
    trigger: Callable[..., bool]

    def __init__(
        self,
        terminal_id: str,
        *,
        merchant_id: str,
        merchant_name: str,
        profile: Profile,
        token_key: str,
    ) -> None:
        if len(terminal_id) != 8:
            raise ConfigurationError(
                f"a terminal id has 8 characters (ISO 8583 field 41), got {terminal_id!r}")
        self.terminal_id = terminal_id
        self.merchant_id = merchant_id
        self.merchant_name = merchant_name
        self.profile = profile
        self.token_key = token_key
        #: the STAN counter lives in non-volatile memory: it survives power loss
        self.last_stan = 0
        self.current: InFlight | None = None
        self.last_approved: JournalEntry | None = None
        #: the last slip printed, kept in RAM for the admin menu's reprint
        self.last_slip: Slip | None = None
        #: approved records whose receipt has not printed yet (robust reprints them)
        self.reprints: list[JournalEntry] = []
        self.reprint_token = 0
        #: reprint rounds that failed for a reason the printer did not explain
        self.reprint_rounds = 0
        #: reprint tries since the last print that worked (the backoff's exponent)
        self.reprint_waits = 0
        self.timer_seq = 0
        self.now = 0
        self.wall = dt.datetime(2000, 1, 1)
        self.outbox: list[Effect] = []
        self.ignored: str = ""
        #: the last card's masked number and token, with the card and key they are of
        self._card_memo: tuple[Card, str, tuple[str, str]] | None = None
        #: the fleet's fast way to fire an event (``TerminalFleet.fire``); None: the
        #: library's ``trigger``
        self.fire: Callable[[TerminalCore, Event], bool] | None = None

    # -- the one entry point -------------------------------------------------------------

    def handle(self, event: Event, now: int, wall: dt.datetime) -> list[Effect]:
        """Fire ``event``; return the effects to perform, in order.

        An event the table has no transition for in the current state (or whose
        conditions all fail) changes nothing; ``self.ignored`` then says why.
        """
        self.now, self.wall = now, wall
        self.outbox = []
        self.ignored = ""
        fire = self.fire
        try:
            fired = (fire(self, event) if fire is not None
                     else self.trigger(event.trigger, event=event))
        except MachineError:
            fired = False
        if not fired:
            self.ignored = f"{event.trigger} not accepted in state {self.state}"
        effects, self.outbox = self.outbox, []
        return effects

    # -- helpers used by the callbacks ---------------------------------------------------

    def next_stan(self) -> str:
        self.last_stan = self.last_stan % 999_999 + 1
        return f"{self.last_stan:06d}"

    def next_timer_token(self) -> int:
        self.timer_seq += 1
        return self.timer_seq

    def _card_keys(self, card: Card) -> tuple[str, str]:
        """``(card.masked, token_for(card.pan, self.token_key))``, kept for the last card:
        a transaction's records (its intent, its outcome) ask for the same card's."""
        memo = self._card_memo
        if memo is not None and memo[0] is card and memo[1] == self.token_key:
            return memo[2]
        keys = (card.masked, token_for(card.pan, self.token_key))
        self._card_memo = (card, self.token_key, keys)
        return keys

    def entry(self, flight: InFlight, state: str, **extra: Any) -> JournalEntry:
        card = flight.card
        original = flight.original
        if card:
            masked, token = self._card_keys(card)
        elif original:
            masked, token = original.masked_pan, original.card_token
        else:
            masked = token = ""
        return JournalEntry(
            terminal_id=self.terminal_id,
            stan=flight.stan,
            sale_id=flight.sale_id,
            type=flight.kind,
            state=state,
            amount_minor=flight.amount.minor,
            currency=flight.amount.currency,
            masked_pan=masked,
            card_token=token,
            created_vt=flight.started_vt,
            updated_vt=self.now,
            original_stan=original.stan if original else "",
            sent_at=flight.request.sent_at.isoformat() if flight.request else "",
            **extra,
        )

    def slip(self, kind: str, outcome: str, **fields: Any) -> Slip:
        return Slip(
            kind=kind,
            outcome=outcome,
            merchant_name=self.merchant_name,
            merchant_id=self.merchant_id,
            terminal_id=self.terminal_id,
            printed_at=self.wall.replace(microsecond=0),
            **fields,
        )

    def slip_for(self, flight: InFlight, entry: JournalEntry, outcome: str) -> Slip:
        card = flight.card
        return self.slip(
            flight.kind,
            outcome,
            amount_minor=flight.amount.minor,
            currency=flight.amount.currency,
            masked_pan=entry.masked_pan,
            scheme=card.scheme if card else "",
            stan=entry.stan,
            rrn=entry.rrn,
            approval_code=entry.approval_code,
            response_code=entry.response_code,
        )

    def finish_with(self, flight: InFlight, entry: JournalEntry, slip: Slip) -> None:
        """Queue the journal commit and the slip in the order the profile dictates."""
        self.last_slip = slip
        paper = PrintSlip(slip)
        if self.profile.journal_before_print:
            # the receipt is confirmed in the journal once the printer took it
            flight.printing = [entry]
            self.outbox += [WriteJournal(entry, "commit"), paper]
        else:
            # printed first, so the record says printed: the firmware believes it
            self.outbox += [paper, WriteJournal(entry.replaced(receipt="printed"), "commit")]

    def slip_of_entry(self, entry: JournalEntry, copy_label: str) -> Slip:
        """A slip rebuilt from a journal record (for reprints)."""
        outcome = "APPROVED" if entry.state == "approved" else entry.state.upper()
        return self.slip(
            entry.type, outcome,
            amount_minor=entry.amount_minor, currency=entry.currency,
            masked_pan=entry.masked_pan, stan=entry.stan, rrn=entry.rrn,
            approval_code=entry.approval_code, response_code=entry.response_code,
            copy_label=copy_label)

    def arm_reprint(self, delay_ms: int) -> None:
        """Try the reprints again in ``delay_ms``."""
        self.reprint_token = self.next_timer_token()
        self.outbox.append(StartTimer(REPRINT_TIMER, delay_ms, self.reprint_token))

    def reprint_failed(self, status: str) -> None:
        """A print failed with reprints owed: try again on a capped backoff, for as long
        as the printer says why it cannot print (``PRINTER_WAITS``: someone will refill
        it, close it, power it). A failure the printer does not explain counts; after
        ``reprint_max_attempts`` of those (0: never) the terminal stops and shows an alert
        (``self.ignored`` says so in the trace) and the slips stay owed."""
        limit = self.profile.reprint_max_attempts
        if not printer_waits(status):
            self.reprint_rounds += 1
            if limit and self.reprint_rounds >= limit:
                self.ignored = f"reprint abandoned after {self.reprint_rounds} failed rounds"
                return
        base = self.profile.reprint_retry_ms
        cap = max(base, REPRINT_BACKOFF_CAP_MS)
        delay = min(base << min(self.reprint_waits, 16), cap)
        self.reprint_waits += 1
        self.arm_reprint(delay)

    def request(self, flight: InFlight, kind: str, *, rrn: str = "",
                original: OriginalRef | None = None) -> AuthorizationRequest:
        return AuthorizationRequest(
            kind=kind,
            stan=flight.stan,
            terminal_id=self.terminal_id,
            merchant_id=self.merchant_id,
            amount_minor=flight.amount.minor,
            currency=flight.amount.currency,
            sent_at=self.wall.replace(microsecond=0),
            card=flight.card,
            rrn=rrn,
            original=original,
        )

    def send(self, flight: InFlight, request: AuthorizationRequest) -> None:
        flight.request = request
        flight.timer_token = self.next_timer_token()
        if self.profile.persist_intent:
            self.outbox.append(WriteJournal(self.entry(flight, "pending"), "intent"))
        self.outbox.append(SendToHost(request))
        self.outbox.append(StartTimer(HOST_TIMER, self.profile.host_timeout_ms,
                                      flight.timer_token))


# -- what a callback receives (``send_event=True``: one EventData) -----------------------

EventT = TypeVar("EventT", bound=Event)


def core_of(ev: EventData) -> TerminalCore:
    """The terminal the machine fired the callback for."""
    return cast(TerminalCore, ev.model)


def payload_of(ev: EventData, kind: type[EventT]) -> EventT:
    """The core event behind the trigger, as the type the callback was written for."""
    payload = ev.kwargs["event"]
    if not isinstance(payload, kind):  # the table routed a trigger to the wrong callback
        raise TerminalSimError(f"{ev.event.name} carries {type(payload).__name__}, "
                               f"not {kind.__name__}")
    return payload


def flight_of(core: TerminalCore, why: str) -> InFlight:
    """The transaction in flight; the table routes ``why`` only while there is one."""
    if core.current is None:
        raise TerminalSimError(f"{why} without a transaction in flight")
    return core.current
