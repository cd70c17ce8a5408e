"""The host ledger: every ISO 8583 message the acquirer processed, and its transactions.

SQLite, ``synchronous=FULL``: the host is the system of record, it does not lose
what it approved. No PAN is stored: the masked PAN and a token.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from terminal_sim.errors import JournalError

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
    PRIMARY KEY (terminal_id, stan, mti_class)
);
"""

_TXN_COLUMNS = (
    "terminal_id", "stan", "mti_class", "type", "status", "response_code", "rrn",
    "approval_code", "masked_pan", "card_token", "amount_minor", "currency",
    "original_stan", "reply", "received_vt", "updated_vt",
)


class HostLedger:
    """The acquirer's books."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open host ledger {self.path}: {exc}") from exc
        self._seq = 0

    def log(self, vt: int, direction: str, mti: str, terminal_id: str, stan: str,
            response_code: str = "", detail: str = "") -> None:
        self._seq += 1
        self._db.execute(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self._seq, vt, direction, mti, terminal_id, stan, response_code, detail),
        )

    def find(self, terminal_id: str, stan: str, mti_class: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT * FROM transactions WHERE terminal_id = ? AND stan = ? AND mti_class = ?",
            (terminal_id, stan, mti_class),
        ).fetchone()
        return dict(row) if row is not None else None

    def record(self, txn: dict[str, Any]) -> None:
        """Insert a transaction (one commit)."""
        self._db.execute(
            f"INSERT INTO transactions ({', '.join(_TXN_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _TXN_COLUMNS)})",
            tuple(txn[c] for c in _TXN_COLUMNS),
        )

    def set_status(self, terminal_id: str, stan: str, mti_class: str, status: str,
                   vt: int) -> None:
        self._db.execute(
            "UPDATE transactions SET status = ?, updated_vt = ? "
            "WHERE terminal_id = ? AND stan = ? AND mti_class = ?",
            (status, vt, terminal_id, stan, mti_class),
        )

    def transactions(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT * FROM transactions ORDER BY received_vt, terminal_id, stan"
        ).fetchall()
        out = []
        for row in rows:
            item = dict(row)
            item.pop("reply", None)
            out.append(item)
        return out

    def messages(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._db.execute("SELECT * FROM messages ORDER BY seq")]

    def close(self) -> None:
        if self.path != ":memory:":
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("PRAGMA journal_mode=DELETE")
        self._db.close()
