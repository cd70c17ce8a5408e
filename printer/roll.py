"""What came out on paper: a :class:`Roll` of :class:`Receipt` s made of elements.

Pure data, no I/O. The :class:`~printer.interpreter.EscPosInterpreter` builds it from the
bytes a printer received; reconciliation and tests read it. Everything is immutable and
``to_dict()`` gives JSON-serialisable, deterministic data (same bytes, same dict).

============  ==================================================================  =========
element       fields                                                              from
============  ==================================================================  =========
TextLine      text, align, runs of (text, Style), wrapped, offset                 text, LF
Barcode       symbology, data, function, height, module_width, hri, hri_font      ``GS k``
QRCode        data, size, ec, model, align                                        ``GS ( k``
Code2D        symbology (pdf417, maxicode, ...), data, align                      ``GS ( k``
Image         width, height, rows (1-bit, MSB = left, 1 = ink), source, scale     ``GS v 0``,
                                                                                  ``ESC *``,
                                                                                  ``GS ( L``
Logo          key of an image stored in the printer (NV or downloaded graphics)   ``FS p``
Feed          lines, dots (paper advanced without printing)                       ``ESC d/J``
============  ==================================================================  =========

Every element carries ``offset``: the absolute byte offset, in the stream the printer
received, of the command (or first character) that produced it.

A receipt is the paper between two cuts. ``Receipt.text`` is its plain text: the text
lines joined by ``"\\n"``, without trailing whitespace, and without the blank lines at the
top and bottom (those are paper, not text). ``truncated`` means the paper was never cut
(the stream ended, or the printer lost power or paper, mid-receipt).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

__all__ = [
    "DEFAULT_STYLE",
    "Barcode",
    "Buzz",
    "Code2D",
    "DrawerPulse",
    "Element",
    "Feed",
    "Image",
    "Logo",
    "QRCode",
    "Receipt",
    "Roll",
    "RollWarning",
    "StatusReply",
    "Style",
    "TextLine",
    "TextRun",
]


class RollWarning(NamedTuple):
    """Something the printer received that it could not print as intended.

    A named tuple so that ``warning == (offset, reason)`` reads naturally in tests.
    """

    offset: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Style:
    """The character style in effect when text was printed."""

    bold: bool = False
    underline: int = 0  # dots: 0, 1 or 2
    double_strike: bool = False
    width: int = 1  # multiplier 1..8
    height: int = 1  # multiplier 1..8
    invert: bool = False  # white on black
    font: int = 0  # 0 = font A, 1 = font B, ...
    upside_down: bool = False
    rotated: bool = False  # 90 degrees clockwise
    color: int = 0  # 0 = first colour (black), 1 = second colour (red)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bold": self.bold,
            "underline": self.underline,
            "double_strike": self.double_strike,
            "width": self.width,
            "height": self.height,
            "invert": self.invert,
            "font": self.font,
            "upside_down": self.upside_down,
            "rotated": self.rotated,
            "color": self.color,
        }


DEFAULT_STYLE = Style()


class TextRun(NamedTuple):
    """Consecutive characters of one line printed in one style."""

    text: str
    style: Style


@dataclass(frozen=True, slots=True)
class TextLine:
    """One printed line of text (ended by LF, a feed command or the print-width wrap)."""

    kind: ClassVar[str] = "text"
    offset: int
    text: str
    align: str = "left"  # "left" | "center" | "right"
    runs: tuple[TextRun, ...] = ()
    wrapped: bool = False  # ended by the print width, not by a line feed

    @property
    def style(self) -> Style:
        """The style of the first run (a line printed in one style has one run)."""
        return self.runs[0].style if self.runs else DEFAULT_STYLE

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "offset": self.offset,
            "text": self.text,
            "align": self.align,
            "wrapped": self.wrapped,
            "runs": [{"text": run.text, "style": run.style.to_dict()} for run in self.runs],
        }


def _data_dict(data: bytes) -> dict[str, str]:
    # Symbol data is bytes on the wire; show it as text and keep the exact bytes as hex.
    return {"data": data.decode("utf-8", "replace"), "data_hex": data.hex()}


@dataclass(frozen=True, slots=True)
class Barcode:
    """A one-dimensional barcode printed by the printer (``GS k``)."""

    kind: ClassVar[str] = "barcode"
    offset: int
    symbology: str  # python-escpos names: "EAN13", "CODE128", ...
    data: bytes
    function: str = "B"  # "A": NUL-terminated data, "B": length-prefixed data
    height: int = 162  # dots
    module_width: int = 3  # dots
    hri: str = "none"  # human readable interpretation: none | above | below | both
    hri_font: int = 0
    align: str = "left"

    @property
    def text(self) -> str:
        return self.data.decode("ascii", "replace")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "offset": self.offset,
            "symbology": self.symbology,
            **_data_dict(self.data),
            "function": self.function,
            "height": self.height,
            "module_width": self.module_width,
            "hri": self.hri,
            "hri_font": self.hri_font,
            "align": self.align,
        }


@dataclass(frozen=True, slots=True)
class QRCode:
    """A QR code rendered by the printer (``GS ( k``, cn = 49)."""

    kind: ClassVar[str] = "qr"
    offset: int
    data: bytes
    size: int = 3  # module size in dots, 1..16
    ec: str = "L"  # error correction: L | M | Q | H
    model: str = "2"  # "1" | "2" | "micro"
    align: str = "left"

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "offset": self.offset,
            **_data_dict(self.data),
            "size": self.size,
            "ec": self.ec,
            "model": self.model,
            "align": self.align,
        }


@dataclass(frozen=True, slots=True)
class Code2D:
    """Another two-dimensional symbol rendered by the printer (PDF417, MaxiCode ...)."""

    kind: ClassVar[str] = "code2d"
    offset: int
    symbology: str
    data: bytes
    align: str = "left"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "offset": self.offset,
            "symbology": self.symbology,
            **_data_dict(self.data),
            "align": self.align,
        }


@dataclass(frozen=True, slots=True)
class Image:
    """A 1-bit image: ``rows`` of ``ceil(width / 8)`` bytes, MSB first, 1 = ink."""

    kind: ClassVar[str] = "image"
    offset: int
    width: int  # dots
    height: int  # dots (rows)
    rows: tuple[bytes, ...] = ()
    source: str = "raster"  # raster (GS v 0) | column (ESC *) | graphics (GS ( L) | downloaded
    scale_x: int = 1  # 2 when printed double width (low density)
    scale_y: int = 1
    align: str = "left"

    def pixel(self, x: int, y: int) -> bool:
        """True when the dot at column ``x``, row ``y`` is inked."""
        if not (0 <= x < self.width and 0 <= y < self.height):
            return False
        return bool(self.rows[y][x >> 3] & (0x80 >> (x & 7)))

    @property
    def ink(self) -> int:
        """Number of inked dots."""
        return sum(int.from_bytes(row, "big").bit_count() for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "offset": self.offset,
            "width": self.width,
            "height": self.height,
            "source": self.source,
            "scale_x": self.scale_x,
            "scale_y": self.scale_y,
            "align": self.align,
            "rows": [row.hex() for row in self.rows],
        }


@dataclass(frozen=True, slots=True)
class Logo:
    """An image stored in the printer and printed by reference (NV or downloaded)."""

    kind: ClassVar[str] = "logo"
    offset: int
    key: str  # "nv:1" for FS p 1, "nv:AB" for GS ( L key codes, "downloaded" for GS /

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "offset": self.offset, "key": self.key}


@dataclass(frozen=True, slots=True)
class Feed:
    """Paper advanced without printing: ``lines`` line feeds plus ``dots`` motion units."""

    kind: ClassVar[str] = "feed"
    offset: int
    lines: int = 0
    dots: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "offset": self.offset, "lines": self.lines, "dots": self.dots}


Element = TextLine | Barcode | QRCode | Code2D | Image | Logo | Feed

_CONTENT = (Barcode, QRCode, Code2D, Image, Logo)


@dataclass(frozen=True, slots=True)
class Receipt:
    """The paper between two cuts (or after the last cut, when ``truncated``)."""

    elements: tuple[Element, ...]
    start_offset: int  # first byte after the previous cut (or power-on, or stream start)
    end_offset: int  # one past the cut command (or where the paper stopped)
    cut: str | None = None  # "full" | "partial" | None
    truncated: bool = False
    warnings: tuple[RollWarning, ...] = ()

    @property
    def lines(self) -> list[str]:
        """Every text line, without trailing whitespace (blank lines included)."""
        return [e.text.rstrip() for e in self.elements if isinstance(e, TextLine)]

    @property
    def text(self) -> str:
        """The plain text: lines joined by newlines, blank lines at both ends dropped."""
        return "\n".join(self.lines).strip("\n")

    @property
    def is_blank(self) -> bool:
        """No text, barcode, QR code or image: only feeds and the cut (a blank slip)."""
        for element in self.elements:
            if isinstance(element, TextLine):
                if element.text.strip():
                    return False
            elif isinstance(element, _CONTENT):
                return False
        return True

    def to_png(self, path: str | os.PathLike[str] | None = None, *,
               width_dots: int = 576) -> Any:
        """This receipt drawn by :func:`printer.render.receipt_to_png` (written when
        ``path`` is given): 576 dots for 80 mm paper, 384 for 58 mm."""
        from printer.render import receipt_to_png

        return receipt_to_png(self, path, width_dots=width_dots)

    @property
    def barcodes(self) -> list[Barcode]:
        return [e for e in self.elements if isinstance(e, Barcode)]

    @property
    def qr_codes(self) -> list[QRCode]:
        return [e for e in self.elements if isinstance(e, QRCode)]

    @property
    def images(self) -> list[Image]:
        return [e for e in self.elements if isinstance(e, Image)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_offset": self.start_offset,
            "end_offset": self.end_offset,
            "cut": self.cut,
            "truncated": self.truncated,
            "blank": self.is_blank,
            "text": self.text,
            "elements": [element.to_dict() for element in self.elements],
            "warnings": [warning.to_dict() for warning in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class DrawerPulse:
    """A cash-drawer kick: ``pin`` 2 or 5, pulse on/off times in milliseconds."""

    offset: int
    pin: int
    on_ms: int
    off_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "pin": self.pin, "on_ms": self.on_ms, "off_ms": self.off_ms}


@dataclass(frozen=True, slots=True)
class Buzz:
    """The buzzer sounded ``times`` times (``duration`` in the command's own units)."""

    offset: int
    times: int = 1
    duration: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "times": self.times, "duration": self.duration}


@dataclass(frozen=True, slots=True)
class StatusReply:
    """Bytes the printer sent back to the host, and the request that caused them."""

    offset: int
    request: str  # "DLE EOT 4", "GS r 1" ...
    data: bytes

    def to_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "request": self.request, "data_hex": self.data.hex()}


@dataclass(frozen=True, slots=True)
class Roll:
    """Everything a printer did with the bytes it received."""

    receipts: tuple[Receipt, ...] = ()
    warnings: tuple[RollWarning, ...] = ()
    drawer_pulses: tuple[DrawerPulse, ...] = ()
    buzzes: tuple[Buzz, ...] = ()
    replies: tuple[StatusReply, ...] = ()
    total_bytes: int = 0  # bytes received, including the dropped ones
    dropped_bytes: int = 0  # bytes that arrived while the printer had no power
    suppressed_warnings: int = 0  # warnings beyond the interpreter's cap, only counted

    @property
    def buzzer_count(self) -> int:
        """How many buzzer commands sounded."""
        return len(self.buzzes)

    @property
    def text(self) -> str:
        """The text of every receipt, separated by a blank line (handy in assertions)."""
        return "\n\n".join(receipt.text for receipt in self.receipts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_bytes": self.total_bytes,
            "dropped_bytes": self.dropped_bytes,
            "suppressed_warnings": self.suppressed_warnings,
            "receipts": [receipt.to_dict() for receipt in self.receipts],
            "warnings": [warning.to_dict() for warning in self.warnings],
            "drawer_pulses": [pulse.to_dict() for pulse in self.drawer_pulses],
            "buzzes": [buzz.to_dict() for buzz in self.buzzes],
            "replies": [reply.to_dict() for reply in self.replies],
        }
