"""The cashier's look at the roll (``workload._approved_on_paper``): read as text off a
virtual printer, it answers what reading the receipts as objects answers."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from printer.virtual import VirtualPrinter
from terminal_sim.core.slips import Slip
from terminal_sim.receipts.layout import read_slip, render_job
from terminal_sim.sim.workload import _approved_on_paper

STANS = ["000001", "000010", "100000", "000100"]


class _ReceiptsOnly:
    """A device that gives its roll only as receipt objects (the slow way)."""

    def __init__(self, device: VirtualPrinter) -> None:
        self.receipts = device.receipts


def _node(device: Any) -> Any:
    return SimpleNamespace(ports=SimpleNamespace(printer=SimpleNamespace(device=device)))


@st.composite
def slips(draw: st.DrawFn) -> Slip:
    return Slip(
        kind=draw(st.sampled_from(["sale", "void", "error"])),
        outcome=draw(st.sampled_from(["APPROVED", "DECLINED 05", "NOT COMPLETED"])),
        merchant_name="SHOP", merchant_id="M1",
        terminal_id=draw(st.sampled_from(["T0000001", "TERMINAL"])),
        printed_at=dt.datetime(2026, 1, 5),
        amount_minor=1250, currency="EUR",
        stan=draw(st.sampled_from(["", *STANS])),
        rrn=draw(st.sampled_from(["", "000010000001", "R000001"])),
        approval_code=draw(st.sampled_from(["", "000010", "A1"])),
        message=draw(st.sampled_from(["", "STAN: 000001", "000100"])),
    )


@given(st.lists(slips(), max_size=6), st.integers(0, 400), st.booleans())
def test_the_text_of_the_roll_answers_as_the_receipts_do(jobs: list[Slip], cut_at: int,
                                                          power_loss: bool) -> None:
    device = VirtualPrinter()
    for slip in jobs:
        device._raw(render_job(slip))  # noqa: SLF001
    if jobs and power_loss:  # a last job cut short: its receipt is truncated
        device._raw(render_job(jobs[0])[:cut_at])  # noqa: SLF001
        device.power_loss()
    for stan in STANS:
        # the definition: a whole slip whose STAN line reads ``stan`` and that says APPROVED
        on_paper = any(not receipt.truncated and read_slip(receipt.text).stan == stan
                       and read_slip(receipt.text).approved for receipt in device.receipts)
        assert _approved_on_paper(_node(device), stan) == on_paper
        assert _approved_on_paper(_node(_ReceiptsOnly(device)), stan) == on_paper


def test_an_approved_slip_is_found_and_a_truncated_one_is_not() -> None:
    slip = Slip(kind="sale", outcome="APPROVED", merchant_name="SHOP", merchant_id="M1",
                terminal_id="T0000001", printed_at=dt.datetime(2026, 1, 5),
                amount_minor=1250, currency="EUR", stan="000001", approval_code="000010")
    device = VirtualPrinter()
    job = render_job(slip)
    device._raw(job)  # noqa: SLF001
    assert _approved_on_paper(_node(device), "000001")
    assert not _approved_on_paper(_node(device), "000010")  # the approval code, not a STAN
    cut = VirtualPrinter()
    cut._raw(job[:-8])  # noqa: SLF001
    cut.power_loss()
    assert not _approved_on_paper(_node(cut), "000001")
