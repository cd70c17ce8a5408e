"""python-escpos's Network printer against the lab's virtual printer, faults at run time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from terminal_sim.lab.session import LabSession


def _network(pos_lab: LabSession) -> Any:
    from escpos.printer import Network

    host, port = pos_lab.printer().removeprefix("tcp://").rsplit(":", 1)
    return Network(host, int(port), timeout=10)


def _until(check: Callable[[], Any], what: str) -> Any:
    """Wait for the printer thread (a hang guard, not a time limit)."""
    for _ in range(500):
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


def _jobs(pos_lab: LabSession) -> list[dict[str, Any]]:
    return [e for e in pos_lab.client.evidence()["printers"]["p1"] if "event" not in e]


def test_paper_status_follows_the_paper_out_fault(pos_lab: LabSession) -> None:
    printer = _network(pos_lab)
    try:
        assert printer.paper_status() == 2
        fault = pos_lab.client.add_fault("printer-paper-out")
        assert printer.paper_status() == 0
        pos_lab.client.remove_fault(fault["id"])
        assert printer.paper_status() == 2
    finally:
        printer.close()


def test_near_end_is_status_1(pos_lab: LabSession) -> None:
    printer = _network(pos_lab)
    try:
        pos_lab.client.add_fault("printer-paper-near-end")
        assert printer.paper_status() == 1
        assert pos_lab.client.reset() == 1
        assert printer.paper_status() == 2
    finally:
        printer.close()


def test_a_job_printed_while_offline_is_filed_with_its_reason(pos_lab: LabSession) -> None:
    printer = _network(pos_lab)
    try:
        fault = pos_lab.client.add_fault("printer-offline")
        printer.text("HELD WHILE OFFLINE\n")
        printer.cut()
        _until(lambda: pos_lab.client.state()["printers"][0]["held_bytes"], "bytes held")
        assert _jobs(pos_lab) == []  # nothing printed while offline
        pos_lab.client.remove_fault(fault["id"])
        jobs = _until(lambda: _jobs(pos_lab), "the job printed")
    finally:
        printer.close()
    assert jobs[0]["held"] == "offline"
    assert jobs[0]["printed"] is True
    held = [e for e in pos_lab.client.evidence()["printers"]["p1"] if "event" in e]
    assert held
    assert held[0]["reason"] == "offline"


def test_power_loss_at_byte_n_truncates_the_next_job_there(pos_lab: LabSession) -> None:
    from escpos.printer import Dummy

    text = "".join(f"LINE {n:02d} OF THE JOB\n" for n in range(10))
    rehearsal = Dummy()  # the bytes python-escpos sends for the job, seen beforehand
    rehearsal.text(text)
    job = rehearsal.output
    cut_at = job.index(b"LINE 04") + 3  # inside line 5
    pos_lab.client.add_fault("printer-power-loss", at_byte=cut_at, down_s=60)
    printer = _network(pos_lab)
    try:
        printer.text(text)
        _until(lambda: not pos_lab.client.state()["printers"][0]["state"]["powered"],
               "the power cut")
    finally:
        printer.close()
    job_entry = _until(lambda: _jobs(pos_lab), "the job filed")[0]
    warnings = {w["reason"]: w["offset"] for w in job_entry["warnings"]}
    assert warnings["power lost"] == job_entry["start_offset"] + cut_at
    folder = pos_lab.config.out / "printers" / "p1"
    assert (folder / job_entry["bin"]).read_bytes() == job[:cut_at]
    assert job_entry["truncated"] is True
    assert job_entry["cut"] is None
    text = (folder / job_entry["txt"]).read_text()
    assert "LINE 03" in text
    assert "LINE 04" not in text
    _until(lambda: any(e["event"] == "fired" and e["name"] == "printer-power-loss"
                       for e in pos_lab.lab.fault_trace()), "the cut in the fault trace")
