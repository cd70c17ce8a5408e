"""The SQLite helper: escaped read-only URIs, opens that create nothing, explicit durability."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from terminal_sim.errors import StoreUnreadable
from terminal_sim.stores.sqlite import (
    Synchronous,
    open_read_only,
    open_read_write,
    read_only_uri,
)

#: every character that means something in a URI, in one directory name
AWKWARD = "run #1 ?x=%41 y"


def make_store(path: Path, *, journal_mode: str = "DELETE") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute(f"PRAGMA journal_mode={journal_mode}")
        db.execute("CREATE TABLE t (x TEXT)")
        db.execute("INSERT INTO t VALUES ('here')")


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_read_only_open_reads_a_path_full_of_uri_characters(tmp_path: Path) -> None:
    # an unescaped URI is cut at '#': SQLite would open the file 'run ' instead
    make_store(tmp_path / "run ")
    path = tmp_path / AWKWARD / "store.sqlite"
    make_store(path)
    with closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE t SET x = 'the right file'")
        db.commit()
    with closing(open_read_only(path)) as db:
        assert db.execute("SELECT x FROM t").fetchall() == [("the right file",)]


def test_read_only_uri_escapes_the_path(tmp_path: Path) -> None:
    uri = read_only_uri(tmp_path / AWKWARD / "s.sqlite")
    assert uri.startswith("file:///")
    assert uri.endswith("/run%20%231%20%3Fx%3D%2541%20y/s.sqlite?mode=ro")
    assert read_only_uri(tmp_path / "s.sqlite", immutable=True).endswith("?mode=ro&immutable=1")


def test_read_only_open_of_a_missing_file_is_a_clear_error_and_creates_nothing(
        tmp_path: Path) -> None:
    missing = tmp_path / AWKWARD / "missing.sqlite"
    missing.parent.mkdir()
    for immutable in (False, True):
        with pytest.raises(StoreUnreadable, match=r"missing\.sqlite: no such store file"):
            open_read_only(missing, immutable=immutable)
    assert list(missing.parent.iterdir()) == []


def test_read_only_open_of_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreUnreadable):
        open_read_only(tmp_path)


@pytest.mark.parametrize("journal_mode", ["DELETE", "WAL"])
def test_read_only_open_changes_no_file(tmp_path: Path, journal_mode: str) -> None:
    # a WAL database read with mode=ro alone gets a -shm and a -wal file beside it
    make_store(tmp_path / "store.sqlite", journal_mode=journal_mode)
    before = listing(tmp_path)
    with closing(open_read_only(tmp_path / "store.sqlite")) as db:
        assert db.execute("SELECT x FROM t").fetchall() == [("here",)]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.execute("INSERT INTO t VALUES ('no')")
    assert listing(tmp_path) == before


def test_read_only_open_sees_what_a_writer_has_committed(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    with closing(open_read_write(path, journal_mode="WAL", synchronous="FULL")) as writer:
        writer.execute("CREATE TABLE t (x TEXT)")
        writer.execute("INSERT INTO t VALUES ('committed')")
        with closing(open_read_only(path, rows_as_mappings=True)) as reader:
            assert [dict(r) for r in reader.execute("SELECT x FROM t")] == [{"x": "committed"}]


@pytest.mark.parametrize(("synchronous", "level"), [("FULL", 2), ("NORMAL", 1)])
def test_read_write_open_applies_the_durability_asked_for(
        tmp_path: Path, synchronous: Synchronous, level: int) -> None:
    with closing(open_read_write(tmp_path / "s.sqlite", journal_mode="WAL",
                                 synchronous=synchronous)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA synchronous").fetchone() == (level,)
        assert db.isolation_level is None  # the store writes its own BEGIN and COMMIT
