"""The actions of the lifecycle table: what a transition queues, once the state changed.

Every action is an ``after`` callback (see :mod:`terminal_sim.core.lifecycle`): it
receives the ``transitions`` EventData, updates the terminal's memory and appends
effects to its outbox; the runtime performs them in order.
"""

from __future__ import annotations

from dataclasses import replace

from transitions import EventData

from terminal_sim.base.money import Money
from terminal_sim.core.effects import (
    CancelTimer,
    PrintSlip,
    QueueReversal,
    ReadCard,
    WriteJournal,
)
from terminal_sim.core.events import (
    CardRead,
    HostReplied,
    PowerOn,
    PrintDone,
    RefundRequested,
    ReprintRequested,
    SaleRequested,
)
from terminal_sim.core.messages import (
    REASON_INVALID_RESPONSE,
    REASON_TIMEOUT,
    OriginalRef,
    response_text,
)
from terminal_sim.core.terminal import HOST_TIMER, InFlight, core_of, flight_of, payload_of
from terminal_sim.errors import TerminalSimError

#: How long after boot the first reprint of missing receipts is tried.
BOOT_REPRINT_DELAY_MS = 2_000


def begin_sale(ev: EventData) -> None:
    core = core_of(ev)
    payload = payload_of(ev, SaleRequested)
    kind = "refund" if isinstance(payload, RefundRequested) else "sale"
    core.current = InFlight(kind, payload.sale_id, payload.amount, started_vt=core.now)
    core.outbox.append(ReadCard(payload.sale_id, payload.card))


def send_authorization(ev: EventData) -> None:
    core = core_of(ev)
    payload = payload_of(ev, CardRead)
    flight = flight_of(core, "card_read")
    flight.card = payload.card
    flight.stan = core.next_stan()
    core.send(flight, core.request(flight, flight.kind))


def print_read_error(ev: EventData) -> None:
    """Field behaviour: a slip saying the card could not be read, with no record behind it."""
    core = core_of(ev)
    payload = payload_of(ev, CardRead)
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
    core_of(ev).current = None


def complete_host_reply(ev: EventData) -> None:
    core = core_of(ev)
    reply = payload_of(ev, HostReplied).reply
    flight = flight_of(core, "host_reply")
    core.outbox.append(CancelTimer(HOST_TIMER))
    problem = reply.problem_with(flight.request) if flight.request is not None else ""
    if problem and core.profile.distrust_invalid_replies:
        # no valid answer to the request (a corrupted byte, no MAC to tell): it says
        # nothing reliable about what the host did, so the outcome is unknown, as after a
        # timeout: the transaction fails and is reversed (the host may have approved it)
        core.ignored = f"invalid reply for STAN {reply.stan}: {problem}"
        entry = core.entry(flight, "failed", response_code="")
        if core.profile.reverse_on_timeout:
            core.outbox.append(QueueReversal(flight.stan, REASON_INVALID_RESPONSE, entry))
        core.finish_with(flight, entry,
                         core.slip_for(flight, entry, "NOT COMPLETED - INVALID HOST REPLY"))
        return
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
    core = core_of(ev)
    flight = flight_of(core, "timer_expired")
    entry = core.entry(flight, "failed", response_code="")
    if core.profile.reverse_on_timeout:
        # the host may have approved: cancel it before anything else is written
        core.outbox.append(QueueReversal(flight.stan, REASON_TIMEOUT, entry))
    core.finish_with(flight, entry,
                     core.slip_for(flight, entry, "NOT COMPLETED - NO HOST REPLY"))


def fail_unsent(ev: EventData) -> None:
    """The request never left: stop waiting for its reply; no reversal (the host cannot
    have approved what it never received)."""
    core = core_of(ev)
    flight = flight_of(core, "send_failed")
    core.outbox.append(CancelTimer(HOST_TIMER))
    entry = core.entry(flight, "failed", response_code="")
    core.finish_with(flight, entry, core.slip_for(flight, entry, "NOT COMPLETED - NOT SENT"))


def begin_void(ev: EventData) -> None:
    core = core_of(ev)
    original = core.last_approved
    if original is None:  # guarded by has_sale_to_void
        raise TerminalSimError("void without a sale")
    flight = InFlight(
        "void",
        original.sale_id,
        Money(original.amount_minor, original.currency),
        stan=core.next_stan(),
        started_vt=core.now,
        original=original,
    )
    core.current = flight
    # the journal does not keep when the original was sent: field 90 says so with zeros
    request = core.request(flight, "void", rrn=original.rrn,
                           original=OriginalRef(original.stan))
    core.send(flight, request)


def reprint(ev: EventData) -> None:
    """The admin menu's print key.

    With a slip in memory it prints a copy marked DUPLICATE (harmless: the sale has its
    record). Without one, field firmware prints the slip template for the amount the
    operator keyed: paper that looks like a sale, with no transaction behind it.
    """
    core = core_of(ev)
    payload = payload_of(ev, ReprintRequested)
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
    """Print, marked DUPLICATE, the receipts of approved sales, refunds and voids that
    did not print."""
    core = core_of(ev)
    batch = list(core.reprints)
    core.current = InFlight("reprint", "", Money(0, "EUR"), started_vt=core.now,
                            printing=batch)
    for entry in batch:
        core.outbox.append(PrintSlip(core.slip_of_entry(entry, "DUPLICATE")))


def rearm_reprint(ev: EventData) -> None:
    """The reprint timer ran out while the terminal was busy: try again later."""
    core = core_of(ev)
    core.arm_reprint(core.profile.reprint_retry_ms)  # not a failure: nothing was printed


def finish_transaction(ev: EventData) -> None:
    """The printer answered. Robust firmware confirms the receipt in the journal, or
    keeps the record for a reprint when the printer could not print."""
    core = core_of(ev)
    payload = payload_of(ev, PrintDone)
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
        core.reprint_rounds = core.reprint_waits = 0
        if core.reprints:  # the printer works again: the slips still owed go now
            core.arm_reprint(BOOT_REPRINT_DELAY_MS)
        return
    known = {e.stan for e in core.reprints}
    core.reprints += [e for e in printed if e.stan not in known]
    if core.reprints:
        core.reprint_failed(payload.status)


def note_stray_reply(ev: EventData) -> None:
    """A reply for no pending request: late (after the timeout) or duplicated.

    The naive terminal drops it; it is traced, so a reader sees the host's approval
    reaching a terminal that had already given up.
    """
    core = core_of(ev)
    reply = payload_of(ev, HostReplied).reply
    core.ignored = f"late or stray reply for STAN {reply.stan}"


def lose_volatile_state(ev: EventData) -> None:
    core = core_of(ev)
    core.current = None
    core.last_approved = None
    core.last_slip = None
    core.reprints = []
    core.reprint_rounds = core.reprint_waits = 0  # RAM: the journal says what is owed


def boot(ev: EventData) -> None:
    """Power-on: what the journal kept. Robust firmware resolves every sale left in
    flight (a reversal: the host may have approved it) and reprints missing receipts."""
    core = core_of(ev)
    payload = payload_of(ev, PowerOn)
    core.last_approved = payload.last_approved
    profile = core.profile
    if profile.recover_on_boot:
        for entry in payload.in_flight:
            core.outbox.append(QueueReversal(entry.stan, REASON_TIMEOUT, entry))
            core.outbox.append(WriteJournal(replace(entry, state="failed", updated_vt=core.now),
                                            "recovery"))
    if profile.reprint_missing and payload.unprinted:
        core.reprints = list(payload.unprinted)
        core.arm_reprint(BOOT_REPRINT_DELAY_MS)
