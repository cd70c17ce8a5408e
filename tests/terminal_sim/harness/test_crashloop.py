"""The crash loop's cheap reads: the roll fed piece by piece, a trace's last id from its end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from printer.interpreter import parse
from terminal_sim.evidence.sources import PaperReceipt
from terminal_sim.harness.crashloop import EvidenceReader, LineReader
from terminal_sim.harness.live import last_trace_id
from terminal_sim.harness.run import run_scenario
from terminal_sim.scenario.loader import load_scenario
from tests.support import SMALL


def test_roll_read_in_pieces_is_the_roll_read_whole(tmp_path: Path) -> None:
    """Cut anywhere (mid-command, mid-receipt, as a kill cuts), the pieces read so far
    give the receipts that parsing the whole prefix gives, truncated last one included."""
    run_scenario(load_scenario(SMALL), out_dir=tmp_path / "source")
    stream = (tmp_path / "source" / "receipts.bin").read_bytes()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    reader = EvidenceReader(run_dir, tmp_path / "host.sqlite")
    cuts = sorted({*range(0, len(stream), max(1, len(stream) // 37)), 1, 2, 3, len(stream)})
    truncated = 0
    with open(run_dir / "receipts.bin", "ab") as paper:
        done = 0
        for cut in cuts:
            paper.write(stream[done:cut])
            paper.flush()
            done = cut
            whole = [PaperReceipt.from_receipt("T0000042", index, receipt)
                     for index, receipt in enumerate(parse(stream[:cut]).receipts, start=1)]
            assert reader.receipts() == whole, f"after {cut} bytes"
            truncated += sum(r.truncated for r in whole)
    assert truncated, "no cut fell inside a receipt: the test proves little"
    assert len(reader.receipts()) > 10


def test_last_trace_id_reads_the_end_and_skips_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    assert last_trace_id(path) == 0
    lines = [json.dumps({"id": i, "kind": "note", "data": "x" * (i % 50)}) for i in range(1, 400)]
    path.write_text("\n".join(lines) + "\n" + lines[-1][:17], encoding="utf-8")  # torn
    assert last_trace_id(path) == 399
    assert last_trace_id(path, chunk=7) == 399  # lines longer than a chunk
    path.write_text(lines[0][:5], encoding="utf-8")
    assert last_trace_id(path) == 0


def test_a_stuck_terminal_is_reported_with_where_it_was(tmp_path: Path) -> None:
    # a terminal that never says "recovered": the loop's error carries its stacks
    import subprocess
    import sys
    import types

    from terminal_sim.harness.crashloop import _Terminals

    log_path = tmp_path / "terminals.log"
    with open(log_path, "w", encoding="utf-8") as log:
        child = subprocess.Popen(
            [sys.executable, "-c", "import faulthandler, sys, time\n"
             "faulthandler.enable(file=sys.stderr, all_threads=True)\n"
             "def waiting_for_the_host():\n    print('up', flush=True)\n    time.sleep(60)\n"
             "waiting_for_the_host()\n"],
            stdout=subprocess.PIPE, stderr=log, text=True)
        assert child.stdout is not None
        assert child.stdout.readline() == "up\n"
        stuck = types.SimpleNamespace(running=True, pid=child.pid, log=log)
        stacks = _Terminals.stacks(stuck)  # type: ignore[arg-type]
        child.wait(timeout=30)
    assert "waiting_for_the_host" in stacks


def test_two_lines_in_one_chunk_are_both_read_without_waiting() -> None:
    """A terminal that recovers at once writes ``pid P`` and ``recovered`` together: the
    second line must come from the reader's buffer, not from a wait on the pipe (which
    timed out before, the line already read into the file object's buffer)."""
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, encoding="utf-8") as stream:
        lines = LineReader(stream)
        os.write(write_fd, b"pid 42\nrecovered\npartial")
        assert lines.readline(5) == "pid 42\n"
        assert lines.readline(0.01) == "recovered\n"  # no wait: it is already here
        with pytest.raises(TimeoutError):
            lines.readline(0.05)  # "partial" has no newline yet
        os.write(write_fd, b" line\n")
        assert lines.readline(5) == "partial line\n"
        os.write(write_fd, b"tail")
        os.close(write_fd)
        assert lines.readline(5) == "tail"  # end of input: the rest, as readline gives it
        assert lines.readline(5) == ""
