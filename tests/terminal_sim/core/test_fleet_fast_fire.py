"""``TerminalFleet.fire`` (the fast routes) against the library's own ``trigger``.

The same generated event sequences go to a core of a fast fleet and to one of a
``fast=False`` fleet (every event through ``transitions``' ``Machine.trigger``); after
every event both must have taken the same transition: same effects, same state, same
"ignored" reason, same memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transitions import EventData, MachineError

from terminal_sim.base.cards import Card
from terminal_sim.base.money import Money
from terminal_sim.core import (
    CardRead,
    Event,
    HostReplied,
    PowerLost,
    PowerOn,
    PrintDone,
    RefundRequested,
    ReprintRequested,
    SaleRequested,
    SendFailed,
    TerminalCore,
    TerminalFleet,
    TimerExpired,
    VoidRequested,
    get_profile,
)
from terminal_sim.core.lifecycle import HOST_TIMER, REPRINT_TIMER, plain_routes
from terminal_sim.core.messages import HostReply

WALL = dt.datetime(2026, 1, 5, 8, 0, 0)
CARD = Card("4111111111111111")


def new_core(profile: str, *, fast: bool) -> TerminalCore:
    core = TerminalCore("T0000001", merchant_id="M1", merchant_name="SHOP",
                        profile=get_profile(profile), token_key="k")
    TerminalFleet(fast=fast).add([core])
    return core


def _stan(core: TerminalCore, pick: int) -> str:
    """The STAN in flight (most draws), or another one."""
    flight = core.current
    return flight.stan if flight is not None and pick else f"{pick + 900_000:06d}"


def _token(core: TerminalCore, timer: str, pick: int) -> int:
    """The live timer's token (most draws), or a stale one."""
    if not pick:
        return 9_999
    if timer == HOST_TIMER:
        return core.current.timer_token if core.current is not None else 1
    return core.reprint_token


def make_event(core: TerminalCore, kind: str, pick: int) -> Event:
    """An event of ``kind``, aimed at what ``core`` is doing (or, with ``pick`` 0, not)."""
    sale_id = core.current.sale_id if core.current is not None else f"s{pick}"
    code = ("00", "51", "0Q")[pick % 3]
    events: dict[str, Callable[[], Event]] = {
        "sale": lambda: SaleRequested(sale_id, Money(100 + pick, "EUR"), CARD),
        "refund": lambda: RefundRequested(sale_id, Money(100 + pick, "EUR"), CARD),
        "card_ok": lambda: CardRead(sale_id, CARD),
        "card_bad": lambda: CardRead(sale_id, None, "CARD NOT SUPPORTED"),
        "reply": lambda: HostReplied(HostReply(
            "0210", _stan(core, pick), core.terminal_id, code, rrn="600508000001",
            approval_code="123456" if code == "00" else "")),
        "host_timer": lambda: TimerExpired(HOST_TIMER, _token(core, HOST_TIMER, pick)),
        "reprint_timer": lambda: TimerExpired(REPRINT_TIMER, _token(core, REPRINT_TIMER, pick)),
        "send_failed": lambda: SendFailed(_stan(core, pick), "unencodable"),
        "print_ok": lambda: PrintDone(),
        "print_failed": lambda: PrintDone(ok=False, status=("paper-out", "jammed")[pick % 2]),
        "void": lambda: VoidRequested(),
        "reprint": lambda: ReprintRequested(Money(pick, "EUR") if pick % 2 else None),
        "power_lost": lambda: PowerLost(),
        "power_on": lambda: PowerOn(core.last_approved),
    }
    return events[kind]()


KINDS = ["sale", "refund", "card_ok", "card_bad", "reply", "host_timer", "reprint_timer",
         "send_failed", "print_ok", "print_failed", "void", "reprint", "power_lost",
         "power_on"]


def memory(core: TerminalCore) -> dict[str, Any]:
    names = ("state", "current", "last_approved", "last_slip", "reprints", "reprint_token",
             "reprint_rounds", "reprint_waits", "timer_seq", "last_stan", "ignored")
    return {name: getattr(core, name) for name in names}


@settings(max_examples=150, deadline=None)
@given(profile=st.sampled_from(["naive", "robust"]),
       steps=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 5)), max_size=40))
def test_fast_fire_takes_the_transition_the_library_takes(
        profile: str, steps: list[tuple[str, int]]) -> None:
    fast, slow = new_core(profile, fast=True), new_core(profile, fast=False)
    assert fast.fire is not None
    assert slow.fire is None
    for now, (kind, pick) in enumerate([("power_on", 1), *steps]):
        event = make_event(fast, kind, pick)
        assert make_event(slow, kind, pick) == event
        assert fast.handle(event, now * 100, WALL) == slow.handle(event, now * 100, WALL)
        assert memory(fast) == memory(slow)


def test_every_trigger_and_state_has_a_fast_route() -> None:
    """The table is plain: no (trigger, state) falls back to the library."""
    machine = TerminalFleet().machine
    routes = plain_routes(machine)
    assert set(routes) == {(t, s) for t in machine.events for s in machine.states}
    # a valid source has the library's transitions, in the library's order
    assert [step[0] for step in routes["card_read", "reading"]] == (
        machine.events["card_read"].transitions["reading"])
    assert routes["card_read", "idle"] == ()


def test_a_machine_with_a_hook_gets_no_fast_routes() -> None:
    fleet = TerminalFleet()
    fleet.machine.prepare_event.append(lambda _ev: None)
    assert plain_routes(fleet.machine) == {}


def test_a_transition_the_fast_routes_do_not_cover_goes_through_the_library() -> None:
    """A callback given by name needs the library: that (trigger, state) has no route,
    and ``fire`` hands the event to ``trigger``, which runs the named callback."""
    fleet = TerminalFleet()
    called: list[str] = []

    class Named(TerminalCore):
        def named_check(self, _ev: EventData) -> bool:
            called.append("check")
            return False

    fleet.machine.add_transition("void_requested", "idle", "voiding",
                                 conditions=["named_check"], before=["named_check"])
    routes = plain_routes(fleet.machine)
    assert ("void_requested", "idle") not in routes
    assert ("print_done", "completing") in routes
    fleet._routes = routes  # noqa: SLF001  (the fleet's routes, taken again)
    core = Named("T0000001", merchant_id="M1", merchant_name="SHOP",
                 profile=get_profile("naive"), token_key="k")
    fleet.add([core])
    core.handle(PowerOn(), 0, WALL)
    assert core.handle(VoidRequested(), 1, WALL) == []
    assert called == ["check"]
    assert core.ignored == "void_requested not accepted in state idle"


def test_an_event_invalid_in_the_state_is_not_accepted_either_way() -> None:
    for fast in (True, False):
        core = new_core("naive", fast=fast)
        assert core.handle(PrintDone(), 0, WALL) == []
        assert core.ignored == "print_done not accepted in state off"
        with pytest.raises(MachineError):
            core.trigger("print_done", event=PrintDone())
