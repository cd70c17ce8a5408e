"""VirtualPrinter: python-escpos's API in, paper and truthful status out."""

from __future__ import annotations

import gc

import pytest
from PIL import Image as PILImage
from PIL import ImageDraw

from printer.escpos_loader import escpos_module
from printer.roll import Barcode, Feed, Image, QRCode, TextLine
from printer.state import PrinterState
from printer.virtual import VirtualPrinter


def test_the_usage_from_the_issue() -> None:
    p = VirtualPrinter()
    p.text("Hello\n")
    p.qr("https://x", native=True)
    p.cut()
    assert p.receipts[0].text == "Hello"
    assert [type(e) for e in p.receipts[0].elements] == [TextLine, QRCode, Feed]
    assert p.receipts[0].qr_codes[0].text == "https://x"


def test_every_feature_through_python_escpos(capsys: pytest.CaptureFixture[str]) -> None:
    picture = PILImage.new("RGB", (64, 20), "white")
    ImageDraw.Draw(picture).rectangle((0, 0, 7, 7), fill="black")
    p = VirtualPrinter()
    p.set(bold=True, align="center", double_height=True)
    p.text("Café Zürich €\n")
    p.set(bold=False, align="left", normal_textsize=True)
    p.qr("x")
    p.barcode("{B012345", "CODE128", function_type="B")
    p.image(picture)
    p.cashdraw(2)
    p.buzzer()
    assert p.paper_status() == 2
    assert p.is_online() is True
    p.cut()
    (receipt,) = p.receipts
    title = receipt.elements[0]
    assert isinstance(title, TextLine)
    assert (title.text, title.align, title.style.bold, title.style.height) == (
        "Café Zürich €", "center", True, 2)
    qr_image, picture_image = receipt.images
    assert (qr_image.width, qr_image.height) == (72, 69)
    assert (picture_image.width, picture_image.height, picture_image.ink) == (64, 20, 64)
    assert receipt.barcodes == [Barcode(receipt.barcodes[0].offset, "CODE128", b"{B012345", "B",
                                        64, 3, "below", 0, "center")]
    assert [(d.pin, d.on_ms) for d in p.roll.drawer_pulses] == [(2, 100)]
    assert p.roll.buzzer_count == 1
    assert receipt.text == "Café Zürich €"
    assert capsys.readouterr().out == ""  # python-escpos's progress messages kept out


def test_output_is_what_dummy_receives() -> None:
    escpos_module()
    from escpos.printer import Dummy

    def job(printer: object) -> None:
        printer.set(align="center", bold=True)  # type: ignore[attr-defined]
        printer.text("Grüße\n")  # type: ignore[attr-defined]
        printer.qr("q", native=True, size=4)  # type: ignore[attr-defined]
        printer.cut()  # type: ignore[attr-defined]

    virtual, dummy = VirtualPrinter(), Dummy()
    job(virtual)
    job(dummy)
    assert virtual.output == dummy.output
    assert virtual.roll.total_bytes == len(virtual.output)


def test_receipts_is_a_snapshot_that_does_not_stop_the_stream() -> None:
    p = VirtualPrinter()
    p.text("first line\n")
    (partial,) = p.receipts
    assert partial.truncated
    assert partial.cut is None
    p.text("second line\n")
    p.cut()
    (done,) = p.receipts
    assert not done.truncated
    assert done.text == "first line\nsecond line"


def test_clear_keeps_the_printers_modes() -> None:
    p = VirtualPrinter()
    p.text("10 €\n")
    p.cut()
    p.clear()
    assert p.output == b""
    assert p.receipts == []
    assert p.roll.total_bytes == 0
    p.text("20 €\n")  # python-escpos remembers the code page: no ESC t this time
    p.cut()
    assert b"\x1bt" not in p.output
    assert p.receipts[0].text == "20 €"
    assert p.receipts[0].start_offset == 0


def test_close_leaves_an_unfinished_receipt_truncated() -> None:
    p = VirtualPrinter()
    p.text("never cut\n")
    p.close()
    assert p.receipts[0].truncated
    del p
    gc.collect()  # python-escpos's __del__ calls close() again: harmless


def test_paper_out_prints_nothing() -> None:
    p = VirtualPrinter(state=PrinterState(paper="out"))
    assert p.paper_status() == 0
    assert p.is_online() is False
    p.text("APPROVED\n")
    p.qr("q", native=True)
    p.cut()
    assert p.receipts == []
    assert p.roll.total_bytes == len(p.output) > 0
    assert p.roll.warnings[0] == (0, "paper out")


def test_paper_near_end_still_prints() -> None:
    p = VirtualPrinter(state=PrinterState(paper="near-end"))
    p.text("low paper\n")
    p.cut()
    assert p.paper_status() == 1
    assert p.is_online()
    assert p.receipts[0].text == "low paper"
    assert not p.receipts[0].truncated


def test_cover_open_takes_the_printer_offline() -> None:
    p = VirtualPrinter()
    p.state.cover_open = True
    assert p.is_online() is False
    p.text("lost\n")
    p.state.cover_open = False
    assert p.is_online() is True
    p.text("kept\n")
    p.cut()
    assert p.receipts[0].text == "kept"


def test_power_loss_mid_job() -> None:
    p = VirtualPrinter()
    p.set(bold=True)
    p.text("MERCHANT\nAMOUNT 12.00\n")
    p.power_loss()
    assert p.is_online() is False
    assert p.paper_status() == 2  # python-escpos's answer when the printer is silent
    p.text("APPROVED\n")
    p.cut()
    p.power_on()
    p.text("next job\n")
    p.cut()
    first, second = p.receipts
    assert (first.text, first.truncated) == ("MERCHANT\nAMOUNT 12.00", True)
    assert (second.text, second.truncated) == ("next job", False)
    assert not second.elements[0].style.bold  # type: ignore[union-attr]
    roll = p.roll
    assert roll.dropped_bytes > 0
    assert roll.total_bytes == len(p.output)
    assert [w.reason for w in roll.warnings] == ["power lost", "printer unpowered: bytes dropped"]


def test_status_replies_are_read_once() -> None:
    # _raw and _read are the two methods python-escpos asks of a printer: under test here
    p = VirtualPrinter()
    assert p._read() == b""  # noqa: SLF001
    p._raw(b"\x10\x04\x01\x1dr1")  # noqa: SLF001
    assert p._read() == b"\x12\x00"  # noqa: SLF001
    assert p._read() == b""  # noqa: SLF001


def test_chinese_mode_models_a_chinese_printer() -> None:
    text = "签购单 商户名称"
    chinese = VirtualPrinter(chinese_mode=True)
    chinese.text(text + "\n")
    chinese.cut()
    assert chinese.receipts[0].text == text
    epson = VirtualPrinter()
    epson.text(text + "\n")
    epson.cut()
    assert epson.receipts[0].text != text


def test_profile_and_columns() -> None:
    p = VirtualPrinter("TM-T88III", columns=42, magic_encode_args={"defaultsymbol": "#"})
    p.text("x" * 50 + "\n")
    p.cut()
    assert [len(line) for line in p.receipts[0].lines] == [42, 8]
    assert p.profile.profile_data["name"] == "TM-T88III"


def test_column_images_merge_into_one() -> None:
    picture = PILImage.new("RGB", (30, 60), "black")
    p = VirtualPrinter()
    p.image(picture, impl="bitImageColumn")
    p.cut()
    (image,) = p.receipts[0].images
    assert isinstance(image, Image)
    assert (image.source, image.width, image.height, image.ink) == ("column", 30, 72, 30 * 60)
