"""Receipt pictures: thermal-printer geometry, ink where the printer put it, torn edges."""

from __future__ import annotations

import io

from PIL import Image

from printer.interpreter import parse
from printer.virtual import VirtualPrinter
from terminal_sim.reporting.receipt_images import ReceiptArt, receipt_data_uri, text_receipt


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.mode in ("1", "P")
    return image.convert("L")


def ink_rows(image: Image.Image) -> list[int]:
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    return [y for y in range(height) if any(pixels[x, y] == 0 for x in range(width))]


def printed(build: object) -> VirtualPrinter:
    printer = VirtualPrinter()
    build(printer)  # type: ignore[operator]
    return printer


def test_text_bold_double_height_and_qr() -> None:
    def slip(p: VirtualPrinter) -> None:
        p.set(align="center", bold=True, double_height=True)
        p.text("CORNER CAFE\n")
        p.set(align="left", bold=False, normal_textsize=True)
        p.text("AMOUNT:        12.50 EUR\n")
        p.qr("TSIM:T0000001:000001", native=True, size=4)
        p.cut()

    receipt = printed(slip).receipts[0]
    image = picture(ReceiptArt(columns=48).png(receipt))
    assert image.width > 48 * 12  # 80 mm: 576 dots, and paper either side
    rows = ink_rows(image)
    assert rows, "nothing drawn"
    # the double-height title is about twice as tall as a normal line of text
    title = [y for y in rows if y < 16 + 48]
    assert 30 <= len(title) <= 48
    # a QR code is a square block of modules below the text
    assert max(rows) - min(rows) > 48 + 24 + 80


def test_a_blank_slip_has_no_ink_and_a_cut_off_one_a_torn_edge() -> None:
    blank = parse(b"\x1b@" + b"\n" * 6 + b"\x1dV\x00").receipts[0]
    assert blank.is_blank
    assert ink_rows(picture(ReceiptArt().png(blank))) == []
    torn = parse(b"\x1b@SALE:   VISA\nCARD: ****1111\n").receipts[0]
    assert torn.truncated
    image = picture(ReceiptArt().png(torn))
    assert max(ink_rows(image)) >= image.height - 12  # the zigzag at the bottom


def test_same_paper_same_bytes_and_a_data_uri() -> None:
    receipt = text_receipt("TID: T0000001\nSTAN: 000001")
    art = ReceiptArt()
    assert art.png(receipt) == ReceiptArt().png(receipt)
    uri = receipt_data_uri(receipt)
    assert uri.startswith("data:image/png;base64,")
