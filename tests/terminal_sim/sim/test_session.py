"""The step-by-step session: the same world as a scenario run, driven by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal_sim.errors import ConfigurationError
from terminal_sim.sim.session import Session


def codes(session: Session) -> list[str]:
    return sorted(f.code for f in session.findings())


def test_a_sale_by_hand() -> None:
    session = Session(seed=3)
    assert session.state() == "idle"
    session.sale(1250)
    session.settle()
    assert session.state() == "idle"
    assert [r.facts.outcome for r in session.receipts()] == ["APPROVED"]
    assert codes(session) == ["UNSYNCED_RECORD"]  # the back office syncs every 5 minutes
    session.advance(300_000)
    assert codes(session) == []


def test_inject_and_remove_a_fault() -> None:
    session = Session(seed=3)
    dip = session.inject("power-dip", at="sale/after:print")
    session.sale(1250)
    session.settle()
    assert "STRAY_RECEIPT" in codes(session)
    session.remove(dip)
    session.advance(400_000)  # wait out the reboot and a sync round
    before = codes(session)
    session.sale(800)
    session.settle()
    session.advance(400_000)
    assert codes(session) == before


def test_pulled_plug_stays_off_until_plugged_in() -> None:
    session = Session(seed=3)
    session.pull_plug()
    session.advance(600_000)
    assert session.state() == "off"
    session.sale(500)  # the customer waits
    session.settle()
    assert session.receipts() == []
    session.plug_in()
    session.settle()
    assert session.state() == "idle"
    assert len(session.receipts()) == 1


def test_same_seed_same_session() -> None:
    def play(seed: int) -> list[str]:
        session = Session(seed=seed)
        session.inject("cold-card-reader", temperature_c=-25)
        for amount in (100, 200, 300, 400):
            session.sale(amount)
            session.settle()
        return [r.text for r in session.receipts()]

    assert play(9) == play(9)


def test_unknown_terminal_and_closed_session() -> None:
    session = Session()
    with pytest.raises(ConfigurationError, match="no terminal"):
        session.sale(100, terminal="T9999999")
    session.close()
    with pytest.raises(ConfigurationError, match="closed"):
        session.close()


def test_close_writes_the_artifacts(tmp_path: Path) -> None:
    session = Session(out_dir=tmp_path)
    session.sale(990)
    session.settle()
    result = session.close()
    assert (tmp_path / "report.json").exists()
    assert result.report["counts"]["receipts"] == 1
