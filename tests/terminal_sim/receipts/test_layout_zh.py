"""The zh-CN 签购单 (receipts.layout_zh), through python-escpos, read back by the interpreter."""

from __future__ import annotations

import datetime as dt

import pytest

from printer.interpreter import parse
from printer.pan_check import check_receipt
from printer.roll import TextLine
from printer.virtual import VirtualPrinter
from terminal_sim.core.slips import Slip
from terminal_sim.receipts.layout import read_slip, render_job
from terminal_sim.receipts.layout_zh import (
    FS_CHINESE_OFF,
    FS_CHINESE_ON,
    display_width,
    print_slip_zh,
    read_slip_zh,
    render_job_zh,
)


def _slip(**changes: object) -> Slip:
    fields: dict[str, object] = dict(
        kind="sale", outcome="APPROVED", merchant_name="街角咖啡",
        merchant_id="M00000000000001", terminal_id="T0000001",
        printed_at=dt.datetime(2026, 1, 5, 8, 5, 0), amount_minor=1250, currency="CNY",
        masked_pan="************0005", scheme="UNIONPAY", stan="000123", rrn="600508000123",
        approval_code="A1B2C3", response_code="00")
    fields.update(changes)
    return Slip(**fields)  # type: ignore[arg-type]


def test_bytes_use_the_chinese_mode_with_gb18030_text() -> None:
    data = render_job_zh(_slip())
    assert FS_CHINESE_ON + "银联POS签购单".encode("gb18030") in data
    assert "商户名称: 街角咖啡".encode("gb18030") in data
    assert data.count(FS_CHINESE_ON) == data.count(FS_CHINESE_OFF)
    assert "签购单".encode() not in data  # no UTF-8 leaks onto the wire


def test_interpreter_reads_it_back_exactly() -> None:
    roll = parse(render_job_zh(_slip()), strict=True, columns=32)
    assert not roll.warnings
    (receipt,) = roll.receipts
    assert receipt.cut == "full"
    assert not receipt.truncated
    lines = receipt.lines
    assert lines[0] == "银联POS签购单"
    assert "卡号:           ************0005" in lines
    assert "金额:                  RMB 12.50" in lines
    assert all(display_width(line) <= 32 for line in lines)  # nothing wrapped
    assert not any(e.wrapped for e in receipt.elements if hasattr(e, "wrapped"))
    assert [qr.text for qr in receipt.qr_codes] == ["TSIM:T0000001:000123:600508000123"]
    title = next(e for e in receipt.elements
                 if isinstance(e, TextLine) and e.text == "银联POS签购单")
    assert title.style.bold
    assert title.style.height == 2
    assert title.align == "center"


def test_read_slip_zh_gives_the_same_facts_as_the_english_slip() -> None:
    slip = _slip(merchant_name="CORNER CAFE")
    zh = read_slip_zh(parse(render_job_zh(slip)).receipts[0].text)
    en = read_slip(parse(render_job(slip)).receipts[0].text)
    assert zh.approved
    assert zh.kind == "sale"
    assert (zh.amount_minor, zh.currency) == (1250, "CNY") == (en.amount_minor, en.currency)
    for field in ("terminal_id", "merchant_id", "masked_pan", "stan", "rrn", "approval_code",
                  "printed_at"):
        assert getattr(zh, field) == getattr(en, field), field


@pytest.mark.parametrize(("kind", "outcome", "copy"), [
    ("void", "APPROVED", ""), ("sale", "DECLINED", ""), ("refund", "APPROVED", "DUPLICATE"),
    ("error", "CARD UNREADABLE", ""),
])
def test_other_slips_round_trip(kind: str, outcome: str, copy: str) -> None:
    slip = _slip(kind=kind, outcome=outcome, copy_label=copy,
                 response_code="05" if outcome == "DECLINED" else "00")
    facts = read_slip_zh(parse(render_job_zh(slip)).receipts[0].text)
    assert (facts.kind, facts.outcome, facts.copy_label) == (kind, outcome, copy)
    if outcome == "DECLINED":
        assert facts.response_code == "05"


def test_on_a_virtual_printer_in_chinese_mode_and_paper_is_clean() -> None:
    p = VirtualPrinter(chinese_mode=True, columns=32)
    print_slip_zh(p, _slip())
    (receipt,) = p.receipts
    assert read_slip_zh(receipt.text).stan == "000123"
    assert check_receipt(receipt.text, policy="last4") == []
    assert check_receipt(receipt.text, policy="facta") == []


def test_long_merchant_names_are_clipped_to_the_width() -> None:
    receipt = parse(render_job_zh(_slip(merchant_name="非常非常长的商户名称有限责任公司")),
                    columns=32).receipts[0]
    assert all(display_width(line) <= 32 for line in receipt.lines)
