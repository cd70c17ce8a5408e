"""A commit that a power loss can undo reads the row it replaces only when there is one:
the journal knows which STANs a terminal has, and what it answers is what the file says."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_sim.core.effects import JournalEntry
from terminal_sim.stores.journal import Durability, Journal, TerminalJournal

TID = "T0000001"
STANS = [f"{n:06d}" for n in range(1, 13)]
STATES = ("pending", "approved", "declined", "failed", "reversed")


def entry(stan: str, state: str, vt: int) -> JournalEntry:
    return JournalEntry(TID, stan, f"sale-{stan}", "sale", state, 1250, "EUR",
                        "************1111", "tok_x", vt, vt, "00", "rrn" + stan, "123456")


class PlainJournal(Journal):
    """The journal reading the replaced row of every commit (the reference)."""

    def kept_row(self, terminal_id: str, stan: str) -> dict[str, Any] | None:
        return self.row(terminal_id, stan)


def act(view: TerminalJournal, action: tuple[int, int, int], now: int) -> None:
    kind, number, arg = action
    stan = STANS[number % len(STANS)]
    if kind < 5:
        view.commit(entry(stan, STATES[arg % len(STATES)], now), now)
    elif kind == 5:
        view.mark_synced([r["stan"] for r in view.unsynced_rows(arg % 4 + 1)], now)
    elif kind == 6:
        view.evict(arg % 8 + 1, unsynced_too=number % 2 == 0)
    elif kind == 7:
        view.power_loss(now)
    else:
        backup = view.backup()
        view.migrate(lambda records: [r for r in records if r.stan[-1] != str(arg % 10)])
        if number % 2:
            view.restore(backup)


ACTIONS = st.lists(st.tuples(st.integers(0, 8), st.integers(0, 40), st.integers(0, 40)),
                   max_size=80)


@settings(max_examples=60, deadline=None)
@given(ACTIONS, st.integers(1, 9), st.integers(0, 60))
def test_the_journal_is_what_it_would_be_reading_every_replaced_row(
        actions: list[tuple[int, int, int]], checkpoint_every: int, writeback_ms: int) -> None:
    durability = Durability("NORMAL", checkpoint_every=checkpoint_every,
                            writeback_ms=writeback_ms)
    fast, plain = Journal(), PlainJournal()
    views = fast.terminal(TID, durability), plain.terminal(TID, durability)
    for step, action in enumerate(actions):
        now = step * 10
        for view in views:
            act(view, action, now)
        assert fast.rows() == plain.rows()
        assert views[0].lost == views[1].lost
        for stan in STANS:
            assert fast.kept_row(TID, stan) == fast.row(TID, stan)
        # what the journal keeps of the terminal's STANs is exactly what the file holds
        kept = fast._kept.get(TID)  # noqa: SLF001  (the index under test)
        assert kept is None or kept == {row["stan"] for row in fast.rows()}


def statements(journal: Journal, run: Any) -> list[str]:
    seen: list[str] = []
    journal._db.set_trace_callback(seen.append)  # noqa: SLF001  (a statement log)
    run()
    journal._db.set_trace_callback(None)  # noqa: SLF001
    return seen


def test_a_new_stan_is_committed_without_reading_a_row_and_a_known_one_reads_it() -> None:
    journal = Journal()
    view = journal.terminal(TID, Durability("NORMAL", checkpoint_every=100))
    view.commit(entry("000001", "pending", 1), 1)  # the first commit reads what is kept
    new = statements(journal, lambda: view.commit(entry("000002", "pending", 2), 2))
    assert [s for s in new if s.startswith("SELECT")] == []
    again = statements(journal, lambda: view.commit(entry("000002", "approved", 3), 3))
    assert [s for s in again if s.startswith("SELECT")] != []
    assert view.power_loss(4) == [("000001", "pending"), ("000002", "pending"),
                                  ("000002", "approved")]
    assert journal.rows() == []
