"""The reconciliation rules of terminal_sim.testing.invariants, on sessions whose
outcome is known: each check stays quiet on a clean day and speaks on a broken one."""

from __future__ import annotations

from terminal_sim.sim.session import Session
from terminal_sim.testing.invariants import (
    describe_finding,
    forbidden_findings,
    money_discrepancies,
    paper_contradictions,
)


def settled(session: Session) -> Session:
    session.settle()
    session.advance(400_000)  # past a sync round and any reboot
    return session


def test_a_clean_day_passes_every_check() -> None:
    session = Session(profile="naive", seed=2)
    session.sale(1250)
    settled(session)
    session.sale(990)
    settled(session)
    session.void()  # the 9.90 sale is taken back: the host and the books both say 12.50
    settled(session)
    evidence = session.evidence()
    assert forbidden_findings(session.findings()) == []
    assert paper_contradictions(evidence) == []
    assert money_discrepancies(evidence) == []


def test_power_cut_between_print_and_journal() -> None:
    session = Session(profile="naive", seed=2)
    session.inject("power-dip", at="sale/after:print", limit=1)
    session.sale(1250)
    settled(session)
    found = forbidden_findings(session.findings())
    assert sorted(f.code for f in found) == ["LOST_RECORD", "STRAY_RECEIPT"]
    stray = next(f for f in found if f.code == "STRAY_RECEIPT")
    assert describe_finding(stray).startswith("STRAY_RECEIPT T0000001/000001: receipt")
    assert "[caused by power-dip at sale/after:print]" in describe_finding(stray)
    assert money_discrepancies(session.evidence()) == [
        "T0000001: the host holds 12.50 EUR as charged, the books 0.00 EUR"]


def test_an_error_slip_is_a_stray_receipt_but_not_a_forbidden_one() -> None:
    session = Session(profile="naive", seed=2)
    session.inject("torn-card", limit=1)
    session.sale(1250)
    settled(session)
    codes = [f.code for f in session.findings()]
    assert "STRAY_RECEIPT" in codes  # the "card unreadable" slip
    assert forbidden_findings(session.findings()) == []


def test_lost_reply_charges_twice() -> None:
    session = Session(profile="naive", seed=2)
    session.inject("link-drop-reply", limit=1)
    session.sale(1250)
    settled(session)
    assert sorted(f.code for f in forbidden_findings(session.findings())) == [
        "DUPLICATE_CHARGE", "ORPHAN_AUTHORIZATION"]
    assert money_discrepancies(session.evidence()) == [
        "T0000001: the host holds 25.00 EUR as charged, the books 12.50 EUR"]
    assert forbidden_findings(session.findings(), codes=["LOST_RECORD"]) == []


def test_approved_paper_for_a_reversed_sale_contradicts_the_books() -> None:
    # robust firmware changed to print before it journals: the slip is out, the power
    # goes, and at boot the firmware reverses the sale its journal only knew as pending
    session = Session(profile="robust", seed=2,
                      profile_settings={"journal_before_print": False})
    session.inject("power-dip", at="sale/after:print", limit=1)
    session.sale(1250)
    settled(session)
    # the reconciler calls the slip stray (its record says reversed)...
    assert [f.code for f in forbidden_findings(session.findings())] == ["STRAY_RECEIPT"]
    assert paper_contradictions(session.evidence()) == [  # ...and so does the paper check
        "receipt T0000001#1 says APPROVED for STAN 000001; the books hold that sale as "
        "'reversed'"]
