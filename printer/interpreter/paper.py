"""How much paper an element takes, as the interpreter counts it against a finite roll.

A roll is counted in dots of paper feed (203 dpi: 8 dots a millimetre, so an 80 m roll is
640,000 dots). The counts follow the printer's geometry where the element carries it and
are estimates where it does not:

==========  ============================================================================
element     dots of paper
==========  ============================================================================
TextLine    the line spacing in effect (``ESC 3``; 30 by default), at least the tallest
            cell (24 dots in font A, 17 in font B, times the height multiplier)
Feed        lines times the line spacing, plus its dots
Image       its height times its vertical scale
Barcode     its height, plus 26 dots for each line of HRI text
QRCode      its module size times the side of the smallest QR code holding its data
            (estimated from the data's length)
Code2D      24 dots plus one per byte of data (an estimate)
Logo        24 dots (the stored image's size is not known)
==========  ============================================================================

Every element takes at least one dot, so no sequence of commands prints for ever on a
finite roll (and the elements a receipt holds are bounded by the roll's length).
"""

from __future__ import annotations

from printer.roll import Barcode, Code2D, Element, Feed, Image, QRCode, TextLine

__all__ = ["DEFAULT_LINE_DOTS", "DOTS_PER_MM", "element_dots"]

DOTS_PER_MM = 8  # 203 dpi
DEFAULT_LINE_DOTS = 30  # 1/6 inch: the power-on line spacing
_HRI_LINES = {"none": 0, "above": 1, "below": 1, "both": 2}


def _qr_side(length: int) -> int:
    # a QR code of version v has 17 + 4v modules a side and holds ~ 17 + 73 (v - 1) bytes
    version = min(40, 1 + max(0, length - 17) // 73 + (1 if length > 17 else 0))
    return 17 + 4 * version


def element_dots(element: Element, line_dots: int | None) -> int:
    """Dots of paper ``element`` takes; ``line_dots``: the ``ESC 3`` spacing (None: 30)."""
    spacing = DEFAULT_LINE_DOTS if line_dots is None else line_dots
    if isinstance(element, TextLine):
        tallest = max((run.style.height * (17 if run.style.font else 24)
                       for run in element.runs), default=24)
        dots = max(spacing, tallest)
    elif isinstance(element, Feed):
        dots = element.lines * max(spacing, 1) + element.dots
    elif isinstance(element, Image):
        dots = element.height * element.scale_y
    elif isinstance(element, Barcode):
        dots = element.height + 26 * _HRI_LINES.get(element.hri, 0)
    elif isinstance(element, QRCode):
        dots = element.size * _qr_side(len(element.data))
    elif isinstance(element, Code2D):
        dots = 24 + len(element.data)
    else:  # Logo
        dots = 24
    return max(1, dots)
