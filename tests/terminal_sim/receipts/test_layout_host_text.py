"""Text the host sent (RRN, approval code) never reaches the printer as a command."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from printer.interpreter import parse
from terminal_sim.core.slips import Slip
from terminal_sim.receipts.layout import read_slip, render_job
from terminal_sim.receipts.layout_zh import read_slip_zh, render_job_zh

#: what a corrupted reply can carry: any byte value, control bytes (ESC, FS, GS) included
HOST_TEXT = st.text(st.characters(max_codepoint=255), max_size=12)


def _slip(rrn: str, approval_code: str) -> Slip:
    return Slip(kind="sale", outcome="APPROVED", merchant_name="CORNER CAFE",
                merchant_id="M00000000000001", terminal_id="T0000001",
                printed_at=dt.datetime(2026, 3, 2, 8, 7, 6), amount_minor=8993,
                currency="EUR", masked_pan="************0005", scheme="UNIONPAY",
                stan="000016", rrn=rrn, approval_code=approval_code, response_code="00")


def test_a_control_byte_in_the_rrn_does_not_eat_the_stan_line() -> None:
    # explore found it: an RRN ending in FS (0x1c), a prefix of ESC/POS commands,
    # swallowed the line feed, and the slip read back without its STAN
    text = "\n".join(r.text for r in parse(render_job(_slip("606108,0001\x1c", "941788")))
                     .receipts)
    assert read_slip(text).stan == "000016"
    assert "606108,0001\\x1c" in text


@given(rrn=HOST_TEXT, approval_code=HOST_TEXT)
def test_any_host_text_leaves_the_slip_readable(rrn: str, approval_code: str) -> None:
    for render, read in ((render_job, read_slip), (render_job_zh, read_slip_zh)):
        roll = parse(render(_slip(rrn, approval_code)))
        text = "\n".join(receipt.text for receipt in roll.receipts)
        facts = read(text)
        assert (facts.stan, facts.amount_minor, facts.approved) == ("000016", 8993, True)
