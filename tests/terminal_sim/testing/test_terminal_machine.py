"""The shipped state machine: robust passes, naive fails with a short readable
counterexample, a robust profile with a safeguard removed is caught, misuse fails early."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import rule, run_state_machine_as_test

from terminal_sim.errors import ConfigurationError
from terminal_sim.sim.session import Session
from terminal_sim.testing import TerminalMachine, terminal_machine
from terminal_sim.testing.settings import CI

#: CI's profile (derandomized: the same examples on every run), one bug reported.
ONE_BUG = settings(CI, report_multiple_bugs=False)


def run_and_record(machine: type[TerminalMachine], run_settings: settings) -> list[str]:
    """Run ``machine``; the steps of the last run (after a failure: the shrunk one)."""
    last: list[str] = []

    class Recorded(machine):  # type: ignore[valid-type, misc]
        def teardown(self) -> None:
            last[:] = self.steps
            super().teardown()

    Recorded.__name__ = machine.__name__
    run_state_machine_as_test(Recorded, settings=run_settings)
    return last


def printed_steps(failure: BaseException) -> list[str]:
    """The steps of the counterexample as Hypothesis printed them (its exception notes)."""
    lines = getattr(failure, "__notes__", [])
    return [line.removeprefix("state.") for line in lines
            if line.startswith("state.") and line not in ("state.teardown()",
                                                          "state.books_reconcile()")]


def test_robust_profile_passes_200_examples_of_50_steps() -> None:
    run_and_record(terminal_machine(profile="robust"),
                   settings(CI, max_examples=200, stateful_step_count=50))


def test_naive_profile_fails_with_a_short_readable_counterexample() -> None:
    with pytest.raises(AssertionError) as failure:
        run_and_record(terminal_machine(profile="naive"),
                       settings(ONE_BUG, max_examples=100, stateful_step_count=50))
    printed = printed_steps(failure.value)
    assert 1 <= len(printed) <= 5, printed
    # every step reads as the call that reproduces it, e.g. sale(amount=1, card='visa-...')
    assert any(step.startswith("sale(amount=") and "card='" in step for step in printed)
    message = str(failure.value)
    assert message.startswith("naive profile, with the terminal at rest:")
    assert any(code in message for code in ("LOST_RECORD", "ORPHAN_AUTHORIZATION",
                                            "DUPLICATE_CHARGE", "STRAY_RECEIPT"))


def test_the_machine_records_the_steps_hypothesis_prints() -> None:
    recorded: list[str] = []
    naive = terminal_machine(profile="naive")

    class Recorded(naive):  # type: ignore[valid-type, misc]
        def teardown(self) -> None:
            recorded[:] = self.steps
            super().teardown()

    with pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(Recorded, settings=settings(ONE_BUG, max_examples=100,
                                                              stateful_step_count=10))
    assert recorded == printed_steps(failure.value)


def test_a_robust_profile_without_reversals_is_caught() -> None:
    # the terminal factory: the developer's change is one safeguard switched off
    changed = terminal_machine(
        profile="robust",
        terminal_factory=lambda: Session(profile="robust",
                                         profile_settings={"reverse_on_timeout": False}))
    with pytest.raises(AssertionError, match=r"DUPLICATE_CHARGE|ORPHAN_AUTHORIZATION"):
        run_and_record(changed, settings(ONE_BUG, max_examples=100, stateful_step_count=20))


def test_subclasses_add_rules_and_the_factory_is_used() -> None:
    made: list[Session] = []
    ran: list[str] = []

    def factory() -> Session:
        made.append(Session(profile="robust", seed=4))
        return made[-1]

    base = terminal_machine("robust", faults=(), terminal_factory=factory)

    class WithSettlement(base):  # type: ignore[valid-type, misc]
        @rule()
        def close_the_day(self) -> None:
            self.record("close_the_day()")
            ran.append("close_the_day")
            self.terminal.advance(3_600_000)

    run_and_record(WithSettlement, settings(CI, max_examples=10, stateful_step_count=10))
    assert made
    assert ran
    assert not hasattr(WithSettlement, "power_dip")  # faults=(): no fault rules


def test_other_registry_faults_get_a_rule_of_their_own() -> None:
    machine = terminal_machine("robust", faults=["cold-card-reader", "power-dip"])
    assert machine.fault_names == ("cold-card-reader", "power-dip")
    assert callable(machine.inject_cold_card_reader)  # type: ignore[attr-defined]
    assert not hasattr(machine, "host_reply_lost")
    steps = run_and_record(machine, settings(CI, max_examples=15, stateful_step_count=15))
    assert all(step.split("(")[0] != "host_reply_lost" for step in steps)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"profile": "paranoid"}, r"unknown profile; choose one of: naive, robust"),
    ({"faults": ["power-cut"]}, r"unknown fault 'power-cut'; known: .*power-dip"),
    ({"faults": "power-dip"}, r"give a list of fault names, e.g. faults=\['power-dip'\]"),
    ({"terminal_factory": "robust"}, r"give a callable that returns a fresh Session-like"),
    ({"forbidden": ["LOST_RECORDS"]}, r"unknown finding code 'LOST_RECORDS'; known: "),
    ({"seed": -1}, r"a non-negative integer"),
])
def test_misuse_fails_at_once_and_says_the_fix(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        terminal_machine(**kwargs)
