"""A request the link cannot even encode is an event the core handles, not a wedge."""

from __future__ import annotations

import pytest

from terminal_sim.sim.session import Session

TOO_BIG = 10**12  # field 4 has 12 digits


@pytest.mark.parametrize("profile", ["naive", "robust"])
def test_an_unencodable_sale_fails_and_the_next_sale_is_served(profile: str) -> None:
    session = Session(profile=profile, seed=3)
    session.sale(TOO_BIG)
    session.settle()
    assert session.state() == "idle"  # it was stuck in authorizing for good
    failed = [r for r in session.sim.trace.records if r["name"] == "send_failed"]
    assert failed
    assert "field 4" in failed[0]["data"]["reason"]
    assert all(r.facts.outcome.startswith("NOT COMPLETED") for r in session.receipts())
    assert session.sim.ledger.count() == 0  # nothing reached the host, nothing to reverse
    session.sale(1250)
    session.settle()
    assert session.receipts()[-1].facts.outcome == "APPROVED"
