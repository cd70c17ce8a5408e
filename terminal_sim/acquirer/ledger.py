"""The host ledger: every ISO 8583 message the acquirer processed, and its transactions.

SQLite, ``synchronous=FULL``: the host is the system of record, it does not lose what
it approved. :meth:`HostLedger.atomic` makes the processing of one message one commit:
the request, its effect and its reply are durable together, before the reply leaves.
No PAN is stored: the masked PAN and a token.

Tables and views:

* ``messages``: one row per message in or out (direction, MTI, terminal, STAN, code).
* ``transactions``: one row per (terminal id, STAN, message class), the host's
  idempotency key. ``type`` is sale | void | refund | reversal | settlement; ``status``
  is approved | declined | unanswered | voided | reversed for transactions, applied |
  already-reversed | unknown-original | late-original-declined for reversals (see
  :mod:`terminal_sim.acquirer.host`), balanced | out-of-balance for settlements.
  ``batch`` is the terminal's settlement batch the row was recorded in.
* ``balances`` (view): per card token and currency, the approved sales and refunds
  that stand (not voided, not reversed) and their net.

The connection is opened with ``check_same_thread=False`` so a server can open the
ledger on one thread and serve on its event loop thread; it is used by one thread at
a time.
"""

from __future__ import annotations

import logging
import operator
import os
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

from terminal_sim.base.guards import printable
from terminal_sim.errors import ConfigurationError, JournalError
from terminal_sim.stores.sqlite import open_read_write

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq          INTEGER PRIMARY KEY,
    vt           INTEGER NOT NULL,
    direction    TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    mti          TEXT    NOT NULL,
    terminal_id  TEXT    NOT NULL,
    stan         TEXT    NOT NULL,
    response_code TEXT   NOT NULL DEFAULT '',
    detail       TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS transactions (
    terminal_id   TEXT    NOT NULL,
    stan          TEXT    NOT NULL,
    mti_class     TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    response_code TEXT    NOT NULL,
    rrn           TEXT    NOT NULL,
    approval_code TEXT    NOT NULL,
    masked_pan    TEXT    NOT NULL,
    card_token    TEXT    NOT NULL,
    amount_minor  INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    original_stan TEXT    NOT NULL DEFAULT '',
    reply         BLOB,
    received_vt   INTEGER NOT NULL,
    updated_vt    INTEGER NOT NULL,
    original_data TEXT    NOT NULL DEFAULT '',
    reason        TEXT    NOT NULL DEFAULT '',
    batch         INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (terminal_id, stan, mti_class)
);
"""

#: Columns added after the first schema: an older ledger file gets them on open.
_ADDED_COLUMNS = {
    "original_data": "TEXT NOT NULL DEFAULT ''",
    "reason": "TEXT NOT NULL DEFAULT ''",
    "batch": "INTEGER NOT NULL DEFAULT 1",
}

INDEXES_AND_VIEWS = """
-- reversals only: an index of every row's original STAN cost each sale a page write
DROP INDEX IF EXISTS transactions_original;
CREATE INDEX IF NOT EXISTS transactions_reversals ON transactions (terminal_id, original_stan)
    WHERE type = 'reversal';
CREATE INDEX IF NOT EXISTS transactions_batch ON transactions (terminal_id, batch);
CREATE VIEW IF NOT EXISTS balances AS
SELECT card_token,
       MAX(masked_pan) AS masked_pan,
       currency,
       SUM(type = 'sale') AS sales_count,
       SUM(CASE WHEN type = 'sale' THEN amount_minor ELSE 0 END) AS sales_minor,
       SUM(type = 'refund') AS refunds_count,
       SUM(CASE WHEN type = 'refund' THEN amount_minor ELSE 0 END) AS refunds_minor,
       SUM(CASE WHEN type = 'sale' THEN amount_minor ELSE -amount_minor END) AS net_minor
FROM transactions
WHERE status = 'approved' AND type IN ('sale', 'refund') AND card_token != ''
GROUP BY card_token, currency
ORDER BY card_token, currency;
"""

_TXN_COLUMNS = (
    "terminal_id", "stan", "mti_class", "type", "status", "response_code", "rrn",
    "approval_code", "masked_pan", "card_token", "amount_minor", "currency",
    "original_stan", "reply", "received_vt", "updated_vt", "original_data", "reason", "batch",
)
_TXN_DEFAULTS: dict[str, Any] = {"original_data": "", "reason": "", "batch": 1}
_ALL_COLUMNS = operator.itemgetter(*_TXN_COLUMNS)

_INTO = (f"INTO transactions ({', '.join(_TXN_COLUMNS)}) "
         f"VALUES ({', '.join('?' for _ in _TXN_COLUMNS)})")
_INSERT = "INSERT " + _INTO
_LOG_ROW = "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_REPLACE = "INSERT OR REPLACE " + _INTO

#: The reversals of one original (served by the partial index transactions_reversals).
REVERSALS_OF_SQL = ("SELECT * FROM transactions WHERE terminal_id = ? AND original_stan = ? "
                    "AND type = 'reversal'")

#: Status of a reversal that found nothing to reverse (a tombstone).
UNKNOWN_ORIGINAL = "unknown-original"

#: Statuses of a sale or refund that no longer stand, counted as reversed in totals.
_REVERSED = ("voided", "reversed")


class _Atomic:
    """:meth:`HostLedger.atomic`'s context manager, reentrant (a class: a generator-based
    one costs every message a microsecond)."""

    __slots__ = ("_began", "_ledger")

    def __init__(self, ledger: HostLedger) -> None:
        self._ledger = ledger
        self._began: list[bool] = []  # per open block: did it begin a (sub)transaction

    def __enter__(self) -> None:
        ledger = self._ledger
        began = ledger.savepoints_apply
        if began:
            ledger.begin()
        self._began.append(began)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        # whatever interrupted the block propagates unchanged after the rollback
        if self._began.pop():
            self._ledger.finish(exc_type is None)


class HostLedger:
    """The acquirer's books."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._depth = 0
        self._marks: list[int] = []  # the message number at each begin(), for rollbacks
        #: atomic() inside an open transaction makes a savepoint (off: a server's group
        #: that rolls everything back when one message fails, then replays the others)
        self.nested_savepoints = True
        self._closed = False
        self._atomic = _Atomic(self)
        self._wal_fd: int | None = None  # set by defer_sync(): the WAL file, for sync()
        #: message log rows of the open transaction not yet written: they go in with one
        #: statement just before it commits (a group of N messages: one, not 2N)
        self._unwritten: list[tuple[Any, ...]] = []
        self._deferred = False
        try:
            # the acquirer's server threads share the connection; atomic() serialises them
            self._db = open_read_write(self.path, journal_mode="WAL", synchronous="FULL",
                                       rows_as_mappings=True, any_thread=True)
            self._db.executescript(SCHEMA)
            self._migrate()
            self._db.executescript(INDEXES_AND_VIEWS)
            row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM messages").fetchone()
            # (terminal id, original STAN) of every reversal that found nothing to reverse,
            # so that an arriving sale looks for one only when one may exist
            self._tombstones: set[tuple[str, str]] | None = {
                (str(r[0]), str(r[1])) for r in self._db.execute(
                    "SELECT terminal_id, original_stan FROM transactions "
                    "WHERE type = 'reversal' AND status = ?", (UNKNOWN_ORIGINAL,))}
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open host ledger {self.path}: {exc}") from exc
        self._seq = int(row[0])  # a reopened ledger continues its message numbering

    def _migrate(self) -> None:
        present = {row[1] for row in self._db.execute("PRAGMA table_info(transactions)")}
        for name, decl in _ADDED_COLUMNS.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE transactions ADD COLUMN {name} {decl}")

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise JournalError(f"host ledger {self.path}: {exc}") from exc

    def atomic(self) -> _Atomic:
        """Everything inside is one commit.

        Nested uses are savepoints: an inner block that fails rolls back its own writes
        only, so a server can commit a group of messages at once (one sync for many)
        without one bad message taking the others' writes with it. With
        :attr:`nested_savepoints` off, a nested block is just part of the open
        transaction, and whoever opened that rolls it back if the block fails.
        """
        return self._atomic

    @property
    def savepoints_apply(self) -> bool:
        """An :meth:`atomic` block opened now begins a transaction or a savepoint."""
        return not self._depth or self.nested_savepoints

    def begin(self) -> None:
        """Open a transaction, or a savepoint inside the open one (:meth:`atomic`'s start;
        a server that keeps a group open across callbacks calls it itself)."""
        depth = self._depth
        self._execute(f"SAVEPOINT s{depth}" if depth else "BEGIN IMMEDIATE")
        self._marks.append(self._seq)
        self._depth = depth + 1

    def finish(self, ok: bool) -> None:
        """Close what :meth:`begin` opened: commit (release) when ``ok``, else roll back
        (the message numbers it took are free again)."""
        depth = self._depth = self._depth - 1
        mark = self._marks.pop()
        if not ok:
            self._seq = mark
            unwritten = self._unwritten
            while unwritten and unwritten[-1][0] > mark:  # logged inside what rolls back
                unwritten.pop()
        if depth:
            if not ok:
                self._execute(f"ROLLBACK TO s{depth}")
            self._execute(f"RELEASE s{depth}")
        elif not ok:
            self._execute("ROLLBACK")
        else:
            try:
                self._commit()
            except JournalError:
                self._seq = mark
                raise

    def _commit(self) -> None:
        try:
            self._write_log()
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:  # leave no half-open transaction behind
                self._db.execute("ROLLBACK")
            raise JournalError(f"host ledger {self.path}: commit failed: {exc}") from exc

    def defer_sync(self) -> bool:
        """Let commits skip their sync: the caller makes them durable with :meth:`sync`
        before it lets anyone know (a server's pipelined group commit). False, and
        nothing changed, for an in-memory ledger: there is nothing to sync."""
        if self.path == ":memory:" or self._closed:
            return False
        # WAL + NORMAL: a commit writes its frames to the WAL without syncing it; sync()
        # then does what FULL would have done at the commit (sync the WAL)
        self._execute("PRAGMA synchronous=NORMAL")
        self._deferred = True
        return True

    @property
    def wal_path(self) -> str:
        """The ledger's WAL file (what :meth:`sync` syncs)."""
        return f"{self.path}-wal"

    def sync(self) -> None:
        """Make every commit made so far durable (fsync of the WAL file).

        Touches no SQLite connection: a server calls it from a worker thread while its
        event loop goes on with the next group of messages.
        """
        if not self._deferred:
            return
        try:
            if self._wal_fd is None:
                self._wal_fd = os.open(self.wal_path, os.O_RDONLY)
                # the WAL's directory entry must survive as well as its contents
                directory = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
            os.fsync(self._wal_fd)
        except OSError as exc:
            raise JournalError(f"host ledger {self.path}: sync failed: {exc}") from exc

    # -- writing -------------------------------------------------------------------------

    def log(self, vt: int, direction: str, mti: str, terminal_id: str, stan: str,
            response_code: str = "", detail: str = "") -> None:
        self._seq += 1
        # what a peer sent is kept with its control characters escaped: a message type
        # with a newline must not forge a line of the log, nor of an export of it
        texts: tuple[str, ...] = (mti, terminal_id, stan, response_code, detail)
        if not (mti + terminal_id + stan + response_code + detail).isprintable():
            texts = tuple(printable(text, None) for text in texts)
        self._unwritten.append((self._seq, vt, direction, *texts))
        if not self._depth:  # no transaction to ride with: written (and committed) now
            self._write_log()

    def _write_log(self) -> None:
        """Write the message log rows held for the open transaction (or for none)."""
        rows = self._unwritten
        if rows:
            self._unwritten = []  # written now, or gone with the transaction if this fails
            try:
                self._db.executemany(_LOG_ROW, rows)
            except sqlite3.Error as exc:
                raise JournalError(f"host ledger {self.path}: {exc}") from exc

    def record(self, txn: dict[str, Any], *, replace: bool = False) -> None:
        """Insert a transaction; ``replace`` overwrites the row with the same key."""
        try:
            values = _ALL_COLUMNS(txn)
        except KeyError:  # some left to their defaults
            values = tuple(txn[c] if c in txn else _TXN_DEFAULTS[c] for c in _TXN_COLUMNS)
        self._execute(_REPLACE if replace else _INSERT, values)
        if txn["status"] == UNKNOWN_ORIGINAL and self._tombstones is not None:
            self._tombstones.add((txn["terminal_id"], txn["original_stan"]))

    def may_hold_tombstone(self, terminal_id: str, original_stan: str) -> bool:
        """False when no reversal of ``terminal_id`` for ``original_stan`` was recorded
        ``unknown-original`` (True may be wrong: one rolled back, or since resolved)."""
        tombstones = self._tombstones
        return tombstones is None or (terminal_id, original_stan) in tombstones

    def _status_changed(self, status: object) -> None:
        if status == UNKNOWN_ORIGINAL:  # which row is not known here: look every time
            self._tombstones = None

    def set_status(self, terminal_id: str, stan: str, mti_class: str, status: str,
                   vt: int) -> None:
        self._status_changed(status)
        self._execute(
            "UPDATE transactions SET status = ?, updated_vt = ? "
            "WHERE terminal_id = ? AND stan = ? AND mti_class = ?",
            (status, vt, terminal_id, stan, mti_class),
        )

    def update(self, terminal_id: str, stan: str, mti_class: str, vt: int,
               **changes: Any) -> None:
        """Change some columns of one transaction (``status``, ``reply`` ...)."""
        unknown = [name for name in changes if name not in _TXN_COLUMNS]
        if unknown:
            raise ConfigurationError(f"unknown transaction column(s) {', '.join(unknown)}")
        self._status_changed(changes.get("status"))
        names = [*changes, "updated_vt"]
        self._execute(
            f"UPDATE transactions SET {', '.join(f'{n} = ?' for n in names)} "
            "WHERE terminal_id = ? AND stan = ? AND mti_class = ?",
            (*changes.values(), vt, terminal_id, stan, mti_class),
        )

    def supersede(self, terminal_id: str, stan: str, mti_class: str) -> None:
        """Move one transaction to the ``superseded`` table (created on first use): its
        key (a STAN reused outside the duplicate window) now names a new transaction."""
        key = (terminal_id, stan, mti_class)
        where = " WHERE terminal_id = ? AND stan = ? AND mti_class = ?"
        self._execute("CREATE TABLE IF NOT EXISTS superseded AS "
                      "SELECT * FROM transactions WHERE 0")
        self._execute("INSERT INTO superseded SELECT * FROM transactions" + where, key)
        self._execute("DELETE FROM transactions" + where, key)

    # -- reading -------------------------------------------------------------------------

    def find(self, terminal_id: str, stan: str, mti_class: str) -> dict[str, Any] | None:
        row = self._execute(
            "SELECT * FROM transactions WHERE terminal_id = ? AND stan = ? AND mti_class = ?",
            (terminal_id, stan, mti_class),
        ).fetchone()
        return dict(row) if row is not None else None

    def reversals_of(self, terminal_id: str, original_stan: str,
                     status: str | None = None) -> list[dict[str, Any]]:
        """The reversals a terminal sent for ``original_stan`` (optionally of one status)."""
        sql = REVERSALS_OF_SQL
        params: tuple[Any, ...] = (terminal_id, original_stan)
        if status is not None:
            sql += " AND status = ?"
            params += (status,)
        rows = self._execute(sql + " ORDER BY received_vt, stan", params).fetchall()
        return [dict(row) for row in rows]

    def transactions(self) -> list[dict[str, Any]]:
        rows = self._execute(
            "SELECT * FROM transactions ORDER BY received_vt, terminal_id, stan, mti_class"
        ).fetchall()
        out = []
        for row in rows:
            item = dict(row)
            item.pop("reply", None)
            out.append(item)
        return out

    def messages(self) -> list[dict[str, Any]]:
        self._write_log()  # read inside a transaction: what it logged so far included
        return [dict(r) for r in self._execute("SELECT * FROM messages ORDER BY seq")]

    def count(self) -> int:
        """How many transactions the ledger holds."""
        return int(self._execute("SELECT COUNT(*) FROM transactions").fetchone()[0])

    def balances(self) -> list[dict[str, Any]]:
        """Per card token and currency: approved sales and refunds that stand, and the net."""
        return [dict(r) for r in self._execute("SELECT * FROM balances")]

    def balance(self, card_token: str, currency: str) -> int:
        """The net (sales minus refunds, minor units) that stands on one card."""
        row = self._execute(
            "SELECT net_minor FROM balances WHERE card_token = ? AND currency = ?",
            (card_token, currency),
        ).fetchone()
        return int(row[0]) if row is not None else 0

    def open_batch(self, terminal_id: str) -> int:
        """The terminal's open batch: one after the batches closed by a balanced 0500."""
        row = self._execute(
            "SELECT COUNT(*) FROM transactions WHERE terminal_id = ? AND type = 'settlement' "
            "AND status = 'balanced'", (terminal_id,),
        ).fetchone()
        return int(row[0]) + 1

    def totals(self, terminal_id: str, batch: int) -> dict[str, int]:
        """The financial (0200/0220) totals of one batch, named like ``Totals``' fields."""
        out = dict.fromkeys(
            ("sales_count", "sales_minor", "refunds_count", "refunds_minor",
             "sales_reversed_count", "sales_reversed_minor", "refunds_reversed_count",
             "refunds_reversed_minor"), 0)
        rows = self._execute(
            "SELECT type, status, COUNT(*), COALESCE(SUM(amount_minor), 0) FROM transactions "
            "WHERE terminal_id = ? AND batch = ? AND mti_class = '02' "
            "AND type IN ('sale', 'refund') GROUP BY type, status ORDER BY type, status",
            (terminal_id, batch),
        ).fetchall()
        for kind, status, count, amount in rows:
            prefix = "sales" if kind == "sale" else "refunds"
            if status == "approved":
                out[f"{prefix}_count"] += count
                out[f"{prefix}_minor"] += amount
            elif status in _REVERSED:
                out[f"{prefix}_reversed_count"] += count
                out[f"{prefix}_reversed_minor"] += amount
        return out

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close; a second call does nothing.

        When another connection still reads the file the checkpoint cannot complete: what
        is committed stays safe in the WAL, the ledger closes anyway and says so.
        """
        if self._closed:
            return
        self._closed = True
        if self._wal_fd is not None:
            os.close(self._wal_fd)
            self._wal_fd = None
        try:
            if self._deferred:
                self._db.execute("PRAGMA synchronous=FULL")
            if self.path != ":memory:":
                busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if busy:
                    log.warning("host ledger %s: readers kept the WAL from being checkpointed",
                                self.path)
                else:
                    self._db.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.OperationalError as exc:  # locked by a reader: the WAL stays
            log.warning("host ledger %s closed without a full checkpoint: %s", self.path, exc)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot checkpoint host ledger {self.path}: {exc}") from exc
        finally:
            self._db.close()
