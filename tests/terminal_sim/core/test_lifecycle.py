"""Every row of the lifecycle table, driven through the core with real events."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from terminal_sim.base.cards import Card
from terminal_sim.base.money import Money
from terminal_sim.core import (
    STATES,
    TRANSITIONS,
    CancelTimer,
    CardRead,
    HostReplied,
    PowerLost,
    PowerOn,
    PrintDone,
    PrintSlip,
    ReadCard,
    RefundRequested,
    ReprintRequested,
    SaleRequested,
    SendToHost,
    StartTimer,
    TerminalCore,
    TerminalFleet,
    TimerExpired,
    VoidRequested,
    WriteJournal,
    get_profile,
)
from terminal_sim.core.lifecycle import HOST_TIMER, REPRINT_TIMER
from terminal_sim.iso.messages import HostReply

WALL = dt.datetime(2026, 1, 5, 8, 0, 0)
CARD = Card("4111111111111111")
covered: set[tuple[str, str, str]] = set()


def new_core(profile: str = "naive") -> TerminalCore:
    core = TerminalCore("T0000001", merchant_id="M1", merchant_name="SHOP",
                        profile=get_profile(profile), token_key="k")
    TerminalFleet().add([core])
    return core


def fire(core: TerminalCore, event, now: int = 0) -> list:
    before = core.state
    effects = core.handle(event, now, WALL)
    if not core.ignored:
        covered.add((event.trigger, before, core.state))
    return effects


def reply(core: TerminalCore, code: str = "00", stan: str | None = None) -> HostReplied:
    flight = core.current
    assert flight is not None
    approval = "123456" if code == "00" else ""
    return HostReplied(HostReply("0210", stan or flight.stan, core.terminal_id, code,
                                 rrn="600508000001", approval_code=approval))


def at(state: str, profile: str = "naive") -> TerminalCore:
    """A core driven by real events into ``state``."""
    core = new_core(profile)
    if state == "off":
        return core
    fire(core, PowerOn())
    if state == "idle":
        return core
    if state == "voiding":
        fire(core, SaleRequested("s1", Money(1250, "EUR"), CARD))
        fire(core, CardRead("s1", CARD))
        fire(core, reply(core))
        fire(core, PrintDone())
        fire(core, VoidRequested())
        assert core.state == "voiding"
        return core
    fire(core, SaleRequested("s1", Money(1250, "EUR"), CARD))
    if state == "reading":
        return core
    fire(core, CardRead("s1", CARD))
    if state == "authorizing":
        return core
    fire(core, reply(core))
    assert core.state == "completing"
    return core


def kinds(effects: list) -> list[str]:
    return [type(e).__name__ if not isinstance(e, WriteJournal) else f"Journal:{e.purpose}"
            for e in effects]


def test_sale_requested_reads_the_card() -> None:
    core = at("idle")
    effects = fire(core, SaleRequested("s1", Money(1250, "EUR"), CARD))
    assert core.state == "reading"
    assert len(effects) == 1 and isinstance(effects[0], ReadCard)


@pytest.mark.parametrize(("profile", "expected"), [
    ("naive", ["SendToHost", "StartTimer"]),
    ("robust", ["Journal:intent", "SendToHost", "StartTimer"]),
])
def test_card_read_sends_the_authorization(profile: str, expected: list[str]) -> None:
    core = at("reading", profile)
    effects = fire(core, CardRead("s1", CARD))
    assert core.state == "authorizing"
    assert kinds(effects) == expected
    send = next(e for e in effects if isinstance(e, SendToHost))
    assert send.request.stan == "000001" and send.request.amount_minor == 1250
    assert send.request.pan == CARD.pan  # only the wire carries the PAN
    assert "4111111111111111" not in repr(send)
    if profile == "robust":
        assert effects[0].entry.state == "pending" and effects[0].entry.stan == "000001"


def test_unreadable_card_prints_an_error_slip_on_naive() -> None:
    core = at("reading", "naive")
    effects = fire(core, CardRead("s1", None, "CARD READ ERROR"))
    assert core.state == "completing"
    assert kinds(effects) == ["PrintSlip"]
    slip = effects[0].slip
    assert slip.kind == "error" and slip.stan == "" and slip.outcome == "CARD UNREADABLE"


def test_unreadable_card_prints_nothing_on_robust() -> None:
    core = at("reading", "robust")
    effects = fire(core, CardRead("s1", None, "CARD READ ERROR"))
    assert core.state == "idle" and effects == []


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
    write = next(e for e in effects if isinstance(e, WriteJournal))
    slip = next(e for e in effects if isinstance(e, PrintSlip)).slip
    assert write.entry.state == ("approved" if code == "00" else "declined")
    assert write.entry.masked_pan == "************1111"
    assert slip.stan == write.entry.stan == "000001"
    assert slip.outcome.startswith("APPROVED" if code == "00" else "DECLINED")


def test_host_timeout_fails_the_sale() -> None:
    core = at("authorizing")
    token = core.current.timer_token
    effects = fire(core, TimerExpired(HOST_TIMER, token))
    assert core.state == "completing"
    assert kinds(effects) == ["PrintSlip", "Journal:commit"]
    assert effects[1].entry.state == "failed"


def test_stale_timer_is_ignored() -> None:
    core = at("authorizing")
    effects = core.handle(TimerExpired(HOST_TIMER, 999), 0, WALL)
    assert core.state == "authorizing" and effects == [] and core.ignored


def test_void_of_the_last_sale() -> None:
    core = at("voiding")
    assert core.current.kind == "void"
    assert core.current.original.stan == "000001"
    effects = fire(core, reply(core))
    assert core.state == "completing"
    write = next(e for e in effects if isinstance(e, WriteJournal))
    assert write.entry.type == "void" and write.entry.original_stan == "000001"
    assert write.entry.stan == "000002"
    fire(core, PrintDone())
    # the voided sale cannot be voided twice
    assert core.handle(VoidRequested(), 0, WALL) == [] and core.state == "idle"


def test_void_request_sends_original_data() -> None:
    core = at("idle")
    fire(core, SaleRequested("s1", Money(700, "EUR"), CARD))
    fire(core, CardRead("s1", CARD))
    fire(core, reply(core))
    fire(core, PrintDone())
    effects = fire(core, VoidRequested())
    send = next(e for e in effects if isinstance(e, SendToHost)).request
    assert send.kind == "void" and send.rrn == "600508000001"
    assert send.original is not None and send.original.stan == "000001"
    assert isinstance(effects[-1], StartTimer)


def test_void_times_out() -> None:
    core = at("voiding")
    effects = fire(core, TimerExpired(HOST_TIMER, core.current.timer_token))
    assert core.state == "completing"
    assert next(e for e in effects if isinstance(e, WriteJournal)).entry.state == "failed"


def test_void_without_a_sale_is_ignored() -> None:
    core = at("idle")
    assert core.handle(VoidRequested(), 0, WALL) == []
    assert core.state == "idle" and "void_requested" in core.ignored


def test_reprint_copies_the_last_slip_as_duplicate() -> None:
    core = at("completing")
    fire(core, PrintDone())
    effects = fire(core, ReprintRequested())
    assert core.state == "completing" and kinds(effects) == ["PrintSlip"]
    slip = effects[0].slip
    assert slip.copy_label == "DUPLICATE" and slip.stan == "000001"


def test_naive_prints_a_keyed_slip_without_a_sale() -> None:
    core = at("idle", "naive")
    effects = fire(core, ReprintRequested(Money(4200, "EUR")))
    slip = effects[0].slip
    assert core.state == "completing"
    assert slip.stan == "" and slip.amount_minor == 4200 and slip.copy_label == "COPY"


def test_robust_refuses_to_print_without_a_sale() -> None:
    core = at("idle", "robust")
    assert core.handle(ReprintRequested(Money(4200, "EUR")), 0, WALL) == []
    assert core.state == "idle" and "reprint_requested" in core.ignored


def test_refund_sends_a_refund() -> None:
    core = at("idle")
    fire(core, RefundRequested("r1", Money(500, "EUR"), CARD))
    assert core.state == "reading"
    effects = fire(core, CardRead("r1", CARD))
    send = next(e for e in effects if isinstance(e, SendToHost)).request
    assert send.kind == "refund" and send.amount_minor == 500


def test_robust_timeout_queues_a_reversal_first() -> None:
    core = at("authorizing", "robust")
    effects = fire(core, TimerExpired(HOST_TIMER, core.current.timer_token))
    assert kinds(effects) == ["QueueReversal", "Journal:commit", "PrintSlip"]
    assert effects[0].stan == "000001" and effects[0].reason == "4021"


def test_robust_confirms_the_receipt_after_printing() -> None:
    core = at("completing", "robust")
    effects = fire(core, PrintDone())
    assert kinds(effects) == ["Journal:receipt"]
    assert effects[0].entry.receipt == "printed" and effects[0].entry.state == "approved"


def test_robust_keeps_a_failed_print_for_a_reprint() -> None:
    core = at("completing", "robust")
    effects = fire(core, PrintDone(ok=False, status="paper-out"))
    assert kinds(effects) == ["StartTimer"] and effects[0].timer == REPRINT_TIMER
    assert [e.stan for e in core.reprints] == ["000001"]
    # the timer fires while idle: the slip is printed again, marked DUPLICATE
    effects = fire(core, TimerExpired(REPRINT_TIMER, effects[0].token))
    assert core.state == "completing"
    assert [e.slip.copy_label for e in effects] == ["DUPLICATE"]
    assert kinds(fire(core, PrintDone())) == ["Journal:receipt"]
    assert core.reprints == []


@pytest.mark.parametrize("state", ["reading", "authorizing", "voiding", "completing"])
def test_reprint_timer_waits_while_busy(state: str) -> None:
    core = at(state, "robust")
    core.reprints = [core.last_approved or at("completing", "robust").last_approved]
    core.reprint_token = 77
    effects = fire(core, TimerExpired(REPRINT_TIMER, 77))
    assert core.state == state
    assert kinds(effects) == ["StartTimer"] and effects[0].timer == REPRINT_TIMER
    covered.add(("timer_expired", state, state))


def test_robust_boot_reverses_sales_left_in_flight_and_reprints() -> None:
    donor = at("completing", "robust")
    approved = donor.last_approved
    pending = replace(approved, stan="000002", state="pending")
    core = new_core("robust")
    effects = fire(core, PowerOn(approved, in_flight=(pending,), unprinted=(approved,)))
    assert kinds(effects) == ["QueueReversal", "Journal:recovery", "StartTimer"]
    assert effects[0].stan == "000002" and effects[1].entry.state == "failed"
    assert [e.stan for e in core.reprints] == ["000001"]


def test_naive_boot_recovers_nothing() -> None:
    donor = at("completing", "naive")
    pending = replace(donor.last_approved, stan="000002", state="pending")
    core = new_core("naive")
    assert fire(core, PowerOn(None, in_flight=(pending,))) == []


def test_print_done_returns_to_idle() -> None:
    core = at("completing")
    assert fire(core, PrintDone()) == []
    assert core.state == "idle" and core.current is None


@pytest.mark.parametrize("state", ["idle", "reading", "authorizing", "voiding", "completing"])
def test_stray_reply_is_noted_and_changes_nothing(state: str) -> None:
    core = at(state)
    stray = HostReplied(HostReply("0210", "999999", "T0000001", "00"))
    effects = fire(core, stray)
    assert core.state == state and effects == []
    assert "late or stray reply" in core.ignored
    covered.add(("host_reply", state, state))


@pytest.mark.parametrize("state", ["idle", "reading", "authorizing", "voiding", "completing"])
def test_power_lost_forgets_volatile_state(state: str) -> None:
    core = at(state)
    stan_before = core.last_stan
    fire(core, PowerLost())
    assert core.state == "off" and core.current is None and core.last_approved is None
    assert core.last_stan == stan_before  # the STAN counter is non-volatile


def test_power_on_restores_the_last_approved_sale() -> None:
    donor = at("completing")
    entry = donor.last_approved
    core = new_core()
    fire(core, PowerOn(entry))
    assert core.state == "idle" and core.last_approved == entry


def test_events_before_power_on_are_ignored() -> None:
    core = new_core()
    assert core.handle(SaleRequested("s", Money(1, "EUR"), CARD), 0, WALL) == []
    assert core.state == "off" and core.ignored


def test_timer_effect_names_the_host_timer() -> None:
    core = at("reading")
    effects = fire(core, CardRead("s1", CARD))
    timer = next(e for e in effects if isinstance(e, StartTimer))
    assert timer.timer == HOST_TIMER and timer.delay_ms == core.profile.host_timeout_ms
    after = fire(core, reply(core))
    assert isinstance(after[0], CancelTimer)


def test_stan_wraps_after_999999() -> None:
    core = at("idle")
    core.last_stan = 999_999
    assert core.next_stan() == "000001"


def test_every_table_row_is_covered() -> None:
    """Runs last in this module: each (trigger, source, dest) of the table was exercised."""
    expected = set()
    for row in TRANSITIONS:
        sources = row["source"] if isinstance(row["source"], list) else [row["source"]]
        for source in sources:
            dest = row["dest"] if row["dest"] is not None else source
            expected.add((row["trigger"], source, dest))
    assert set(STATES) >= {s for _, s, _ in expected}
    missing = expected - covered
    assert not missing, f"lifecycle rows without a test: {sorted(missing)}"
