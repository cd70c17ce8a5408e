"""printer.render: receipts as PNG and HTML, pixel-exact against golden images.

Regenerate the golden images (after a deliberate change of the drawing) with::

    TERMINAL_SIM_REGEN_GOLDEN=1 python -m pytest tests/printer/test_render.py -k golden

They are drawn with the bitmap fonts shipped in ``printer/fonts`` (nothing from the
system's font folders: a test below renders Latin, Greek, Cyrillic and Chinese receipts with
every file outside the package hidden), so they hold on every machine.
"""

from __future__ import annotations

import builtins
import datetime as dt
import errno
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from PIL import ImageChops, ImageDraw

from printer import glyphs
from printer.errors import PrinterConfigurationError
from printer.interpreter import parse
from printer.render import (
    PAPER_58MM,
    PAPER_80MM,
    barcode_modules,
    code128_values,
    font_report,
    png_bytes,
    qr_matrix,
    receipt_image,
    receipt_png_bytes,
    receipt_to_html,
    receipt_to_png,
    roll_to_html,
    roll_to_png,
)
from printer.roll import Receipt, Style, TextLine, TextRun
from printer.virtual import VirtualPrinter
from terminal_sim.core.slips import Slip
from terminal_sim.receipts.layout import render_job
from terminal_sim.receipts.layout_zh import render_job_zh

GOLDEN = Path(__file__).parent / "golden"
_GOLDEN_BYTES = {path.name: path.read_bytes() for path in GOLDEN.glob("*.png")}
REGEN = os.environ.get("TERMINAL_SIM_REGEN_GOLDEN") == "1"


def _slip(**changes: object) -> Slip:
    fields: dict[str, object] = dict(
        kind="sale", outcome="APPROVED", merchant_name="CORNER CAFE",
        merchant_id="M00000000000001", terminal_id="T0000001",
        printed_at=dt.datetime(2026, 1, 5, 8, 5, 0), amount_minor=1250, currency="EUR",
        masked_pan="************1111", scheme="VISA", stan="000123", rrn="600508000123",
        approval_code="A1B2C3", response_code="00")
    fields.update(changes)
    return Slip(**fields)  # type: ignore[arg-type]


def _receipt(data: bytes, columns: int) -> Receipt:
    roll = parse(data, strict=True, columns=columns)
    assert len(roll.receipts) == 1
    return roll.receipts[0]


def _styles_receipt() -> Receipt:
    p = VirtualPrinter(columns=48)
    p.set(align="center", double_width=True, double_height=True)
    p.text("DOUBLE\n")
    p.set(normal_textsize=True, invert=True)
    p.text(" INVERTED \n")
    p.set(invert=False, underline=2, align="left")
    p.text("underlined 2 dots\n")
    p.set(underline=0, font="b")
    p.text("font B: Grüße 0123456789\n")
    p.set(font="a", align="right", bold=True)
    p.text("right, bold\n")
    p.set(align="center", bold=False)
    p.barcode("{BTSIM-42", "CODE128", function_type="B", pos="BELOW", height=60, width=2)
    p.barcode("4006381333931", "EAN13", pos="BELOW", height=60, width=2)
    picture = PILImage.new("1", (64, 32), 1)
    ImageDraw.Draw(picture).ellipse((4, 2, 60, 30), fill=0)
    p.image(picture, center=False)
    p.text("end\n")
    return p.receipts[0]  # no cut: the torn edge


def _golden_bytes(name: str) -> bytes:
    """A golden image as read at collection (a test hiding the file system reads it)."""
    return _GOLDEN_BYTES[name]


def _pixels(image: PILImage.Image) -> PILImage.Image:
    return image.convert("RGB")


def _compare_golden(name: str, image: PILImage.Image) -> None:
    assert font_report()["complete"] == ["yes"], f"the package's fonts are missing: {font_report()}"
    path = GOLDEN / name
    if REGEN:
        # a regenerated image compared with itself would always pass: say what changed
        # against the previous golden instead, and skip
        previous = _pixels(PILImage.open(path)) if path.exists() else None
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(png_bytes(image))
        if previous is None:
            change = "new"
        elif previous.size != image.size:
            change = f"size {previous.size} -> {image.size}"
        else:
            box = ImageChops.difference(previous, _pixels(image)).getbbox()
            change = "unchanged" if box is None else f"changed in box {box}"
        pytest.skip(f"regenerated {name}: {change}")
    assert path.exists(), f"no golden image {path}: run with TERMINAL_SIM_REGEN_GOLDEN=1"
    expected = PILImage.open(path)
    assert expected.size == image.size
    difference = ImageChops.difference(_pixels(expected), _pixels(image)).getbbox()
    assert difference is None, f"{name} differs from the golden image in box {difference}"


# -- golden images ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "columns", "width"), [
    ("en-slip-80mm.png", 48, PAPER_80MM),
    ("en-slip-58mm.png", 32, PAPER_58MM),
])
def test_golden_english_slip(name: str, columns: int, width: int) -> None:
    receipt = _receipt(render_job(_slip()), columns)
    _compare_golden(name, receipt_to_png(receipt, width_dots=width))


@pytest.mark.parametrize(("name", "columns", "width"), [
    ("zh-slip-80mm.png", 48, PAPER_80MM),
    ("zh-slip-58mm.png", 32, PAPER_58MM),
])
def test_golden_chinese_slip(name: str, columns: int, width: int) -> None:
    slip = _slip(merchant_name="街角咖啡", currency="CNY", masked_pan="************0005",
                 scheme="UNIONPAY")
    receipt = _receipt(render_job_zh(slip), columns)
    _compare_golden(name, receipt_to_png(receipt, width_dots=width))


def test_golden_styles_symbols_and_torn_edge() -> None:
    _compare_golden("styles-80mm.png", receipt_to_png(_styles_receipt()))


def _greek_cyrillic_receipt() -> Receipt:
    p = VirtualPrinter(columns=32)  # python-escpos picks the code pages (CP737, CP866 ...)
    p.text("Ελληνικά: Καλημέρα ΣΩΖ\nКириллица: Здравствуйте ЖЩЯ\nLatin: Grüße, ça coûte 5 €\n")
    p.set(font="b")
    p.text("Ψ Ж ß ё λ\n")
    p.cut()
    return p.receipts[0]


def test_golden_greek_and_cyrillic() -> None:
    _compare_golden("greek-cyrillic-58mm.png",
                    receipt_to_png(_greek_cyrillic_receipt(), width_dots=PAPER_58MM))


@pytest.fixture
def only_the_package_readable(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every file outside the ``printer`` package hidden (open, stat, listing fail), with the
    fonts forgotten, so they are looked up again under the guard; yields the paths asked."""
    package = os.path.dirname(os.path.realpath(glyphs.__file__))
    asked: list[str] = []

    def guard(function: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(path: Any = ".", *args: Any, **kwargs: Any) -> Any:
            if not isinstance(path, int):
                name = os.path.abspath(os.fsdecode(path))
                if not name.startswith(package + os.sep):
                    asked.append(name)
                    raise FileNotFoundError(errno.ENOENT, "hidden by the test", name)
            return function(path, *args, **kwargs)
        return guarded

    glyphs.clear_caches()
    for module, name in ((builtins, "open"), (io, "open"), (os, "open"), (os, "stat"),
                         (os, "lstat"), (os, "scandir"), (os, "listdir")):
        monkeypatch.setattr(module, name, guard(getattr(module, name)))
    yield asked
    monkeypatch.undo()
    glyphs.clear_caches()


def test_receipts_are_drawn_from_the_package_fonts_alone(
        only_the_package_readable: list[str]) -> None:
    # the receipts are read before the guard matters (parsing reads no file); drawn under it
    drawings = [
        ("en-slip-80mm.png", receipt_to_png(_receipt(render_job(_slip()), 48))),
        ("zh-slip-58mm.png", receipt_to_png(_receipt(render_job_zh(_slip(
            merchant_name="街角咖啡", currency="CNY", masked_pan="************0005",
            scheme="UNIONPAY")), 32), width_dots=PAPER_58MM)),
        ("greek-cyrillic-58mm.png", receipt_to_png(_greek_cyrillic_receipt(),
                                                   width_dots=PAPER_58MM)),
    ]
    assert font_report()["complete"] == ["yes"]
    for name, image in drawings:
        expected = _pixels(PILImage.open(io.BytesIO(_golden_bytes(name))))
        assert expected.size == image.size, name
        assert ImageChops.difference(expected, _pixels(image)).getbbox() is None, name
    assert not [p for p in only_the_package_readable if "font" in p.lower()]


# -- geometry and determinism -----------------------------------------------------------------


def test_same_receipt_same_png_bytes(tmp_path: Path) -> None:
    receipt = _receipt(render_job(_slip()), 48)
    first = receipt_png_bytes(receipt)
    assert receipt_png_bytes(receipt) == first
    image = receipt_to_png(receipt, tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes() == first
    assert image.mode == "P"
    info = PILImage.open(io.BytesIO(first)).info
    assert not {"date", "tIME", "Software"} & set(info)


@pytest.mark.parametrize("width", [PAPER_80MM, PAPER_58MM])
def test_paper_width(width: int) -> None:
    receipt = _receipt(render_job(_slip()), width // 12)
    image = receipt_image(receipt, width_dots=width, margin=0)
    assert image.width == width
    assert receipt_image(receipt, width_dots=width).width == width + 32


def test_bad_width_is_a_configuration_error() -> None:
    receipt = _receipt(render_job(_slip()), 48)
    with pytest.raises(PrinterConfigurationError, match="576 for 80 mm"):
        receipt_to_png(receipt, width_dots=7)


def _ink_box(image: PILImage.Image) -> tuple[int, int, int, int] | None:
    return image.convert("L").point(lambda v: 255 if v < 128 else 0).getbbox()


def test_alignment_moves_the_ink() -> None:
    boxes: dict[str, tuple[int, int, int, int]] = {}
    for align in ("left", "center", "right"):
        line = TextLine(0, "AB", align, (TextRun("AB", Style()),))
        box = _ink_box(receipt_image(Receipt((line,), 0, 3, "full"), margin=0))
        assert box is not None
        boxes[align] = box
    assert boxes["left"][0] < 12
    assert boxes["right"][2] > PAPER_80MM - 12
    assert abs((boxes["center"][0] + boxes["center"][2]) / 2 - PAPER_80MM / 2) <= 12


def test_double_width_and_bold_take_more_dots() -> None:
    def width_of(style: Style) -> int:
        line = TextLine(0, "HH", "left", (TextRun("HH", style),))
        box = _ink_box(receipt_image(Receipt((line,), 0, 3, "full"), margin=0))
        assert box is not None
        return box[2] - box[0]

    normal = width_of(Style())
    assert width_of(Style(width=2)) >= 2 * normal
    assert width_of(Style(bold=True)) == normal + 1


def test_chinese_characters_take_two_cells() -> None:
    receipt = _receipt(render_job_zh(_slip(currency="CNY")), 48)
    assert "金额:" in receipt.text
    line = TextLine(0, "金额", "left", (TextRun("金额", Style()),))
    box = _ink_box(receipt_image(Receipt((line,), 0, 3, "full"), margin=0))
    assert box is not None
    assert 24 < box[2] <= 48


# -- symbols -------------------------------------------------------------------------------


def test_code128_follows_the_code_set_in_the_data() -> None:
    values = code128_values(b"{BHi")
    assert values[0] == 104  # start B
    assert values[1:3] == [ord("H") - 32, ord("i") - 32]
    assert values[-1] == (104 + 1 * values[1] + 2 * values[2]) % 103
    # set C: one byte per digit pair; switching sets with {B
    assert code128_values(b"{C\x0c\x22{BA")[:5] == [105, 12, 34, 100, 33]
    with pytest.raises(ValueError, match="start with"):
        code128_values(b"HELLO")


def test_code128_matches_python_barcode_where_it_picks_the_same_set() -> None:
    import barcode

    modules, hri = barcode_modules("CODE128", b"{BHello-42")
    expected = barcode.get("code128", "Hello-42").build()[0]
    assert modules == expected
    assert hri == "Hello-42"


def test_ean13_bars_and_check_digit() -> None:
    modules, hri = barcode_modules("EAN13", b"400638133393")
    assert hri == "4006381333931"
    assert len(modules) == 95
    assert modules.startswith("101")
    assert modules.endswith("101")


def test_qr_drawn_at_the_printers_module_size_and_decodes_to_its_data() -> None:
    p = VirtualPrinter()
    p.qr("TSIM:T0000001:000123", native=True, size=5)
    p.cut()
    receipt = p.receipts[0]
    qr = receipt.qr_codes[0]
    matrix = qr_matrix(qr.data, qr.ec)
    image = receipt_image(receipt, margin=0).convert("L")
    box = image.point(lambda v: 255 if v < 128 else 0).getbbox()
    assert box is not None
    assert box[2] - box[0] == len(matrix) * 5
    # every module is a 5 x 5 block of the matrix's colour
    for row in range(len(matrix)):
        for col in range(len(matrix)):
            pixel = image.getpixel((box[0] + col * 5 + 2, box[1] + row * 5 + 2))
            assert (pixel == 0) == matrix[row][col]


def test_raster_image_is_drawn_dot_for_dot() -> None:
    picture = PILImage.new("1", (40, 16), 1)
    ImageDraw.Draw(picture).rectangle((3, 2, 30, 9), fill=0)
    p = VirtualPrinter()
    p.image(picture, center=False)
    p.cut()
    receipt = p.receipts[0]
    element = receipt.images[0]
    assert element.ink == 28 * 8
    drawn = receipt_image(receipt, margin=0).convert("L")  # the image is the first element
    for y in range(element.height):
        for x in range(element.width):
            assert (drawn.getpixel((x, y)) == 0) == element.pixel(x, y), (x, y)


def test_truncated_receipt_gets_a_torn_edge_and_a_roll_has_cut_lines(tmp_path: Path) -> None:
    p = VirtualPrinter()
    p.text("first\n")
    p.cut()
    p.text("second, never cut\n")
    receipts = p.receipts
    assert receipts[1].truncated
    roll = roll_to_png(p.roll, tmp_path / "roll.png")
    parts = [receipt_image(r) for r in receipts]
    assert roll.height == sum(i.height for i in parts) + 9
    assert (tmp_path / "roll.png").exists()
    bottom = parts[1].crop((0, parts[1].height - 10, parts[1].width, parts[1].height))
    assert _ink_box(bottom) is not None  # the zigzag


def test_virtual_printer_used_directly_renders() -> None:
    p = VirtualPrinter()
    p.text("HELLO WORLD\n")
    p.qr("https://example.invalid/r/1", native=True)
    p.cut()
    image = receipt_to_png(p.receipts[0])
    assert image.height > 100
    assert _ink_box(image) is not None


# -- HTML ---------------------------------------------------------------------------------


def test_html_fragment_is_self_contained_and_escaped() -> None:
    p = VirtualPrinter()
    p.set(bold=True, align="center")
    p.text("<Cafe & Bar>\n")
    p.set(bold=False, double_width=True, double_height=True)
    p.text("BIG\n")
    p.set(normal_textsize=True)
    p.qr("hello", native=True)
    p.barcode("{BABC", "CODE128", function_type="B")
    p.cut()
    fragment = receipt_to_html(p.receipts[0])
    assert fragment.startswith('<div class="tsim-receipt"')
    assert "&lt;Cafe &amp; Bar&gt;" in fragment
    assert "font-weight:bold" in fragment
    assert "text-align:center" in fragment
    assert fragment.count("data:image/png;base64,") == 2
    assert 'alt="QR code: hello"' in fragment
    assert "<script" not in fragment
    assert "http" not in fragment.replace("example", "")
    assert "full cut" in fragment
    assert roll_to_html(p.roll).count('class="tsim-receipt"') == 1


def test_without_the_bitmap_fonts_text_still_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    before = glyphs.font_report()["complete"]
    monkeypatch.setattr(glyphs, "font_dirs", list)
    glyphs.clear_caches()
    try:
        assert glyphs.font_report()["complete"] == ["no"]
        line = TextLine(0, "A签", "left", (TextRun("A签", Style()),))
        image = receipt_image(Receipt((line,), 0, 3, "full"), margin=0)
        box = _ink_box(image)
        assert box is not None
        assert box[2] <= 36  # a Pillow glyph, then a box two cells wide
    finally:
        monkeypatch.undo()
        glyphs.clear_caches()
    assert glyphs.font_report()["complete"] == before
