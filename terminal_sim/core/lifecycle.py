"""The sale lifecycle as a table handed to ``transitions``; the core performs no I/O.

A :class:`TerminalCore` is a ``transitions`` model. :meth:`TerminalCore.handle` fires the
event's trigger and returns the effects the callbacks queued, in order; the runtime
executes them and feeds the results back as events. Many terminals share one
``Machine`` (:class:`TerminalFleet`): a Machine per terminal costs ~92 KiB and ~1.4 ms,
a shared one ~10-16 KiB per model.

Callback order is the one ``transitions`` publishes (``Transition.execute``): conditions,
then ``before``, the state change, then ``after``. Every callback here is an ``after``:
a transition's effects are queued once the state has changed, so a crash point traced
during them already shows the new state.

The table (``TRANSITIONS``), source -> trigger [condition] -> dest:

===============  ===============  ================================  ============
source           trigger          condition                         dest
===============  ===============  ================================  ============
idle             sale_requested                                     reading
idle             refund_requested                                   reading
reading          card_read        card was read                     authorizing
reading          card_read        profile prints error slips        completing
reading          card_read        (otherwise)                       idle
authorizing      host_reply       reply is for the pending request  completing
authorizing      timer_expired    the live host timer               completing
idle             void_requested   a sale is there to void           voiding
idle             reprint_requested a slip to reprint, or the        completing
                                  profile prints without a sale
voiding          host_reply       reply is for the pending request  completing
voiding          timer_expired    the live host timer               completing
idle             timer_expired    the live reprint timer            completing
busy states      timer_expired    the live reprint timer            (stays, re-armed)
completing       print_done                                         idle
any but off      host_reply       (a late or stray reply)           (stays)
any but off      power_lost                                         off
off              power_on                                           idle
===============  ===============  ================================  ============
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from transitions import EventData, Machine, MachineError

from terminal_sim.base.cards import Card, token_for
from terminal_sim.base.money import Money
from terminal_sim.core.effects import (
    CancelTimer,
    Effect,
    JournalEntry,
    PrintSlip,
    QueueReversal,
    ReadCard,
    SendToHost,
    StartTimer,
    WriteJournal,
)
from terminal_sim.core.events import (
    CardRead,
    Event,
    HostReplied,
    PowerOn,
    PrintDone,
    RefundRequested,
    ReprintRequested,
    SaleRequested,
)
from terminal_sim.core.profiles import Profile
from terminal_sim.core.slips import Slip
from terminal_sim.iso.messages import HostRequest, OriginalData
from terminal_sim.iso.spec import response_text

STATES = ["off", "idle", "reading", "authorizing", "voiding", "completing"]
HOST_TIMER = "host"
REPRINT_TIMER = "reprint"
#: ISO 8583 reversal reason (field 60): no response from the host in time
REASON_TIMEOUT = "4021"


@dataclass(slots=True)
class InFlight:
    """The transaction the terminal is working on (volatile: lost with power)."""

    kind: str  # sale | void | refund | reprint
    sale_id: str
    amount: Money
    stan: str = ""
    card: Card | None = field(default=None, repr=False)
    request: HostRequest | None = None
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
            raise ValueError(
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
        self.reprint_rounds = 0
        self.timer_seq = 0
        self.now = 0
        self.wall = dt.datetime(2000, 1, 1)
        self.outbox: list[Effect] = []
        self.ignored: str = ""

    # -- the one entry point -------------------------------------------------------------

    def handle(self, event: Event, now: int, wall: dt.datetime) -> list[Effect]:
        """Fire ``event``; return the effects to perform, in order.

        An event the table has no transition for in the current state (or whose
        conditions all fail) changes nothing; ``self.ignored`` then says why.
        """
        self.now, self.wall = now, wall
        self.outbox = []
        self.ignored = ""
        try:
            fired = self.trigger(event.trigger, event=event)
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

    def entry(self, flight: InFlight, state: str, **extra: Any) -> JournalEntry:
        card = flight.card
        original = flight.original
        return JournalEntry(
            terminal_id=self.terminal_id,
            stan=flight.stan,
            sale_id=flight.sale_id,
            type=flight.kind,
            state=state,
            amount_minor=flight.amount.minor,
            currency=flight.amount.currency,
            masked_pan=card.masked if card else (original.masked_pan if original else ""),
            card_token=token_for(card.pan, self.token_key) if card else (
                original.card_token if original else ""),
            created_vt=flight.started_vt,
            updated_vt=self.now,
            original_stan=original.stan if original else "",
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
            self.outbox += [paper, WriteJournal(replace(entry, receipt="printed"), "commit")]

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
        """Try the reprints again later; a bounded number of rounds (then an alert on the
        display, which the trace shows as ``reprint_abandoned``)."""
        if self.reprint_rounds >= self.profile.reprint_max_attempts:
            self.ignored = f"reprint abandoned after {self.reprint_rounds} rounds"
            return
        self.reprint_rounds += 1
        self.reprint_token = self.next_timer_token()
        self.outbox.append(StartTimer(REPRINT_TIMER, delay_ms, self.reprint_token))

    def request(self, flight: InFlight, kind: str, **extra: Any) -> HostRequest:
        card = flight.card
        return HostRequest(
            mti="0200",
            kind=kind,
            stan=flight.stan,
            terminal_id=self.terminal_id,
            merchant_id=self.merchant_id,
            amount_minor=flight.amount.minor,
            currency=flight.amount.currency,
            transmitted=self.wall.replace(microsecond=0),
            pan=card.pan if card else "",
            expiry=card.expiry if card else "",
            **extra,
        )

    def send(self, flight: InFlight, request: HostRequest) -> None:
        flight.request = request
        flight.timer_token = self.next_timer_token()
        if self.profile.persist_intent:
            self.outbox.append(WriteJournal(self.entry(flight, "pending"), "intent"))
        self.outbox.append(SendToHost(request))
        self.outbox.append(StartTimer(HOST_TIMER, self.profile.host_timeout_ms, flight.timer_token))


# -- conditions (callables receiving EventData: send_event=True) -------------------------


def _core(ev: EventData) -> TerminalCore:
    return cast(TerminalCore, ev.model)


def _payload(ev: EventData) -> Any:
    return ev.kwargs["event"]


def card_was_read(ev: EventData) -> bool:
    payload: CardRead = _payload(ev)
    return payload.ok


def prints_error_slips(ev: EventData) -> bool:
    return _core(ev).profile.print_error_slips


def reply_is_pending(ev: EventData) -> bool:
    core, payload = _core(ev), _payload(ev)
    flight = core.current
    reply = payload.reply
    return (
        flight is not None
        and flight.request is not None
        and reply.stan == flight.stan
        and reply.terminal_id == core.terminal_id
    )


def timer_is_live(ev: EventData) -> bool:
    core, payload = _core(ev), _payload(ev)
    flight = core.current
    return (
        flight is not None
        and payload.timer == HOST_TIMER
        and payload.token == flight.timer_token
    )


def can_reprint(ev: EventData) -> bool:
    core = _core(ev)
    return core.last_slip is not None or core.profile.reprint_without_sale


def reprint_timer_is_live(ev: EventData) -> bool:
    core, payload = _core(ev), _payload(ev)
    return (payload.timer == REPRINT_TIMER and payload.token == core.reprint_token
            and bool(core.reprints))


def has_sale_to_void(ev: EventData) -> bool:
    last = _core(ev).last_approved
    return last is not None and last.type == "sale" and last.state == "approved"


# -- actions -----------------------------------------------------------------------------


def begin_sale(ev: EventData) -> None:
    core = _core(ev)
    payload: SaleRequested | RefundRequested = _payload(ev)
    kind = "refund" if isinstance(payload, RefundRequested) else "sale"
    core.current = InFlight(kind, payload.sale_id, payload.amount, started_vt=core.now)
    core.outbox.append(ReadCard(payload.sale_id, payload.card))


def send_authorization(ev: EventData) -> None:
    core = _core(ev)
    payload: CardRead = _payload(ev)
    flight = core.current
    if flight is None:  # the table only routes here with a sale in flight
        raise RuntimeError("card_read without a sale in flight")
    flight.card = payload.card
    flight.stan = core.next_stan()
    core.send(flight, core.request(flight, flight.kind))


def print_read_error(ev: EventData) -> None:
    """Field behaviour: a slip saying the card could not be read, with no record behind it."""
    core = _core(ev)
    payload: CardRead = _payload(ev)
    flight = core.current
    core.outbox.append(
        PrintSlip(
            core.slip(
                "error",
                "CARD UNREADABLE",
                amount_minor=flight.amount.minor if flight else None,
                currency=flight.amount.currency if flight else None,
                message=payload.reason or "PLEASE TRY AGAIN",
            )
        )
    )
    core.current = None


def abandon_read(ev: EventData) -> None:
    _core(ev).current = None


def complete_host_reply(ev: EventData) -> None:
    core = _core(ev)
    payload: HostReplied = _payload(ev)
    reply = payload.reply
    flight = core.current
    if flight is None:
        raise RuntimeError("host_reply routed without a transaction in flight")
    core.outbox.append(CancelTimer(HOST_TIMER))
    state = "approved" if reply.approved else "declined"
    entry = core.entry(
        flight,
        state,
        response_code=reply.response_code,
        rrn=reply.rrn,
        approval_code=reply.approval_code,
    )
    outcome = "APPROVED" if reply.approved else f"DECLINED {response_text(reply.response_code)}"
    core.finish_with(flight, entry, core.slip_for(flight, entry, outcome))
    if reply.approved and flight.kind == "sale":
        core.last_approved = entry
    elif reply.approved and flight.kind == "void" and flight.original is not None:
        # the voided sale is no longer voidable; its own row keeps its approval
        core.last_approved = replace(flight.original, state="voided")


def fail_on_timeout(ev: EventData) -> None:
    core = _core(ev)
    flight = core.current
    if flight is None:
        raise RuntimeError("timer_expired routed without a transaction in flight")
    if core.profile.reverse_on_timeout:
        # the host may have approved: cancel it before anything else is written
        core.outbox.append(QueueReversal(flight.stan, REASON_TIMEOUT))
    entry = core.entry(flight, "failed", response_code="")
    core.finish_with(flight, entry,
                     core.slip_for(flight, entry, "NOT COMPLETED - NO HOST REPLY"))


def begin_void(ev: EventData) -> None:
    core = _core(ev)
    original = core.last_approved
    if original is None:  # guarded by has_sale_to_void
        raise RuntimeError("void without a sale")
    flight = InFlight(
        "void",
        original.sale_id,
        Money(original.amount_minor, original.currency),
        stan=core.next_stan(),
        started_vt=core.now,
        original=original,
    )
    core.current = flight
    request = core.request(
        flight,
        "void",
        rrn=original.rrn,
        original=OriginalData("0200", original.stan, "0000000000"),
    )
    core.send(flight, request)


def reprint(ev: EventData) -> None:
    """The admin menu's print key.

    With a slip in memory it prints a copy marked DUPLICATE (harmless: the sale has its
    record). Without one, field firmware prints the slip template for the amount the
    operator keyed: paper that looks like a sale, with no transaction behind it.
    """
    core = _core(ev)
    payload: ReprintRequested = _payload(ev)
    if core.last_slip is not None:
        slip = replace(core.last_slip, copy_label="DUPLICATE",
                       printed_at=core.wall.replace(microsecond=0))
    else:
        amount = payload.keyed_amount
        slip = core.slip("sale", "COPY",
                         amount_minor=amount.minor if amount else None,
                         currency=amount.currency if amount else None,
                         copy_label="COPY")
    core.outbox.append(PrintSlip(slip))


def reprint_missing(ev: EventData) -> None:
    """Print, marked DUPLICATE, the receipts of approved sales that did not print."""
    core = _core(ev)
    batch = list(core.reprints)
    core.current = InFlight("reprint", "", Money(0, "EUR"), started_vt=core.now,
                            printing=batch)
    for entry in batch:
        core.outbox.append(PrintSlip(core.slip_of_entry(entry, "DUPLICATE")))


def rearm_reprint(ev: EventData) -> None:
    """The reprint timer ran out while the terminal was busy: try again later."""
    core = _core(ev)
    core.arm_reprint(core.profile.reprint_retry_ms)


def finish_transaction(ev: EventData) -> None:
    """The printer answered. Robust firmware confirms the receipt in the journal, or
    keeps the record for a reprint when the printer could not print."""
    core = _core(ev)
    payload: PrintDone = _payload(ev)
    flight = core.current
    core.current = None
    if flight is None or not core.profile.reprint_missing:
        return
    printed = [e for e in flight.printing if e.state == "approved"]
    if payload.ok:
        for entry in printed:
            core.outbox.append(WriteJournal(replace(entry, receipt="printed",
                                                    updated_vt=core.now), "receipt"))
        done = {e.stan for e in printed}
        core.reprints = [e for e in core.reprints if e.stan not in done]
        if not core.reprints:
            core.reprint_rounds = 0
        return
    known = {e.stan for e in core.reprints}
    core.reprints += [e for e in printed if e.stan not in known]
    if core.reprints:
        core.arm_reprint(core.profile.reprint_retry_ms)


def note_stray_reply(ev: EventData) -> None:
    """A reply for no pending request: late (after the timeout) or duplicated.

    The naive terminal drops it; it is traced, so a reader sees the host's approval
    reaching a terminal that had already given up.
    """
    core = _core(ev)
    payload: HostReplied = _payload(ev)
    core.ignored = f"late or stray reply for STAN {payload.reply.stan}"


def lose_volatile_state(ev: EventData) -> None:
    core = _core(ev)
    core.current = None
    core.last_approved = None
    core.last_slip = None
    core.reprints = []


def boot(ev: EventData) -> None:
    """Power-on: what the journal kept. Robust firmware resolves every sale left in
    flight (a reversal: the host may have approved it) and reprints missing receipts."""
    core = _core(ev)
    payload: PowerOn = _payload(ev)
    core.last_approved = payload.last_approved
    profile = core.profile
    if profile.recover_on_boot:
        for entry in payload.in_flight:
            core.outbox.append(QueueReversal(entry.stan, REASON_TIMEOUT))
            core.outbox.append(WriteJournal(replace(entry, state="failed", updated_vt=core.now),
                                            "recovery"))
    if profile.reprint_missing and payload.unprinted:
        core.reprints = list(payload.unprinted)
        core.arm_reprint(2_000)


_LIVE = ["idle", "reading", "authorizing", "voiding", "completing"]

#: The lifecycle, as data for ``transitions``. Order matters: for one trigger and source
#: the first transition whose conditions hold is taken.
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "sale_requested", "source": "idle", "dest": "reading", "after": [begin_sale]},
    {"trigger": "refund_requested", "source": "idle", "dest": "reading",
     "after": [begin_sale]},
    {"trigger": "card_read", "source": "reading", "dest": "authorizing",
     "conditions": [card_was_read], "after": [send_authorization]},
    {"trigger": "card_read", "source": "reading", "dest": "completing",
     "conditions": [prints_error_slips], "after": [print_read_error]},
    {"trigger": "card_read", "source": "reading", "dest": "idle", "after": [abandon_read]},
    {"trigger": "host_reply", "source": ["authorizing", "voiding"], "dest": "completing",
     "conditions": [reply_is_pending], "after": [complete_host_reply]},
    {"trigger": "timer_expired", "source": ["authorizing", "voiding"], "dest": "completing",
     "conditions": [timer_is_live], "after": [fail_on_timeout]},
    {"trigger": "timer_expired", "source": "idle", "dest": "completing",
     "conditions": [reprint_timer_is_live], "after": [reprint_missing]},
    {"trigger": "timer_expired", "source": ["reading", "authorizing", "voiding", "completing"],
     "dest": None, "conditions": [reprint_timer_is_live], "after": [rearm_reprint]},
    {"trigger": "void_requested", "source": "idle", "dest": "voiding",
     "conditions": [has_sale_to_void], "after": [begin_void]},
    {"trigger": "reprint_requested", "source": "idle", "dest": "completing",
     "conditions": [can_reprint], "after": [reprint]},
    {"trigger": "print_done", "source": "completing", "dest": "idle",
     "after": [finish_transaction]},
    {"trigger": "host_reply", "source": _LIVE, "dest": None, "after": [note_stray_reply]},
    {"trigger": "power_lost", "source": _LIVE, "dest": "off", "after": [lose_volatile_state]},
    {"trigger": "power_on", "source": "off", "dest": "idle", "after": [boot]},
]


class TerminalFleet:
    """One ``transitions`` Machine shared by many terminal cores."""

    def __init__(self) -> None:
        self.machine = Machine(
            model=None,
            states=STATES,
            transitions=TRANSITIONS,
            initial="off",
            auto_transitions=False,
            send_event=True,
        )

    def add(self, cores: Iterable[TerminalCore]) -> None:
        """Attach cores in one call: ``add_model`` scans a list, so batch it."""
        batch = list(cores)
        if batch:
            self.machine.add_model(batch, initial="off")

    def remove(self, cores: Iterable[TerminalCore]) -> None:
        self.machine.remove_model(list(cores))
