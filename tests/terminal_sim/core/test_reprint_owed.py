"""A slip owed stays owed: robust waits out a printer that says why it cannot print.

Issue 13 (explore ``liveness:reprint``): the reprint of an approved sale's slip was
retried a fixed number of times, every try counted (paper out, cover open, a printer
without power, a timer that ran out while a customer paid), and then dropped although
the printer came back. These drive the core with real events.
"""

from __future__ import annotations

from typing import Any

import pytest

from terminal_sim.base.money import Money
from terminal_sim.core import (
    CardRead,
    PowerOn,
    PrintDone,
    PrintSlip,
    SaleRequested,
    StartTimer,
    TerminalCore,
    TerminalFleet,
    TimerExpired,
    get_profile,
)
from terminal_sim.core.lifecycle import REPRINT_TIMER
from terminal_sim.core.terminal import REPRINT_BACKOFF_CAP_MS, printer_waits
from tests.terminal_sim.core.test_lifecycle import CARD, fire, first, kinds, of_type, reply


def owing(**settings: Any) -> tuple[TerminalCore, StartTimer]:
    """A robust core whose first sale's slip did not print (paper out): the reprint
    timer it armed."""
    core = TerminalCore("T0000001", merchant_id="M1", merchant_name="SHOP",
                        profile=get_profile("robust").with_settings(**settings),
                        token_key="k")
    TerminalFleet().add([core])
    fire(core, PowerOn())
    fire(core, SaleRequested("s1", Money(1250, "EUR"), CARD))
    fire(core, CardRead("s1", CARD))
    fire(core, reply(core))
    timer = first(fire(core, PrintDone(ok=False, status="paper-out")), StartTimer)
    assert [e.stan for e in core.reprints] == ["000001"]
    return core, timer


def fail_again(core: TerminalCore, timer: StartTimer, status: str) -> StartTimer | None:
    """The reprint timer runs out, the reprint fails with ``status``: the next timer."""
    effects = fire(core, TimerExpired(REPRINT_TIMER, timer.token))
    assert [e.slip.copy_label for e in of_type(effects, PrintSlip)] == ["DUPLICATE"]
    timers = of_type(fire(core, PrintDone(ok=False, status=status)), StartTimer)
    return timers[0] if timers else None


@pytest.mark.parametrize("status", ["paper-out", "cover-open", "offline",
                                    "offline after printing", "paper-out after printing"])
def test_a_printer_that_says_why_is_waited_out_whatever_the_cap(status: str) -> None:
    """reprint_max_attempts 1: a hundred tries the printer explains never use it up."""
    core, timer = owing(reprint_max_attempts=1)
    for _ in range(100):
        following = fail_again(core, timer, status)
        assert following is not None, core.ignored
        timer = following
    effects = fire(core, TimerExpired(REPRINT_TIMER, timer.token))
    assert kinds(fire(core, PrintDone())) == ["Journal:receipt"]
    assert len(of_type(effects, PrintSlip)) == 1
    assert core.reprints == []


def test_the_wait_backs_off_to_a_cap() -> None:
    core, timer = owing(reprint_retry_ms=20_000)
    delays = [timer.delay_ms]
    for _ in range(6):
        following = fail_again(core, timer, "paper-out")
        assert following is not None
        delays.append(following.delay_ms)
        timer = following
    assert delays == [20_000, 40_000, 80_000, 160_000, REPRINT_BACKOFF_CAP_MS,
                      REPRINT_BACKOFF_CAP_MS, REPRINT_BACKOFF_CAP_MS]


@pytest.mark.parametrize(("cap", "tries"), [(1, 1), (3, 3)])
def test_failures_the_printer_does_not_explain_count(cap: int, tries: int) -> None:
    """A failure with no status the firmware can wait for (a jam, a cutter error) counts:
    after ``reprint_max_attempts`` of them the terminal stops, the slip stays owed."""
    core, timer = owing(reprint_max_attempts=cap)
    for attempt in range(1, tries + 1):
        following = fail_again(core, timer, "cutter-error")
        if attempt < tries:
            assert following is not None
            timer = following
    assert following is None
    assert "reprint abandoned after" in core.ignored
    assert [e.stan for e in core.reprints] == ["000001"]


def test_no_cap_when_reprint_max_attempts_is_zero() -> None:
    core, timer = owing(reprint_max_attempts=0)
    for _ in range(50):
        following = fail_again(core, timer, "cutter-error")
        assert following is not None
        timer = following


def test_a_timer_that_runs_out_while_a_customer_pays_is_not_a_try() -> None:
    core, timer = owing(reprint_max_attempts=1)
    fire(core, SaleRequested("s2", Money(700, "EUR"), CARD))
    for _ in range(30):  # the customer's card takes long: the timer keeps running out
        timer = first(fire(core, TimerExpired(REPRINT_TIMER, timer.token)), StartTimer)
        assert core.state == "reading"
    fire(core, CardRead("s2", CARD))
    fire(core, reply(core))
    assert fail_again_after_sale(core, timer) is not None


def fail_again_after_sale(core: TerminalCore, timer: StartTimer) -> StartTimer | None:
    """The second sale's slip fails too (paper still out): both are owed, retried."""
    timers = of_type(fire(core, PrintDone(ok=False, status="paper-out")), StartTimer)
    assert [e.stan for e in core.reprints] == ["000001", "000002"]
    return timers[0] if timers else None


def test_a_slip_that_prints_brings_the_owed_ones_forward() -> None:
    """The printer is back (a new sale's slip printed): the owed slips go in two seconds,
    not at the end of a five-minute backoff."""
    core, timer = owing()
    for _ in range(5):
        following = fail_again(core, timer, "paper-out")
        assert following is not None
        timer = following
    assert timer.delay_ms == REPRINT_BACKOFF_CAP_MS
    fire(core, SaleRequested("s2", Money(700, "EUR"), CARD))
    fire(core, CardRead("s2", CARD))
    fire(core, reply(core))
    effects = fire(core, PrintDone())
    assert kinds(effects) == ["Journal:receipt", "StartTimer"]
    assert first(effects, StartTimer).delay_ms == 2_000
    assert [e.stan for e in core.reprints] == ["000001"]


@pytest.mark.parametrize(("status", "waits"), [
    ("paper-out", True), ("cover-open", True), ("offline", True),
    ("offline after printing", True), ("cutter-error", False), ("ok", False)])
def test_printer_waits(status: str, waits: bool) -> None:
    assert printer_waits(status) is waits
