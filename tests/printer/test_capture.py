"""printer.capture: a stream replayed with what happened to the printer while it came in."""

from __future__ import annotations

import pytest

from printer.capture import Capture, replay
from printer.errors import PrinterConfigurationError
from printer.virtual import VirtualPrinter


def _job(text: str) -> bytes:
    device = VirtualPrinter(columns=32)
    device.text(text)
    device.cut()
    return device.output


def test_a_power_loss_cuts_the_job_and_the_dark_bytes_are_no_receipt() -> None:
    first, dark, after = _job("FIRST\nSECOND LINE\n"), _job("IN THE DARK\n"), _job("AFTER\n")
    data = first + dark + after
    cut = first.index(b"SECOND")
    capture = Capture("T1", data, ((cut, "power_off"), (len(first + dark), "power_on")),
                      columns=32)
    receipts = replay(capture).receipts
    assert [r.text for r in receipts] == ["FIRST", "AFTER"]
    assert [r.truncated for r in receipts] == [True, False]
    assert receipts[1].end_offset == len(data)
    # the same bytes without what the capture knows: every job is a receipt
    assert [r.text for r in replay(Capture("T1", data)).receipts] == [
        "FIRST\nSECOND LINE", "IN THE DARK", "AFTER"]


def test_nothing_prints_while_the_paper_is_out() -> None:
    first, lost, after = _job("ONE\n"), _job("NO PAPER\n"), _job("TWO\n")
    capture = Capture("T1", first + lost + after,
                      ((len(first), "paper_out"), (len(first + lost), "paper_ok")))
    assert [r.text for r in replay(capture).receipts] == ["ONE", "TWO"]


def test_columns_default_to_the_capture_and_can_be_chosen() -> None:
    data = _job("X\n")
    assert replay(Capture("T1", data, columns=32)).receipts[0].text == "X"
    assert replay(Capture("T1", data, columns=32), columns=48).receipts[0].text == "X"


@pytest.mark.parametrize("changes", [((5, "power_off"), (2, "power_on")),
                                     ((99, "power_off"),), ((0, "explode"),)])
def test_changes_out_of_order_beyond_the_stream_or_unknown_are_refused(
        changes: tuple[tuple[int, str], ...]) -> None:
    with pytest.raises(PrinterConfigurationError, match="capture T1"):
        Capture("T1", b"\x1b@hello\n", changes)
