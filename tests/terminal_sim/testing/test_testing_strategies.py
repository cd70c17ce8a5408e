"""The strategies of terminal_sim.testing draw what they promise, checked against the
simulator's own rules (the host's decision table, the fault registry, the scenario loader)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_sim.acquirer.rules import OutcomeRules
from terminal_sim.base.cards import TEST_CARDS, Card, luhn_valid
from terminal_sim.base.money import CURRENCIES, Money
from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.registry import fault_class, known_fault_names
from terminal_sim.scenario.loader import FaultSpec, parse_scenario
from terminal_sim.sim.session import Session
from terminal_sim.testing import strategies as ts

RULES = OutcomeRules()


def plausible_pan(pan: str) -> bool:
    """What a real card number is: 13-19 ASCII digits with a valid Luhn check digit."""
    return 13 <= len(pan) <= 19 and pan.isascii() and pan.isdigit() and luhn_valid(pan)


@given(ts.malformed_pans())
def test_malformed_pans_are_never_plausible(pan: str) -> None:
    assert not plausible_pan(pan)


@given(ts.cards())
def test_cards_are_test_cards_or_malformed(card: Card) -> None:
    assert isinstance(card, Card)
    if card.label == "malformed":
        assert not plausible_pan(card.pan)
    else:
        assert card.pan in {c.pan for c in TEST_CARDS}
        assert plausible_pan(card.pan)


@settings(max_examples=5)
@given(st.data())
def test_malformed_pans_cover_every_kind(data: st.DataObject) -> None:
    # the four kinds the docstring names are all reachable
    pans = [data.draw(ts.malformed_pans()) for _ in range(60)]
    kinds = {
        "bad check digit" if 13 <= len(p) <= 19 and p.isascii() and p.isdigit()
        else "bad length" if p.isascii() and p.isdigit()
        else "not digits"
        for p in pans
    }
    assert kinds == {"bad check digit", "bad length", "not digits"}


@given(ts.amounts(outcome="approve"), ts.card_names(approving_only=True))
def test_approving_amounts_are_approved_by_the_host(money: Money, card: str) -> None:
    pan = next(c.pan for c in TEST_CARDS if c.name == card)
    assert money.currency in CURRENCIES
    assert money.minor >= 1
    assert RULES.decide(terminal_id="T0000001", pan=pan, amount_minor=money.minor) == "00"


@given(ts.amounts("JPY", outcome="decline", max_minor=100_000))
def test_declining_amounts_are_declined_by_the_host(money: Money) -> None:
    assert money.currency == "JPY"
    assert 1 <= money.minor <= 100_000
    code = RULES.decide(terminal_id="T0000001", pan="4111111111111111", amount_minor=money.minor)
    assert code != "00"


def test_amounts_misuse_says_what_is_accepted() -> None:
    with pytest.raises(ConfigurationError, match="unknown currency 'EURO'; known: EUR"):
        ts.amounts("EURO")
    with pytest.raises(ConfigurationError, match="choose 'any', 'approve' or 'decline'"):
        ts.amounts(outcome="maybe")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="min_minor <= max_minor"):
        ts.amounts(min_minor=10, max_minor=5)


@settings(max_examples=10)
@given(st.lists(st.one_of(ts.sales(outcome="approve"), ts.voids()), min_size=1, max_size=4))
def test_steps_drive_a_session(steps: list[ts.Sale | ts.Void]) -> None:
    session = Session(profile="robust", seed=1)
    for step in steps:
        step.apply(session)
        session.settle()
    sales = [s for s in steps if isinstance(s, ts.Sale)]
    approved = [r for r in session.evidence().journal
                if r["type"] == "sale" and r["state"] == "approved"]
    assert len(approved) == len(sales)
    session.close()


def test_a_refund_needs_a_terminal_that_refunds() -> None:
    refund = ts.Refund(500, "EUR", "visa-approve")
    with pytest.raises(ConfigurationError, match="has no refund"):
        refund.apply(object())


@settings(max_examples=60)
@given(ts.fault_specs())
def test_fault_specs_are_valid_for_their_fault(spec: FaultSpec) -> None:
    assert spec.name in known_fault_names()
    fault_class(spec.name).validate(spec.params)  # raises ConfigurationError if not


@settings(max_examples=25)
@given(ts.fault_schedules(max_faults=3, horizon_s=7200))
def test_fault_schedules_load_as_scenario_faults(schedule: tuple[FaultSpec, ...]) -> None:
    assert len(schedule) <= 3
    for spec in schedule:
        assert 0 <= spec.params["from"] < spec.params["until"] <= 7200
    document = {
        "name": "drawn", "seed": 1,
        "workload": {"sales": [{"at": "08:00", "amount": 100}]},
        "faults": [{"name": spec.name, **spec.params} for spec in schedule],
    }
    scenario = parse_scenario(yaml.safe_dump(document), "drawn.yaml")
    assert [f.name for f in scenario.faults] == [s.name for s in schedule]


def test_fault_names_check_the_registry() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown fault 'power-cut'; known: .*power-dip"):
        ts.fault_names(["power-cut"])


def test_register_fault_params_is_used_and_checked() -> None:
    # registrations are process-wide: the torn-card parameters this test teaches are
    # taken back at the end, so they do not leak into tests that run after it
    with pytest.raises(ConfigurationError, match="unknown fault 'no-such-fault'"):
        ts.register_fault_params("no-such-fault", st.just({}))
    ts.register_fault_params("torn-card", st.just({"after_ms": 7}))

    @settings(max_examples=3)
    @given(ts.fault_specs(["torn-card"], trigger=False))
    def drawn(spec: FaultSpec) -> None:
        assert spec == FaultSpec("torn-card", {"after_ms": 7}, None)

    try:
        drawn()
    finally:
        ts.unregister_fault_params("torn-card")


def test_crash_points_come_from_the_profile() -> None:
    naive, robust = ts.known_crash_points("naive"), ts.known_crash_points("robust")
    # the naive firmware prints before it journals; the robust one journals its intent
    assert naive.index("sale/after:print") < naive.index("sale/after:journal_commit")
    assert robust.index("sale/after:journal_commit") < robust.index("sale/after:print")
    assert "sale/during:print" in naive
    assert "sale/after:journal_intent" in robust
    assert "sale/after:journal_intent" not in naive
    with pytest.raises(ConfigurationError, match="unknown profile 'paranoid'"):
        ts.crash_points("paranoid")


@settings(max_examples=15)
@given(ts.crash_points("naive", flows=["sale"]))
def test_every_crash_point_drawn_is_one_a_power_dip_can_hit(point: str) -> None:
    assert point.startswith("sale/")
    session = Session(profile="naive", seed=0)
    dip = session.inject("power-dip", at=point, limit=1)
    # the first reply is lost: the sale times out (sale/after:timer_expired), the
    # customer pays again and that attempt is approved (sale/after:host_reply)
    session.inject("link-drop-reply", limit=1)
    session.sale(1250)
    session.settle()
    assert dip.trigger.fired == 1, f"no power dip at {point}"
    session.close()
