"""The ESC/POS interpreter, fed with what python-escpos 3.1 really emits."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from printer.errors import EscPosError
from printer.escpos_loader import escpos_module
from printer.interpreter import CodePages, EscPosInterpreter, parse
from printer.roll import Barcode, Code2D, Feed, Image, Logo, QRCode, Receipt, Roll, TextLine
from printer.state import PrinterState

ESC, GS, FS, DLE = b"\x1b", b"\x1d", b"\x1c", b"\x10"
CUT = GS + b"V\x00"


def escpos_bytes(build: Callable[[Any], object]) -> bytes:
    """The bytes python-escpos sends for ``build(printer)`` (its own Dummy printer)."""
    escpos_module()
    from escpos.printer import Dummy

    dummy = Dummy()
    with contextlib.redirect_stdout(io.StringIO()):  # barcode()/image() print progress
        build(dummy)
    return bytes(dummy.output)


def only_receipt(roll: Roll) -> Receipt:
    assert len(roll.receipts) == 1, roll.receipts
    return roll.receipts[0]


def text_lines(receipt: Receipt) -> list[TextLine]:
    return [e for e in receipt.elements if isinstance(e, TextLine)]


def pil_image(width: int, height: int, box: tuple[int, int, int, int]) -> Any:
    from PIL import Image as PILImage
    from PIL import ImageDraw

    image = PILImage.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle(box, fill="black")
    return image


# -- text and style -----------------------------------------------------------------------


def test_plain_text_receipt() -> None:
    data = escpos_bytes(lambda p: (p.text("Hello\nWorld  \n"), p.cut()))
    receipt = only_receipt(parse(data))
    assert receipt.text == "Hello\nWorld"
    assert receipt.lines == ["Hello", "World"]
    assert receipt.cut == "full"
    assert not receipt.truncated
    assert not receipt.is_blank
    assert (receipt.start_offset, receipt.end_offset) == (0, len(data))
    assert isinstance(receipt.elements[-1], Feed)
    assert receipt.elements[-1].lines == 6


def test_style_flags_reach_the_lines() -> None:
    def build(p: Any) -> None:
        p.set(align="center", bold=True, double_height=True)
        p.text("TITLE\n")
        p.set(align="right", bold=False, underline=2, invert=True, normal_textsize=True)
        p.text("right\n")
        p.set(align="left", underline=0, invert=False, font="b", flip=True)
        p.text("small\n")
        p.set_with_default()
        p.set(custom_size=True, width=3, height=5)
        p.text("big\n")
        p.set(double_width=True, double_height=True)
        p.text("quad\n")
        p.cut()

    title, right, small, big, quad = text_lines(only_receipt(parse(escpos_bytes(build))))
    assert (title.text, title.align, title.style.bold, title.style.height) == ("TITLE", "center",
                                                                           True, 2)
    assert title.style.width == 1
    assert (right.align, right.style.bold, right.style.underline, right.style.invert) == (
        "right", False, 2, True)
    assert right.style.height == 1
    assert (small.align, small.style.font, small.style.upside_down) == ("left", 1, True)
    assert (big.style.width, big.style.height, big.style.upside_down) == (3, 5, False)
    assert (quad.style.width, quad.style.height) == (2, 2)


def test_raw_style_commands() -> None:
    data = (ESC + b"G\x01" + ESC + b"V\x01" + ESC + b"r\x01" + b"a\n" + ESC + b"!\x89" + b"b\n"
            + ESC + b"E\x00" + ESC + b"!\x00" + ESC + b"G\x00" + b"c\n")
    a, b, c = text_lines(parse(data).receipts[0])
    assert (a.style.double_strike, a.style.rotated, a.style.color) == (True, True, 1)
    assert (b.style.font, b.style.bold, b.style.underline) == (1, True, 1)  # ESC ! sets all
    assert (c.style.bold, c.style.underline, c.style.double_strike, c.style.font) == (
        False, 0, False, 0)


def test_a_line_in_two_styles_has_two_runs() -> None:
    def build(p: Any) -> None:
        p.text("Total: ")
        p.set(bold=True)
        p.text("12.00\n")
        p.cut()

    (line,) = text_lines(only_receipt(parse(escpos_bytes(build))))
    assert line.text == "Total: 12.00"
    assert [(run.text, run.style.bold) for run in line.runs] == [("Total: ", False),
                                                                 ("12.00", True)]


def test_alignment_only_changes_at_the_beginning_of_a_line() -> None:
    data = b"ab" + ESC + b"a\x01" + b"cd\n" + b"ef\n" + ESC + b"a\x02" + b"gh\n"
    roll = parse(data)
    assert [(line.text, line.align) for line in text_lines(roll.receipts[0])] == [
        ("abcd", "left"), ("ef", "left"), ("gh", "right")]
    assert roll.warnings == ((2, "ESC a ignored: not at the beginning of a line"),)


@pytest.mark.parametrize(
    "text",
    ["Café Zürich €", "Grüße ½ £", "Привет мир", "Ελληνικά", "ąčęėįšųūž", "ｱｲｳｴｵ", "שלום",
     "مرحبا", "ไทย"],
)
def test_code_pages_round_trip_through_the_magic_encoder(text: str) -> None:
    data = escpos_bytes(lambda p: (p.text(text + "\n"), p.cut()))
    assert ESC + b"t" in data  # python-escpos switched code page
    assert only_receipt(parse(data)).text == text


def test_forced_code_page() -> None:
    data = escpos_bytes(lambda p: (p.charcode("CP858"), p.text("5 €\n"), p.cut()))
    assert ESC + b"t\x13" in data
    assert only_receipt(parse(data)).text == "5 €"


def test_the_printer_forgets_its_code_page_on_initialise() -> None:
    # ESC @ restores code page 0 (CP437): 0x80 is Ç there, € in CP1252 (page 16).
    data = ESC + b"t\x10" + b"\x80\n" + ESC + b"@" + b"\x80\n"
    assert parse(data).receipts[0].lines == ["€", "Ç"]


def test_data_table_code_page_matches_python_escpos_capabilities() -> None:
    escpos_module()
    from escpos.capabilities import CAPABILITIES

    expected = "".join(CAPABILITIES["encodings"]["TCVN-3-1"]["data"])
    high = bytes(range(0xA0, 0x100))
    roll = parse(ESC + b"t\x1e" + high + b"\n", columns=200)
    assert roll.receipts[0].lines[0] == expected[0x20:].rstrip()


def test_unknown_and_tableless_code_pages() -> None:
    roll = parse(ESC + b"t\x63" + ESC + b"t\x06" + b"a\x80\n")
    assert roll.receipts[0].lines == ["a\ufffd"]
    assert roll.warnings[0] == (0, "ESC t 99: no such code page in the printer profile")
    assert roll.warnings[1].offset == 3
    assert "no character table" in roll.warnings[1].reason
    with pytest.raises(EscPosError) as error:
        parse(ESC + b"t\x63", strict=True)
    assert error.value.offset == 0


def test_explicit_code_page_table() -> None:
    pages = CodePages({0: "MINE"}, {"MINE": {"python_encode": "cp1252"}})
    assert parse(b"\x80\n", code_pages=pages).receipts[0].lines == ["€"]


# -- line width, tabs, positions ------------------------------------------------------------


def test_lines_wrap_at_the_print_width() -> None:
    roll = parse(b"x" * 60 + b"\n" + GS + b"!\x10" + b"y" * 30 + b"\n" + GS + b"!\x00"
                 + ESC + b"M\x01" + b"z" * 70 + b"\n")
    lines = text_lines(roll.receipts[0])
    assert [(len(line.text), line.wrapped) for line in lines] == [
        (48, True), (12, False), (24, True), (6, False), (64, True), (6, False)]
    assert lines[1].offset == 48  # where the wrapped part starts in the stream
    assert [len(line) for line in parse(b"w" * 40 + b"\n", columns=32).receipts[0].lines] == [
        32, 8]


def test_a_line_exactly_full_is_one_line() -> None:
    assert parse(b"q" * 48 + b"\n").receipts[0].lines == ["q" * 48]


def test_tabs_and_positions() -> None:
    data = (b"A\tB\n" + ESC + b"D\x04\x0a\x00" + b"x\ty\tz\n" + ESC + b"$\x3c\x00" + b"p\n"
            + b"ab" + ESC + b"\\\x18\x00" + b"c\n")
    assert parse(data).receipts[0].lines == ["A       B", "x   y     z", "     p", "ab  c"]


def test_margin_and_print_area_change_the_wrap_width() -> None:
    data = GS + b"L\x30\x00" + GS + b"W\x78\x00" + b"k" * 12 + b"\n"
    assert [len(line) for line in parse(data).receipts[0].lines] == [10, 2]


# -- feeds, cuts, receipts ------------------------------------------------------------------


def test_feeds() -> None:
    data = escpos_bytes(lambda p: (p.text("a"), p.print_and_feed(3), p.ln(2), p.cut()))
    data += ESC + b"J\x0a" + b"b\n" + CUT
    first, second = parse(data).receipts
    assert [type(e).__name__ for e in first.elements] == [
        "TextLine", "Feed", "TextLine", "TextLine", "Feed"]
    assert first.elements[1] == Feed(first.elements[1].offset, lines=3)
    assert first.lines == ["a", "", ""]
    assert first.text == "a"
    assert second.elements[0] == Feed(len(data) - 8, dots=10)


@pytest.mark.parametrize(
    ("build", "cut"),
    [
        (lambda p: p.cut(), "full"),
        (lambda p: p.cut(mode="PART"), "partial"),
        (lambda p: p.cut(feed=False), "partial"),  # python-escpos sends GS V 66 0
    ],
)
def test_python_escpos_cuts(build: Callable[[Any], object], cut: str) -> None:
    data = escpos_bytes(lambda p: (p.text("x\n"), build(p)))
    assert only_receipt(parse(data)).cut == cut


def test_raw_cuts_split_receipts_and_offsets_tile_the_stream() -> None:
    data = (b"one\n" + ESC + b"i" + b"two\n" + ESC + b"m" + b"three\n" + GS + b"V\x41\x20"
            + b"four\n" + GS + b"V1")
    roll = parse(data)
    assert [(r.text, r.cut) for r in roll.receipts] == [
        ("one", "partial"), ("two", "partial"), ("three", "full"), ("four", "partial")]
    assert [r.start_offset for r in roll.receipts] == [0, 6, 12, 22]
    assert [r.end_offset for r in roll.receipts] == [6, 12, 22, len(data)]
    assert roll.receipts[2].elements[-1] == Feed(18, dots=0x20)


def test_a_cut_in_the_middle_of_a_line_is_ignored() -> None:
    roll = parse(b"abc" + CUT)
    assert roll.receipts == ()
    assert roll.warnings == ((3, "cut ignored: not at the beginning of a line"),
                             (0, "text never printed (no line feed before the end): 'abc'"))


def test_truncated_stream_gives_a_truncated_receipt() -> None:
    data = escpos_bytes(lambda p: (p.text("SALE\n"), p.cut(), p.text("REFUND\nAMOUNT")))
    first, second = parse(data).receipts
    assert (first.truncated, second.truncated) == (False, True)
    assert second.cut is None
    assert second.text == "REFUND"  # "AMOUNT" never left the line buffer
    assert second.end_offset == len(data)
    assert second.warnings[-1].reason.startswith("text never printed")


def test_blank_receipts() -> None:
    data = ESC + b"@" + ESC + b"d\x06" + CUT + b"   \n" + CUT + ESC + b"@" + CUT
    roll = parse(data)
    assert [r.is_blank for r in roll.receipts] == [True, True]  # no paper: no third receipt
    assert roll.receipts[0].text == ""
    qr_only = escpos_bytes(lambda p: (p.qr("x", native=True), p.cut()))
    assert not only_receipt(parse(qr_only)).is_blank


# -- codes and images -----------------------------------------------------------------------


def test_barcodes_function_a_and_b() -> None:
    def build(p: Any) -> None:
        p.barcode("4006381333931", "EAN13", function_type="A")
        p.barcode("{B012345", "CODE128", function_type="B", pos="OFF", height=100, width=2,
                  font="B", align_ct=False)
        p.cut()

    ean, code128 = only_receipt(parse(escpos_bytes(build))).barcodes
    assert (ean.symbology, ean.data, ean.function) == ("EAN13", b"4006381333931", "A")
    assert (ean.height, ean.module_width, ean.hri, ean.hri_font, ean.align) == (
        64, 3, "below", 0, "center")
    assert (code128.symbology, code128.text, code128.function) == ("CODE128", "{B012345", "B")
    assert (code128.height, code128.module_width, code128.hri, code128.hri_font) == (
        100, 2, "none", 1)


def test_native_qr_code() -> None:
    data = escpos_bytes(lambda p: (p.text("Hello\n"), p.qr("https://x.example/ä?q=1",
                                                             native=True, size=5, ec=3),
                                   p.cut()))
    receipt = only_receipt(parse(data))
    (qr,) = receipt.qr_codes
    assert (qr.text, qr.size, qr.ec, qr.model) == ("https://x.example/ä?q=1", 5, "H", "2")
    assert receipt.text == "Hello"


def test_qr_code_as_an_image() -> None:
    escpos_module()
    import qrcode

    data = escpos_bytes(lambda p: (p.qr("x"), p.cut()))
    (image,) = only_receipt(parse(data)).images
    modules = qrcode.QRCode(version=None, border=1)
    modules.add_data("x")
    modules.make(fit=True)
    side = len(modules.get_matrix()) * 3  # box size 3, border included
    assert (image.source, image.width, image.height) == ("raster", (side + 7) // 8 * 8, side)
    assert not image.pixel(0, 0)
    assert image.pixel(3, 3)


@pytest.mark.parametrize(
    ("impl", "source", "height"),
    [("bitImageRaster", "raster", 50), ("bitImageColumn", "column", 72),
     ("graphics", "graphics", 50)],
)
def test_images_keep_their_pixels(impl: str, source: str, height: int) -> None:
    escpos_module()
    from escpos.image import EscposImage

    picture = pil_image(100, 50, (10, 5, 29, 14))
    data = escpos_bytes(lambda p: (p.image(picture, impl=impl), p.cut()))
    roll = parse(data)
    (image,) = only_receipt(roll).images
    assert (image.source, image.height) == (source, height)
    assert image.width == (104 if source == "raster" else 100)
    assert image.ink == 20 * 10
    reference = EscposImage(picture)  # python-escpos's own 1-bit conversion
    raster, row = reference.to_raster_format(), reference.width_bytes
    assert all(image.pixel(x, y) == bool(raster[y * row + x // 8] >> (7 - x % 8) & 1)
               for x in range(100) for y in range(50))
    assert roll.warnings == ()


def test_stored_images_and_2d_symbols() -> None:
    pdf417 = GS + b"(k\x05\x000P0AB" + GS + b"(k\x03\x000Q0"
    downloaded = GS + b"*\x01\x01" + bytes([0xFF] + [0] * 7) + GS + b"/\x00"
    nv = FS + b"p\x01\x00" + GS + b"(L\x06\x000E12\x01\x01"
    roll = parse(pdf417 + downloaded + nv + CUT)
    code, image, logo1, logo2 = only_receipt(roll).elements
    assert code == Code2D(10, "pdf417", b"AB")  # the offset of the print function
    assert isinstance(image, Image)
    assert (image.width, image.height, image.ink) == (8, 8, 8)
    assert image.pixel(0, 0)
    assert image.pixel(0, 7)
    assert not image.pixel(1, 0)
    assert (logo1, logo2) == (Logo(len(pdf417 + downloaded), "nv:1"),
                              Logo(len(pdf417 + downloaded) + 4, "nv:12"))
    assert not only_receipt(roll).is_blank


# -- other devices on the line ----------------------------------------------------------------


def test_drawer_pulses_and_buzzer() -> None:
    def build(p: Any) -> None:
        p.cashdraw(2)
        p.cashdraw(5)
        p.cashdraw((27, 112, 48, 25, 10))
        p.buzzer(3, 5)

    data = escpos_bytes(build) + DLE + b"\x14\x01\x01\x03" + ESC + b"(A\x04\x000a\x02\x05"
    roll = parse(data)
    assert [(pulse.pin, pulse.on_ms, pulse.off_ms) for pulse in roll.drawer_pulses] == [
        (2, 100, 100), (5, 100, 100), (2, 50, 50), (5, 300, 300)]
    assert [(buzz.times, buzz.duration) for buzz in roll.buzzes] == [(3, 5), (2, 5)]
    assert roll.buzzer_count == 2
    assert roll.receipts == ()  # nothing on paper


def test_a_deselected_printer_ignores_what_the_line_display_gets() -> None:
    data = escpos_bytes(lambda p: (p.text("before\n"), p.linedisplay("ON DISPLAY"),
                                   p.text("after\n"), p.cut()))
    assert only_receipt(parse(data)).text == "before\nafter"
    # real-time status requests still answer while deselected
    interpreter = EscPosInterpreter()
    assert interpreter.feed(ESC + b"=\x02" + DLE + b"\x04\x04" + b"ignored\n") == b"\x12"


def test_initialise_restores_the_power_on_modes() -> None:
    data = (ESC + b"E\x01" + GS + b"(k\x04\x001A2\x00" + GS + b"(k\x04\x001P0z" + b"x\n"
            + ESC + b"@" + b"y\n" + GS + b"(k\x03\x001Q0")
    roll = parse(data)
    x, y = text_lines(roll.receipts[0])
    assert (x.style.bold, y.style.bold) == (True, False)
    assert roll.receipts[0].qr_codes == []  # the stored symbol went with ESC @
    assert roll.warnings[-1].reason == "GS ( k: print QR code with no stored data"


# -- malformed input ------------------------------------------------------------------------


def test_malformed_commands_are_warnings_with_their_offsets() -> None:
    data = (b"AB" + ESC + b"\xffCD\n" + b"\x01" + GS + b"!\x88" + ESC + b"a\x07" + GS
            + b"k\x02" + b"12\x0a" + GS + b"(k\x02\x009X" + b"ok\n")
    roll = parse(data)
    assert roll.warnings == (
        (2, "unknown command ESC 0xFF"),
        (7, "unknown control byte 0x01"),
        (8, "GS ! 0x88: size multipliers must be 1..8"),
        (11, "ESC a 7: alignment must be 0..2 or 48..50"),
        (14, "GS k 2: barcode data not NUL-terminated printable ASCII: printed as text"),
        (20, "GS ( k: unknown symbol type cn=57"),
    )
    assert roll.receipts[0].lines == ["ABCD", "12", "ok"]
    assert roll.receipts[0].warnings == roll.warnings


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"ok\n" + ESC + b"\xff", 3),
        (b"ok\n" + GS + b"(k\x03", 3),  # incomplete at the end of the stream
        (b"\x81\n", 0),  # a GB18030 lead byte cut by LF, in double-byte mode
        (GS + b"v0\x00\xff\xff\xff\xff", 0),  # declares 4 GB of raster data
    ],
)
def test_strict_mode_raises_with_the_offset(data: bytes, offset: int) -> None:
    with pytest.raises(EscPosError) as error:
        parse(data, strict=True, chinese_mode=True)
    assert error.value.offset == offset
    lenient = parse(data, chinese_mode=True)
    assert lenient.warnings[0].offset == offset


def test_strict_mode_accepts_python_escpos_output_and_printer_conditions() -> None:
    data = escpos_bytes(lambda p: (p.set(bold=True), p.text("Café\n"), p.qr("q", native=True),
                                   p.cut()))
    assert parse(data, strict=True).receipts[0].text == "Café"
    roll = parse(data, strict=True, state=PrinterState(paper="out"))  # a notice, not an error
    assert roll.warnings == ((0, "paper out"),)


def test_incomplete_trailing_command() -> None:
    data = b"done\n" + CUT + b"next\n" + GS + b"(k\x10\x001P0abc"
    roll = parse(data)
    assert roll.warnings == ((len(data) - 11, "incomplete GS ( k at end of stream (11 bytes)"),)
    assert roll.receipts[1].truncated
    assert roll.receipts[1].warnings == roll.warnings


def test_oversize_commands_are_skipped_without_buffering() -> None:
    payload = b"z" * 5000
    data = b"a\n" + GS + b"(k" + len(payload).to_bytes(2, "little") + payload + b"b\n"
    interpreter = EscPosInterpreter(max_command_bytes=1000)
    for k in range(0, len(data), 100):
        interpreter.feed(data[k : k + 100])
        assert interpreter.buffered <= 100  # nothing of the 5000 bytes is kept
    roll = interpreter.finish()
    assert roll.receipts[0].lines == ["a", "b"]
    assert roll.warnings == ((2, "GS ( k declares 5000 bytes of data, over the 1000-byte "
                                 "limit: skipped"),)


def test_warnings_are_capped() -> None:
    roll = parse(b"\x01" * 30, max_warnings=5)
    assert len(roll.warnings) == 5
    assert roll.suppressed_warnings == 25


def test_real_time_requests_inside_data_are_data() -> None:
    image = GS + b"v0\x00\x03\x00\x01\x00" + DLE + b"\x04\x01"
    interpreter = EscPosInterpreter()
    assert interpreter.feed(image) == b""
    assert interpreter.feed(DLE + b"\x04\x01") == b"\x12"


# -- chunking ---------------------------------------------------------------------------------


def full_featured_receipt() -> bytes:
    picture = pil_image(40, 30, (3, 3, 20, 9))

    def build(p: Any) -> None:
        p.hw("INIT")
        p.set(align="center", bold=True, double_height=True)
        p.text("ACME Café Zürich €\n")
        p.set(align="left", bold=False, normal_textsize=True)
        p.text("Привет " + "x" * 50 + "\n")
        p.control("HT")
        p.text("a\tb\n")
        p.barcode("{B012345", "CODE128", function_type="B")
        p.barcode("4006381333931", "EAN13", function_type="A")
        p.qr("https://x.example", native=True)
        p.image(picture)
        p.image(picture, impl="bitImageColumn")
        p.image(picture, impl="graphics")
        p.cashdraw(2)
        p.buzzer()
        p.cut()
        p.text("second\n")
        p._raw(b"\x10\x04\x04")  # noqa: SLF001 (Dummy has no _read(): the request only)

    data = escpos_bytes(build)
    return data + FS + b"&" + "签购单 😀".encode("gb18030") + FS + b"." + b"\n" + GS + b"(k"


def test_every_split_point_gives_the_same_roll() -> None:
    data = full_featured_receipt()
    reference = parse(data).to_dict()
    assert len(reference["receipts"]) == 2
    assert reference["warnings"]
    for k in range(len(data) + 1):
        interpreter = EscPosInterpreter()
        replies = interpreter.feed(data[:k]) + interpreter.feed(data[k:])
        assert replies == b"\x12"
        assert interpreter.finish().to_dict() == reference, k


def test_byte_by_byte_feeding_gives_the_same_roll() -> None:
    data = full_featured_receipt()
    interpreter = EscPosInterpreter()
    for k in range(len(data)):
        interpreter.feed(data[k : k + 1])
    assert interpreter.finish().to_dict() == parse(data).to_dict()


def test_the_roll_property_is_a_snapshot() -> None:
    interpreter = EscPosInterpreter()
    interpreter.feed(b"first\n" + GS + b"(k\x03")
    snapshot = interpreter.roll
    assert snapshot.receipts[0].truncated
    assert snapshot.receipts[0].text == "first"
    assert snapshot.warnings[-1].reason.startswith("incomplete GS ( k")
    interpreter.feed(b"\x001Q0" + b"more\n" + CUT)
    roll = interpreter.finish()
    assert roll.receipts[0].text == "first\nmore"
    assert roll.warnings[0].reason.startswith(
        "GS ( k: print QR code with no stored data")


def test_finish_then_feed_again_counts_offsets_on() -> None:
    interpreter = EscPosInterpreter()
    interpreter.feed(b"one\n")
    interpreter.finish()
    interpreter.feed(b"two\n" + CUT)
    roll = interpreter.finish()
    assert [(r.text, r.truncated, r.start_offset) for r in roll.receipts] == [
        ("one", True, 0), ("two", False, 4)]


def test_the_callers_buffer_is_neither_kept_nor_changed() -> None:
    chunk = bytearray(GS + b"(k\x04\x001P0")
    original = bytes(chunk)
    interpreter = EscPosInterpreter()
    interpreter.feed(chunk)
    assert chunk == original
    chunk[:] = b"\x00" * len(chunk)
    interpreter.feed(b"z" + GS + b"(k\x03\x001Q0")
    assert interpreter.finish().receipts[0].qr_codes[0].data == b"z"


# -- double-byte text -------------------------------------------------------------------------


def test_chinese_text_between_fs_and_and_fs_dot() -> None:
    text = "签购单 商户名称"
    data = FS + b"&" + text.encode("gb18030") + FS + b"." + b"\nCafe\n" + CUT
    assert only_receipt(parse(data)).lines == [text, "Cafe"]


def test_chinese_text_is_two_columns_wide_and_four_byte_characters_decode() -> None:
    text = "签" * 30 + "😀"
    assert len("😀".encode("gb18030")) == 4
    roll = parse(FS + b"&" + text.encode("gb18030") + b"\n")
    assert roll.receipts[0].lines == ["签" * 24, "签" * 6 + "😀"]


def test_python_escpos_chinese_text_needs_a_chinese_printer() -> None:
    data = escpos_bytes(lambda p: (p.text("签购单 商户名称\n"), p.cut()))
    assert FS + b"&" not in data  # python-escpos writes raw GB18030
    assert only_receipt(parse(data, chinese_mode=True)).text == "签购单 商户名称"
    assert only_receipt(parse(data)).text != "签购单 商户名称"  # an Epson prints CP437


def test_invalid_gb18030() -> None:
    roll = parse(FS + b"&" + b"\x81\n" + b"\xff\n")
    assert roll.receipts[0].lines == ["\ufffd", "\ufffd"]
    assert [w.offset for w in roll.warnings] == [2, 4]


# -- printer conditions -------------------------------------------------------------------


def test_status_requests_are_answered_from_the_state() -> None:
    state = PrinterState()
    interpreter = EscPosInterpreter(state=state)
    requests = b"".join(DLE + b"\x04" + bytes((n,)) for n in (1, 2, 3, 4)) + GS + b"r1" + GS \
        + b"r2"
    assert interpreter.feed(requests) == bytes((0x12, 0x12, 0x12, 0x12, 0x00, 0x00))
    state.paper, state.cover_open, state.drawer_pin_high = "near-end", True, True
    assert interpreter.feed(requests) == bytes((0x1E, 0x16, 0x12, 0x1E, 0x03, 0x01))
    roll = interpreter.finish()
    assert [reply.request for reply in roll.replies[:6]] == [
        "DLE EOT 1", "DLE EOT 2", "DLE EOT 3", "DLE EOT 4", "GS r 49", "GS r 50"]


def test_paper_out_prints_nothing_but_counts_the_bytes() -> None:
    data = escpos_bytes(lambda p: (p.text("SALE\n"), p.qr("q", native=True), p.cut()))
    roll = parse(data, state=PrinterState(paper="out"))
    assert roll.receipts == ()
    assert roll.total_bytes == len(data)
    assert roll.warnings == ((0, "paper out"),)


def test_running_out_of_paper_mid_receipt_truncates_it() -> None:
    state = PrinterState()
    interpreter = EscPosInterpreter(state=state)
    interpreter.feed(b"printed\n")
    state.paper = "out"
    interpreter.feed(b"lost\n" + CUT)
    state.paper = "ok"
    interpreter.feed(b"next\n" + CUT)
    first, second = interpreter.finish().receipts
    assert (first.text, first.truncated, first.end_offset) == ("printed", True, 8)
    assert (second.text, second.truncated) == ("next", False)


def test_cover_open_drops_content_but_keeps_the_receipt() -> None:
    state = PrinterState()
    interpreter = EscPosInterpreter(state=state)
    interpreter.feed(b"top\n")
    state.cover_open = True
    interpreter.feed(b"missing\n" + ESC + b"E\x01")
    state.cover_open = False
    interpreter.feed(b"bottom\n" + CUT)
    roll = interpreter.finish()
    receipt = only_receipt(roll)
    assert receipt.text == "top\nbottom"
    assert not receipt.truncated
    assert text_lines(receipt)[1].style.bold  # modes still followed the host
    assert roll.warnings == ((4, "cover open"),)


def test_power_loss_mid_receipt() -> None:
    state = PrinterState()
    interpreter = EscPosInterpreter(state=state)
    interpreter.feed(ESC + b"E\x01" + b"half a\nreceipt")
    state.power_off()
    interpreter.feed(b"dropped\n" + CUT)
    state.power_on()
    interpreter.feed(b"after\n" + CUT)
    roll = interpreter.finish()
    first, second = roll.receipts
    assert (first.text, first.truncated, first.end_offset) == ("half a", True, 17)
    assert (second.text, second.truncated, second.start_offset) == ("after", False, 17)
    assert not text_lines(second)[0].style.bold  # power-on modes
    assert roll.dropped_bytes == 11
    assert roll.warnings == ((17, "power lost"), (17, "printer unpowered: bytes dropped"))


def test_a_power_cycle_between_feeds_is_noticed() -> None:
    state = PrinterState()
    interpreter = EscPosInterpreter(state=state)
    interpreter.feed(b"cut short\n")
    state.power_off()
    state.power_on()
    interpreter.feed(b"fresh\n" + CUT)
    assert [r.truncated for r in interpreter.finish().receipts] == [True, False]


# -- output model -------------------------------------------------------------------------


def test_to_dict_is_json_and_deterministic() -> None:
    data = full_featured_receipt()
    first = json.dumps(parse(data).to_dict())
    assert first == json.dumps(parse(data).to_dict())
    decoded = json.loads(first)
    kinds = {e["kind"] for r in decoded["receipts"] for e in r["elements"]}
    assert kinds == {"text", "barcode", "qr", "image", "feed"}


def test_elements_are_immutable() -> None:
    line = parse(b"x\n").receipts[0].elements[0]
    assert isinstance(line, TextLine)
    with pytest.raises(AttributeError):
        line.text = "y"  # type: ignore[misc]
    assert isinstance(parse(b"\x1d(k\x04\x001P0a\x1d(k\x03\x001Q0").receipts[0].elements[0],
                      QRCode)
    assert isinstance(parse(b"\x1dk\x49\x02{A").receipts[0].elements[0], Barcode)
