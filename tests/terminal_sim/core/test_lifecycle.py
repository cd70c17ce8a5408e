"""Every row of the lifecycle table, driven through the core with real events.

Each test builds its own cores. Coverage of the table is checked row by row by
``test_every_table_row_is_taken``, which drives each row itself (no state shared
between tests), so it passes alone and in any order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import pytest

from terminal_sim.base.cards import Card
from terminal_sim.base.money import Money
from terminal_sim.core import (
    STATES,
    TRANSITIONS,
    CancelTimer,
    CardRead,
    Effect,
    Event,
    HostReplied,
    JournalEntry,
    PowerLost,
    PowerOn,
    PrintDone,
    PrintSlip,
    QueueReversal,
    ReadCard,
    RefundRequested,
    ReprintRequested,
    SaleRequested,
    SendFailed,
    SendToHost,
    StartTimer,
    TerminalCore,
    TerminalFleet,
    TimerExpired,
    VoidRequested,
    WriteJournal,
    get_profile,
)
from terminal_sim.core.lifecycle import HOST_TIMER, REPRINT_TIMER, InFlight
from terminal_sim.core.messages import HostReply

WALL = dt.datetime(2026, 1, 5, 8, 0, 0)
CARD = Card("4111111111111111")
EffectT = TypeVar("EffectT", bound=Effect)


def new_core(profile: str = "naive") -> TerminalCore:
    core = TerminalCore("T0000001", merchant_id="M1", merchant_name="SHOP",
                        profile=get_profile(profile), token_key="k")
    TerminalFleet().add([core])
    return core


def fire(core: TerminalCore, event: Event, now: int = 0) -> list[Effect]:
    return core.handle(event, now, WALL)


def flight(core: TerminalCore) -> InFlight:
    assert core.current is not None, f"nothing in flight in state {core.state}"
    return core.current


def approved(core: TerminalCore) -> JournalEntry:
    assert core.last_approved is not None, "no approved sale"
    return core.last_approved


def of_type(effects: list[Effect], kind: type[EffectT]) -> list[EffectT]:
    return [effect for effect in effects if isinstance(effect, kind)]


def first(effects: list[Effect], kind: type[EffectT]) -> EffectT:
    found = of_type(effects, kind)
    assert found, f"no {kind.__name__} in {kinds(effects)}"
    return found[0]


def reply(core: TerminalCore, code: str = "00", stan: str | None = None) -> HostReplied:
    approval = "123456" if code == "00" else ""
    return HostReplied(HostReply("0210", stan or flight(core).stan, core.terminal_id, code,
                                 rrn="600508000001", approval_code=approval))


def stray_reply() -> HostReplied:
    return HostReplied(HostReply("0210", "999999", "T0000001", "00"))


def at(state: str, profile: str = "naive") -> TerminalCore:
    """A core driven by real events into ``state``."""
    core = new_core(profile)
    if state == "off":
        return core
    fire(core, PowerOn())
    if state == "idle":
        return core
    if state == "voiding":
        return voiding(core)
    fire(core, SaleRequested("s1", Money(1250, "EUR"), CARD))
    if state == "reading":
        return core
    fire(core, CardRead("s1", CARD))
    if state == "authorizing":
        return core
    fire(core, reply(core))
    assert core.state == "completing"
    return core


def idle_after_sale(core: TerminalCore, amount: int = 1250) -> TerminalCore:
    """``core`` (idle) sells once, approved and printed, and is idle again."""
    fire(core, SaleRequested("s1", Money(amount, "EUR"), CARD))
    fire(core, CardRead("s1", CARD))
    fire(core, reply(core))
    fire(core, PrintDone())
    assert core.state == "idle"
    return core


def voiding(core: TerminalCore) -> TerminalCore:
    fire(idle_after_sale(core), VoidRequested())
    assert core.state == "voiding"
    return core


def kinds(effects: list[Effect]) -> list[str]:
    return [type(e).__name__ if not isinstance(e, WriteJournal) else f"Journal:{e.purpose}"
            for e in effects]


def with_reprint_due(core: TerminalCore, token: int = 77) -> TerminalCore:
    """``core`` owes the reprint of an approved sale; the reprint timer ``token`` runs."""
    core.reprints = [approved(at("completing", "robust"))]
    core.reprint_token = token
    return core


def test_sale_requested_reads_the_card() -> None:
    core = at("idle")
    effects = fire(core, SaleRequested("s1", Money(1250, "EUR"), CARD))
    assert core.state == "reading"
    assert len(effects) == 1
    assert isinstance(effects[0], ReadCard)


@pytest.mark.parametrize(("profile", "expected"), [
    ("naive", ["SendToHost", "StartTimer"]),
    ("robust", ["Journal:intent", "SendToHost", "StartTimer"]),
])
def test_card_read_sends_the_authorization(profile: str, expected: list[str]) -> None:
    core = at("reading", profile)
    effects = fire(core, CardRead("s1", CARD))
    assert core.state == "authorizing"
    assert kinds(effects) == expected
    send = first(effects, SendToHost)
    assert send.request.stan == "000001"
    assert send.request.amount_minor == 1250
    assert send.request.card == CARD  # only the wire carries the PAN
    assert "4111111111111111" not in repr(send)
    assert send.trace_data()["pan"] == "************1111"
    if profile == "robust":
        intent = first(effects, WriteJournal)
        assert intent.entry.state == "pending"
        assert intent.entry.stan == "000001"


def test_unreadable_card_prints_an_error_slip_on_naive() -> None:
    core = at("reading", "naive")
    effects = fire(core, CardRead("s1", None, "CARD READ ERROR"))
    assert core.state == "completing"
    assert kinds(effects) == ["PrintSlip"]
    slip = first(effects, PrintSlip).slip
    assert slip.kind == "error"
    assert slip.stan == ""
    assert slip.outcome == "CARD UNREADABLE"


def test_unreadable_card_prints_nothing_on_robust() -> None:
    core = at("reading", "robust")
    effects = fire(core, CardRead("s1", None, "CARD READ ERROR"))
    assert core.state == "idle"
    assert effects == []


@pytest.mark.parametrize(("profile", "expected"), [
    ("naive", ["CancelTimer", "PrintSlip", "Journal:commit"]),
    ("robust", ["CancelTimer", "Journal:commit", "PrintSlip"]),
])
@pytest.mark.parametrize("code", ["00", "51"])
def test_host_reply_completes_in_profile_order(profile: str, expected: list[str],
                                               code: str) -> None:
    core = at("authorizing", profile)
    effects = fire(core, reply(core, code))
    assert core.state == "completing"
    assert kinds(effects) == expected
    write = first(effects, WriteJournal)
    slip = first(effects, PrintSlip).slip
    assert write.entry.state == ("approved" if code == "00" else "declined")
    assert write.entry.masked_pan == "************1111"
    assert slip.stan == write.entry.stan == "000001"
    assert slip.outcome == ("APPROVED" if code == "00" else "DECLINED INSUFFICIENT FUNDS")


def test_host_timeout_fails_the_sale() -> None:
    core = at("authorizing")
    effects = fire(core, TimerExpired(HOST_TIMER, flight(core).timer_token))
    assert core.state == "completing"
    assert kinds(effects) == ["PrintSlip", "Journal:commit"]
    assert first(effects, WriteJournal).entry.state == "failed"


def test_stale_timer_is_ignored() -> None:
    core = at("authorizing")
    effects = core.handle(TimerExpired(HOST_TIMER, 999), 0, WALL)
    assert core.state == "authorizing"
    assert effects == []
    assert core.ignored


@pytest.mark.parametrize(("profile", "expected"), [
    ("naive", ["CancelTimer", "PrintSlip", "Journal:commit"]),
    ("robust", ["CancelTimer", "Journal:commit", "PrintSlip"]),
])
def test_a_request_that_never_left_fails_without_a_reversal(profile: str,
                                                             expected: list[str]) -> None:
    """An encode failure before the timer starts must not leave the terminal waiting."""
    core = at("authorizing", profile)
    effects = fire(core, SendFailed(flight(core).stan, "field 4: too long"))
    assert core.state == "completing"
    assert kinds(effects) == expected  # no QueueReversal: the host never saw it
    assert first(effects, CancelTimer).timer == HOST_TIMER
    assert first(effects, WriteJournal).entry.state == "failed"
    assert first(effects, PrintSlip).slip.outcome.startswith("NOT COMPLETED")


def test_send_failed_of_another_request_is_ignored() -> None:
    core = at("authorizing")
    effects = fire(core, SendFailed("999999"))
    assert core.state == "authorizing"
    assert effects == []
    assert core.ignored


def test_void_of_the_last_sale() -> None:
    core = at("voiding")
    assert flight(core).kind == "void"
    original = flight(core).original
    assert original is not None
    assert original.stan == "000001"
    effects = fire(core, reply(core))
    assert core.state == "completing"
    write = first(effects, WriteJournal)
    assert write.entry.type == "void"
    assert write.entry.original_stan == "000001"
    assert write.entry.stan == "000002"
    fire(core, PrintDone())
    # the voided sale cannot be voided twice
    assert core.handle(VoidRequested(), 0, WALL) == []
    assert core.state == "idle"


def test_void_request_sends_original_data() -> None:
    core = idle_after_sale(at("idle"), amount=700)
    effects = fire(core, VoidRequested())
    send = first(effects, SendToHost).request
    assert send.kind == "void"
    assert send.rrn == "600508000001"
    assert send.amount_minor == 700
    assert send.original is not None
    assert send.original.stan == "000001"
    assert send.original.sent_at is None  # the journal does not keep the send time
    assert send.card is None
    assert isinstance(effects[-1], StartTimer)


def test_void_times_out() -> None:
    core = at("voiding")
    effects = fire(core, TimerExpired(HOST_TIMER, flight(core).timer_token))
    assert core.state == "completing"
    assert first(effects, WriteJournal).entry.state == "failed"


def test_void_without_a_sale_is_ignored() -> None:
    core = at("idle")
    assert core.handle(VoidRequested(), 0, WALL) == []
    assert core.state == "idle"
    assert "void_requested" in core.ignored


def test_reprint_copies_the_last_slip_as_duplicate() -> None:
    core = at("completing")
    fire(core, PrintDone())
    effects = fire(core, ReprintRequested())
    assert core.state == "completing"
    assert kinds(effects) == ["PrintSlip"]
    slip = first(effects, PrintSlip).slip
    assert slip.copy_label == "DUPLICATE"
    assert slip.stan == "000001"


def test_naive_prints_a_keyed_slip_without_a_sale() -> None:
    core = at("idle", "naive")
    effects = fire(core, ReprintRequested(Money(4200, "EUR")))
    slip = first(effects, PrintSlip).slip
    assert core.state == "completing"
    assert slip.stan == ""
    assert slip.amount_minor == 4200
    assert slip.copy_label == "COPY"


def test_robust_refuses_to_print_without_a_sale() -> None:
    core = at("idle", "robust")
    assert core.handle(ReprintRequested(Money(4200, "EUR")), 0, WALL) == []
    assert core.state == "idle"
    assert "reprint_requested" in core.ignored


def test_refund_sends_a_refund() -> None:
    core = at("idle")
    fire(core, RefundRequested("r1", Money(500, "EUR"), CARD))
    assert core.state == "reading"
    effects = fire(core, CardRead("r1", CARD))
    send = first(effects, SendToHost).request
    assert send.kind == "refund"
    assert send.amount_minor == 500


def test_robust_timeout_queues_a_reversal_first() -> None:
    core = at("authorizing", "robust")
    effects = fire(core, TimerExpired(HOST_TIMER, flight(core).timer_token))
    assert kinds(effects) == ["QueueReversal", "Journal:commit", "PrintSlip"]
    reversal = first(effects, QueueReversal)
    assert reversal.stan == "000001"
    assert reversal.reason == "4021"


INVALID_REPLIES = {
    "unknown response code": {"response_code": "0Q"},
    "another MTI": {"mti": "0230"},
    "amount not echoed": {"amount_minor": 1350},
    "currency not echoed": {"currency": "USD"},
}


@pytest.mark.parametrize("change", INVALID_REPLIES.values(), ids=list(INVALID_REPLIES))
def test_robust_reverses_a_reply_that_does_not_answer_its_request(
        change: dict[str, Any]) -> None:
    # a corrupted reply ("00" read as "0Q") says nothing reliable: an unknown outcome
    core = at("authorizing", "robust")
    wrong = replace(reply(core).reply, **{"amount_minor": 1250, "currency": "EUR", **change})
    effects = fire(core, HostReplied(wrong))
    assert core.state == "completing"
    assert kinds(effects) == ["CancelTimer", "QueueReversal", "Journal:commit", "PrintSlip"]
    assert first(effects, QueueReversal).reason == "4020"
    assert first(effects, WriteJournal).entry.state == "failed"
    assert core.ignored.startswith("invalid reply for STAN 000001")


def test_naive_takes_an_unknown_response_code_as_a_decline() -> None:
    core = at("authorizing", "naive")
    effects = fire(core, reply(core, "0Q"))
    assert "QueueReversal" not in kinds(effects)
    assert first(effects, WriteJournal).entry.state == "declined"


def test_robust_takes_a_valid_reply_as_it_reads() -> None:
    core = at("authorizing", "robust")
    effects = fire(core, HostReplied(replace(reply(core, "05").reply, amount_minor=1250,
                                             currency="EUR")))
    assert "QueueReversal" not in kinds(effects)
    assert first(effects, WriteJournal).entry.state == "declined"


def test_robust_confirms_the_receipt_after_printing() -> None:
    core = at("completing", "robust")
    effects = fire(core, PrintDone())
    assert kinds(effects) == ["Journal:receipt"]
    entry = first(effects, WriteJournal).entry
    assert entry.receipt == "printed"
    assert entry.state == "approved"


def test_robust_keeps_a_failed_print_for_a_reprint() -> None:
    core = at("completing", "robust")
    effects = fire(core, PrintDone(ok=False, status="paper-out"))
    timer = first(effects, StartTimer)
    assert kinds(effects) == ["StartTimer"]
    assert timer.timer == REPRINT_TIMER
    assert [e.stan for e in core.reprints] == ["000001"]
    # the timer fires while idle: the slip is printed again, marked DUPLICATE
    effects = fire(core, TimerExpired(REPRINT_TIMER, timer.token))
    assert core.state == "completing"
    assert [e.slip.copy_label for e in of_type(effects, PrintSlip)] == ["DUPLICATE"]
    assert kinds(fire(core, PrintDone())) == ["Journal:receipt"]
    assert core.reprints == []


@pytest.mark.parametrize("state", ["reading", "authorizing", "voiding", "completing"])
def test_reprint_timer_waits_while_busy(state: str) -> None:
    core = with_reprint_due(at(state, "robust"))
    effects = fire(core, TimerExpired(REPRINT_TIMER, 77))
    assert core.state == state
    assert kinds(effects) == ["StartTimer"]
    assert first(effects, StartTimer).timer == REPRINT_TIMER


def test_robust_boot_reverses_sales_left_in_flight_and_reprints() -> None:
    entry = approved(at("completing", "robust"))
    pending = replace(entry, stan="000002", state="pending")
    core = new_core("robust")
    effects = fire(core, PowerOn(entry, in_flight=(pending,), unprinted=(entry,)))
    assert kinds(effects) == ["QueueReversal", "Journal:recovery", "StartTimer"]
    assert first(effects, QueueReversal).stan == "000002"
    assert first(effects, WriteJournal).entry.state == "failed"
    assert [e.stan for e in core.reprints] == ["000001"]


def test_naive_boot_recovers_nothing() -> None:
    pending = replace(approved(at("completing", "naive")), stan="000002", state="pending")
    core = new_core("naive")
    assert fire(core, PowerOn(None, in_flight=(pending,))) == []


def test_print_done_returns_to_idle() -> None:
    core = at("completing")
    assert fire(core, PrintDone()) == []
    assert core.state == "idle"
    assert core.current is None


@pytest.mark.parametrize("state", ["idle", "reading", "authorizing", "voiding", "completing"])
def test_stray_reply_is_noted_and_changes_nothing(state: str) -> None:
    core = at(state)
    effects = fire(core, stray_reply())
    assert core.state == state
    assert effects == []
    assert "late or stray reply" in core.ignored


@pytest.mark.parametrize("state", ["idle", "reading", "authorizing", "voiding", "completing"])
def test_power_lost_forgets_volatile_state(state: str) -> None:
    core = at(state)
    stan_before = core.last_stan
    fire(core, PowerLost())
    assert core.state == "off"
    assert core.current is None
    assert core.last_approved is None
    assert core.last_stan == stan_before  # the STAN counter is non-volatile


def test_power_on_restores_the_last_approved_sale() -> None:
    entry = approved(at("completing"))
    core = new_core()
    fire(core, PowerOn(entry))
    assert core.state == "idle"
    assert core.last_approved == entry


def test_events_before_power_on_are_ignored() -> None:
    core = new_core()
    assert core.handle(SaleRequested("s", Money(1, "EUR"), CARD), 0, WALL) == []
    assert core.state == "off"
    assert core.ignored


def test_timer_effect_names_the_host_timer() -> None:
    core = at("reading")
    effects = fire(core, CardRead("s1", CARD))
    timer = first(effects, StartTimer)
    assert timer.timer == HOST_TIMER
    assert timer.delay_ms == core.profile.host_timeout_ms
    after = fire(core, reply(core))
    assert isinstance(after[0], CancelTimer)


def test_stan_wraps_after_999999() -> None:
    core = at("idle")
    core.last_stan = 999_999
    assert core.next_stan() == "000001"


# -- the table, row by row -----------------------------------------------------------------

Row = tuple[str, str, str]
#: How to reach a row: a core in the row's source state, and the event that takes the row.
Driver = Callable[[str], tuple[TerminalCore, Event]]


def _card_read(dest: str) -> tuple[TerminalCore, Event]:
    if dest == "authorizing":
        return at("reading"), CardRead("s1", CARD)
    # an unreadable card: naive prints an error slip, robust goes back to idle
    return at("reading", "naive" if dest == "completing" else "robust"), CardRead("s1")


def _timer(source: str, dest: str) -> tuple[TerminalCore, Event]:
    if source == dest:  # a reprint due while busy waits
        return with_reprint_due(at(source, "robust")), TimerExpired(REPRINT_TIMER, 77)
    if source == "idle":
        return with_reprint_due(at("idle", "robust")), TimerExpired(REPRINT_TIMER, 77)
    core = at(source)
    return core, TimerExpired(HOST_TIMER, flight(core).timer_token)


def _host_reply(source: str, dest: str) -> tuple[TerminalCore, Event]:
    core = at(source)
    return core, (stray_reply() if source == dest else reply(core))


DRIVERS: dict[str, Callable[[str, str], tuple[TerminalCore, Event]]] = {
    "sale_requested": lambda _s, _d: (at("idle"), SaleRequested("s1", Money(1250, "EUR"), CARD)),
    "refund_requested": lambda _s, _d: (at("idle"), RefundRequested("r1", Money(500, "EUR"),
                                                                     CARD)),
    "card_read": lambda _s, dest: _card_read(dest),
    "host_reply": _host_reply,
    "timer_expired": _timer,
    "void_requested": lambda _s, _d: (idle_after_sale(at("idle")), VoidRequested()),
    "reprint_requested": lambda _s, _d: (at("idle", "naive"), ReprintRequested(Money(1, "EUR"))),
    "print_done": lambda _s, _d: (at("completing"), PrintDone()),
    "send_failed": lambda source, _d: (core := at(source), SendFailed(flight(core).stan)),
    "power_lost": lambda source, _d: (at(source), PowerLost()),
    "power_on": lambda _s, _d: (new_core(), PowerOn()),
}


def table_rows() -> list[Row]:
    """Every (trigger, source, dest) of ``TRANSITIONS``; ``dest`` None stays in ``source``."""
    rows: list[Row] = []
    for row in TRANSITIONS:
        sources = row["source"] if isinstance(row["source"], list) else [row["source"]]
        for source in sources:
            dest = row["dest"] if row["dest"] is not None else source
            rows.append((row["trigger"], source, dest))
    return rows


def test_the_table_names_only_known_states() -> None:
    rows = table_rows()
    assert {s for _, s, _ in rows} | {d for _, _, d in rows} <= set(STATES)
    assert len(set(rows)) == len(rows), "a (trigger, source, dest) row appears twice"


@pytest.mark.parametrize(("trigger", "source", "dest"), table_rows())
def test_every_table_row_is_taken(trigger: str, source: str, dest: str) -> None:
    """Each row of the table is reached by a real event from its source state."""
    assert trigger in DRIVERS, f"no test drives the {trigger!r} rows"
    core, event = DRIVERS[trigger](source, dest)
    assert (event.trigger, core.state) == (trigger, source)
    fire(core, event)
    assert core.state == dest
    assert not core.ignored or core.ignored.startswith("late or stray reply")


def test_a_core_in_a_fleet_carries_no_method_per_event() -> None:
    """transitions binds ``core.<event>()`` and ``core.may_<event>()`` to every model by
    default (two objects per event per terminal); the fleet binds none, and the cores are
    still driven by name, also for an event added after they joined."""
    fleet = TerminalFleet()
    core = TerminalCore("T0000001", merchant_id="M1", merchant_name="SHOP",
                        profile=get_profile("naive"), token_key="k")
    fleet.add([core])
    for trigger in fleet.machine.events:
        assert not hasattr(core, trigger)
        assert not hasattr(core, f"may_{trigger}")
    assert core.trigger("power_on", event=PowerOn()) is True
    assert core.state == "idle"
    fleet.machine.add_transition("service_mode", "idle", "off")
    assert not hasattr(core, "service_mode")
    assert core.trigger("service_mode") is True
    assert core.state == "off"
