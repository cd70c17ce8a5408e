"""The terminal journal: SQLite with explicit durability settings, and a durability model.

SQLite decides what a *process kill* can take: nothing that was committed. A *power
loss* can take more, and that depends on ``synchronous``:

* ``FULL`` (WAL): every commit is fsynced before it returns; a power loss keeps it.
* ``NORMAL`` (WAL): commits are fsynced only at a checkpoint; a power loss can lose every
  commit since the last one. The kernel may still have written them back by itself
  (after ``writeback_ms`` of virtual time, as Linux's dirty-page expiry does).

The simulator cannot pull a real plug, so :class:`Journal` keeps, per terminal, the
undo list of commits that are not yet durable (as LazyFS does for real file systems)
and :meth:`TerminalJournal.power_loss` rolls exactly those back.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from terminal_sim.core.effects import JournalEntry
from terminal_sim.errors import ConfigurationError, JournalError
from terminal_sim.stores.sqlite import open_read_write

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    terminal_id   TEXT    NOT NULL,
    stan          TEXT    NOT NULL,
    sale_id       TEXT    NOT NULL,
    type          TEXT    NOT NULL CHECK (type IN ('sale', 'void', 'refund')),
    state         TEXT    NOT NULL,
    amount_minor  INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    masked_pan    TEXT    NOT NULL,
    card_token    TEXT    NOT NULL,
    created_vt    INTEGER NOT NULL,
    updated_vt    INTEGER NOT NULL,
    response_code TEXT    NOT NULL DEFAULT '',
    rrn           TEXT    NOT NULL DEFAULT '',
    approval_code TEXT    NOT NULL DEFAULT '',
    original_stan TEXT    NOT NULL DEFAULT '',
    receipt       TEXT    NOT NULL DEFAULT '',
    sent_at       TEXT    NOT NULL DEFAULT '',
    synced_vt     INTEGER NOT NULL DEFAULT -1,
    PRIMARY KEY (terminal_id, stan)
);
CREATE TABLE IF NOT EXISTS saf (
    terminal_id   TEXT    NOT NULL,
    stan          TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'acked', 'given-up')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    response_code TEXT    NOT NULL DEFAULT '',
    created_vt    INTEGER NOT NULL,
    updated_vt    INTEGER NOT NULL,
    kind          TEXT    NOT NULL DEFAULT '',
    sale_id       TEXT    NOT NULL DEFAULT '',
    amount_minor  INTEGER NOT NULL DEFAULT 0,
    currency      TEXT    NOT NULL DEFAULT '',
    rrn           TEXT    NOT NULL DEFAULT '',
    masked_pan    TEXT    NOT NULL DEFAULT '',
    card_token    TEXT    NOT NULL DEFAULT '',
    original_sent TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (terminal_id, stan)
);
"""
#: A store-and-forward row carries everything its reversal message needs (kind, amount,
#: currency, RRN, card token and masked PAN, the original's transmission time for field
#: 90), so the reversal goes out even when eviction or a migration took the record.
SAF_MESSAGE_COLUMNS = ("kind", "sale_id", "amount_minor", "currency", "rrn", "masked_pan",
                       "card_token", "original_sent")
_SAF_COLUMNS = ("terminal_id", "stan", "reason", "state", "attempts", "response_code",
                "created_vt", "updated_vt", *SAF_MESSAGE_COLUMNS)
_SAF_UPSERT = (
    f"INSERT OR REPLACE INTO saf ({', '.join(_SAF_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _SAF_COLUMNS)})"
)

_COLUMNS = [f.name for f in fields(JournalEntry)]
_UPSERT = (
    f"INSERT OR REPLACE INTO records ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)})"
)
#: the same statement, bound by position to ``JournalEntry.values()`` (no dict per commit)
_UPSERT_VALUES = (
    f"INSERT OR REPLACE INTO records ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
SYNCHRONOUS = ("FULL", "NORMAL")
#: the states a record syncs to the back office in
FINAL_STATES = ("approved", "declined", "failed", "voided", "reversed")
_FINAL = frozenset(FINAL_STATES)
_UNSYNCED_WHERE = (f"terminal_id = ? AND synced_vt < 0 "
                   f"AND state IN ({', '.join('?' for _ in FINAL_STATES)})")


@dataclass(frozen=True, slots=True)
class Durability:
    """The durability settings of a journal, explicit."""

    synchronous: str = "FULL"
    #: NORMAL only: commits between two checkpoints (SQLite's wal_autocheckpoint is pages;
    #: one journal row is about one page)
    checkpoint_every: int = 1000
    #: NORMAL only: virtual ms after which the OS has written a commit back by itself
    writeback_ms: int = 30_000

    def __post_init__(self) -> None:
        if self.synchronous not in SYNCHRONOUS:
            raise ConfigurationError(
                f"journal synchronous must be one of {', '.join(SYNCHRONOUS)}, "
                f"got {self.synchronous!r}"
            )


@dataclass(slots=True)
class _Undo:
    key: tuple[str, str]
    before: dict[str, Any] | None  # the row as it was, None when the commit inserted it
    committed_vt: int
    table: str = "records"


class Journal:
    """One SQLite journal file shared by the simulated terminals (rows carry terminal_id)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        try:
            # synchronous is set per commit, by the committing terminal's durability
            self._db = open_read_write(self.path, journal_mode="WAL", rows_as_mappings=True)
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {self.path}: {exc}") from exc
        self._synchronous = ""
        #: per terminal: the final records not synced yet (stan -> updated_vt), read from
        #: the file on first use and kept up to date by the writes of
        #: :class:`TerminalJournal`: a sync round then costs what is unsynced, not what
        #: the journal holds (an index in the file would change the file)
        self._to_sync: dict[str, dict[str, int]] = {}
        #: per terminal: the STANs it has records of, kept the same way (a commit that a
        #: power loss can undo reads the row it replaces, and a new STAN has none)
        self._kept: dict[str, set[str]] = {}

    def terminal(self, terminal_id: str, durability: Durability) -> TerminalJournal:
        """The journal as one terminal sees it, with that terminal's durability settings."""
        return TerminalJournal(self, terminal_id, durability)

    def set_synchronous(self, value: str) -> None:
        # one connection serves all terminals; the pragma is switched per commit only
        # when terminals with different settings share the file
        if value != self._synchronous:
            self._db.execute(f"PRAGMA synchronous={value}")
            self._synchronous = value

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {exc}") from exc

    def execute_many(self, sql: str, params: Iterable[Any]) -> None:
        try:
            self._db.executemany(sql, params)
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {exc}") from exc

    def to_sync(self, terminal_id: str) -> dict[str, int]:
        """The final records of ``terminal_id`` not synced yet: stan -> updated_vt."""
        index = self._to_sync.get(terminal_id)
        if index is None:
            cursor = self.execute(f"SELECT stan, updated_vt FROM records WHERE {_UNSYNCED_WHERE}",
                                  (terminal_id, *FINAL_STATES))
            index = {row["stan"]: row["updated_vt"] for row in cursor.fetchall()}
            self._to_sync[terminal_id] = index
        return index

    def forget_to_sync(self, terminal_id: str) -> None:
        """Records changed in ways the indexes do not follow: read them again when needed."""
        self._to_sync.pop(terminal_id, None)
        self._kept.pop(terminal_id, None)

    def kept_row(self, terminal_id: str, stan: str) -> dict[str, Any] | None:
        """:meth:`row`, with no query for a STAN the terminal has no record of."""
        kept = self._kept.get(terminal_id)
        if kept is None:
            cursor = self.execute("SELECT stan FROM records WHERE terminal_id = ?", (terminal_id,))
            kept = self._kept[terminal_id] = {row["stan"] for row in cursor.fetchall()}
        return self.row(terminal_id, stan) if stan in kept else None

    def row(self, terminal_id: str, stan: str) -> dict[str, Any] | None:
        found = self.execute(
            "SELECT * FROM records WHERE terminal_id = ? AND stan = ?", (terminal_id, stan)
        ).fetchone()
        return dict(found) if found is not None else None

    def rows(self) -> list[dict[str, Any]]:
        """Every record, in key order."""
        cursor = self.execute("SELECT * FROM records ORDER BY terminal_id, stan")
        return [dict(r) for r in cursor.fetchall()]

    def dump(self) -> Iterator[str]:
        """The SQL dump of the journal (deterministic for the same run)."""
        return self._db.iterdump()

    def close(self) -> None:
        """Checkpoint and leave one self-contained file (no -wal/-shm beside it)."""
        if self.path != ":memory:":
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("PRAGMA journal_mode=DELETE")
        self._db.close()


class TerminalJournal:
    """One terminal's view of the journal, with its durability model."""

    def __init__(self, journal: Journal, terminal_id: str, durability: Durability) -> None:
        self.journal = journal
        self.terminal_id = terminal_id
        self.durability = durability
        self._unsynced: list[_Undo] = []
        self.commits = 0
        self.lost: list[tuple[str, str]] = []  # (stan, state) lost by power cuts, for the trace

    def commit(self, entry: JournalEntry, now: int) -> None:
        """Write ``entry`` in one SQLite transaction."""
        if entry.terminal_id != self.terminal_id:
            raise JournalError(f"entry of {entry.terminal_id} given to {self.terminal_id}")
        self.journal.set_synchronous(self.durability.synchronous)
        # only a commit that a power loss can take back needs the row as it was
        before = (self.journal.kept_row(entry.terminal_id, entry.stan)
                  if self.durability.synchronous == "NORMAL" else None)
        db = self.journal
        # one statement outside a transaction is one SQLite transaction of its own (the
        # connection autocommits): the same write as BEGIN, upsert, COMMIT, in a third of
        # the statements; a statement that fails rolls itself back
        db.execute(_UPSERT_VALUES, entry.values())
        kept = db._kept.get(self.terminal_id)  # noqa: SLF001  (kept by this module)
        if kept is not None:
            kept.add(entry.stan)
        index = db._to_sync.get(self.terminal_id)  # noqa: SLF001
        if index is not None:  # the upsert wrote synced_vt back to -1
            if entry.state in _FINAL:
                index[entry.stan] = entry.updated_vt
            else:
                index.pop(entry.stan, None)
        self._committed(_Undo((entry.terminal_id, entry.stan), before, now))

    def _committed(self, undo: _Undo) -> None:
        self.commits += 1
        if self.durability.synchronous == "NORMAL":
            self._unsynced.append(undo)
            if len(self._unsynced) >= self.durability.checkpoint_every:
                self.checkpoint()

    def checkpoint(self) -> None:
        """Everything committed so far is durable."""
        self._unsynced.clear()

    def settle(self, now: int) -> None:
        """Let the OS write back commits older than ``writeback_ms``."""
        horizon = now - self.durability.writeback_ms
        keep = [u for u in self._unsynced if u.committed_vt > horizon]
        if len(keep) != len(self._unsynced):
            self._unsynced = keep

    @property
    def unsynced(self) -> int:
        """Commits a power loss would take now."""
        return len(self._unsynced)

    def power_loss(self, now: int) -> list[tuple[str, str]]:
        """Roll back every commit that was not durable; returns the (stan, state) lost."""
        self.settle(now)
        lost = []
        db = self.journal
        if self._unsynced:
            db.forget_to_sync(self.terminal_id)
        for undo in reversed(self._unsynced):
            terminal_id, stan = undo.key
            if undo.table == "saf":
                lost.append((stan, "reversal queued"))
                if undo.before is None:
                    db.execute("DELETE FROM saf WHERE terminal_id = ? AND stan = ?", undo.key)
                else:
                    db.execute(_SAF_UPSERT, undo.before)
                continue
            current = db.row(terminal_id, stan)
            lost.append((stan, current["state"] if current else "?"))
            if undo.before is None:
                db.execute("DELETE FROM records WHERE terminal_id = ? AND stan = ?", undo.key)
            else:
                db.execute(_UPSERT, undo.before)
        self._unsynced.clear()
        lost.reverse()
        self.lost.extend(lost)
        return lost

    def process_kill(self) -> list[tuple[str, str]]:
        """A SIGKILL: SQLite keeps every committed transaction; nothing is lost."""
        return []

    # -- back-office sync and local eviction ---------------------------------------------
    # The sync mark and eviction are housekeeping outside the durability model: losing a
    # sync mark only makes a record sync twice (the back office upserts), and the model
    # is about what the journal *claims* to have recorded.

    def unsynced_rows(self, limit: int = 100) -> list[dict[str, Any]]:
        """Final records the back office has not acknowledged, oldest first.

        The oldest ``limit`` are picked from :meth:`Journal.to_sync` and read by key; should
        a row read not be what the index says, the index is read again from the file and
        the rows are selected the plain way.
        """
        index = self.journal.to_sync(self.terminal_id)
        if not index or limit <= 0:
            return []
        oldest = heapq.nsmallest(limit, [(vt, stan) for stan, vt in index.items()])
        stans = [stan for _, stan in oldest]
        cursor = self.journal.execute(
            f"SELECT * FROM records WHERE terminal_id = ? AND stan IN "
            f"({', '.join('?' for _ in stans)})", (self.terminal_id, *stans))
        found = {row["stan"]: dict(row) for row in cursor.fetchall()}
        rows = [found.get(stan) for stan in stans]
        if all(row is not None and row["updated_vt"] == vt and row["synced_vt"] < 0
               and row["state"] in _FINAL for row, (vt, _) in zip(rows, oldest, strict=True)):
            return [row for row in rows if row is not None]
        self.journal.forget_to_sync(self.terminal_id)
        self.journal.to_sync(self.terminal_id)
        cursor = self.journal.execute(
            f"SELECT * FROM records WHERE {_UNSYNCED_WHERE} ORDER BY updated_vt, stan LIMIT ?",
            (self.terminal_id, *FINAL_STATES, limit))
        return [dict(r) for r in cursor.fetchall()]

    def mark_synced(self, stans: list[str], now: int) -> None:
        index = self.journal._to_sync.get(self.terminal_id)  # noqa: SLF001
        # one transaction for the batch (the marks are housekeeping, see above)
        self.journal.execute("BEGIN")
        try:
            self.journal.execute_many(
                "UPDATE records SET synced_vt = ? WHERE terminal_id = ? AND stan = ?",
                [(now, self.terminal_id, stan) for stan in stans])
            self.journal.execute("COMMIT")
        except JournalError:
            self.journal.execute("ROLLBACK")
            raise
        if index is not None:
            for stan in stans:
                index.pop(stan, None)

    def evict(self, capacity: int, *, unsynced_too: bool,
              open_batch_from_vt: int | None = None) -> list[dict[str, Any]]:
        """Keep at most ``capacity`` records, dropping the oldest; returns what was dropped.

        ``unsynced_too`` is the careless policy: it drops records the back office never
        received. The careful one only drops synced records and lets the store overflow.
        A record whose reversal is still queued is never dropped (pending work), and with
        ``open_batch_from_vt`` neither is a record of the open batch (finished at or
        after that virtual time): settlement counts from the journal.
        """
        if capacity <= 0:  # no limit: nothing to count
            return []
        count = self.journal.execute(
            "SELECT count(*) FROM records WHERE terminal_id = ?", (self.terminal_id,)
        ).fetchone()[0]
        excess = count - capacity
        if excess <= 0:
            return []
        condition = "" if unsynced_too else "AND synced_vt >= 0 "
        params: tuple[Any, ...] = (self.terminal_id,)
        if open_batch_from_vt is not None:
            condition += "AND updated_vt < ? "
            params += (open_batch_from_vt,)
        condition += ("AND NOT EXISTS (SELECT 1 FROM saf WHERE saf.terminal_id = "
                      "records.terminal_id AND saf.stan = records.stan AND "
                      "saf.state = 'pending') ")
        victims = [dict(r) for r in self.journal.execute(
            f"SELECT * FROM records WHERE terminal_id = ? AND state != 'pending' {condition}"
            "ORDER BY updated_vt, stan LIMIT ?", (*params, excess)).fetchall()]
        index = self.journal._to_sync.get(self.terminal_id, {})  # noqa: SLF001
        kept = self.journal._kept.get(self.terminal_id, set())  # noqa: SLF001
        for row in victims:
            self.journal.execute("DELETE FROM records WHERE terminal_id = ? AND stan = ?",
                                 (self.terminal_id, row["stan"]))
            index.pop(row["stan"], None)
            kept.discard(row["stan"])
        return victims

    # -- migration (a software update's schema change) -----------------------------------

    def migrate(self, carry_over: Callable[[Sequence[JournalEntry]], Sequence[JournalEntry]]
                ) -> tuple[int, list[str]]:
        """Migrate this terminal's records: ``carry_over`` is given them oldest first and
        returns those the new schema keeps; the others are removed. Returns how many were
        carried over and the STANs removed, oldest first.

        An update tool makes its migration durable before the terminal runs again, so it
        writes with ``synchronous=FULL``: nothing of it waits in the undo list a power
        loss would roll back. Commits the terminal made before are untouched by it: those
        not yet durable stay so (the model keeps durability per commit).
        """
        records = self.entries()
        kept = {entry.stan for entry in carry_over(records)}
        removed = [entry.stan for entry in records if entry.stan not in kept]
        self.journal.set_synchronous("FULL")
        for stan in removed:  # one committed transaction per record, as the tool works
            self.journal.execute("DELETE FROM records WHERE terminal_id = ? AND stan = ?",
                                 (self.terminal_id, stan))
        self.journal.forget_to_sync(self.terminal_id)
        return len(records) - len(removed), removed

    def backup(self) -> list[dict[str, Any]]:
        """Every record of this terminal as stored (sync marks included), oldest first."""
        return [dict(r) for r in self.journal.execute(
            "SELECT * FROM records WHERE terminal_id = ? ORDER BY created_vt, stan",
            (self.terminal_id,)).fetchall()]

    def restore(self, backup: Sequence[dict[str, Any]]) -> list[str]:
        """Put back every record of ``backup`` the journal no longer has (a verified
        migration: the robust terminal backs its records up before an update and checks
        them after it). Written durably, as the update tool writes. Returns the STANs."""
        restored = [row for row in backup if self.journal.row(self.terminal_id,
                                                               row["stan"]) is None]
        if restored:
            self.journal.set_synchronous("FULL")
            columns = list(restored[0])
            sql = (f"INSERT INTO records ({', '.join(columns)}) "
                   f"VALUES ({', '.join(':' + c for c in columns)})")
            for row in restored:
                self.journal.execute(sql, row)
            self.journal.forget_to_sync(self.terminal_id)
        return [row["stan"] for row in restored]

    # -- store and forward -------------------------------------------------------------

    def saf_put(self, row: dict[str, Any], now: int) -> None:
        """Write one store-and-forward row in its own transaction (durable per the model)."""
        self.journal.set_synchronous(self.durability.synchronous)
        key = (self.terminal_id, row["stan"])
        found = self.journal.execute(
            "SELECT * FROM saf WHERE terminal_id = ? AND stan = ?", key).fetchone()
        before = dict(found) if found is not None else None
        self.journal.execute("BEGIN IMMEDIATE")
        blank = {c: 0 if c == "amount_minor" else "" for c in SAF_MESSAGE_COLUMNS}
        self.journal.execute(_SAF_UPSERT, {**blank, **row, "terminal_id": self.terminal_id})
        self.journal.execute("COMMIT")
        self._committed(_Undo(key, before, now, "saf"))

    def saf_rows(self, state: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM saf WHERE terminal_id = ?"
        params: tuple[Any, ...] = (self.terminal_id,)
        if state is not None:
            sql += " AND state = ?"
            params += (state,)
        return [dict(r) for r in self.journal.execute(sql + " ORDER BY created_vt, stan",
                                                       params).fetchall()]

    def entry(self, stan: str) -> JournalEntry | None:
        row = self.journal.row(self.terminal_id, stan)
        return _entry_of(row) if row is not None else None

    def entries(self, *, state: str | None = None, receipt: str | None = None,
                kind: str | None = None) -> list[JournalEntry]:
        """This terminal's records, filtered, oldest first."""
        sql = "SELECT * FROM records WHERE terminal_id = ?"
        params: list[Any] = [self.terminal_id]
        for column, value in (("state", state), ("receipt", receipt), ("type", kind)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        rows = self.journal.execute(sql + " ORDER BY created_vt, stan", params).fetchall()
        return [_entry_of(dict(r)) for r in rows]

    def last_approved_sale(self) -> JournalEntry | None:
        # the voided STANs as one list, not a subquery per sale (O(n^2) on a long journal:
        # a restarted terminal runs this at every boot)
        found = self.journal.execute(
            "SELECT * FROM records WHERE terminal_id = :t AND type = 'sale' "
            "AND state = 'approved' AND stan NOT IN (SELECT original_stan FROM records "
            "WHERE terminal_id = :t AND type = 'void' AND state = 'approved') "
            "ORDER BY updated_vt DESC, stan DESC LIMIT 1",
            {"t": self.terminal_id},
        ).fetchone()
        return _entry_of(dict(found)) if found is not None else None


def _entry_of(row: dict[str, Any]) -> JournalEntry:
    """A journal row as the core's :class:`JournalEntry` (housekeeping columns dropped)."""
    return JournalEntry(**{k: v for k, v in row.items() if k in _COLUMNS})
