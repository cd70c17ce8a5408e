"""The one way terminal-sim opens SQLite: read-write for a store, read-only for evidence.

Read-write (:func:`open_read_write`) is how a store (journal, back office, host ledger)
opens its own file: autocommit mode (the store writes its own ``BEGIN``/``COMMIT``) and
the durability settings it asks for, applied in a fixed order.

Read-only (:func:`open_read_only`) is how a run's artifacts are read back, and it must
never create or change a file:

* the path goes into a ``file:`` URI, so it is escaped (``Path.as_uri``): a ``#``, ``?``,
  ``%`` or space in a directory name would otherwise cut or change the path SQLite sees;
* ``mode=ro`` so that a missing file is not created; a missing file is refused before
  SQLite is asked at all, as :class:`~terminal_sim.errors.StoreUnreadable`;
* ``immutable=1`` when the caller knows the file cannot change, and when the file is a
  WAL database nobody has open (no ``-wal`` beside it): SQLite would otherwise create a
  ``-shm`` and a ``-wal`` file next to it, even for a read-only connection, and leave them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

from terminal_sim.errors import StoreUnreadable

JournalMode = Literal["WAL", "DELETE"]
Synchronous = Literal["FULL", "NORMAL"]

#: The database header byte that says the file is in WAL mode (2) or not (1).
_WAL_FORMAT_OFFSET = 18
_WAL_FORMAT = 2


def open_read_write(path: str | Path, *, journal_mode: JournalMode | None = None,
                    synchronous: Synchronous | None = None, rows_as_mappings: bool = False,
                    any_thread: bool = False) -> sqlite3.Connection:
    """A read-write connection to the store at ``path`` (``":memory:"`` for none).

    ``journal_mode`` and ``synchronous`` are set in that order when given (a store that
    switches ``synchronous`` per commit leaves it None). ``rows_as_mappings`` gives
    :class:`sqlite3.Row` rows; ``any_thread`` lets a server's worker threads share the
    connection (the store then serialises access itself). SQLite's errors propagate: the
    store translates them, naming itself.
    """
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=not any_thread)
    try:
        if rows_as_mappings:
            db.row_factory = sqlite3.Row
        if journal_mode is not None:
            db.execute(f"PRAGMA journal_mode={journal_mode}")
        if synchronous is not None:
            db.execute(f"PRAGMA synchronous={synchronous}")
    except sqlite3.Error:
        db.close()
        raise
    return db


def read_only_uri(path: Path, *, immutable: bool = False) -> str:
    """The escaped ``file:`` URI that opens ``path`` read-only (and immutable if asked)."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return f"{uri}&immutable=1" if immutable else uri


def _unopened_wal(path: Path) -> bool:
    """A WAL database with no ``-wal`` file: no connection has it open, all of it is here."""
    with path.open("rb") as file:
        header = file.read(_WAL_FORMAT_OFFSET + 1)
    wal_mode = len(header) > _WAL_FORMAT_OFFSET and header[_WAL_FORMAT_OFFSET] == _WAL_FORMAT
    return wal_mode and not path.with_name(path.name + "-wal").exists()


def open_read_only(path: Path, *, immutable: bool = False, timeout: float = 5.0,
                   rows_as_mappings: bool = False) -> sqlite3.Connection:
    """A read-only connection to the SQLite file at ``path``; creates and changes nothing.

    ``immutable`` promises that nothing writes the file while it is open (a finished
    run's artifacts); without it SQLite locks as usual, so a store another process is
    writing can be read too, waiting up to ``timeout`` seconds for its lock.

    Raises :class:`~terminal_sim.errors.StoreUnreadable` when ``path`` is not a file or
    SQLite cannot open it; errors of the queries run on it are SQLite's own.
    """
    try:
        if not path.is_file():
            raise StoreUnreadable(f"{path}: no such store file")
        uri = read_only_uri(path, immutable=immutable or _unopened_wal(path))
        db = sqlite3.connect(uri, uri=True, timeout=timeout)
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnreadable(f"{path}: cannot be opened read-only ({exc})") from exc
    if rows_as_mappings:
        db.row_factory = sqlite3.Row
    return db
