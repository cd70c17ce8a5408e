"""A run directory read back: receipts from their bytes, the books, the start of the day."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from terminal_sim.errors import StoreUnreadable
from terminal_sim.reporting.run_view import NotARunDirectory, load_run_dir
from terminal_sim.reporting.timeline import state_spans
from terminal_sim.sim.session import Session
from terminal_sim.sim.simulation import RunResult

Runs = dict[str, tuple[Path, RunResult]]


def test_receipts_come_back_exactly_from_their_bytes(scenario_runs: Runs) -> None:
    for name in ("printer-powered-down-mid-job", "nightly-update-blank-receipts"):
        run_dir, result = scenario_runs[name]
        view = load_run_dir(run_dir)
        assert [s.paper for s in view.slips] == result.evidence.receipts
        assert all(s.exact for s in view.slips), name
        assert all(s.print_id is not None for s in view.slips)
        for slip in view.slips:  # the elements read again say what the roll said
            assert slip.receipt.text == slip.paper.text


def test_the_start_of_the_day_is_found_from_the_slips(scenario_runs: Runs) -> None:
    for run_dir, result in scenario_runs.values():
        assert load_run_dir(run_dir).start == result.scenario.start


def test_paper_and_books_side_by_side(scenario_runs: Runs) -> None:
    view = load_run_dir(scenario_runs["power-dip-print-before-save"][0])
    rows = {row.key: row for row in view.ledger_rows()}
    stray = rows["T0000003/000005"]
    assert [s.ref for s in stray.slips] == ["T0000003#5"]
    assert stray.journal is None
    assert stray.backoffice is None
    assert [h["status"] for h in stray.host] == ["approved"]
    assert sorted(view.findings[n - 1]["code"] for n in stray.findings) == [
        "LOST_RECORD", "STRAY_RECEIPT", "TOTALS_MISMATCH"]
    assert all(not row.findings for key, row in rows.items() if key != stray.key)


def test_several_terminals_share_receipts_bin(tmp_path: Path) -> None:
    session = Session(seed=5, terminals=("T0000001", "T0000002"), out_dir=tmp_path)
    session.sale(1250, terminal="T0000001")
    session.sale(700, terminal="T0000002")
    session.sale(305, terminal="T0000002")  # ..05: declined by the host rules
    session.settle()
    result = session.close()
    view = load_run_dir(tmp_path)
    assert [s.ref for s in view.slips] == ["T0000001#1", "T0000002#1", "T0000002#2"]
    assert all(s.exact for s in view.slips)
    assert [s.paper for s in view.slips] == result.evidence.receipts


def test_state_spans() -> None:
    trace = [{"id": 1, "t": 0, "terminal": "T", "state": "idle"},
             {"id": 2, "t": 10, "terminal": "T", "state": "reading"},
             {"id": 3, "t": 10, "terminal": "", "state": ""},
             {"id": 4, "t": 25, "terminal": "T", "state": "completing"},
             {"id": 5, "t": 25, "terminal": "T", "state": "idle"}]
    assert state_spans(trace, 40) == [("T", "idle", 0, 10), ("T", "reading", 10, 25),
                                      ("T", "idle", 25, 40)]


def test_what_is_not_a_run(tmp_path: Path, run_copy: Path) -> None:
    with pytest.raises(NotARunDirectory, match="not a directory"):
        load_run_dir(tmp_path / "nope")
    with pytest.raises(StoreUnreadable, match=r"report\.json: missing"):
        load_run_dir(tmp_path)
    (tmp_path / "report.json").write_text('{"findings": [], "printers": {}}', encoding="utf-8")
    (tmp_path / "trace.jsonl").write_text('{"id": 1}\nnot json\n', encoding="utf-8")
    with pytest.raises(StoreUnreadable, match=r"trace.jsonl:2"):
        load_run_dir(tmp_path)
    (tmp_path / "trace.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(StoreUnreadable, match=r"journal\.sqlite: no such store file"):
        load_run_dir(tmp_path)  # a run without its books is not a run to tell
    (run_copy / "trace.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(StoreUnreadable, match=r"trace\.jsonl: 0 records"):
        load_run_dir(run_copy)  # the report counts its events: an emptied trace is damage
    report = json.loads((run_copy / "report.json").read_text(encoding="utf-8"))
    report["counts"]["trace_events"] = 0
    (run_copy / "report.json").write_text(json.dumps(report), encoding="utf-8")
    view = load_run_dir(run_copy)  # an empty trace is still a run (a lab's has none)
    assert view.start is not None


def test_start_from_the_report_wins(run_copy: Path) -> None:
    report = json.loads((run_copy / "report.json").read_text(encoding="utf-8"))
    report["start"] = "2026-03-01T23:30:00"
    (run_copy / "report.json").write_text(json.dumps(report), encoding="utf-8")
    view = load_run_dir(run_copy)
    assert view.wall(3_600_000) == dt.datetime(2026, 3, 2, 0, 30)
