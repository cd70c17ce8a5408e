"""A :class:`~printer.roll.Receipt` as a picture (PNG) or an HTML fragment.

What is drawn is what the ESC/POS interpreter read from the bytes the printer received,
in the printer's own geometry: paper ``width_dots`` wide (576 dots: an 80 mm roll at 203
dpi, 48 columns of font A; 384 dots: 58 mm, 32 columns), font A a 12 x 24 dot cell, font B
9 x 17, double-byte (Chinese) characters two cells wide, a text line advancing its tallest
cell plus 6 dots (30 dots in font A), ``ESC d``/``ESC J`` feeds as they were given.
Render a receipt at the width it was interpreted at (``columns * 12`` dots): what goes
beyond the paper's edge is not on paper and is cut off, as on the printer.

=================  =====================================================================
element            drawn as
=================  =====================================================================
TextLine           each run in its style: bold and double-strike strike every dot twice
                   (one dot apart, as the head does), underline 1 or 2 dots, double width
                   and height scale the cell, invert prints white on black, upside-down
                   turns the run, 90-degree rotation turns each character, colour 2 is red
Barcode            the bars, ``module_width`` dots a module and ``height`` dots high, with
                   the HRI text above/below in its font. CODE128 follows the printer: the
                   data's ``{A``/``{B``/``{C`` code-set selections, ``{S`` shift, ``{1``..
                   ``{4`` FNC, ``{{`` a brace, set C one byte per digit pair; the pattern
                   table is the standard's (ISO/IEC 15417). EAN-13, EAN-8, UPC-A, CODE39,
                   ITF, CODABAR, GS1-128 and CODE128 AUTO use ``python-barcode`` (already a
                   dependency of python-escpos); UPC-E, CODE93 and GS1 DataBar are drawn as
                   a framed label
QRCode             made with ``qrcode`` from the receipt's data at its error-correction
                   level, ``size`` dots a module (the printer's module size), no quiet zone
Image              the 1-bit rows, scaled by the print density (``scale_x``, ``scale_y``)
Code2D, Logo       a framed label naming the symbol or the stored image
Feed               blank paper
=================  =====================================================================

A receipt cut off mid-print (``truncated``) ends in a torn edge; :func:`roll_to_png`
stacks receipts with a dashed cut line between them.

**Fonts.** Glyphs come from X11 bitmap fonts read by :mod:`printer.pcf`, so the same
receipt gives the same dots on every machine: ``12x24`` (font A), ``9x18`` (font B),
``10x20`` (characters beyond Latin-1), ``gb24st`` / ``gb16st`` (GB 2312 Song, the Chinese
printer's 24 x 24 font), ``jiskan24``, ``hanglm24`` (Japanese, Korean). All are in the
Debian package ``xfonts-base`` (public domain and MIT-style licences); the folders searched
are ``$TERMINAL_SIM_FONT_DIR`` (``os.pathsep``-separated), ``printer/fonts/`` and the usual
X11 font folders. Without them, Latin text falls back to Pillow's built-in bitmap font
(scaled to the cell) and other characters to an empty box; :func:`font_report` says which
fonts are in use (golden-image tests check it).

**Determinism.** The same receipt gives the same image, and the same PNG bytes with the
same zlib: :func:`png_bytes` uses fixed encoder settings and writes no metadata. Images are
palette PNGs: 0 paper, 1 black, 2 red.

The HTML fragment (:func:`receipt_to_html`) is self-contained: inline styles only, text
in a monospace block ``width_dots / 12`` characters wide, symbols and images as ``data:``
URIs drawn by this module.
"""

from __future__ import annotations

import base64
import html
import io
import os
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from PIL import ImageChops, ImageDraw, ImageOps

from printer.errors import PrinterConfigurationError
from printer.pcf import PcfFont, font_code
from printer.roll import (
    Barcode,
    Code2D,
    Element,
    Feed,
    Image,
    Logo,
    QRCode,
    Receipt,
    Roll,
    Style,
    TextLine,
)

__all__ = [
    "PAPER_58MM",
    "PAPER_80MM",
    "barcode_modules",
    "code128_values",
    "font_report",
    "png_bytes",
    "qr_matrix",
    "receipt_image",
    "receipt_png_bytes",
    "receipt_to_html",
    "receipt_to_png",
    "roll_to_html",
    "roll_to_png",
]

PAPER_80MM = 576  # dots: 48 columns of font A
PAPER_58MM = 384  # dots: 32 columns
LINE_GAP = 6  # dots between the tallest cell of a line and the next line (30 in font A)
MARGIN = 16  # paper left and right of the print area, and above the first line
TAIL = 24  # paper below the last line before the cut
TEAR = 8  # height of a torn edge's zigzag
SYMBOL_GAP = 4  # paper below a barcode, QR code or image

PALETTE = (255, 255, 255, 0, 0, 0, 200, 0, 0)  # 0 paper, 1 black, 2 red
_CELLS = {0: (12, 24, 22), 1: (9, 17, 14)}  # font: cell width, height, baseline row

_FONT_FILES = {
    "a": ("12x24",),
    "a-extra": ("10x20",),
    "b": ("9x18",),
    "wide-a": ("gb24st", "jiskan24", "hanglm24"),
    "wide-b": ("gb16st", "jiskan16", "hanglm16"),
}
_FONT_DIRS = (
    "/usr/share/fonts/X11/misc",
    "/usr/local/share/fonts/X11/misc",
    "/usr/X11R6/lib/X11/fonts/misc",
    "/opt/homebrew/share/fonts/X11/misc",
)
FONT_PACKAGE = "xfonts-base"  # the Debian package with every font above

_lock = threading.Lock()


# -- fonts ----------------------------------------------------------------------------------


def _font_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("TERMINAL_SIM_FONT_DIR", "").split(os.pathsep) if p]
    dirs.append(Path(__file__).resolve().parent / "fonts")
    dirs.extend(Path(p) for p in _FONT_DIRS)
    return dirs


@cache
def _fonts() -> dict[str, tuple[PcfFont, ...]]:
    found: dict[str, tuple[PcfFont, ...]] = {}
    dirs = _font_dirs()
    for role, names in _FONT_FILES.items():
        fonts = []
        for name in names:
            for folder in dirs:
                path = next((folder / f"{name}{ext}" for ext in (".pcf.gz", ".pcf")
                             if (folder / f"{name}{ext}").is_file()), None)
                if path is not None:
                    try:
                        fonts.append(PcfFont(path))
                    except PrinterConfigurationError:
                        continue
                    break
        found[role] = tuple(fonts)
    return found


def font_report() -> dict[str, list[str]]:
    """The font files in use for each role (``a``, ``b``, ``wide-a`` ...); empty lists mean
    the fallbacks (Pillow's built-in font, boxes). ``complete`` is ``["yes"]`` when every
    role has its first-choice font, so drawings match the golden images."""
    fonts = _fonts()
    report = {role: [str(f.path) for f in found] for role, found in fonts.items()}
    complete = all(
        len(fonts[role]) == len(names)
        and [f.path.name.split(".")[0] for f in fonts[role]] == list(names)
        for role, names in _FONT_FILES.items()
    )
    report["complete"] = ["yes" if complete else "no"]
    return report


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _bitmap(width: int, height: int, rows: Sequence[int]) -> PILImage.Image:
    row_bytes = (width + 7) // 8
    pad = row_bytes * 8 - width
    data = b"".join((row << pad).to_bytes(row_bytes, "big") for row in rows)
    return PILImage.frombytes("1", (width, height), data).convert("L")


def _place(cell: PILImage.Image, fonts: Iterable[PcfFont], char: str, baseline: int) -> bool:
    for font in fonts:
        code = font_code(char, font.charset)
        glyph = font.glyph(code) if code is not None else None
        if glyph is None or not glyph.height:
            continue
        if glyph.width:
            x = (cell.width - glyph.advance) // 2 + glyph.left
            y = baseline - font.ascent + glyph.top
            cell.paste(_bitmap(glyph.width, glyph.height, glyph.rows), (x, y))
        return True
    return False


@lru_cache(maxsize=16384)
def _cell(char: str, font: int) -> PILImage.Image:
    """One character as an ink mask ('L', 255 = ink) filling its cell (two when wide)."""
    width, height, baseline = _CELLS[0 if font == 0 else 1]
    wide = _is_wide(char)
    cell = PILImage.new("L", (width * 2 if wide else width, height), 0)
    if not char.strip():
        return cell
    fonts = _fonts()
    if wide:
        chain = fonts["wide-a" if font == 0 else "wide-b"]
    else:
        chain = fonts["a"] + fonts["a-extra"] if font == 0 else fonts["b"] + fonts["a-extra"]
    if _place(cell, chain, char, baseline):
        return cell
    if not wide and ord(char) < 0x100 and _pillow_glyph(cell, char):
        return cell
    # a character no font has: an empty box, as printers show an undefined character
    ImageDraw.Draw(cell).rectangle((1, 3, cell.width - 2, height - 3), outline=255)
    return cell


def _pillow_glyph(cell: PILImage.Image, char: str) -> bool:
    from PIL import ImageFont

    loader = getattr(ImageFont, "load_default_imagefont", None)
    font = loader() if loader is not None else ImageFont.load_default()
    small = PILImage.new("L", (6, 12), 0)
    ImageDraw.Draw(small).text((0, 0), char, font=font, fill=255)
    if small.getbbox() is None:
        return False
    cell.paste(small.resize(cell.size, PILImage.Resampling.NEAREST), (0, 0))
    return True


# -- text -----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _run_mask(text: str, style: Style) -> PILImage.Image:
    """A run of text in one style as an ink mask (callers never modify it)."""
    font = 0 if style.font == 0 else 1
    cells = [_cell(char, font) for char in text]
    if style.rotated:
        cells = [c.transpose(PILImage.Transpose.ROTATE_270).resize(
            c.size, PILImage.Resampling.NEAREST) for c in cells]
    height = _CELLS[font][1]
    mask = PILImage.new("L", (max(1, sum(c.width for c in cells)), height), 0)
    x = 0
    for c in cells:
        mask.paste(c, (x, 0))
        x += c.width
    if style.bold or style.double_strike:
        shifted = PILImage.new("L", mask.size, 0)
        shifted.paste(mask, (1, 0))
        mask = ImageChops.lighter(mask, shifted)
    if style.underline:
        ImageDraw.Draw(mask).rectangle(
            (0, height - style.underline, mask.width - 1, height - 1), fill=255)
    if style.width > 1 or style.height > 1:
        mask = mask.resize((mask.width * style.width, height * style.height),
                           PILImage.Resampling.NEAREST)
    if style.upside_down:
        mask = mask.transpose(PILImage.Transpose.ROTATE_180)
    if style.invert:
        mask = ImageOps.invert(mask)
    return mask


@dataclass(frozen=True, slots=True)
class _Piece:
    """Ink placed on the paper: masks with their ink (1 black, 2 red), and paper taken."""

    width: int
    height: int  # paper the element takes (its ink is at the top of it)
    masks: tuple[tuple[int, int, int, PILImage.Image], ...] = ()  # (x, y, ink, mask)
    align: str = "left"


def _text_piece(line: TextLine) -> _Piece:
    runs = [run for run in line.runs if run.text]
    if not runs:
        return _Piece(0, _CELLS[0][1] + LINE_GAP)
    drawn = [(_run_mask(run.text, run.style), 2 if run.style.color else 1) for run in runs]
    tallest = max(mask.height for mask, _ in drawn)
    placed = []
    x = 0
    for mask, ink in drawn:  # runs share the baseline: the bottom of the tallest cell
        placed.append((x, tallest - mask.height, ink, mask))
        x += mask.width
    return _Piece(x, tallest + LINE_GAP, tuple(placed), line.align)


# -- symbols ------------------------------------------------------------------------------

# ISO/IEC 15417 Code 128 symbol patterns, values 0..105 (bar/space widths), then STOP.
_C128_WIDTHS = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 "
    "112232 122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 "
    "311222 321122 321221 312212 322112 322211 212123 212321 232121 111323 131123 131321 "
    "112313 132113 132311 211313 231113 231311 112133 112331 132131 113123 113321 133121 "
    "313121 211331 231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 112412 122114 "
    "122411 142112 142211 241211 221114 413111 241112 134111 111242 121142 121241 114212 "
    "124112 124211 411212 421112 421211 212141 214121 412121 111143 111341 131141 114113 "
    "114311 411113 411311 113141 114131 311141 411131 211412 211214 211232 2331112"
)
_C128 = tuple(_C128_WIDTHS.split())
_C128_START = {"A": 103, "B": 104, "C": 105}
_C128_SWITCH = {"A": 101, "B": 100, "C": 99}  # value of "code A/B/C" (in sets other than it)
_C128_FNC = {  # {1..{4 in each set
    "A": {"1": 102, "2": 97, "3": 96, "4": 101},
    "B": {"1": 102, "2": 97, "3": 96, "4": 100},
    "C": {"1": 102},
}


def _widths_to_modules(widths: str) -> str:
    out = []
    for index, width in enumerate(widths):
        out.append(("1" if index % 2 == 0 else "0") * int(width))
    return "".join(out)


def _c128_value(char: int, code_set: str) -> int | None:
    if code_set == "A":
        if 32 <= char <= 95:
            return char - 32
        if 0 <= char < 32:
            return char + 64
        return None
    if 32 <= char <= 127:
        return char - 32
    return None


def code128_values(data: bytes) -> list[int]:
    """Symbol values (start, data, checksum, no stop) of printer CODE128 data.

    ``data`` is what ``GS k 73`` carries: it starts with a code-set selection
    (``{A``/``{B``/``{C``); raises ``ValueError`` for data a printer refuses.
    """
    if len(data) < 2 or data[0] != 0x7B or chr(data[1]) not in _C128_START:
        raise ValueError("CODE128 data must start with {A, {B or {C")
    code_set = chr(data[1])
    values = [_C128_START[code_set]]
    i = 2
    while i < len(data):
        byte = data[i]
        if byte == 0x7B and i + 1 < len(data) and data[i + 1] != 0x7B:
            command = chr(data[i + 1])
            i += 2
            if command in _C128_START:
                if command != code_set:
                    values.append(_C128_SWITCH[command])
                    code_set = command
            elif command == "S" and code_set in "AB" and i < len(data):
                other = "B" if code_set == "A" else "A"
                value = _c128_value(data[i], other)
                if value is None:
                    raise ValueError(f"byte 0x{data[i]:02X} after shift is not in set {other}")
                values += [98, value]
                i += 1
            elif command in _C128_FNC[code_set]:
                values.append(_C128_FNC[code_set][command])
            else:
                raise ValueError(f"unknown CODE128 command {{{command} in set {code_set}")
            continue
        if byte == 0x7B:  # "{{" is one brace
            i += 1
        if code_set == "C":
            if byte > 99:
                raise ValueError(f"set C takes values 0..99, not {byte}")
            values.append(byte)
        else:
            value = _c128_value(byte, code_set)
            if value is None:
                raise ValueError(f"byte 0x{byte:02X} is not in code set {code_set}")
            values.append(value)
        i += 1
    checksum = values[0] + sum(index * value for index, value in enumerate(values[1:], 1))
    values.append(checksum % 103)
    return values


def _code128_modules(data: bytes) -> str:
    return "".join(_widths_to_modules(_C128[v]) for v in code128_values(data)) + \
        _widths_to_modules(_C128[106])


def _code128_hri(data: bytes) -> str:
    out = []
    i = 2
    code_set = chr(data[1]) if len(data) > 1 else "B"
    while i < len(data):
        if data[i] == 0x7B and i + 1 < len(data):
            if data[i + 1] == 0x7B:
                out.append("{")
            elif chr(data[i + 1]) in _C128_START:
                code_set = chr(data[i + 1])
            i += 2
            continue
        out.append(f"{data[i]:02d}" if code_set == "C" else chr(data[i]))
        i += 1
    return "".join(ch if ch.isprintable() else " " for ch in out)


_PYBARCODE = {"EAN13": "ean13", "EAN8": "ean8", "UPC-A": "upca", "CODE39": "code39",
              "ITF": "itf", "CODABAR": "codabar", "GS1-128": "gs1_128",
              "CODE128 AUTO": "code128"}


def barcode_modules(symbology: str, data: bytes) -> tuple[str, str]:
    """The modules (``"1"`` bar, ``"0"`` space) and HRI text a printer makes of ``data``.

    Raises ``ValueError`` when the data is not valid for the symbology, and
    ``NotImplementedError`` for symbologies drawn as a label (UPC-E, CODE93, DataBar).
    """
    name = symbology.upper()
    if name == "CODE128":
        return _code128_modules(data), _code128_hri(data)
    kind = _PYBARCODE.get(name)
    if kind is None:
        raise NotImplementedError(f"{symbology} bars are not drawn")
    import barcode as pybarcode
    from barcode.errors import BarcodeError

    text = data.decode("ascii", "replace")
    options: dict[str, Any] = {}
    if kind == "ean13":
        text = text[:12]
    elif kind == "ean8":
        text = text[:7]
    elif kind == "upca":
        text = text[:11]
    elif kind == "code39":
        text = text.strip("*")
        options["add_checksum"] = False
    elif kind == "gs1_128":
        text = text.replace("(", "").replace(")", "")
    try:
        code = pybarcode.get(kind, text, options=options)
        modules = "".join(code.build())
        hri = code.get_fullcode()
    except (BarcodeError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{symbology}: {exc}") from exc
    if kind == "code39":
        hri = "*" + text + "*"
    return modules, hri


def _label_piece(text: str, align: str, width_dots: int) -> _Piece:
    columns = max(1, (width_dots - 12) // _CELLS[1][0])
    inner = _run_mask(text[:columns], Style(font=1))
    frame = PILImage.new("L", (min(width_dots, inner.width + 12), inner.height + 12), 0)
    ImageDraw.Draw(frame).rectangle((0, 0, frame.width - 1, frame.height - 1), outline=255)
    frame.paste(inner, (6, 6))
    return _Piece(frame.width, frame.height + SYMBOL_GAP, ((0, 0, 1, frame),), align)


def _barcode_piece(element: Barcode, width_dots: int) -> _Piece:
    try:
        modules, hri = barcode_modules(element.symbology, element.data)
    except (ValueError, NotImplementedError):
        return _label_piece(f"[{element.symbology} {element.text}]", element.align, width_dots)
    module = max(1, element.module_width)
    height = max(1, element.height)
    row = bytes(255 if m == "1" else 0 for m in modules for _ in range(module))
    bars = PILImage.frombytes("L", (len(row), 1), row).resize((len(row), height))
    parts: list[tuple[int, PILImage.Image]] = []
    text = _run_mask(hri, Style(font=0 if element.hri_font == 0 else 1)) if hri else None
    y = 0
    if text is not None and element.hri in ("above", "both"):
        parts.append((y, text))
        y += text.height + 2
    parts.append((y, bars))
    y += height
    if text is not None and element.hri in ("below", "both"):
        y += 2
        parts.append((y, text))
        y += text.height
    width = max(part.width for _, part in parts)
    masks = tuple(((width - part.width) // 2, top, 1, part) for top, part in parts)
    return _Piece(width, y + SYMBOL_GAP, masks, element.align)


@lru_cache(maxsize=256)
def qr_matrix(data: bytes, ec: str = "L") -> tuple[tuple[bool, ...], ...]:
    """The modules of a model 2 QR code of ``data`` (smallest version, best mask)."""
    import qrcode
    import qrcode.constants

    levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
              "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
    code = qrcode.QRCode(error_correction=levels.get(ec, levels["L"]), box_size=1, border=0)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def _qr_piece(element: QRCode, width_dots: int) -> _Piece:
    if element.model == "micro":
        return _label_piece(f"[micro QR {element.text}]", element.align, width_dots)
    try:
        matrix = qr_matrix(element.data, element.ec)
    except Exception:  # qrcode raises its own DataOverflowError, ValueError ...
        return _label_piece(f"[QR {element.text}]", element.align, width_dots)
    side = len(matrix)
    raw = bytes(255 if dark else 0 for row in matrix for dark in row)
    size = max(1, element.size)
    mask = PILImage.frombytes("L", (side, side), raw).resize(
        (side * size, side * size), PILImage.Resampling.NEAREST)
    return _Piece(mask.width, mask.height + SYMBOL_GAP, ((0, 0, 1, mask),), element.align)


def _image_mask(element: Image) -> PILImage.Image:
    row_bytes = (element.width + 7) // 8
    data = b"".join(row[:row_bytes].ljust(row_bytes, b"\0") for row in element.rows)
    mask = PILImage.frombytes("1", (max(1, element.width), max(1, element.height)),
                              data.ljust(row_bytes * max(1, element.height), b"\0"))
    mask = mask.convert("L")
    if element.scale_x > 1 or element.scale_y > 1:
        mask = mask.resize((mask.width * element.scale_x, mask.height * element.scale_y),
                           PILImage.Resampling.NEAREST)
    return mask


def _image_piece(element: Image) -> _Piece:
    mask = _image_mask(element)
    # column images (ESC *) print line by line with no gap; the LF after them advances
    return _Piece(mask.width, mask.height, ((0, 0, 1, mask),), element.align)


def _pieces(elements: Iterable[Element], width_dots: int) -> list[_Piece]:
    pieces = []
    for element in elements:
        if isinstance(element, TextLine):
            pieces.append(_text_piece(element))
        elif isinstance(element, Feed):
            pieces.append(_Piece(0, element.lines * (_CELLS[0][1] + LINE_GAP) + element.dots))
        elif isinstance(element, QRCode):
            pieces.append(_qr_piece(element, width_dots))
        elif isinstance(element, Barcode):
            pieces.append(_barcode_piece(element, width_dots))
        elif isinstance(element, Image):
            pieces.append(_image_piece(element))
        elif isinstance(element, Code2D):
            pieces.append(_label_piece(f"[{element.symbology} {element.data[:24]!r}]",
                                       element.align, width_dots))
        elif isinstance(element, Logo):
            pieces.append(_label_piece(f"[logo {element.key}]", "center", width_dots))
    return pieces


# -- paper ----------------------------------------------------------------------------------


def _check_width(width_dots: int) -> None:
    if not isinstance(width_dots, int) or not 48 <= width_dots <= 4096:
        raise PrinterConfigurationError(
            f"width_dots must be an integer from 48 to 4096 (576 for 80 mm paper, 384 for "
            f"58 mm), not {width_dots!r}")


def _new_paper(width: int, height: int) -> PILImage.Image:
    paper = PILImage.new("P", (width, height), 0)
    paper.putpalette(PALETTE)
    return paper


def receipt_image(receipt: Receipt, *, width_dots: int = PAPER_80MM,
                  margin: int = MARGIN) -> PILImage.Image:
    """``receipt`` drawn on paper: ``width_dots`` printable, ``margin`` either side."""
    _check_width(width_dots)
    with _lock:
        pieces = _pieces(receipt.elements, width_dots)
    body = sum(piece.height for piece in pieces)
    tail = TEAR + 4 if receipt.truncated else TAIL
    paper = _new_paper(width_dots + 2 * margin, margin + body + tail)
    y = margin
    for piece in pieces:
        offset = {"center": (width_dots - piece.width) // 2,
                  "right": width_dots - piece.width}.get(piece.align, 0)
        x0 = margin + max(0, offset)
        for x, top, ink, mask in piece.masks:
            visible = mask
            room = width_dots + margin - (x0 + x)
            if room <= 0:
                continue
            if mask.width > room:  # beyond the print width: not on paper
                visible = mask.crop((0, 0, room, mask.height))
            paper.paste(ink, (x0 + x, y + top), visible)
        y += piece.height
    if receipt.truncated:
        _tear(paper, paper.height - TEAR - 1)
    return paper


def _tear(paper: PILImage.Image, top: int) -> None:
    """A zigzag: the paper stopped here without a cut (everything below it is torn off)."""
    draw = ImageDraw.Draw(paper)
    step = TEAR
    points = [(x, top + (TEAR if (x // step) % 2 else 0)) for x in range(0, paper.width + step,
                                                                         step)]
    draw.line(points, fill=1, width=1)


def png_bytes(image: PILImage.Image) -> bytes:
    """``image`` as PNG with fixed settings and no metadata (same image, same bytes)."""
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def receipt_png_bytes(receipt: Receipt, *, width_dots: int = PAPER_80MM) -> bytes:
    """``receipt`` as PNG bytes."""
    return png_bytes(receipt_image(receipt, width_dots=width_dots))


def _write(image: PILImage.Image, path: str | os.PathLike[str]) -> None:
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(png_bytes(image))
    os.replace(tmp, target)


def receipt_to_png(receipt: Receipt, path: str | os.PathLike[str] | None = None, *,
                   width_dots: int = PAPER_80MM) -> PILImage.Image:
    """Draw ``receipt``; write it as PNG to ``path`` when given. Returns the image."""
    image = receipt_image(receipt, width_dots=width_dots)
    if path is not None:
        _write(image, path)
    return image


def roll_to_png(roll: Roll | Sequence[Receipt], path: str | os.PathLike[str] | None = None,
                *, width_dots: int = PAPER_80MM) -> PILImage.Image:
    """Every receipt of ``roll`` one below the other, a dashed cut line between them."""
    receipts = roll.receipts if isinstance(roll, Roll) else tuple(roll)
    images = [receipt_image(r, width_dots=width_dots) for r in receipts]
    if not images:
        images = [_new_paper(width_dots + 2 * MARGIN, MARGIN)]
    gap = 9
    height = sum(image.height for image in images) + gap * (len(images) - 1)
    paper = _new_paper(images[0].width, height)
    draw = ImageDraw.Draw(paper)
    y = 0
    for index, image in enumerate(images):
        paper.paste(image, (0, y))
        y += image.height
        if index < len(images) - 1:
            for x in range(0, paper.width, 8):
                draw.line((x, y + gap // 2, x + 3, y + gap // 2), fill=1)
            y += gap
    if path is not None:
        _write(paper, path)
    return paper


# -- HTML -----------------------------------------------------------------------------------


def _data_uri(mask: PILImage.Image, ink: int = 1) -> str:
    paper = _new_paper(mask.width, mask.height)
    paper.paste(ink, (0, 0), mask)
    return "data:image/png;base64," + base64.b64encode(png_bytes(paper)).decode("ascii")


def _run_css(style: Style, length: int) -> str:
    css = []
    if style.bold or style.double_strike:
        css.append("font-weight:bold")
    if style.underline:
        css.append(f"text-decoration:underline;text-decoration-thickness:{style.underline}px")
    if style.invert:
        css.append("background:#000;color:#fff")
    elif style.color:
        css.append("color:#c80000")
    if style.font:
        css.append("font-size:75%")
    transforms = []
    if style.width > 1 or style.height > 1:
        w, h = style.width, style.height
        css.append(f"display:inline-block;font-size:{h}em;width:{length * w / h:g}ch;"
                   "transform-origin:0 100%;vertical-align:bottom")
        if w != h:
            transforms.append(f"scaleX({w / h:g})")
    if style.upside_down:
        transforms.append("rotate(180deg)")
        if "display:inline-block" not in "".join(css):
            css.append("display:inline-block")
    if transforms:
        css.append("transform:" + " ".join(transforms))
    return ";".join(css)


def _img(mask: PILImage.Image, alt: str, align: str) -> str:
    return (f'<div style="text-align:{align};line-height:0;margin:2px 0">'
            f'<img src="{_data_uri(mask)}" alt="{html.escape(alt)}" '
            f'style="width:{mask.width / 12:g}ch;image-rendering:pixelated"></div>')


def _element_html(element: Element, width_dots: int) -> str:
    if isinstance(element, TextLine):
        if not element.text.strip():
            return '<div style="white-space:pre">\u00a0</div>'
        spans = []
        for run in element.runs:
            if not run.text:
                continue
            css = _run_css(run.style, len(run.text))
            text = html.escape(run.text)
            spans.append(f'<span style="{css}">{text}</span>' if css else text)
        return (f'<div style="white-space:pre;text-align:{element.align}">'
                f'{"".join(spans)}</div>')
    if isinstance(element, Feed):
        lines = element.lines + element.dots / 30
        return f'<div style="height:{lines * 1.25:g}em"></div>' if lines else ""
    piece = _pieces([element], width_dots)[0]
    if not piece.masks:
        return ""
    canvas = PILImage.new("L", (max(1, piece.width), max(1, piece.height - SYMBOL_GAP)), 0)
    for x, top, _ink, mask in piece.masks:
        canvas.paste(mask, (x, top), mask)
    if isinstance(element, QRCode):
        alt = f"QR code: {element.text}"
    elif isinstance(element, Barcode):
        alt = f"{element.symbology} barcode: {element.text}"
    elif isinstance(element, Image):
        alt = f"image {element.width}x{element.height} dots"
    elif isinstance(element, Logo):
        alt = f"logo {element.key}"
    else:
        alt = f"{getattr(element, 'symbology', 'symbol')} symbol"
    return _img(canvas, alt, getattr(element, "align", "left"))


def receipt_to_html(receipt: Receipt, *, width_dots: int = PAPER_80MM) -> str:
    """``receipt`` as a self-contained HTML fragment (a ``<div>``, inline styles only)."""
    _check_width(width_dots)
    columns = width_dots // 12
    with _lock:
        body = "\n".join(filter(None, (_element_html(e, width_dots) for e in receipt.elements)))
    if receipt.truncated:
        end = ('<div style="margin-top:6px;border-top:2px dotted #888;color:#888;'
               'font-size:75%">paper ends here: never cut (truncated)</div>')
    else:
        end = ('<div style="margin-top:6px;border-top:1px dashed #888;color:#888;'
               f'font-size:75%">{html.escape(receipt.cut or "")} cut</div>')
    return (
        '<div class="tsim-receipt" style="display:inline-block;background:#fff;color:#000;'
        "padding:12px 10px;border:1px solid #ccc;font-family:'DejaVu Sans Mono',"
        "'Liberation Mono','Noto Sans Mono CJK SC','WenQuanYi Zen Hei Mono',Menlo,Consolas,"
        "monospace;font-size:13px;line-height:1.25;"
        f'width:{columns}ch;overflow:hidden">\n{body}\n{end}\n</div>'
    )


def roll_to_html(roll: Roll | Sequence[Receipt], *, width_dots: int = PAPER_80MM) -> str:
    """Every receipt of ``roll`` as HTML fragments, one below the other."""
    receipts = roll.receipts if isinstance(roll, Roll) else tuple(roll)
    parts = [receipt_to_html(r, width_dots=width_dots) for r in receipts]
    return '<div class="tsim-roll" style="display:flex;flex-direction:column;gap:12px;' \
           'align-items:flex-start">\n' + "\n".join(parts) + "\n</div>"
