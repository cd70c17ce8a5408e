"""The journal's durability model: what a power loss and a process kill each take."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from terminal_sim.core.effects import JournalEntry
from terminal_sim.errors import ConfigurationError, JournalError
from terminal_sim.stores.journal import Durability, Journal


def entry(stan: str, state: str = "approved", *, vt: int = 0, tid: str = "T0000001",
          kind: str = "sale", original: str = "") -> JournalEntry:
    return JournalEntry(tid, stan, f"sale-{stan}", kind, state, 1250, "EUR",
                        "************1111", "tok_x", vt, vt, "00", "rrn" + stan, "123456",
                        original)


def states(journal: Journal) -> dict[str, str]:
    return {r["stan"]: r["state"] for r in journal.rows()}


def test_pragmas_are_explicit(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    view = journal.terminal("T0000001", Durability("NORMAL"))
    view.commit(entry("000001"), 0)
    mode = journal.execute("PRAGMA journal_mode").fetchone()[0]
    sync = journal.execute("PRAGMA synchronous").fetchone()[0]
    assert mode == "wal"
    assert sync == 1  # NORMAL
    journal.terminal("T0000002", Durability("FULL")).commit(entry("000001", tid="T0000002"), 0)
    assert journal.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    journal.close()
    # closed cleanly: one self-contained file another reader sees in full
    rows = sqlite3.connect(tmp_path / "j.sqlite").execute("SELECT count(*) FROM records")
    assert rows.fetchone()[0] == 2
    assert not (tmp_path / "j.sqlite-wal").exists()


def test_full_keeps_every_commit_on_power_loss() -> None:
    journal = Journal()
    view = journal.terminal("T0000001", Durability("FULL"))
    view.commit(entry("000001", "pending"), 0)
    view.commit(entry("000001", "approved"), 10)
    assert view.unsynced == 0
    assert view.power_loss(20) == []
    assert states(journal) == {"000001": "approved"}


def test_normal_loses_commits_since_the_checkpoint_on_power_loss() -> None:
    journal = Journal()
    view = journal.terminal("T0000001", Durability("NORMAL", checkpoint_every=4))
    view.commit(entry("000001"), 0)
    view.commit(entry("000002"), 1)
    view.commit(entry("000003"), 2)
    view.commit(entry("000004"), 3)  # fourth commit: checkpoint, all four durable
    view.commit(entry("000005", "pending"), 4)
    view.commit(entry("000005", "approved"), 5)  # an update of an unsynced row
    view.commit(entry("000003", "voided"), 6)  # an update of a synced row
    assert view.unsynced == 3
    lost = view.power_loss(7)
    assert lost == [("000005", "pending"), ("000005", "approved"), ("000003", "voided")]
    # 000005 never reached the disk; 000003 is back to its synced state
    assert states(journal) == {"000001": "approved", "000002": "approved",
                               "000003": "approved", "000004": "approved"}
    assert view.unsynced == 0


def test_process_kill_loses_nothing_even_on_normal() -> None:
    journal = Journal()
    view = journal.terminal("T0000001", Durability("NORMAL"))
    view.commit(entry("000001"), 0)
    assert view.process_kill() == []
    assert states(journal) == {"000001": "approved"}


def test_os_writeback_makes_old_commits_durable() -> None:
    journal = Journal()
    view = journal.terminal("T0000001", Durability("NORMAL", writeback_ms=30_000))
    view.commit(entry("000001"), 0)
    view.commit(entry("000002"), 25_000)
    lost = view.power_loss(40_000)  # 000001 is older than 30 s: written back
    assert lost == [("000002", "approved")]
    assert states(journal) == {"000001": "approved"}


def test_power_loss_is_per_terminal() -> None:
    journal = Journal()
    one = journal.terminal("T0000001", Durability("NORMAL"))
    two = journal.terminal("T0000002", Durability("NORMAL"))
    one.commit(entry("000001"), 0)
    two.commit(entry("000001", tid="T0000002"), 0)
    one.power_loss(1)
    assert [(r["terminal_id"], r["stan"]) for r in journal.rows()] == [("T0000002", "000001")]


def test_last_approved_sale_skips_voided_sales() -> None:
    journal = Journal()
    view = journal.terminal("T0000001", Durability("FULL"))
    view.commit(entry("000001", vt=1), 1)
    view.commit(entry("000002", vt=2), 2)
    last = view.last_approved_sale()
    assert last is not None
    assert last.stan == "000002"
    view.commit(entry("000003", vt=3, kind="void", original="000002"), 3)
    last = view.last_approved_sale()
    assert last is not None
    assert last.stan == "000001"


def test_foreign_entry_is_refused() -> None:
    view = Journal().terminal("T0000001", Durability())
    with pytest.raises(JournalError):
        view.commit(entry("000001", tid="T0000009"), 0)


def test_unknown_synchronous_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="FULL, NORMAL"):
        Durability("OFF")


def test_journal_stores_no_full_pan() -> None:
    journal = Journal()
    journal.terminal("T0000001", Durability()).commit(entry("000001"), 0)
    dump = "\n".join(journal.dump())
    assert "4111111111111111" not in dump
    assert "************1111" in dump
