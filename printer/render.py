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

**Long receipts.** A picture is drawn up to ``max_height`` dots of receipt
(:data:`MAX_DRAWN_DOTS`, 16,000 dots: 2 m of paper at 203 dpi, a 10 MB image); the
elements beyond are not drawn, and the picture ends in a *display cut*: a double dashed
line and a label saying how many elements were left out. The text (``.txt``) and
bytes of the receipt are complete; only the picture stops.

The drawing is in three modules: :mod:`printer.glyphs` (fonts and text masks),
:mod:`printer.symbology` (barcode and QR modules) and this one (layout on paper, PNG, HTML).

**Fonts.** Glyphs come from the X11 bitmap fonts shipped in the package
(``printer/fonts/``, read by :mod:`printer.pcf`; licences in ``printer/fonts/LICENSES.md``),
so the same receipt gives the same dots on every machine: ``12x24`` (font A), ``9x18``
(font B), ``10x20`` (characters beyond Latin-1: Greek, Cyrillic ...), ``gb24st`` /
``gb16st`` (GB 2312 Song, the Chinese printer's 24 x 24 font). Nothing is read from the
system's font folders. A double-byte character outside GB 2312 is an empty box, as on a
printer without the glyph; :func:`font_report` says which fonts are in use (golden-image
tests check it).

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageDraw

from printer.errors import PrinterConfigurationError, SymbolDataError
from printer.glyphs import CELLS, font_report, run_mask
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
from printer.symbology import barcode_modules, code128_values, qr_matrix

__all__ = [
    "MAX_DRAWN_DOTS",
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
MAX_DRAWN_DOTS = 16_000  # receipt drawn at most this tall (2 m); the rest: a display cut


_lock = threading.Lock()


# -- fonts ----------------------------------------------------------------------------------


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
        return _Piece(0, CELLS[0][1] + LINE_GAP)
    drawn = [(run_mask(run.text, run.style), 2 if run.style.color else 1) for run in runs]
    tallest = max(mask.height for mask, _ in drawn)
    placed = []
    x = 0
    for mask, ink in drawn:  # runs share the baseline: the bottom of the tallest cell
        placed.append((x, tallest - mask.height, ink, mask))
        x += mask.width
    return _Piece(x, tallest + LINE_GAP, tuple(placed), line.align)


# -- symbols ------------------------------------------------------------------------------

def _label_piece(text: str, align: str, width_dots: int) -> _Piece:
    columns = max(1, (width_dots - 12) // CELLS[1][0])
    inner = run_mask(text[:columns], Style(font=1))
    frame = PILImage.new("L", (min(width_dots, inner.width + 12), inner.height + 12), 0)
    ImageDraw.Draw(frame).rectangle((0, 0, frame.width - 1, frame.height - 1), outline=255)
    frame.paste(inner, (6, 6))
    return _Piece(frame.width, frame.height + SYMBOL_GAP, ((0, 0, 1, frame),), align)


def _barcode_piece(element: Barcode, width_dots: int) -> _Piece:
    try:
        modules, hri = barcode_modules(element.symbology, element.data)
    except (SymbolDataError, NotImplementedError):
        return _label_piece(f"[{element.symbology} {element.text}]", element.align, width_dots)
    module = max(1, element.module_width)
    height = max(1, element.height)
    row = bytes(255 if m == "1" else 0 for m in modules for _ in range(module))
    bars = PILImage.frombytes("L", (len(row), 1), row).resize((len(row), height))
    parts: list[tuple[int, PILImage.Image]] = []
    text = run_mask(hri, Style(font=0 if element.hri_font == 0 else 1)) if hri else None
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


def _qr_piece(element: QRCode, width_dots: int) -> _Piece:
    if element.model == "micro":
        return _label_piece(f"[micro QR {element.text}]", element.align, width_dots)
    try:
        matrix = qr_matrix(element.data, element.ec)
    except SymbolDataError:  # more data than a QR code holds
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


def _pieces(elements: Iterable[Element], width_dots: int,
            max_height: int | None = None) -> list[_Piece]:
    """The pieces of ``elements``, stopping before the one that would pass ``max_height``."""
    pieces: list[_Piece] = []
    for element in elements:
        if max_height is not None and pieces:
            max_height -= pieces[-1].height
            if max_height < 0:
                pieces.pop()
                break
        if isinstance(element, TextLine):
            pieces.append(_text_piece(element))
        elif isinstance(element, Feed):
            pieces.append(_Piece(0, element.lines * (CELLS[0][1] + LINE_GAP) + element.dots))
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
    if max_height is not None and pieces and pieces[-1].height > max_height:
        pieces.pop()
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


def _display_cut(receipt: Receipt, drawn: int, width_dots: int) -> _Piece:
    """What ends a picture that stops before the receipt does (see the module doc)."""
    rest = len(receipt.elements) - drawn
    with _lock:
        label = _label_piece(f"display cut: {rest} more element(s) not drawn", "center",
                             width_dots)
    rule = PILImage.new("L", (width_dots, 5), 0)
    draw = ImageDraw.Draw(rule)
    for x in range(0, width_dots, 8):
        draw.line((x, 0, x + 3, 0), fill=255)
        draw.line((x, 4, x + 3, 4), fill=255)
    return _Piece(width_dots, label.height + 9, ((0, 0, 1, rule), (0, 9, 1, label.masks[0][3])),
                  "left")


def receipt_image(receipt: Receipt, *, width_dots: int = PAPER_80MM,
                  margin: int = MARGIN, max_height: int = MAX_DRAWN_DOTS) -> PILImage.Image:
    """``receipt`` drawn on paper: ``width_dots`` printable, ``margin`` either side, at
    most ``max_height`` dots of it (the rest: a display cut, see the module doc)."""
    _check_width(width_dots)
    with _lock:
        pieces = _pieces(receipt.elements, width_dots, max_height)
    if len(pieces) < len(receipt.elements):
        pieces.append(_display_cut(receipt, len(pieces), width_dots))
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
