"""A developer tests a change: may the firmware print the receipt before saving the sale?

The naive profile prints first and writes the journal after; the robust one journals
first. Rather than reason about every moment the power could go, ask Hypothesis: the
state machine from :func:`terminal_sim.testing.terminal_machine` plays customers and
power dips at every crash point of the profile, and its invariant (narrowed here to the
question at hand) forbids a ``STRAY_RECEIPT``: paper saying APPROVED with no record
behind it. Hypothesis finds the naive firmware's stray receipt and shrinks it to a few
readable steps; the robust firmware passes the same machine.

Run it from the repository root::

    pytest examples/test_find_stray_receipt.py

Remove the ``pytest.raises`` below to see the failure as you would meet it.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from terminal_sim.testing import terminal_machine
from terminal_sim.testing.settings import CI

# The same machine for both firmwares: customers, an operator, time, and power dips.
# Only the paper question is asked: no forbidden code but STRAY_RECEIPT, no money check.
NaiveTerminal = terminal_machine("naive", faults=["power-dip"], forbidden=["STRAY_RECEIPT"],
                                 conserve_money=False)
RobustTerminal = terminal_machine("robust", faults=["power-dip"], forbidden=["STRAY_RECEIPT"],
                                  conserve_money=False)

# CI's profile (the same examples on every run); short runs, because this bug needs only
# a few steps and a short failing run shrinks fast; one bug reported, not several
SETTINGS = settings(CI, max_examples=100, stateful_step_count=25, report_multiple_bugs=False)


def test_printing_before_saving_leaves_a_stray_receipt() -> None:
    shrunk: list[str] = []

    class Naive(NaiveTerminal):  # type: ignore[misc, valid-type]
        def teardown(self) -> None:
            shrunk[:] = self.steps  # the last run Hypothesis makes is the shrunk example
            super().teardown()

    with pytest.raises(AssertionError, match="STRAY_RECEIPT") as failure:
        run_state_machine_as_test(Naive, settings=SETTINGS)

    # e.g. sale(amount=1, card='visa-approve'), settle(), pull_plug(): the slip is out,
    # and the journal commit it stands for was not yet on disk when the power went
    assert 1 <= len(shrunk) <= 5, shrunk
    assert "the journal has no record of" in str(failure.value)


def test_saving_before_printing_survives_the_same_machine() -> None:
    run_state_machine_as_test(RobustTerminal, settings=SETTINGS)
