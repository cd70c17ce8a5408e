"""The merchant's back office: the fourth evidence source, fed by the terminal's sync.

SQLite, keyed like the journal by (terminal id, STAN); a push upserts, so a record sent
twice is stored once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from terminal_sim.errors import JournalError
from terminal_sim.stores.sqlite import Synchronous, open_read_write

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    terminal_id   TEXT    NOT NULL,
    stan          TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    amount_minor  INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    rrn           TEXT    NOT NULL,
    approval_code TEXT    NOT NULL,
    masked_pan    TEXT    NOT NULL,
    received_vt   INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, stan)
);
"""
_COLUMNS = ("terminal_id", "stan", "type", "state", "amount_minor", "currency", "rrn",
            "approval_code", "masked_pan")
_UPSERT = (f"INSERT OR REPLACE INTO records ({', '.join(_COLUMNS)}, received_vt) "
           f"VALUES ({', '.join('?' for _ in _COLUMNS)}, ?)")


class BackOffice:
    """The merchant's records.

    ``synchronous`` is SQLite's setting for every commit: ``FULL`` (the default) syncs
    each batch it acknowledges; ``NORMAL`` (WAL) syncs at checkpoints and when the store
    closes (:meth:`close` checkpoints everything into the database file), for an owner
    that only lets anyone read the store after closing it (a simulated run).
    """

    def __init__(self, path: str | Path = ":memory:", *,
                 synchronous: Synchronous = "FULL") -> None:
        self.path = str(path)
        try:
            self._db = open_read_write(self.path, journal_mode="WAL", synchronous=synchronous,
                                       rows_as_mappings=True)
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open back office {self.path}: {exc}") from exc

    def receive(self, rows: list[dict[str, Any]], now: int) -> bool:
        """Store a batch in one transaction; True is the acknowledgement."""
        self._db.execute("BEGIN")
        self._db.executemany(_UPSERT, [(*(row[c] for c in _COLUMNS), now) for row in rows])
        self._db.execute("COMMIT")
        return True

    def rows(self) -> list[dict[str, Any]]:
        cursor = self._db.execute("SELECT * FROM records ORDER BY terminal_id, stan")
        return [dict(r) for r in cursor.fetchall()]

    def close(self) -> None:
        if self.path != ":memory:":
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("PRAGMA journal_mode=DELETE")
        self._db.close()
