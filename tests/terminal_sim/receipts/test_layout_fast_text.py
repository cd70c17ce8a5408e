"""The layout's ASCII fast path sends exactly the bytes python-escpos's ``text()`` would."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from printer.virtual import VirtualPrinter
from terminal_sim.base.money import CURRENCIES
from terminal_sim.core.slips import Slip
from terminal_sim.receipts.layout import STYLES, print_slip, render_job, style_bytes

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)  # no lone surrogates
ASCII = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=32)


@st.composite
def slips(draw: st.DrawFn) -> Slip:
    return Slip(
        kind=draw(st.sampled_from(["sale", "void", "refund", "error", "reprint"])),
        outcome=draw(st.sampled_from(["APPROVED", "DECLINED", "NOT COMPLETED"]) | TEXT),
        merchant_name=draw(ASCII | TEXT),
        merchant_id=draw(ASCII),
        terminal_id=draw(ASCII),
        printed_at=dt.datetime(2026, 1, 5) + dt.timedelta(seconds=draw(st.integers(0, 10**6))),
        amount_minor=draw(st.none() | st.integers(-(10**9), 10**12)),
        currency=draw(st.sampled_from([*sorted(CURRENCIES), None])),
        masked_pan=draw(st.sampled_from(["", "************1111"])),
        scheme=draw(ASCII),
        stan=draw(st.sampled_from(["", "000001", "999999"])),
        rrn=draw(ASCII),
        approval_code=draw(ASCII),
        response_code=draw(st.sampled_from(["", "00", "05"])),
        message=draw(TEXT),
        copy_label=draw(st.sampled_from(["", "DUPLICATE"]) | TEXT),
    )


@given(st.lists(slips(), min_size=1, max_size=4))
def test_rendered_jobs_are_byte_identical(jobs: list[Slip]) -> None:
    for slip in jobs:
        assert render_job(slip) == render_job(slip, fast_text=False)


@given(st.lists(slips(), min_size=1, max_size=4))
def test_a_printer_across_jobs_gets_the_same_bytes(jobs: list[Slip]) -> None:
    # one printer for several slips without a reset: the code page chosen for one
    # slip's non-ASCII text stays selected for the next
    fast, slow = VirtualPrinter(), VirtualPrinter()
    for slip in jobs:
        print_slip(fast, slip)
        print_slip(slow, slip, fast_text=False)
    assert fast.output == slow.output


def test_a_printer_with_its_own_text_method_is_honoured() -> None:
    calls: list[str] = []

    class Logging(VirtualPrinter):
        def text(self, txt: Any) -> None:
            calls.append(str(txt))
            super().text(txt)

    slip = Slip("sale", "APPROVED", "CAFE", "M1", "T0000001", dt.datetime(2026, 1, 5),
                1250, "EUR", stan="000001")
    print_slip(Logging(), slip)
    assert any("THANK YOU" in call for call in calls)


def test_each_style_is_the_bytes_python_escpos_set_writes() -> None:
    from escpos.printer import Dummy

    for name, arguments in STYLES.items():
        device = Dummy()
        device.set(**arguments)
        assert style_bytes(name) == device.output, name


def test_a_printer_with_its_own_set_method_is_honoured() -> None:
    calls: list[dict[str, Any]] = []

    class Logging(VirtualPrinter):
        def set(self, **arguments: Any) -> None:
            calls.append(arguments)
            super().set(**arguments)  # type: ignore[misc]  # python-escpos, untyped

    slip = Slip("sale", "APPROVED", "CAFE", "M1", "T0000001", dt.datetime(2026, 1, 5),
                1250, "EUR", stan="000001")
    device = Logging()
    print_slip(device, slip)
    assert calls[0] == STYLES["title"]
    assert len(calls) == 8
    plain = VirtualPrinter()
    print_slip(plain, slip)
    assert device.output == plain.output
