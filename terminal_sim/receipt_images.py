"""Receipts as pictures: a :class:`~printer.roll.Receipt` drawn the way a thermal printer
puts it on paper, as PNG bytes or a ``data:`` URI (for self-contained HTML).

The drawing follows the printer, not the terminal's intent: it uses the elements the
ESC/POS interpreter read from the bytes the printer received. Geometry is the Epson
one at 203 dpi: font A is a 12 x 24 dot cell (font B 9 x 17), a line advances 30 dots,
and the paper is ``columns`` x 12 dots wide (48 columns: an 80 mm roll, 576 dots).
Bold is drawn as the printer does it, by striking each dot twice one dot apart; double
width and height scale the glyph cell. A QR code is drawn with ``qrcode`` (a
dependency of python-escpos), a barcode with ``python-barcode`` when it is installed;
otherwise, and for logos and other 2D symbols, a labelled box says what was printed.
A receipt cut off mid-print gets a torn lower edge.

The glyphs come from the first monospace TrueType font found (DejaVu Sans Mono,
Liberation Mono, ...), else Pillow's built-in font; every character is placed in its
own cell, so columns line up whatever font is used. The same receipt and fonts give the
same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from PIL import Image as PILImage
from PIL import ImageChops, ImageDraw, ImageFont

from printer.roll import Barcode, Code2D, Feed, Logo, QRCode, Receipt, Style, TextLine
from printer.roll import Image as RollImage

__all__ = ["ReceiptArt", "receipt_data_uri", "receipt_png", "text_receipt"]

#: Dots per font cell: font A, font B (index = ``Style.font``; other fonts use B).
_CELLS = ((12, 24), (9, 17))
LINE_DOTS = 30  # ESC 2 default line spacing: 1/6 inch at 180 dpi, close to 203 dpi dots
MARGIN = 16  # white paper above the first and below the last element
SIDE = 24  # paper either side of the printable width (80 mm paper, 72 mm printed)
TEAR = 10  # height of the zigzag of a torn edge

_FONT_FILES = (
    "DejaVuSansMono.ttf",
    "LiberationMono-Regular.ttf",
    "NotoSansMono-Regular.ttf",
    "FreeMono.ttf",
    "Courier New.ttf",
)

_THRESHOLD = [255 if v >= 128 else 0 for v in range(256)]
_lock = threading.Lock()  # the glyph and picture caches are shared by studio threads


@lru_cache(maxsize=4)
def _font(cell_height: int) -> Any:
    """The first monospace TrueType font found, sized to fill a cell; Pillow's own last."""
    size = round(cell_height * 0.84)
    for name in _FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


@lru_cache(maxsize=8192)
def _glyph(char: str, font_index: int) -> PILImage.Image:
    """One character as an ink mask ('L' mode) filling exactly one font cell."""
    width, height = _CELLS[min(font_index, 1)]
    cells = 2 if _is_wide(char) else 1
    mask = PILImage.new("L", (width * cells, height), 0)
    if char.strip():
        font = _font(height)
        draw = ImageDraw.Draw(mask)
        left, _top, right, _bottom = draw.textbbox((0, 0), char, font=font)
        # centre horizontally in the cell, sit on a common baseline vertically
        x = (width * cells - (right - left)) / 2 - left
        ascent, _descent = font.getmetrics() if hasattr(font, "getmetrics") else (height, 0)
        y = (height - ascent) / 2 + 1
        draw.text((x, y), char, font=font, fill=255)
    return mask


def _is_wide(char: str) -> bool:
    # CJK printed in double-byte mode takes two columns on the printer
    return len(char) == 1 and ord(char) >= 0x1100 and (
        0x1100 <= ord(char) <= 0x115F or 0x2E80 <= ord(char) <= 0xA4CF
        or 0xAC00 <= ord(char) <= 0xD7A3 or 0xF900 <= ord(char) <= 0xFAFF
        or 0xFE30 <= ord(char) <= 0xFE4F or 0xFF00 <= ord(char) <= 0xFF60
        or 0xFFE0 <= ord(char) <= 0xFFE6)


@dataclass(frozen=True, slots=True)
class _Block:
    """Something placed on the paper: a picture of ink and how much paper it takes."""

    ink: PILImage.Image | None  # 'L' mask, 255 = ink; None = only paper advance
    height: int
    align: str = "left"


class ReceiptArt:
    """Draws receipts on paper ``columns`` font-A characters wide."""

    def __init__(self, columns: int = 48) -> None:
        self.columns = columns
        self.width = columns * _CELLS[0][0]
        self._cache: dict[str, bytes] = {}

    # -- public API -------------------------------------------------------------------------

    def png(self, receipt: Receipt) -> bytes:
        """The receipt as PNG bytes (1 bit per pixel: ink or paper)."""
        key = self._key(receipt)
        with _lock:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            data = self._draw(receipt)
            if len(self._cache) < 4096:
                self._cache[key] = data
            return data

    def data_uri(self, receipt: Receipt) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png(receipt)).decode("ascii")

    # -- drawing ----------------------------------------------------------------------------

    @staticmethod
    def _key(receipt: Receipt) -> str:
        # identical paper (blank slips, copies) is drawn once
        digest = hashlib.sha256(repr((receipt.elements, receipt.truncated,
                                      receipt.cut)).encode("utf-8"))
        return digest.hexdigest()

    def _draw(self, receipt: Receipt) -> bytes:
        blocks = list(self._blocks(receipt.elements))
        body = sum(block.height for block in blocks)
        tail = TEAR if receipt.truncated else 0
        height = MARGIN + body + MARGIN + tail
        paper = PILImage.new("L", (self.width + 2 * SIDE, height), 255)
        y = MARGIN
        for block in blocks:
            if block.ink is not None:
                x = {"center": (self.width - block.ink.width) // 2,
                     "right": self.width - block.ink.width}.get(block.align, 0)
                paper.paste(0, (SIDE + max(0, x), y), block.ink)
            y += block.height
        if receipt.truncated:
            _tear(paper, height - tail)
        out = io.BytesIO()
        # thermal paper has no grey: threshold, then store one bit per dot
        paper.point(_THRESHOLD).convert("1", dither=PILImage.Dither.NONE).save(
            out, "PNG", compress_level=3)
        return out.getvalue()

    def _blocks(self, elements: Iterable[Any]) -> Iterable[_Block]:
        for element in elements:
            if isinstance(element, TextLine):
                yield self._text(element)
            elif isinstance(element, Feed):
                yield _Block(None, element.lines * LINE_DOTS + element.dots)
            elif isinstance(element, QRCode):
                yield self._qr(element)
            elif isinstance(element, RollImage):
                yield self._image(element)
            elif isinstance(element, Barcode):
                yield self._barcode(element)
            elif isinstance(element, Code2D):
                yield self._label(f"[{element.symbology} symbol]", element.align)
            elif isinstance(element, Logo):
                yield self._label(f"[logo {element.key}]", "center")

    def _text(self, line: TextLine) -> _Block:
        runs = line.runs or ()
        if not runs:
            return _Block(None, LINE_DOTS)
        pieces = [self._run(run.text, run.style) for run in runs]
        width = min(self.width, sum(p.width for p in pieces))
        tallest = max(p.height for p in pieces)
        if width <= 0:
            return _Block(None, max(LINE_DOTS, tallest + LINE_DOTS - 24))
        ink = PILImage.new("L", (width, tallest), 0)
        x = 0
        for piece in pieces:  # runs share the baseline: the bottom of the tallest cell
            ink.paste(piece, (x, tallest - piece.height))
            x += piece.width
        return _Block(ink, tallest + LINE_DOTS - _CELLS[0][1], line.align)

    def _run(self, text: str, style: Style) -> PILImage.Image:
        return _run_ink(text, style)

    def _qr(self, element: QRCode) -> _Block:
        try:
            import qrcode
            import qrcode.constants
        except ImportError:  # python-escpos depends on qrcode; be graceful all the same
            return self._label(f"[QR {element.text}]", element.align)
        levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
                  "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
        # any mask gives a valid symbol of the same data; a fixed one saves ~5 ms a code
        code = qrcode.QRCode(error_correction=levels.get(element.ec, levels["L"]),
                             box_size=max(1, element.size), border=0, mask_pattern=0)
        code.add_data(element.data)
        code.make(fit=True)
        matrix = code.get_matrix()
        side = len(matrix) * code.box_size
        ink = PILImage.new("L", (side, side), 0)
        draw = ImageDraw.Draw(ink)
        for row, cells in enumerate(matrix):
            for col, dark in enumerate(cells):
                if dark:
                    x, y = col * code.box_size, row * code.box_size
                    draw.rectangle((x, y, x + code.box_size - 1, y + code.box_size - 1),
                                   fill=255)
        return _Block(_fit(ink, self.width), side + 6, element.align)

    def _image(self, element: RollImage) -> _Block:
        ink = PILImage.new("L", (max(1, element.width), max(1, element.height)), 0)
        pixels = ink.load()
        if pixels is not None:
            for y in range(element.height):
                for x in range(element.width):
                    if element.pixel(x, y):
                        pixels[x, y] = 255
        if element.scale_x > 1 or element.scale_y > 1:
            ink = ink.resize((ink.width * element.scale_x, ink.height * element.scale_y),
                             PILImage.Resampling.NEAREST)
        ink = _fit(ink, self.width)
        return _Block(ink, ink.height, element.align)

    def _barcode(self, element: Barcode) -> _Block:
        bars = _barcode_bars(element)
        if bars is None:
            return self._label(f"[{element.symbology} {element.text}]", element.align)
        module = max(1, element.module_width)
        ink = PILImage.new("L", (len(bars) * module, max(8, element.height)), 0)
        draw = ImageDraw.Draw(ink)
        for index, bar in enumerate(bars):
            if bar == "1":
                draw.rectangle((index * module, 0, (index + 1) * module - 1, ink.height - 1),
                               fill=255)
        ink = _fit(ink, self.width)
        block = _Block(ink, ink.height + 4, element.align)
        if element.hri in ("below", "both"):
            text = self._run(element.text, Style(font=element.hri_font))
            combined = PILImage.new("L", (max(ink.width, text.width), ink.height + text.height + 4))
            combined.paste(ink, ((combined.width - ink.width) // 2, 0))
            combined.paste(text, ((combined.width - text.width) // 2, ink.height + 4))
            block = _Block(_fit(combined, self.width), combined.height + 4, element.align)
        return block

    def _label(self, text: str, align: str) -> _Block:
        """A framed note for what is printed but not drawn here (logos, rare symbols)."""
        inner = self._run(text[: self.columns - 2], Style(font=1))
        ink = PILImage.new("L", (min(self.width, inner.width + 12), inner.height + 12), 0)
        ImageDraw.Draw(ink).rectangle((0, 0, ink.width - 1, ink.height - 1), outline=255)
        ink.paste(inner, (6, 6))
        return _Block(ink, ink.height + 6, align)


@lru_cache(maxsize=4096)
def _run_ink(text: str, style: Style) -> PILImage.Image:
    """A run of text in one style as an ink mask (cached: slips repeat their lines).

    Callers paste it and never change it.
    """
    cell_h = _CELLS[min(style.font, 1)][1]
    glyphs = [_glyph(char, style.font) for char in text]
    width = sum(g.width for g in glyphs)
    ink = PILImage.new("L", (max(width, 1), cell_h), 0)
    x = 0
    for glyph in glyphs:
        ink.paste(glyph, (x, 0))
        x += glyph.width
    if style.bold or style.double_strike:  # the head strikes every dot twice
        shifted = PILImage.new("L", ink.size, 0)
        shifted.paste(ink, (1, 0))
        ink = ImageChops.lighter(ink, shifted)
    if style.underline:
        ImageDraw.Draw(ink).rectangle(
            (0, cell_h - style.underline, ink.width - 1, cell_h - 1), fill=255)
    if style.width > 1 or style.height > 1:
        ink = ink.resize((ink.width * style.width, cell_h * style.height),
                         PILImage.Resampling.NEAREST)
    if style.upside_down:
        ink = ink.rotate(180)
    if style.invert:
        ink = ink.point(lambda v: 255 - v)
    return ink


def _fit(ink: PILImage.Image, width: int) -> PILImage.Image:
    if ink.width <= width:
        return ink
    return ink.crop((0, 0, width, ink.height))  # the printer drops what is past the edge


def _tear(paper: PILImage.Image, top: int) -> None:
    """A zigzag edge: the paper stopped here without a cut."""
    draw = ImageDraw.Draw(paper)
    step = TEAR
    points = []
    for x in range(0, paper.width + step, step):
        points.append((x, top + (TEAR if (x // step) % 2 else 0)))
    # everything below the zigzag is "no paper": drawn as ink-free but visibly ragged
    draw.line(points, fill=0, width=2)
    for x in range(0, paper.width, step):
        peak = top + (TEAR if (x // step) % 2 else 0)
        draw.line([(x, peak + 2), (x, paper.height)], fill=255)


def _barcode_bars(element: Barcode) -> str | None:
    """The module pattern ('1' = bar) of a 1D barcode, via python-barcode if present."""
    try:
        import barcode as pybarcode
    except ImportError:
        return None
    names = {"CODE128": "code128", "CODE39": "code39", "EAN13": "ean13", "EAN8": "ean8",
             "UPC-A": "upca", "UPCA": "upca", "ITF": "itf", "ISBN13": "isbn13"}
    name = names.get(element.symbology.upper())
    if name is None:
        return None
    data = element.text
    if name == "code128" and data[:2] in ("{A", "{B", "{C"):
        data = data[2:]  # the hardware code-set prefix is not part of the data
    try:
        code = pybarcode.get(name, data)
        built = code.build()
    except Exception:  # python-barcode rejects data a printer would also refuse
        return None
    return str(built[0]) if built else None


@lru_cache(maxsize=2)
def _default_art() -> ReceiptArt:
    return ReceiptArt()


def receipt_png(receipt: Receipt) -> bytes:
    """``receipt`` as PNG bytes on an 80 mm roll (48 columns)."""
    return _default_art().png(receipt)


def receipt_data_uri(receipt: Receipt) -> str:
    """``receipt`` as a ``data:image/png;base64,...`` URI."""
    return _default_art().data_uri(receipt)


def text_receipt(text: str, *, truncated: bool = False) -> Receipt:
    """A receipt made of plain text lines, for when only the text of the paper is known.

    Styles are not known from text alone: every line is printed in font A, left aligned.
    """
    from printer.roll import DEFAULT_STYLE, TextRun

    elements: list[Any] = []
    for offset, line in enumerate(text.splitlines()):
        elements.append(TextLine(offset, line, runs=(TextRun(line, DEFAULT_STYLE),)))
    if not elements:
        elements.append(Feed(0, lines=6))
    return Receipt(tuple(elements), 0, len(text), None if truncated else "full", truncated)
