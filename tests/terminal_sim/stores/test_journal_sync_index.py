"""The journal's unsynced records: found at the cost of what is unsynced, and always the
records the plain query finds."""

from __future__ import annotations

import random
from typing import Any

from terminal_sim.core.effects import JournalEntry
from terminal_sim.stores.journal import Durability, Journal, TerminalJournal

TID = "T0000001"
#: the states a record goes to the back office in
FINAL_STATES = ("approved", "declined", "failed", "voided", "reversed")


def entry(stan: str, state: str, vt: int) -> JournalEntry:
    return JournalEntry(TID, stan, f"sale-{stan}", "sale", state, 1250, "EUR",
                        "************1111", "tok_x", vt, vt, "00", "rrn" + stan, "123456")


def plain_unsynced(view: TerminalJournal, limit: int) -> list[dict[str, Any]]:
    """The unsynced records as one full query over the terminal's records selects them."""
    marks = ", ".join("?" for _ in FINAL_STATES)
    cursor = view.journal.execute(
        f"SELECT * FROM records WHERE terminal_id = ? AND synced_vt < 0 AND state IN "
        f"({marks}) ORDER BY updated_vt, stan LIMIT ?", (TID, *FINAL_STATES, limit))
    return [dict(r) for r in cursor.fetchall()]


def sync_round_cost(records: int) -> int:
    """SQLite virtual-machine steps of one sync round's query, after ``records`` synced
    records and one new unsynced one."""
    journal = Journal()
    view = journal.terminal(TID, Durability("FULL"))
    for number in range(1, records + 1):
        view.commit(entry(f"{number:06d}", "approved", number), number)
    view.unsynced_rows(50)  # the first round may read what the file holds
    view.mark_synced([f"{number:06d}" for number in range(1, records + 1)], records)
    view.commit(entry(f"{records + 1:06d}", "approved", records + 1), records + 1)
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    journal._db.set_progress_handler(count, 10)  # noqa: SLF001  (a counter, no timing)
    rows = view.unsynced_rows(50)
    journal._db.set_progress_handler(None, 10)  # noqa: SLF001
    assert [r["stan"] for r in rows] == [f"{records + 1:06d}"]
    return steps[0]


def test_a_sync_round_costs_what_is_unsynced_not_what_the_journal_holds() -> None:
    small, large = sync_round_cost(100), sync_round_cost(2000)
    # a scan of the terminal's records would cost ~20x on the larger journal
    assert large <= small + 5, (small, large)


def test_unsynced_rows_match_the_plain_query_through_every_kind_of_write() -> None:
    rng = random.Random(19)
    journal = Journal()
    view = journal.terminal(TID, Durability("NORMAL", checkpoint_every=7,
                                            writeback_ms=50))
    now = 0
    for _ in range(600):
        now += rng.randrange(1, 20)
        stan = f"{rng.randrange(1, 60):06d}"
        action = rng.randrange(10)
        if action < 5:
            state = rng.choice(["pending", *FINAL_STATES])
            view.commit(entry(stan, state, now), now)
        elif action < 7:
            rows = view.unsynced_rows(rng.randrange(1, 6))
            view.mark_synced([r["stan"] for r in rows[: rng.randrange(len(rows) + 1)]], now)
        elif action == 7:
            view.evict(rng.randrange(5, 40), unsynced_too=rng.random() < 0.5)
        elif action == 8:
            view.power_loss(now)
        else:
            backup = view.backup()
            view.migrate(lambda records: [r for r in records if r.stan[-1] != "3"])
            if rng.random() < 0.5:
                view.restore(backup)
        limit = rng.randrange(1, 10)
        assert view.unsynced_rows(limit) == plain_unsynced(view, limit)
    # a second view of the same terminal (its index is the journal's) agrees too
    assert journal.terminal(TID, Durability("NORMAL")).unsynced_rows(100) == \
        plain_unsynced(view, 100)
