r"""An incremental ESC/POS interpreter: the bytes a printer received, read back as paper.

:class:`EscPosInterpreter` consumes a byte stream in chunks of any size (a command may be
split anywhere; partial commands are buffered), answers status requests from a
:class:`~printer.state.PrinterState` the way an Epson TM printer does, and builds a
:class:`~printer.roll.Roll` of :class:`~printer.roll.Receipt` s. :func:`parse` does it in
one call. Malformed input never raises in the default (lenient) mode: it becomes a
warning ``(offset, reason)`` with the absolute byte offset of the command, and the stream
goes on; ``strict=True`` raises :class:`~printer.errors.EscPosError` instead.

Supported commands (everything python-escpos 3.1 emits, plus the common Epson ones):

==========================  =================================================================
command                     effect
==========================  =================================================================
text bytes                  decoded with the selected code page (or GB18030 in FS & mode),
                            wrapped at the print width (``columns`` x 12 dots, font A = 12
                            dots, other fonts 9 dots, x width multiplier)
LF                          print the line (an empty line if nothing is buffered)
HT                          advance to the next tab stop (default every 8 characters)
CR, NUL, CAN, VT, BEL       ignored (CR: Epson's default for USB/Ethernet interfaces)
FF                          print the buffered line, if any
ESC @                       initialise: clear the line buffer, restore power-on modes
ESC E / G / - / { / V / r   bold / double-strike / underline / upside-down / 90 degree
                            rotation / colour
ESC ! n, GS ! n             print mode (font, bold, double height/width, underline); size
ESC M n                     font A, B, C ...
GS B n                      white/black reverse (invert)
ESC a n                     alignment (only at the beginning of a line, as on Epson)
ESC t n                     code page, decoded with python-escpos's tables (capabilities
                            ``python_encode`` codecs or ``data`` tables)
ESC R, ESC %, ESC &, ESC ?  international set, user-defined characters: parsed, not drawn
ESC SP n, ESC $, ESC \       character spacing, absolute / relative position (as spaces)
ESC D n.. NUL               tab stops
GS L, GS W                  left margin, print area width, in dots: they change the wrap
                            width (only at the beginning of a line); GS P (units) ignored
ESC 2, ESC 3/A/+ n          line spacing (kept in the modes; no effect on the text)
ESC d n, ESC J n            print and feed n lines / n dots (a Feed element)
ESC e n, ESC K n            print and reverse feed (the reverse motion is not modelled)
GS V m [n], ESC i, ESC m    full / partial cut (GS V m: 0, 48 full; 1, 49 partial; 65/66,
                            97/98, 103/104 with a feed); ends the receipt. Ignored, with a
                            warning, in the middle of a line, as on Epson printers.
GS h/w/H/f n                barcode height, module width, HRI position, HRI font
GS k m d.. NUL, GS k m n d  barcode, function A (m = 0..6) and B (m = 65..79)
GS ( k                      2D symbols: QR (cn 49: model, size, error correction, store,
                            print), PDF417, MaxiCode, DataBar, Aztec, DataMatrix (store and
                            print: a Code2D element)
GS v 0 m x y d..            raster bit image (python-escpos ``image()``, ``qr(native=False)``)
ESC * m n d..               column bit image; consecutive stripes merge into one Image
GS ( L / GS 8 L             graphics: store raster (fn 112) and print (fn 50); print NV
                            graphics (fn 69) and download graphics (fn 85) as Logo
GS * x y d.., GS / m        define / print a downloaded bit image
FS p n m, FS q n ..         print NV bit image (a Logo); define NV images (skipped)
ESC p m t1 t2, DLE DC4 1    cash-drawer pulse (pin 2 or 5)
ESC B, ESC ( A, DLE DC4 3   buzzer
FS &, FS .                  enter / leave double-byte mode, decoded as GB18030 (1, 2 or
                            4 bytes a character; 2 columns wide). ``chinese_mode=True``
                            makes it the power-on default, as on Chinese-market printers
                            (python-escpos writes Chinese text as raw GB18030 without FS &)
FS ! - S W C 2 ?, FS ( x    double-byte modes and definitions: parsed, not drawn
ESC =                       select the printer (bit 0 clear: ignore everything but ESC =
                            and real-time commands, as a daisy-chained display is addressed)
DLE EOT n (1..4)            real-time status: printer, offline cause, error cause, paper
GS r n (1, 2, 49, 50)       paper sensor, drawer status; ESC u / ESC v: the same, older
DLE ENQ, DLE DC4 2/7/8      real-time requests: parsed, not emulated
other known commands        GS a, GS I, GS ( x, ESC c, ESC L/S/T/W/U, GS b/|/E/T/P ...:
                            accepted and ignored; those that would answer (ASB, printer
                            ID) are recorded as warnings, since no answer is sent
==========================  =================================================================

What reaches paper follows the printer: text is printed when a line ends (LF, a feed, or
the wrap); data left in the line buffer when the stream ends is *not* on paper (it is
reported as a warning). Real-time commands are recognised only between commands, never
inside another command's data. Barcodes, 2D codes and images print the buffered line
first. While the printer is blocked (cover open, paper out, offline, error) commands still
change its modes, and status requests are answered, but nothing is printed, cut, kicked or
sounded; the first byte of each outage gets a warning naming the cause ("paper out"), and
running out of paper ends the receipt in progress, truncated. Bytes that arrive while the
printer has no power are dropped and counted; losing power ends the receipt in progress,
truncated, and restores the power-on modes.

Memory is bounded: a command declaring more than ``max_command_bytes`` (4 MiB) of data is
skipped without being buffered, with a warning; at most ``max_warnings`` warnings are kept
(the rest are counted).
"""

from __future__ import annotations

import codecs
import importlib.util
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from printer.errors import EscPosError, PrinterConfigurationError
from printer.roll import (
    Barcode,
    Buzz,
    Code2D,
    DrawerPulse,
    Element,
    Feed,
    Image,
    Logo,
    QRCode,
    Receipt,
    Roll,
    RollWarning,
    StatusReply,
    Style,
    TextLine,
    TextRun,
)
from printer.state import PrinterState

__all__ = ["MAX_COMMAND_BYTES", "CodePages", "EscPosInterpreter", "parse"]

MAX_COMMAND_BYTES = 4 * 1024 * 1024
MAX_WARNINGS = 10_000

_ESC, _GS, _FS, _DLE = 0x1B, 0x1D, 0x1C, 0x10
_EOT, _ENQ, _DC4 = 0x04, 0x05, 0x14
_PREFIXES = frozenset((_ESC, _GS, _FS, _DLE))
_CONTROL = re.compile(rb"[\x00-\x1f]")
_HIGH = re.compile(rb"[\x80-\xff]")
_DESELECTED_WAKE = re.compile(rb"[\x10\x1b]")

_FONT_A_DOTS = 12  # font A is 12 x 24 dots; the print width is columns x 12 dots
_FONT_B_DOTS = 9
_DEFAULT_TABS = tuple(range(8, 256, 8))[:32]
_ASCII = "".join(map(chr, range(128)))
_NO_TABLE = _ASCII + "\ufffd" * 128  # a code page we have no table for

_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}
_UNDERLINE = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}
_FONTS = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 48: 0, 49: 1, 50: 2, 51: 3, 52: 4, 97: 0, 98: 1}
_HRI = {0: "none", 1: "above", 2: "below", 3: "both", 48: "none", 49: "above", 50: "below",
        51: "both"}
_HRI_FONTS = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 48: 0, 49: 1, 50: 2, 51: 3, 52: 4, 97: 0, 98: 1}
_QR_MODELS = {49: "1", 50: "2", 51: "micro"}
_QR_EC = {48: "L", 49: "M", 50: "Q", 51: "H"}
_SYMBOLOGIES_2D = {48: "pdf417", 50: "maxicode", 51: "gs1-databar", 52: "composite",
                   53: "aztec", 54: "datamatrix"}
# GS V m: (cut, takes a feed amount n, the feed is paper motion before the cut)
_CUTS = {0: ("full", False, False), 48: ("full", False, False),
         1: ("partial", False, False), 49: ("partial", False, False),
         65: ("full", True, True), 66: ("partial", True, True),
         97: ("full", True, False), 98: ("partial", True, False),
         103: ("full", True, True), 104: ("partial", True, True)}
# python-escpos's names (escpos.constants.BARCODE_TYPE_A / _B); 79 is Epson's CODE128 auto.
_BARCODES_A = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF",
               6: "CODABAR"}
_BARCODES_B = {65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF",
               71: "CODABAR", 72: "CODE93", 73: "CODE128", 74: "GS1-128",
               75: "GS1 DATABAR OMNIDIRECTIONAL", 76: "GS1 DATABAR TRUNCATED",
               77: "GS1 DATABAR LIMITED", 78: "GS1 DATABAR EXPANDED", 79: "CODE128 AUTO"}
# GS ( A C D E H K M N P Q z: test print, counters, real-time enable, user setup, response,
# print control, customise, ... none changes what is printed.
_GS_PAREN_SETTINGS = frozenset(b"ACDEHKMNPQz")
_INTL_SETS = frozenset((*range(18), *range(66, 76), 82))
_STYLES: dict[tuple[Any, ...], Style] = {}
_new_tuple = tuple.__new__  # builds a TextRun without its Python-level __new__


# -- code pages ---------------------------------------------------------------------------


class CodePages:
    """``ESC t n`` to character tables, as python-escpos's capabilities define them.

    ``pages`` maps the number n to an encoding name (a profile's ``codePages``),
    ``encodings`` those names to capability entries (``python_encode`` codec name, or
    ``data``: the 128 characters of 0x80..0xFF). Tables are built on first use and shared
    by every interpreter in the process.
    """

    def __init__(
        self,
        pages: Mapping[int, str] | Mapping[str, str],
        encodings: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self._pages = {int(n): str(name) for n, name in pages.items()}
        self._encodings = encodings
        self._memo: dict[int, str | None] = {}

    def __contains__(self, n: object) -> bool:
        return n in self._pages

    def name(self, n: int) -> str | None:
        """The encoding name of page ``n``, or None when the profile has no page n."""
        return self._pages.get(n)

    def table(self, n: int) -> str | None:
        """The 256-character decoding table of page ``n``; None when none is known."""
        if n in self._memo:
            return self._memo[n]
        name = self._pages.get(n)
        table = None if name is None else _table_for(self._encodings.get(name, {}))
        self._memo[n] = table
        return table

    @classmethod
    def default(cls) -> CodePages:
        """The pages of python-escpos's default profile, read without importing escpos."""
        return _default_code_pages()


# Decoding tables by what defines them (a codec name, or the 128 characters of a data
# table), so every interpreter and profile in the process shares them.
_TABLES: dict[tuple[str, str], str | None] = {}


def _table_for(entry: Mapping[str, Any]) -> str | None:
    data = entry.get("data")
    if data is not None:
        key = ("data", "".join(data))
    else:
        key = ("codec", str(entry.get("python_encode") or entry.get("iconv") or ""))
    if key not in _TABLES:
        _TABLES[key] = _build_table(entry)
    return _TABLES[key]

# Used when python-escpos's capabilities cannot be read: the Epson standard numbering.
_FALLBACK_PAGES = {0: "CP437", 2: "CP850", 3: "CP860", 4: "CP863", 5: "CP865", 16: "CP1252",
                   17: "CP866", 18: "CP852", 19: "CP858", 39: "ISO_8859-2", 40: "ISO_8859-15"}
_FALLBACK_ENCODINGS = {
    "CP437": {"python_encode": "cp437"}, "CP850": {"python_encode": "cp850"},
    "CP860": {"python_encode": "cp860"}, "CP863": {"python_encode": "cp863"},
    "CP865": {"python_encode": "cp865"}, "CP1252": {"python_encode": "cp1252"},
    "CP866": {"python_encode": "cp866"}, "CP852": {"python_encode": "cp852"},
    "CP858": {"python_encode": "cp858"}, "ISO_8859-2": {"python_encode": "iso8859_2"},
    "ISO_8859-15": {"python_encode": "iso8859-15"},
}


def _build_table(entry: Mapping[str, Any]) -> str | None:
    # Same rule as python-escpos's Encoder._get_codepage_char_list: bytes below 0x80 are
    # ASCII, each byte 0x80..0xFF is one character of the code page.
    data = entry.get("data")
    if data is not None:
        high = "".join(data)
        return _ASCII + high if len(high) == 128 else None
    codec = entry.get("python_encode") or entry.get("iconv")
    if not codec:
        return None
    try:
        codecs.lookup(codec)
    except LookupError:
        return None
    chars = []
    for byte in range(128, 256):
        try:
            char = bytes((byte,)).decode(codec)
        except UnicodeDecodeError:
            char = "\ufffd"  # a lead byte of a multi-byte codec (CP932): not one character
        chars.append(char if len(char) == 1 else "\ufffd")
    return _ASCII + "".join(chars)


@cache
def _default_code_pages() -> CodePages:
    try:
        spec = importlib.util.find_spec("escpos")  # locates, does not import, the package
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("python-escpos is not installed")
        path = Path(next(iter(spec.submodule_search_locations))) / "capabilities.json"
        with path.open(encoding="utf-8") as handle:
            capabilities = json.load(handle)
        return CodePages(capabilities["profiles"]["default"]["codePages"],
                         capabilities["encodings"])
    except (OSError, ValueError, KeyError, TypeError, ImportError):
        return CodePages(_FALLBACK_PAGES, _FALLBACK_ENCODINGS)


# -- bit images ---------------------------------------------------------------------------


@cache
def _bit_tables() -> tuple[tuple[bytes, ...], ...]:
    # _bit_tables()[k][j] maps a byte to (0x80 >> j) when its bit k is set, else 0: it moves
    # one bit of a column byte to column j of a raster byte, for bytes.translate.
    return tuple(
        tuple(bytes((0x80 >> j) if (v >> k) & 1 else 0 for v in range(256)) for j in range(8))
        for k in range(8)
    )


def _columns_to_rows(data: bytes, width: int, column_bytes: int) -> tuple[bytes, ...]:
    """Column-format bit image (``column_bytes`` a column, MSB on top) to raster rows."""
    row_bytes = (width + 7) >> 3
    tables = _bit_tables()
    rows = []
    for r in range(column_bytes * 8):
        src = data[r >> 3 :: column_bytes]  # the byte holding row r, for every column
        bit = tables[7 - (r & 7)]
        acc = 0
        for j in range(8):
            part = src[j::8].translate(bit[j])
            if part:
                acc |= int.from_bytes(part.ljust(row_bytes, b"\0"), "big")
        rows.append(acc.to_bytes(row_bytes, "big"))
    return tuple(rows)


def _raster_rows(data: bytes, row_bytes: int, height: int) -> tuple[bytes, ...]:
    return tuple(data[r * row_bytes : (r + 1) * row_bytes] for r in range(height))


# -- names for messages -------------------------------------------------------------------

_PREFIX_NAMES = {_ESC: "ESC", _GS: "GS", _FS: "FS", _DLE: "DLE"}
_CONTROL_NAMES = {_EOT: "EOT", _ENQ: "ENQ", _DC4: "DC4", 0x0C: "FF", _ESC: "ESC"}


def _char_name(c: int) -> str:
    if c in _CONTROL_NAMES:
        return _CONTROL_NAMES[c]
    return chr(c) if 0x21 <= c <= 0x7E else f"0x{c:02X}"


def _command_name(buf: bytes | bytearray, i: int, size: int = 3) -> str:
    """``"GS ( k"`` for the command at ``buf[i]``, from at most ``size`` bytes of it.

    Messages must not depend on how the stream was chunked: callers pass the number of
    bytes they know are there.
    """
    prefix = _PREFIX_NAMES.get(buf[i])
    if prefix is None:
        return f"byte 0x{buf[i]:02X}"
    if i + 1 >= len(buf) or size < 2:
        return prefix
    name = f"{prefix} {_char_name(buf[i + 1])}"
    if buf[i + 1] in (0x28, 0x38, 0x76) and i + 2 < len(buf) and size >= 3:
        name += f" {_char_name(buf[i + 2])}"
    return name


# -- the interpreter ----------------------------------------------------------------------

_Handler = Callable[..., Any]


class EscPosInterpreter:
    """Reads an ESC/POS byte stream incrementally into a :class:`~printer.roll.Roll`.

    ``feed(chunk)`` returns the bytes the printer sends back (status replies); ``roll``
    is the roll as if the stream ended now; ``finish()`` ends the stream. Offsets are
    absolute byte offsets in the whole stream.

    ``columns`` is the print width in font A characters (48 on an 80 mm roll), ``state``
    the printer's hardware state (shared with whoever injects faults), ``code_pages`` the
    ``ESC t`` numbering (python-escpos's default profile when omitted), ``chinese_mode``
    the power-on double-byte mode. With ``strict=True`` the first malformed command raises
    :class:`~printer.errors.EscPosError`; the interpreter is then in an unspecified
    state and should be discarded. Printer conditions (paper out, a cut ignored mid-line
    ...) are warnings even in strict mode: the input is well-formed.
    """

    def __init__(
        self,
        *,
        columns: int = 48,
        state: PrinterState | None = None,
        strict: bool = False,
        code_pages: CodePages | None = None,
        chinese_mode: bool = False,
        max_command_bytes: int = MAX_COMMAND_BYTES,
        max_warnings: int = MAX_WARNINGS,
    ) -> None:
        if not isinstance(columns, int) or columns < 1:
            raise PrinterConfigurationError(f"columns must be a positive integer, not {columns!r}")
        if max_command_bytes < 1 or max_warnings < 0:
            raise PrinterConfigurationError("max_command_bytes must be >= 1 and max_warnings >= 0")
        self._state = state if state is not None else PrinterState()
        self.strict = strict
        self.columns = columns
        self._code_pages = code_pages
        self._kanji_default = chinese_mode
        self._max_command = max_command_bytes
        self._max_warnings = max_warnings
        self._full = columns * _FONT_A_DOTS
        # the stream
        self._offset = 0  # bytes received so far
        self._dropped = 0
        self._pending = bytearray()  # an incomplete command, waiting for more bytes
        self._pending_base = 0
        self._need = 0  # len(_pending) needed before parsing again
        self._skip = 0  # bytes of an oversize command still to discard
        self._out = bytearray()  # replies produced by the current feed()
        # what came out
        self._receipts: list[Receipt] = []
        self._elements: list[Element] = []
        self._receipt_start = 0
        self._receipt_warn = 0
        self._warnings: list[RollWarning] = []
        self._suppressed = 0
        self._pulses: list[DrawerPulse] = []
        self._buzzes: list[Buzz] = []
        self._replies: list[StatusReply] = []
        self._merge_column = False
        # the line buffer: runs of [text, style]
        self._runs: list[list[Any]] = []
        self._line_dots = 0
        self._line_offset = -1
        self._line_graphics = False
        # hardware conditions, as last seen in the state (at state.revision == _seen)
        self._blocked: str | None = None
        self._cycles = self._state.power_cycles
        self._had_power = self._powered = self._state.powered
        self._seen = -1
        self._unpowered_warned = False
        self._reset_modes()

    # -- public API -----------------------------------------------------------------------

    @property
    def state(self) -> PrinterState:
        """The printer's hardware state (change its fields to inject printer faults)."""
        return self._state

    @property
    def offset(self) -> int:
        """Bytes received so far (the offset of the next byte)."""
        return self._offset

    @property
    def buffered(self) -> int:
        """Bytes held back: the start of a command waiting for the rest of it."""
        return len(self._pending)

    def feed(self, data: bytes | bytearray | memoryview) -> bytes:
        """Consume a chunk of the stream; return what the printer sends back."""
        chunk = bytes(data)  # no copy for bytes; never keep a caller's mutable buffer
        if not chunk:
            return b""
        start = self._offset
        if self._state.revision != self._seen:
            self._sync_state(start)
        self._offset = start + len(chunk)
        if not self._powered:
            self._dropped += len(chunk)
            if not self._unpowered_warned:
                self._unpowered_warned = True
                self._notice(start, "printer unpowered: bytes dropped")
            return b""
        if self._skip:
            take = min(self._skip, len(chunk))
            self._skip -= take
            chunk = chunk[take:]
            start += take
            if not chunk:
                return b""
        if self._pending:
            self._pending += chunk
            if len(self._pending) < self._need:
                return b""
            buf = bytes(self._pending)
            base = self._pending_base
            self._pending.clear()
        else:
            buf, base = chunk, start
        self._need = 0
        consumed = self._run(buf, base)
        if consumed < len(buf):
            self._pending_base = base + consumed
            self._pending += memoryview(buf)[consumed:]
            self._need = max(self._need, len(self._pending) + 1)
        if not self._out:
            return b""
        reply = bytes(self._out)
        self._out.clear()
        return reply

    @property
    def roll(self) -> Roll:
        """The roll as if the stream ended now (feeding can go on afterwards)."""
        if self._state.revision != self._seen:
            self._sync_state(self._offset)
        extra = self._end_of_stream_warnings()
        receipts = list(self._receipts)
        if self._elements:
            warnings = tuple(self._warnings[self._receipt_warn :]) + tuple(extra)
            receipts.append(Receipt(tuple(self._elements), self._receipt_start, self._offset,
                                    None, True, warnings))
        return self._make_roll(receipts, [*self._warnings, *extra])

    def finish(self) -> Roll:
        """End the stream and return the roll.

        An unfinished receipt is closed as truncated; an incomplete trailing command and
        text never printed become warnings (strict mode raises on the former). The
        printer keeps its modes: feeding again continues as a new stream would, with
        offsets counting on.
        """
        if self._state.revision != self._seen:
            self._sync_state(self._offset)
        if self._pending:
            reason = self._incomplete_reason()
            self._pending.clear()
            self._need = 0
            self._malformed(self._pending_base, reason)
        if self._runs:
            self._notice(self._line_offset, self._unprinted_reason())
        self._clear_line()
        self._close(self._offset, None, True)
        return self._make_roll(self._receipts, self._warnings)

    def clear(self) -> None:
        """Forget everything received (roll, warnings, offsets); keep the printer's modes.

        A new roll of paper on the same printer: what python-escpos's ``Dummy.clear()``
        means, and why python-escpos's remembered code page stays right.
        """
        self._offset = self._dropped = 0
        self._pending.clear()
        self._need = self._skip = 0
        self._out.clear()
        self._receipts = []
        self._elements = []
        self._receipt_start = self._receipt_warn = 0
        self._warnings = []
        self._suppressed = 0
        self._pulses = []
        self._buzzes = []
        self._replies = []
        self._merge_column = False
        self._clear_line()
        self._blocked = None
        self._seen = -1  # look at the state afresh: a condition still on is noted again
        self._unpowered_warned = False

    def power_loss(self) -> None:
        """Cut the printer's power now (same as ``state.power_off()``, noticed at once)."""
        self._state.power_off()
        self._sync_state(self._offset)

    def power_on(self) -> None:
        """Restore the printer's power."""
        self._state.power_on()
        self._sync_state(self._offset)

    # -- roll building --------------------------------------------------------------------

    def _make_roll(self, receipts: list[Receipt], warnings: list[RollWarning]) -> Roll:
        return Roll(
            receipts=tuple(receipts),
            warnings=tuple(warnings),
            drawer_pulses=tuple(self._pulses),
            buzzes=tuple(self._buzzes),
            replies=tuple(self._replies),
            total_bytes=self._offset,
            dropped_bytes=self._dropped,
            suppressed_warnings=self._suppressed,
        )

    def _end_of_stream_warnings(self) -> list[RollWarning]:
        extra = []
        if self._runs:
            extra.append(RollWarning(self._line_offset, self._unprinted_reason()))
        if self._pending:
            extra.append(RollWarning(self._pending_base, self._incomplete_reason()))
        return extra

    def _incomplete_reason(self) -> str:
        name = _command_name(self._pending, 0)
        if self._kanji and self._pending[0] >= 0x80:
            name = "double-byte character"
        return f"incomplete {name} at end of stream ({len(self._pending)} bytes)"

    def _unprinted_reason(self) -> str:
        text = "".join(run[0] for run in self._runs)
        return f"text never printed (no line feed before the end): {text[:40]!r}"

    def _close(self, end: int, cut: str | None, truncated: bool) -> None:
        if self._elements:
            warnings = tuple(self._warnings[self._receipt_warn :])
            self._receipts.append(Receipt(tuple(self._elements), self._receipt_start, end,
                                          cut, truncated, warnings))
            self._elements = []
        self._receipt_start = end
        self._receipt_warn = len(self._warnings)
        self._merge_column = False

    def _append(self, element: Element) -> None:
        self._merge_column = False
        self._elements.append(element)

    # -- warnings and replies -------------------------------------------------------------

    def _malformed(self, offset: int, reason: str) -> None:
        if self.strict:
            raise EscPosError(reason, offset)
        self._record(offset, reason)

    def _notice(self, offset: int, reason: str) -> None:
        # Well-formed input the printer cannot print as meant: never an error, even strict.
        self._record(offset, reason)

    def _record(self, offset: int, reason: str) -> None:
        if len(self._warnings) < self._max_warnings:
            self._warnings.append(RollWarning(offset, reason))
        else:
            self._suppressed += 1

    def _reply(self, offset: int, request: str, data: bytes) -> None:
        if data:
            self._out += data
            self._replies.append(StatusReply(offset, request, data))

    # -- hardware conditions --------------------------------------------------------------

    def _sync_state(self, offset: int) -> None:
        """Take in what changed in the state (power, then what blocks printing)."""
        self._seen = self._state.revision
        self._check_power()
        self._powered = self._state.powered
        if self._powered:
            self._check_blocked(offset)

    def _check_power(self) -> None:
        state = self._state
        lost = state.power_cycles != self._cycles or (self._had_power and not state.powered)
        self._cycles = state.power_cycles
        if lost:
            self._lose_power()
        self._had_power = state.powered

    def _lose_power(self) -> None:
        offset = self._offset
        self._notice(offset, "power lost")
        self._pending.clear()
        self._need = self._skip = 0
        self._clear_line()
        self._close(offset, None, True)
        self._reset_modes()
        self._blocked = None
        self._unpowered_warned = False

    def _check_blocked(self, offset: int) -> None:
        reason = self._state.blocked_reason()
        if reason == self._blocked:
            return
        if reason == "paper out":
            # The paper ran out: what was printed of this receipt is the end of the roll.
            self._clear_line()
            self._close(offset, None, True)
        self._blocked = reason
        if reason is not None:
            self._notice(offset, reason)

    # -- modes ----------------------------------------------------------------------------

    def _reset_modes(self) -> None:
        """The power-on modes (ESC @ restores them)."""
        self._bold = self._dstrike = self._invert = self._upside = self._rotated = False
        self._underline = self._font = self._color = self._spacing = 0
        self._width = self._height = 1
        self._style: Style | None = None
        self._cw = _FONT_A_DOTS
        self._align = "left"
        self._page = 0
        self._table: str | None = None  # built on first use
        self._kanji = self._kanji_default
        self._tabs = _DEFAULT_TABS
        self._margin = 0
        self._area = self._full
        self._limit = self._full
        self._line_spacing: int | None = None
        self._intl = 0
        self._user_chars = False
        self._bc_height, self._bc_width, self._hri, self._hri_font = 162, 3, "none", 0
        self._qr_model, self._qr_size, self._qr_ec = "2", 3, "L"
        self._symbols: dict[int, bytes] = {}
        self._graphics: tuple[int, int, tuple[bytes, ...], int, int] | None = None
        self._downloaded: tuple[int, int, tuple[bytes, ...]] | None = None
        self._deselected = False

    def _make_style(self) -> Style:
        key = (self._bold, self._underline, self._dstrike, self._width, self._height,
               self._invert, self._font, self._upside, self._rotated, self._color)
        style = _STYLES.get(key)
        if style is None:
            style = _STYLES.setdefault(key, Style(*key))
        self._style = style
        base = _FONT_A_DOTS if self._font == 0 else _FONT_B_DOTS
        self._cw = (base + self._spacing) * self._width
        return style

    def _load_table(self) -> str:
        pages = self._code_pages
        if pages is None:
            pages = self._code_pages = CodePages.default()
        table = pages.table(self._page)
        self._table = table if table is not None else _NO_TABLE
        return self._table

    def _at_line_start(self) -> bool:
        return not self._runs and not self._line_graphics

    # -- the main loop --------------------------------------------------------------------

    def _run(self, buf: bytes, base: int) -> int:
        """Interpret ``buf`` (at stream offset ``base``); return how much was consumed.

        When less than all, the rest is an incomplete command and ``_need`` says how many
        bytes (from there) to wait for.
        """
        n = len(buf)
        i = 0
        search = _CONTROL.search
        commands = _COMMANDS
        charmap_decode = codecs.charmap_decode
        if self._deselected:
            i = self._run_deselected(buf, 0, base)
            if self._deselected:
                return i
        while i < n:
            b = buf[i]
            if b >= 0x20:  # a run of text up to the next control byte
                match = search(buf, i)
                j = match.start() if match is not None else n
                if self._kanji:
                    k = self._kanji_text(buf, i, j, base, j == n)
                    if k < j:
                        return k
                elif self._blocked is None:
                    table = self._table
                    if table is None:
                        table = self._load_table()
                    text = charmap_decode(buf[i:j], None, table)[0]
                    style = self._style
                    if style is None:
                        style = self._make_style()
                    if (j < n and buf[j] == 0x0A and not self._runs and not self._line_graphics
                            and len(text) * self._cw <= self._limit):
                        # The common case, a whole line and its LF: print it directly.
                        self._merge_column = False
                        self._elements.append(TextLine(base + i, text, self._align,
                                                       (_new_tuple(TextRun, (text, style)),)))
                        i = j + 1
                        continue
                    self._put(text, base + i)
                i = j
                continue
            if b == 0x0A:
                if self._blocked is None:
                    self._line_feed(base + i)
                i += 1
                continue
            if b in _PREFIXES:
                if i + 1 >= n:
                    self._need = 2
                    return i
                spec = commands.get(b << 8 | buf[i + 1])
                if spec is None:
                    self._malformed(base + i, f"unknown command {_command_name(buf, i, 2)}")
                    i += 1 if b == _DLE else 2
                    continue
                length, handler = spec
                if length:
                    if i + length > n:
                        self._need = length
                        return i
                    handler(self, buf, i, base + i)
                    i += length
                else:
                    k = handler(self, buf, i, base + i)
                    if k < 0:
                        return i
                    i = k
                    if self._skip:
                        take = min(self._skip, n - i)
                        self._skip -= take
                        i += take
                if self._deselected:
                    i = self._run_deselected(buf, i, base)
                    if self._deselected:
                        return i
                continue
            self._control(b, base + i)
            i += 1
        return n

    def _run_deselected(self, buf: bytes, i: int, base: int) -> int:
        # ESC = with bit 0 clear: the printer ignores everything but ESC = and the
        # real-time commands until it is selected again.
        n = len(buf)
        while i < n:
            match = _DESELECTED_WAKE.search(buf, i)
            if match is None:
                return n
            j = match.start()
            if j + 1 >= n:
                self._need = 2
                return j
            b, c = buf[j], buf[j + 1]
            if b == _ESC and c == 0x3D:
                if j + 2 >= n:
                    self._need = 3
                    return j
                self._c_select(buf, j, base + j)
                i = j + 3
                if not self._deselected:
                    return i
            elif b == _DLE and c in (_EOT, _ENQ, _DC4):
                handler = _COMMANDS[b << 8 | c][1]
                k = handler(self, buf, j, base + j)
                if k < 0:
                    return j
                i = k
            else:
                i = j + 1
        return n

    def _control(self, b: int, offset: int) -> None:
        if b == 0x09:
            if self._blocked is None:
                self._tab(offset)
        elif b == 0x0C:
            if self._blocked is None and not self._at_line_start():
                self._print_line(offset)
        elif b in (0x00, 0x0D, 0x0B, 0x18, 0x07):
            pass  # NUL, CR, VT, CAN, BEL: no effect on an Epson roll printer
        else:
            self._malformed(offset, f"unknown control byte 0x{b:02X}")

    # -- text -----------------------------------------------------------------------------

    def _put(self, text: str, offset: int, wide: bool = False, step: int = 1) -> None:
        """Place characters in the line buffer, printing lines as the print width fills.

        ``offset`` is that of the first character, ``step`` the bytes a character (0 for
        spaces made by one command; ``wide`` characters are placed one at a time).
        """
        style = self._style
        if style is None:
            style = self._make_style()
        cw = self._cw * 2 if wide else self._cw
        limit = self._limit
        k = 0
        total = len(text)
        while k < total:
            dots = self._line_dots
            room = (limit - dots) // cw
            if room <= 0:
                if dots:
                    self._commit(True)
                    continue
                room = 1  # a character wider than the line is printed anyway
            piece = text[k : k + room] if k or room < total else text
            if self._line_offset < 0:
                self._line_offset = offset + k * step
            runs = self._runs
            if runs and runs[-1][1] is style:
                runs[-1][0] += piece
            else:
                runs.append([piece, style])
            self._line_dots = dots + len(piece) * cw
            k += len(piece)

    def _kanji_text(self, buf: bytes, i: int, j: int, base: int, at_end: bool) -> int:
        # Double-byte mode (FS &): GB18030, one byte (ASCII), two, or four bytes a character.
        blocked = self._blocked is not None
        k = i
        while k < j:
            match = _HIGH.search(buf, k, j)
            h = match.start() if match is not None else j
            if h > k:
                if not blocked:
                    self._put(buf[k:h].decode("latin-1"), base + k)
                k = h
                if k >= j:
                    break
            lead = buf[k]
            size = 0
            if 0x81 <= lead <= 0xFE:
                if k + 1 < j:
                    second = buf[k + 1]
                    if 0x30 <= second <= 0x39:
                        if k + 3 < j:
                            if 0x81 <= buf[k + 2] <= 0xFE and 0x30 <= buf[k + 3] <= 0x39:
                                size = 4
                        elif at_end and (k + 2 >= j or 0x81 <= buf[k + 2] <= 0xFE):
                            self._need = j - k + 1
                            return k
                    elif 0x40 <= second <= 0xFE and second != 0x7F:
                        size = 2
                elif at_end:
                    self._need = 2
                    return k
            if size:
                if not blocked:
                    char = buf[k : k + size].decode("gb18030", "replace")
                    self._put(char, base + k, wide=True)
                k += size
            else:
                self._malformed(base + k, f"invalid GB18030 byte 0x{lead:02X}")
                if not blocked:
                    self._put("\ufffd", base + k)
                k += 1
        return j

    def _commit(self, wrapped: bool) -> None:
        runs = self._runs
        if len(runs) == 1:
            text, style = runs[0]
            line_runs: tuple[TextRun, ...] = (_new_tuple(TextRun, (text, style)),)
        else:
            line_runs = tuple(TextRun(t, s) for t, s in runs)
            text = "".join(run.text for run in line_runs)
        self._append(TextLine(self._line_offset, text, self._align, line_runs, wrapped))
        self._clear_line()

    def _clear_line(self) -> None:
        self._runs = []
        self._line_dots = 0
        self._line_offset = -1
        self._line_graphics = False

    def _line_feed(self, offset: int) -> None:
        if self._runs:
            self._commit(False)
        elif self._line_graphics:
            self._line_graphics = False  # the LF printed a line of bit image
        else:
            self._append(TextLine(offset, "", self._align))

    def _print_line(self, offset: int) -> None:
        """Print what the line buffer holds, if anything (before a feed, a code, ...)."""
        if self._runs:
            self._commit(False)
        else:
            self._line_graphics = False

    def _tab(self, offset: int) -> None:
        if self._style is None:
            self._make_style()
        column = self._line_dots // self._cw
        for stop in self._tabs:
            if stop > column:
                self._move_to(stop * self._cw, offset)
                return

    def _move_to(self, target: int, offset: int) -> None:
        # HT, ESC $, ESC \: move right to ``target`` dots, shown as spaces. A position
        # beyond the print width is ignored, as on the printer.
        if self._style is None:
            self._make_style()
        if self._line_dots < target <= self._limit:
            spaces = (target - self._line_dots) // self._cw
            if spaces:
                self._put(" " * spaces, offset, step=0)

    # -- fixed-length command handlers (buf, i = first byte, offset = absolute) -----------

    def _c_init(self, buf: bytes, i: int, offset: int) -> None:
        if self._runs:
            self._notice(offset, "ESC @ discarded text never printed")
        self._clear_line()
        self._reset_modes()

    def _c_bold(self, buf: bytes, i: int, offset: int) -> None:
        self._bold = bool(buf[i + 2] & 1)
        self._style = None

    def _c_double_strike(self, buf: bytes, i: int, offset: int) -> None:
        self._dstrike = bool(buf[i + 2] & 1)
        self._style = None

    def _c_underline(self, buf: bytes, i: int, offset: int) -> None:
        value = _UNDERLINE.get(buf[i + 2])
        if value is None:
            self._malformed(offset, f"ESC - {buf[i + 2]}: underline must be 0..2 or 48..50")
            return
        self._underline = value
        self._style = None

    def _c_upside_down(self, buf: bytes, i: int, offset: int) -> None:
        self._upside = bool(buf[i + 2] & 1)
        self._style = None

    def _c_rotate(self, buf: bytes, i: int, offset: int) -> None:
        n = buf[i + 2]
        if n not in (0, 1, 2, 48, 49, 50):
            self._malformed(offset, f"ESC V {n}: rotation must be 0..2 or 48..50")
            return
        self._rotated = n not in (0, 48)
        self._style = None

    def _c_color(self, buf: bytes, i: int, offset: int) -> None:
        n = buf[i + 2]
        if n not in (0, 1, 48, 49):
            self._malformed(offset, f"ESC r {n}: colour must be 0, 1, 48 or 49")
            return
        self._color = n & 1
        self._style = None

    def _c_invert(self, buf: bytes, i: int, offset: int) -> None:
        self._invert = bool(buf[i + 2] & 1)
        self._style = None

    def _c_print_mode(self, buf: bytes, i: int, offset: int) -> None:
        # ESC ! n sets font, bold, double height/width and underline at once.
        n = buf[i + 2]
        self._font = n & 1
        self._bold = bool(n & 0x08)
        self._height = 2 if n & 0x10 else 1
        self._width = 2 if n & 0x20 else 1
        self._underline = 1 if n & 0x80 else 0
        self._style = None

    def _c_size(self, buf: bytes, i: int, offset: int) -> None:
        n = buf[i + 2]
        width, height = (n >> 4) + 1, (n & 0x0F) + 1
        if width > 8 or height > 8:
            self._malformed(offset, f"GS ! 0x{n:02X}: size multipliers must be 1..8")
            return
        self._width, self._height = width, height
        self._style = None

    def _c_font(self, buf: bytes, i: int, offset: int) -> None:
        font = _FONTS.get(buf[i + 2])
        if font is None:
            self._malformed(offset, f"ESC M {buf[i + 2]}: unknown font")
            return
        self._font = font
        self._style = None

    def _c_char_spacing(self, buf: bytes, i: int, offset: int) -> None:
        self._spacing = buf[i + 2]
        self._style = None

    def _c_align(self, buf: bytes, i: int, offset: int) -> None:
        align = _ALIGN.get(buf[i + 2])
        if align is None:
            self._malformed(offset, f"ESC a {buf[i + 2]}: alignment must be 0..2 or 48..50")
        elif not self._at_line_start():
            self._notice(offset, "ESC a ignored: not at the beginning of a line")
        else:
            self._align = align

    def _c_code_page(self, buf: bytes, i: int, offset: int) -> None:
        n = buf[i + 2]
        pages = self._code_pages
        if pages is None:
            pages = self._code_pages = CodePages.default()
        if n not in pages:
            self._malformed(offset, f"ESC t {n}: no such code page in the printer profile")
            return
        self._page = n
        table = pages.table(n)
        if table is None:
            self._notice(offset, f"ESC t {n}: no character table for {pages.name(n)}; "
                                 "bytes 0x80-0xFF print as U+FFFD")
            table = _NO_TABLE
        self._table = table

    def _c_intl(self, buf: bytes, i: int, offset: int) -> None:
        if buf[i + 2] not in _INTL_SETS:
            self._malformed(offset, f"ESC R {buf[i + 2]}: unknown international character set")
            return
        self._intl = buf[i + 2]

    def _c_user_chars(self, buf: bytes, i: int, offset: int) -> None:
        self._user_chars = bool(buf[i + 2] & 1)

    def _c_spacing_default(self, buf: bytes, i: int, offset: int) -> None:
        self._line_spacing = None

    def _c_spacing(self, buf: bytes, i: int, offset: int) -> None:
        self._line_spacing = buf[i + 2]

    def _c_feed_lines(self, buf: bytes, i: int, offset: int) -> None:
        if self._blocked is None:
            self._print_line(offset)
            if buf[i + 2]:
                self._append(Feed(offset, lines=buf[i + 2]))

    def _c_feed_dots(self, buf: bytes, i: int, offset: int) -> None:
        if self._blocked is None:
            self._print_line(offset)
            if buf[i + 2]:
                self._append(Feed(offset, dots=buf[i + 2]))

    def _c_reverse_feed(self, buf: bytes, i: int, offset: int) -> None:
        if self._blocked is None:
            self._print_line(offset)

    def _c_cut_partial(self, buf: bytes, i: int, offset: int) -> None:
        # ESC i and ESC m are both partial cuts on Epson printers (one or three points left).
        self._cut(offset, offset + 2, "partial", 0)

    def _c_drawer(self, buf: bytes, i: int, offset: int) -> None:
        m, t1, t2 = buf[i + 2], buf[i + 3], buf[i + 4]
        if m not in (0, 1, 48, 49):
            self._malformed(offset, f"ESC p {m}: drawer pin must be 0, 1, 48 or 49")
            return
        if self._blocked is None:
            # Epson: on for t1 x 2 ms, off for t2 x 2 ms, and never shorter off than on.
            self._pulses.append(DrawerPulse(offset, 5 if m & 1 else 2, t1 * 2, max(t1, t2) * 2))

    def _c_buzzer(self, buf: bytes, i: int, offset: int) -> None:
        if self._blocked is None:
            self._buzzes.append(Buzz(offset, buf[i + 2], buf[i + 3]))

    def _c_select(self, buf: bytes, i: int, offset: int) -> None:
        self._deselected = not buf[i + 2] & 1

    def _c_absolute(self, buf: bytes, i: int, offset: int) -> None:
        if self._blocked is None:
            self._move_to(buf[i + 2] | buf[i + 3] << 8, offset)

    def _c_relative(self, buf: bytes, i: int, offset: int) -> None:
        step = buf[i + 2] | buf[i + 3] << 8
        if step >= 0x8000:
            return  # moving left overprints; not representable as text
        if self._blocked is None:
            self._move_to(self._line_dots + step, offset)

    def _c_ignore(self, buf: bytes, i: int, offset: int) -> None:
        pass  # accepted, no effect on what is printed

    def _c_not_emulated(self, buf: bytes, i: int, offset: int) -> None:
        self._notice(offset, f"{_command_name(buf, i)} not emulated (no answer sent)")

    def _c_page_mode(self, buf: bytes, i: int, offset: int) -> None:
        self._notice(offset, "ESC L (page mode) not emulated: printing in standard mode")

    def _c_transmit_drawer(self, buf: bytes, i: int, offset: int) -> None:
        self._reply(offset, "ESC u", self._state.transmit_status(2))

    def _c_transmit_paper(self, buf: bytes, i: int, offset: int) -> None:
        self._reply(offset, "ESC v", self._state.transmit_status(1))

    def _c_barcode_height(self, buf: bytes, i: int, offset: int) -> None:
        if not buf[i + 2]:
            self._malformed(offset, "GS h 0: barcode height must be 1..255")
            return
        self._bc_height = buf[i + 2]

    def _c_barcode_width(self, buf: bytes, i: int, offset: int) -> None:
        if not 1 <= buf[i + 2] <= 6:
            self._malformed(offset, f"GS w {buf[i + 2]}: module width must be 1..6")
            return
        self._bc_width = buf[i + 2]

    def _c_hri(self, buf: bytes, i: int, offset: int) -> None:
        hri = _HRI.get(buf[i + 2])
        if hri is None:
            self._malformed(offset, f"GS H {buf[i + 2]}: HRI position must be 0..3 or 48..51")
            return
        self._hri = hri

    def _c_hri_font(self, buf: bytes, i: int, offset: int) -> None:
        font = _HRI_FONTS.get(buf[i + 2])
        if font is None:
            self._malformed(offset, f"GS f {buf[i + 2]}: unknown HRI font")
            return
        self._hri_font = font

    def _c_status(self, buf: bytes, i: int, offset: int) -> None:
        n = buf[i + 2]
        if n in (1, 2, 49, 50):
            self._reply(offset, f"GS r {n}", self._state.transmit_status(n))
        elif n in (4, 52):
            self._notice(offset, f"GS r {n} (ink status) not emulated (no answer sent)")
        else:
            self._malformed(offset, f"GS r {n}: status type must be 1, 2, 4, 49, 50 or 52")

    def _c_asb(self, buf: bytes, i: int, offset: int) -> None:
        if buf[i + 2]:
            self._notice(offset, "GS a (automatic status back) not emulated (no answer sent)")

    def _c_margin(self, buf: bytes, i: int, offset: int) -> None:
        if not self._at_line_start():
            self._notice(offset, "GS L ignored: not at the beginning of a line")
            return
        self._margin = buf[i + 2] | buf[i + 3] << 8
        self._limit = max(1, min(self._area, self._full - self._margin))

    def _c_area(self, buf: bytes, i: int, offset: int) -> None:
        if not self._at_line_start():
            self._notice(offset, "GS W ignored: not at the beginning of a line")
            return
        self._area = (buf[i + 2] | buf[i + 3] << 8) or self._full
        self._limit = max(1, min(self._area, self._full - self._margin))

    def _c_print_downloaded(self, buf: bytes, i: int, offset: int) -> None:
        m = buf[i + 2]
        if m not in (0, 1, 2, 3, 48, 49, 50, 51):
            self._malformed(offset, f"GS / {m}: mode must be 0..3 or 48..51")
            return
        if self._blocked is not None:
            return
        if self._downloaded is None:
            self._notice(offset, "GS / with no downloaded bit image defined")
            return
        width, height, rows = self._downloaded
        self._print_line(offset)
        self._append(Image(offset, width, height, rows, "downloaded", 1 + (m & 1),
                           1 + (m >> 1 & 1), self._align))

    def _c_kanji_on(self, buf: bytes, i: int, offset: int) -> None:
        self._kanji = True

    def _c_kanji_off(self, buf: bytes, i: int, offset: int) -> None:
        self._kanji = False

    def _c_nv_image(self, buf: bytes, i: int, offset: int) -> None:
        n = buf[i + 2]
        if self._blocked is None:
            self._print_line(offset)
            self._append(Logo(offset, f"nv:{n}"))

    # -- variable-length command handlers: return the next index, or -1 to wait -----------

    def _wait(self, need: int) -> int:
        self._need = need
        return -1

    def _oversize(self, i: int, offset: int, header: int, size: int, buf: bytes) -> int:
        self._malformed(offset, f"{_command_name(buf, i)} declares {size} bytes of data, over "
                                f"the {self._max_command}-byte limit: skipped")
        self._skip = size
        return i + header

    def _v_cut(self, buf: bytes, i: int, offset: int) -> int:
        if i + 3 > len(buf):
            return self._wait(3)
        m = buf[i + 2]
        mode = _CUTS.get(m)
        if mode is None:
            self._malformed(offset, f"GS V {m}: unknown cut mode")
            return i + 3
        cut, has_n, feeds = mode
        if not has_n:
            self._cut(offset, offset + 3, cut, 0)
            return i + 3
        if i + 4 > len(buf):
            return self._wait(4)
        self._cut(offset, offset + 4, cut, buf[i + 3] if feeds else 0)
        return i + 4

    def _cut(self, offset: int, end: int, cut: str, feed_dots: int) -> None:
        if self._blocked is not None:
            return
        if not self._at_line_start():
            self._notice(offset, "cut ignored: not at the beginning of a line")
            return
        if feed_dots:
            self._append(Feed(offset, dots=feed_dots))
        self._close(end, cut, False)

    def _v_barcode(self, buf: bytes, i: int, offset: int) -> int:
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        m = buf[i + 2]
        if m in _BARCODES_A:
            # Function A: printable ASCII data ended by NUL (at most 255 bytes).
            j = i + 3
            end = min(n, i + 3 + 256)
            while j < end and 0x20 <= buf[j] <= 0x7E:
                j += 1
            if j < n and buf[j] == 0:
                if j == i + 3:
                    self._malformed(offset, f"GS k {m}: empty barcode data")
                else:
                    self._barcode(offset, _BARCODES_A[m], buf[i + 3 : j], "A")
                return j + 1
            if j == n and j - (i + 3) < 256:
                return self._wait(j - i + 1)
            self._malformed(offset, f"GS k {m}: barcode data not NUL-terminated printable "
                                    "ASCII: printed as text")
            return i + 3
        if m in _BARCODES_B:
            if i + 4 > n:
                return self._wait(4)
            size = buf[i + 3]
            if not size:
                self._malformed(offset, f"GS k {m} 0: empty barcode data")
                return i + 4
            if i + 4 + size > n:
                return self._wait(4 + size)
            self._barcode(offset, _BARCODES_B[m], buf[i + 4 : i + 4 + size], "B")
            return i + 4 + size
        self._malformed(offset, f"GS k {m}: unknown barcode system")
        return i + 3

    def _barcode(self, offset: int, symbology: str, data: bytes, function: str) -> None:
        if self._blocked is not None:
            return
        self._print_line(offset)
        self._append(Barcode(offset, symbology, data, function, self._bc_height,
                             self._bc_width, self._hri, self._hri_font, self._align))

    def _v_paren(self, buf: bytes, i: int, offset: int) -> int:
        # ESC ( x / GS ( x / FS ( x pL pH d1..dk: the length-prefixed families.
        n = len(buf)
        if i + 5 > n:
            return self._wait(5)
        size = buf[i + 3] | buf[i + 4] << 8
        if size > self._max_command:
            return self._oversize(i, offset, 5, size, buf)
        if i + 5 + size > n:
            return self._wait(5 + size)
        payload = buf[i + 5 : i + 5 + size]
        prefix, family = buf[i], buf[i + 2]
        if prefix == _GS and family == 0x6B:  # GS ( k
            self._symbol(payload, offset)
        elif prefix == _GS and family == 0x4C:  # GS ( L
            self._graphics_command(payload, offset, "GS ( L")
        elif prefix == _ESC and family == 0x41:  # ESC ( A: beeper
            if self._blocked is None:
                times = payload[2] if size >= 4 else 1
                self._buzzes.append(Buzz(offset, times, payload[-1] if payload else 0))
        elif (prefix == _GS and family in _GS_PAREN_SETTINGS) or prefix in (_ESC, _FS):
            pass  # settings and maintenance functions: no effect on what is printed
        else:
            self._malformed(offset, f"unknown command {_command_name(buf, i)}")
        return i + 5 + size

    def _v_gs8(self, buf: bytes, i: int, offset: int) -> int:
        # GS 8 L p1 p2 p3 p4 m fn ...: GS ( L with a 4-byte length.
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        if buf[i + 2] != 0x4C:
            self._malformed(offset, f"unknown command {_command_name(buf, i)}")
            return i + 2
        if i + 7 > n:
            return self._wait(7)
        size = int.from_bytes(buf[i + 3 : i + 7], "little")
        if size > self._max_command:
            return self._oversize(i, offset, 7, size, buf)
        if i + 7 + size > n:
            return self._wait(7 + size)
        self._graphics_command(buf[i + 7 : i + 7 + size], offset, "GS 8 L")
        return i + 7 + size

    def _symbol(self, p: bytes, offset: int) -> None:
        if len(p) < 2:
            self._malformed(offset, "GS ( k: function too short")
            return
        cn, fn = p[0], p[1]
        if cn == 49:
            self._qr(p, fn, offset)
            return
        name = _SYMBOLOGIES_2D.get(cn)
        if name is None:
            self._malformed(offset, f"GS ( k: unknown symbol type cn={cn}")
        elif fn == 80:
            self._symbols[cn] = p[3:]
        elif fn == 81:
            if self._blocked is None:
                data = self._symbols.get(cn)
                if data:
                    self._print_line(offset)
                    self._append(Code2D(offset, name, data, self._align))
                else:
                    self._notice(offset, f"GS ( k: print {name} with no stored data")
        elif fn == 82:
            self._notice(offset, f"GS ( k: {name} size information not emulated")

    def _qr(self, p: bytes, fn: int, offset: int) -> None:
        size = len(p)
        if fn == 65:
            model = _QR_MODELS.get(p[2]) if size >= 3 else None
            if model is None:
                self._malformed(offset, "GS ( k: QR model must be 49, 50 or 51")
            else:
                self._qr_model = model
        elif fn == 67:
            if size != 3 or not 1 <= p[2] <= 16:
                self._malformed(offset, "GS ( k: QR module size must be 1..16")
            else:
                self._qr_size = p[2]
        elif fn == 69:
            ec = _QR_EC.get(p[2]) if size == 3 else None
            if ec is None:
                self._malformed(offset, "GS ( k: QR error correction must be 48..51")
            else:
                self._qr_ec = ec
        elif fn == 80:
            if size < 4:
                self._malformed(offset, "GS ( k: QR store with no data")
            else:
                self._symbols[49] = p[3:]
        elif fn == 81:
            if self._blocked is not None:
                return
            data = self._symbols.get(49)
            if not data:
                self._notice(offset, "GS ( k: print QR code with no stored data")
                return
            self._print_line(offset)
            self._append(QRCode(offset, data, self._qr_size, self._qr_ec, self._qr_model,
                                self._align))
        elif fn == 82:
            self._notice(offset, "GS ( k: QR size information not emulated (no answer sent)")
        else:
            self._malformed(offset, f"GS ( k: unknown QR function fn={fn}")

    def _graphics_command(self, p: bytes, offset: int, name: str) -> None:
        if len(p) < 2:
            self._malformed(offset, f"{name}: function too short")
            return
        fn = p[1]
        if fn == 112:  # 'p': store raster graphics in the print buffer
            self._store_graphics(p, offset, name)
        elif fn == 50:  # print the graphics buffer
            if self._blocked is not None:
                return
            if self._graphics is None:
                self._notice(offset, f"{name}: print with no graphics stored")
                return
            width, height, rows, bx, by = self._graphics
            self._graphics = None
            self._print_line(offset)
            self._append(Image(offset, width, height, rows, "graphics", bx, by, self._align))
        elif fn == 69 and len(p) >= 4:  # print NV graphics kc1 kc2
            if self._blocked is None:
                self._print_line(offset)
                self._append(Logo(offset, "nv:" + p[2:4].decode("latin-1")))
        elif fn == 85 and len(p) >= 4:  # print download graphics kc1 kc2
            if self._blocked is None:
                self._print_line(offset)
                self._append(Logo(offset, "download:" + p[2:4].decode("latin-1")))
        elif fn == 113:
            self._notice(offset, f"{name}: column-format graphics not emulated")

    def _store_graphics(self, p: bytes, offset: int, name: str) -> None:
        if len(p) < 10:
            self._malformed(offset, f"{name}: graphics header too short")
            return
        tone, bx, by, color = p[2], p[3], p[4], p[5]
        width, height = p[6] | p[7] << 8, p[8] | p[9] << 8
        data = p[10:]
        row_bytes = (width + 7) >> 3
        if tone != 48:
            self._notice(offset, f"{name}: multi-tone graphics not emulated")
            return
        if bx not in (1, 2) or by not in (1, 2) or not 49 <= color <= 52:
            self._malformed(offset, f"{name}: bad graphics parameters")
            return
        if len(data) != row_bytes * height:
            self._malformed(offset, f"{name}: {len(data)} bytes of graphics data for "
                                    f"{width} x {height} dots")
            return
        if color == 49:  # the first colour is what a single-colour roll shows
            self._graphics = (width, height, _raster_rows(data, row_bytes, height), bx, by)

    def _v_raster(self, buf: bytes, i: int, offset: int) -> int:
        # GS v 0 m xL xH yL yH d1..dk, k = x bytes a row times y rows.
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        if buf[i + 2] != 0x30:
            self._malformed(offset, f"unknown command {_command_name(buf, i)}")
            return i + 2
        if i + 8 > n:
            return self._wait(8)
        m = buf[i + 3]
        row_bytes, height = buf[i + 4] | buf[i + 5] << 8, buf[i + 6] | buf[i + 7] << 8
        size = row_bytes * height
        if m not in (0, 1, 2, 3, 48, 49, 50, 51):
            self._malformed(offset, f"GS v 0 {m}: mode must be 0..3 or 48..51")
            return i + 8
        if not size:
            self._malformed(offset, "GS v 0: empty raster image")
            return i + 8
        if size > self._max_command:
            return self._oversize(i, offset, 8, size, buf)
        if i + 8 + size > n:
            return self._wait(8 + size)
        if self._blocked is None:
            self._print_line(offset)
            rows = _raster_rows(buf[i + 8 : i + 8 + size], row_bytes, height)
            self._append(Image(offset, row_bytes * 8, height, rows, "raster", 1 + (m & 1),
                               1 + (m >> 1 & 1), self._align))
        return i + 8 + size

    def _v_bit_image(self, buf: bytes, i: int, offset: int) -> int:
        # ESC * m nL nH d1..dk: one stripe of 8 (m = 0, 1) or 24 (m = 32, 33) dots.
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        m = buf[i + 2]
        if m not in (0, 1, 32, 33):
            self._malformed(offset, f"ESC * {m}: mode must be 0, 1, 32 or 33")
            return i + 3
        if i + 5 > n:
            return self._wait(5)
        width = buf[i + 3] | buf[i + 4] << 8
        column_bytes = 3 if m & 32 else 1
        size = width * column_bytes
        if not size:
            return i + 5
        if size > self._max_command:
            return self._oversize(i, offset, 5, size, buf)
        if i + 5 + size > n:
            return self._wait(5 + size)
        if self._blocked is None:
            if self._runs:
                self._commit(False)
            rows = _columns_to_rows(buf[i + 5 : i + 5 + size], width, column_bytes)
            scale_x, scale_y = (1 if m & 1 else 2), (1 if m & 32 else 3)
            last = self._elements[-1] if self._elements else None
            if (self._merge_column and isinstance(last, Image) and last.source == "column"
                    and last.width == width and last.scale_x == scale_x
                    and last.scale_y == scale_y):
                self._elements[-1] = Image(last.offset, width, last.height + len(rows),
                                           last.rows + rows, "column", scale_x, scale_y,
                                           last.align)
            else:
                self._append(Image(offset, width, len(rows), rows, "column", scale_x,
                                   scale_y, self._align))
            self._merge_column = True
            self._line_graphics = True
        return i + 5 + size

    def _v_define_downloaded(self, buf: bytes, i: int, offset: int) -> int:
        # GS * x y d1..d(x*y*8): x*8 dots wide, y*8 dots high, column format.
        n = len(buf)
        if i + 4 > n:
            return self._wait(4)
        x, y = buf[i + 2], buf[i + 3]
        size = x * y * 8
        if not size:
            self._malformed(offset, "GS *: empty downloaded bit image")
            return i + 4
        if size > self._max_command:
            return self._oversize(i, offset, 4, size, buf)
        if i + 4 + size > n:
            return self._wait(4 + size)
        rows = _columns_to_rows(buf[i + 4 : i + 4 + size], x * 8, y)
        self._downloaded = (x * 8, y * 8, rows)
        return i + 4 + size

    def _v_tabs(self, buf: bytes, i: int, offset: int) -> int:
        # ESC D n1..nk NUL, k <= 32; after 32 positions the rest is ordinary data.
        n = len(buf)
        j = i + 2
        end = min(n, i + 2 + 32)
        while j < end and buf[j]:
            j += 1
        if j == n and j < i + 2 + 32:
            return self._wait(j - i + 1)
        stops = tuple(buf[i + 2 : j])
        if any(b <= a for a, b in pairwise(stops)):
            self._malformed(offset, "ESC D: tab positions must increase")
        else:
            self._tabs = stops
        return j + 1 if j < n and not buf[j] else j

    def _v_define_chars(self, buf: bytes, i: int, offset: int) -> int:
        # ESC & y c1 c2 [x d1..d(y*x)] for each character c1..c2: skipped, not drawn.
        n = len(buf)
        if i + 5 > n:
            return self._wait(5)
        y, c1, c2 = buf[i + 2], buf[i + 3], buf[i + 4]
        if not 1 <= y <= 3 or not 32 <= c1 <= c2 <= 126:
            self._malformed(offset, "ESC &: bad user-defined character header")
            return i + 2
        j = i + 5
        for _ in range(c2 - c1 + 1):
            if j >= n:
                return self._wait(j - i + 1)
            j += 1 + y * buf[j]
            if j > n:
                return self._wait(j - i)
        return j

    def _v_define_nv(self, buf: bytes, i: int, offset: int) -> int:
        # FS q n [xL xH yL yH d1..dk]1..n: skipped (stored logos are printed by FS p).
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        j = i + 3
        for _ in range(buf[i + 2]):
            if j + 4 > n:
                return self._wait(j - i + 4)
            size = (buf[j] | buf[j + 1] << 8) * (buf[j + 2] | buf[j + 3] << 8) * 8
            if j + 4 + size - i > self._max_command:
                return self._oversize(i, offset, j + 4 - i, size, buf)
            j += 4 + size
            if j > n:
                return self._wait(j - i)
        return j

    def _v_realtime_status(self, buf: bytes, i: int, offset: int) -> int:
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        request = buf[i + 2]
        if 1 <= request <= 4:
            self._reply(offset, f"DLE EOT {request}", self._state.realtime_status(request))
            return i + 3
        if request in (7, 8):  # DLE EOT 7 a / 8 a: ink and peripheral status, 4 bytes
            if i + 4 > n:
                return self._wait(4)
            self._notice(offset, f"DLE EOT {request} not emulated (no answer sent)")
            return i + 4
        self._malformed(offset, f"DLE EOT {request}: status type must be 1..4")
        return i + 3

    def _v_realtime_request(self, buf: bytes, i: int, offset: int) -> int:
        if i + 3 > len(buf):
            return self._wait(3)
        if buf[i + 2] not in (1, 2):
            self._malformed(offset, f"DLE ENQ {buf[i + 2]}: request must be 1 or 2")
        return i + 3

    def _v_realtime_dc4(self, buf: bytes, i: int, offset: int) -> int:
        # DLE DC4 fn ...: 1 = drawer pulse (m t), 2 = power-off sequence, 3 = buzzer,
        # 7 = transmit status, 8 = clear buffers; lengths are fixed per function.
        n = len(buf)
        if i + 3 > n:
            return self._wait(3)
        fn = buf[i + 2]
        size = {1: 5, 2: 5, 3: 8, 7: 4, 8: 10}.get(fn)
        if size is None:
            self._malformed(offset, f"DLE DC4 {fn}: unknown function")
            return i + 3
        if i + size > n:
            return self._wait(size)
        if fn == 1:
            m, t = buf[i + 3], buf[i + 4]
            if m not in (0, 1) or not 1 <= t <= 8:
                self._malformed(offset, "DLE DC4 1: pin must be 0 or 1, time 1..8")
            elif self._blocked is None:
                self._pulses.append(DrawerPulse(offset, 5 if m else 2, t * 100, t * 100))
        elif fn == 3:
            if self._blocked is None:
                self._buzzes.append(Buzz(offset, buf[i + 5], buf[i + 6]))
        else:
            self._notice(offset, f"DLE DC4 {fn} not emulated")
        return i + size


def _command_table() -> dict[int, tuple[int, _Handler]]:
    E = EscPosInterpreter
    esc: dict[str, tuple[int, _Handler]] = {
        "@": (2, E._c_init), "E": (3, E._c_bold), "G": (3, E._c_double_strike),
        "-": (3, E._c_underline), "{": (3, E._c_upside_down), "V": (3, E._c_rotate),
        "r": (3, E._c_color), "!": (3, E._c_print_mode), "M": (3, E._c_font),
        " ": (3, E._c_char_spacing), "a": (3, E._c_align), "t": (3, E._c_code_page),
        "R": (3, E._c_intl), "%": (3, E._c_user_chars), "?": (3, E._c_ignore),
        "2": (2, E._c_spacing_default), "3": (3, E._c_spacing), "A": (3, E._c_spacing),
        "+": (3, E._c_spacing), "d": (3, E._c_feed_lines), "J": (3, E._c_feed_dots),
        "e": (3, E._c_reverse_feed), "K": (3, E._c_reverse_feed),
        "i": (2, E._c_cut_partial), "m": (2, E._c_cut_partial), "p": (5, E._c_drawer),
        "B": (4, E._c_buzzer), "=": (3, E._c_select), "$": (4, E._c_absolute),
        "\\": (4, E._c_relative), "c": (4, E._c_ignore), "L": (2, E._c_page_mode),
        "S": (2, E._c_ignore), "T": (3, E._c_ignore), "W": (10, E._c_ignore),
        "U": (3, E._c_ignore), "u": (3, E._c_transmit_drawer), "v": (2, E._c_transmit_paper),
        "\x0c": (2, E._c_ignore),
        "D": (0, E._v_tabs), "*": (0, E._v_bit_image), "&": (0, E._v_define_chars),
        "(": (0, E._v_paren),
    }
    gs: dict[str, tuple[int, _Handler]] = {
        "!": (3, E._c_size), "B": (3, E._c_invert), "h": (3, E._c_barcode_height),
        "w": (3, E._c_barcode_width), "H": (3, E._c_hri), "f": (3, E._c_hri_font),
        "r": (3, E._c_status), "a": (3, E._c_asb), "b": (3, E._c_ignore),
        "|": (3, E._c_ignore), "L": (4, E._c_margin), "W": (4, E._c_area),
        "P": (4, E._c_ignore), "$": (4, E._c_ignore), "\\": (4, E._c_ignore),
        "I": (3, E._c_not_emulated), "/": (3, E._c_print_downloaded),
        ":": (2, E._c_ignore), "^": (5, E._c_not_emulated), "T": (3, E._c_ignore),
        "E": (3, E._c_ignore),
        "V": (0, E._v_cut), "k": (0, E._v_barcode), "(": (0, E._v_paren),
        "8": (0, E._v_gs8), "v": (0, E._v_raster), "*": (0, E._v_define_downloaded),
    }
    fs: dict[str, tuple[int, _Handler]] = {
        "&": (2, E._c_kanji_on), ".": (2, E._c_kanji_off), "!": (3, E._c_ignore),
        "-": (3, E._c_ignore), "S": (4, E._c_ignore), "W": (3, E._c_ignore),
        "C": (3, E._c_ignore), "?": (4, E._c_ignore), "2": (76, E._c_ignore),
        "p": (4, E._c_nv_image),
        "q": (0, E._v_define_nv), "(": (0, E._v_paren),
    }
    table: dict[int, tuple[int, _Handler]] = {}
    for prefix, commands in ((_ESC, esc), (_GS, gs), (_FS, fs)):
        for char, spec in commands.items():
            table[prefix << 8 | ord(char)] = spec
    table[_DLE << 8 | _EOT] = (0, E._v_realtime_status)
    table[_DLE << 8 | _ENQ] = (0, E._v_realtime_request)
    table[_DLE << 8 | _DC4] = (0, E._v_realtime_dc4)
    return table


_COMMANDS = _command_table()


def parse(data: bytes, strict: bool = False, **options: Any) -> Roll:
    """Interpret a whole stream at once (``options`` as for :class:`EscPosInterpreter`).

    In strict mode the first problem raises :class:`~printer.errors.EscPosError`
    with its byte offset; otherwise problems are warnings in the roll.
    """
    interpreter = EscPosInterpreter(strict=strict, **options)
    interpreter.feed(data)
    return interpreter.finish()
