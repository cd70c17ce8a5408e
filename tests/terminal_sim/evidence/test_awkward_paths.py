"""A run directory whose path holds URI characters is read like any other.

The PAN scan once opened SQLite as ``file:{path}?mode=ro``: a ``#`` cut the path, the
scan read nothing and reported no card numbers. Here a real run is written under such a
path, full card numbers are planted in its stores, and every reader must see them.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from terminal_sim.evidence.artifacts import load_evidence, load_report, read_rows
from terminal_sim.evidence.privacy import scan_run
from terminal_sim.harness.replay import sql_dump
from terminal_sim.reporting.run_view import load_run_dir
from terminal_sim.scenario.loader import load_scenario
from terminal_sim.sim.simulation import Simulation
from tests.support import SMALL

#: Luhn-valid test card numbers, one planted in each store
PLANTED = {"journal.sqlite": "4111111111111111", "host.sqlite": "5555555555554444",
           "backoffice.sqlite": "378282246310005"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "shop #1 ?day=%41 two" / "run"
    Simulation(load_scenario(SMALL), out_dir=out).run()
    for name, pan in PLANTED.items():
        with closing(sqlite3.connect(out / name)) as db:
            db.execute("CREATE TABLE planted (note TEXT)")
            db.execute("INSERT INTO planted VALUES (?)", (f"card {pan} leaked",))
            db.commit()
    return out


def test_the_pan_scan_finds_the_card_numbers_planted_in_each_store(run_dir: Path) -> None:
    found = {(leak.artifact, leak.where) for leak in scan_run(run_dir)}
    assert found >= {(name, "planted row 1 note") for name in PLANTED}


def test_the_artifact_readers_read_the_stores(run_dir: Path) -> None:
    report = load_report(run_dir)
    evidence = load_evidence(run_dir)
    assert len(evidence.journal) == report["counts"]["journal_records"] > 0
    assert len(evidence.host) == report["counts"]["host_transactions"] > 0
    assert read_rows(run_dir / "host.sqlite", "SELECT note FROM planted") == [
        {"note": f"card {PLANTED['host.sqlite']} leaked"}]


def test_the_run_view_reads_the_books(run_dir: Path) -> None:
    view = load_run_dir(run_dir)
    assert len(view.journal) == load_report(run_dir)["counts"]["journal_records"]
    assert len(view.host) == load_report(run_dir)["counts"]["host_transactions"]


def test_the_replay_dump_reads_the_stores(run_dir: Path) -> None:
    for name, pan in PLANTED.items():
        assert f"INSERT INTO \"planted\" VALUES('card {pan} leaked');" in sql_dump(run_dir / name)


def test_reading_creates_no_file(run_dir: Path) -> None:
    before = sorted(p.name for p in run_dir.iterdir())
    scan_run(run_dir)
    load_evidence(run_dir)
    load_run_dir(run_dir)
    for name in PLANTED:
        sql_dump(run_dir / name)
    assert sorted(p.name for p in run_dir.iterdir()) == before
