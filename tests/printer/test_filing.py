"""printer.filing, printer.sessions, a finite roll and long pictures (issue 15), in process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from printer.errors import PrinterConfigurationError
from printer.filing import INDEX, ReceiptSink
from printer.interpreter import EscPosInterpreter, parse
from printer.interpreter.paper import DOTS_PER_MM
from printer.render import MAX_DRAWN_DOTS, receipt_image
from printer.sessions import Session
from printer.state import PrinterState

RECEIPT = b"\x1b@ONE LINE\n\x1dV\x00"


def _lines(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / INDEX).read_text().splitlines()]


def _session(sink: ReceiptSink, state: PrinterState | None = None) -> Session:
    return Session(1, "test", EscPosInterpreter(state=state), sink)


# -- filing -------------------------------------------------------------------------------


def test_the_index_is_only_appended_to(tmp_path: Path) -> None:
    # the old index.json was rewritten whole (a new file) after every receipt
    sink = ReceiptSink(tmp_path, png=False)
    session = _session(sink)
    session.feed(RECEIPT)
    first = (tmp_path / INDEX).read_bytes()
    inode = (tmp_path / INDEX).stat().st_ino
    session.feed(RECEIPT * 300)
    after = (tmp_path / INDEX).read_bytes()
    assert after.startswith(first)
    assert (tmp_path / INDEX).stat().st_ino == inode
    assert sink.count == 301
    assert [entry["number"] for entry in _lines(tmp_path)] == list(range(1, 302))


def test_numbering_never_reuses_a_file_on_disk(tmp_path: Path) -> None:
    sink = ReceiptSink(tmp_path, png=False)
    _session(sink).feed(RECEIPT * 2)
    sink.close()
    # a crash: files written, their index lines never (0003, 0005), and a torn line
    (tmp_path / "0003.bin").write_bytes(b"evidence")
    (tmp_path / "0005.png").write_bytes(b"evidence")
    with open(tmp_path / INDEX, "ab") as index:
        index.write(b'{"number": 4, "bin": "00')
    sink = ReceiptSink(tmp_path, png=False)
    _session(sink).feed(RECEIPT)
    sink.close()
    assert [entry["number"] for entry in _lines(tmp_path)] == [1, 2, 6]
    assert (tmp_path / "0003.bin").read_bytes() == b"evidence"
    assert (tmp_path / "0006.bin").read_bytes() == RECEIPT


def test_a_foreign_index_is_refused(tmp_path: Path) -> None:
    (tmp_path / INDEX).write_text('{"number": 1}\n[1, 2]\n')
    with pytest.raises(PrinterConfigurationError, match="line 2 is not an index line"):
        ReceiptSink(tmp_path)


def test_an_older_index_json_is_taken_over(tmp_path: Path) -> None:
    entry = {"number": 7, "bin": "0007.bin"}
    (tmp_path / "index.json").write_text(json.dumps({"version": 1, "receipts": [entry]}))
    sink = ReceiptSink(tmp_path, png=False)
    _session(sink).feed(RECEIPT)
    sink.close()
    assert [e["number"] for e in _lines(tmp_path)] == [7, 8]


@pytest.mark.parametrize(("data", "reason"), [
    (b"\x1b@a line never ended", "text never printed"),
    (b"\x1b@\x1dv0\x00\xff\xff\xff\x0f" + b"\x00" * 100, "over the 4194304-byte limit"),
    (b"\x1b@\x1d(k\xff\xff", "incomplete GS ( k"),
])
def test_a_job_that_prints_nothing_is_filed(tmp_path: Path, data: bytes, reason: str) -> None:
    sink = ReceiptSink(tmp_path, png=False)
    session = _session(sink)
    session.feed(data)
    session.finish()
    (entry,) = _lines(tmp_path)
    assert entry["printed"] is False
    assert reason in str(entry["reason"])
    assert (tmp_path / str(entry["bin"])).read_bytes() == data


def test_status_requests_alone_are_not_a_job(tmp_path: Path) -> None:
    sink = ReceiptSink(tmp_path, png=False)
    session = _session(sink, PrinterState(paper="out"))
    session.feed(b"\x10\x04\x04\x1b@\x10\x04\x01")
    session.finish()
    assert not (tmp_path / INDEX).read_bytes()


def test_bytes_beyond_the_limit_are_counted_not_kept(tmp_path: Path) -> None:
    sink = ReceiptSink(tmp_path, png=False)
    session = Session(1, "test", EscPosInterpreter(), sink, job_limit=3000)
    session.job.spill = 1000  # through a spool file
    data = b"\x1b@" + b"x" * 5000 + b"\n\x1dV\x00"
    for i in range(0, len(data), 700):
        session.feed(data[i : i + 700])
    (entry,) = _lines(tmp_path)
    assert entry["bytes"] == len(data)
    assert entry["bytes_dropped"] == len(data) - 3000
    assert (tmp_path / "0001.bin").read_bytes() == data[:3000]
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".spool")]


# -- a finite roll ------------------------------------------------------------------------


def test_past_the_roll_the_paper_is_out() -> None:
    state = PrinterState(roll_length=100 * DOTS_PER_MM)  # 10 cm: 26 lines of 30 dots
    interpreter = EscPosInterpreter(state=state)
    for _ in range(40):
        interpreter.feed(b"A LINE\n")
    assert state.paper == "out"
    assert interpreter.feed(b"\x10\x04\x04") == b"\x7e"  # what python-escpos reads as 0
    roll = interpreter.finish()
    (receipt,) = roll.receipts
    assert receipt.truncated
    assert 26 <= len(receipt.lines) < 40
    assert "paper out" in [w.reason for w in roll.warnings]
    state.load_roll()
    assert state.paper == "ok"
    assert state.paper_used == 0


def test_the_near_end_sensor_sees_the_end_coming() -> None:
    state = PrinterState(roll_length=1000)
    state.use_paper(850)
    assert state.paper == "ok"
    state.use_paper(60)
    assert state.paper == "near-end"


def test_an_endless_roll_counts_nothing() -> None:
    state = PrinterState()
    interpreter = EscPosInterpreter(state=state)
    interpreter.feed(b"A LINE\n" * 50_000)
    assert state.paper == "ok"
    assert state.paper_used == 0


def test_take_hands_over_what_is_finished() -> None:
    interpreter = EscPosInterpreter()
    interpreter.feed(RECEIPT * 3 + b"\x10\x04\x01\x1b@IN PROGRESS\n")
    receipts, _ = interpreter.take()
    assert [r.text for r in receipts] == ["ONE LINE"] * 3
    assert interpreter.take()[0] == []
    assert interpreter.roll.replies == ()
    assert [r.text for r in interpreter.finish().receipts] == ["IN PROGRESS"]


# -- long pictures -------------------------------------------------------------------------


def test_a_long_receipt_is_drawn_up_to_a_height_then_a_display_cut() -> None:
    receipt = parse(b"\x1b@" + b"LINE\n" * 5000 + b"\x1dV\x00").receipts[0]
    image = receipt_image(receipt)
    assert MAX_DRAWN_DOTS < image.height < MAX_DRAWN_DOTS + 200
    short = parse(b"\x1b@" + b"LINE\n" * 10 + b"\x1dV\x00").receipts[0]
    assert receipt_image(short).height == receipt_image(short, max_height=10**9).height
