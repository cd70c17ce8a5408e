"""Byte values, parameter tables and command names the interpreter modules share."""

from __future__ import annotations

import re
from typing import Any

from printer.roll import Style

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
# ESC R n: the twelve bytes an international character set replaces, and what each set puts
# there (Epson's ESC R tables; sets 0-12 as in every Epson reference, 13-15 from the TM
# references). Sets 16 (Vietnam), 17 (Arabia) and the Indian sets 66-75, 82 have no table
# here: selecting one keeps the ASCII characters, with a notice.
_INTL_POSITIONS = (0x23, 0x24, 0x40, 0x5B, 0x5C, 0x5D, 0x5E, 0x60, 0x7B, 0x7C, 0x7D, 0x7E)
_INTL_CHARS = {
    0: "#$@[\\]^`{|}~",  # U.S.A.
    1: "#$à°ç§^`éùè¨",  # France
    2: "#$§ÄÖÜ^`äöüß",  # Germany
    3: "£$@[\\]^`{|}~",  # U.K.
    4: "#$@ÆØÅ^`æøå~",  # Denmark I
    5: "#¤ÉÄÖÅÜéäöåü",  # Sweden
    6: "#$@°\\é^ùàòèì",  # Italy
    7: "₧$@¡Ñ¿^`¨ñ}~",  # Spain I
    8: "#$@[¥]^`{|}~",  # Japan
    9: "#¤ÉÆØÅÜéæøåü",  # Norway
    10: "#$ÉÆØÅÜéæøåü",  # Denmark II
    11: "#$á¡Ñ¿é`íñóú",  # Spain II
    12: "#$á¡Ñ¿éüíñóú",  # Latin America
    13: "#$@[₩]^`{|}~",  # Korea
    14: "#$ŽŠĐĆČžšđćč",  # Slovenia / Croatia
    15: "#¥@[\\]^`{|}~",  # China
}
_INTL_TABLES: dict[tuple[str, int], str] = {}


def _intl_table(table: str, n: int) -> str:
    """``table`` (256 characters, a code page) with set ``n``'s twelve characters."""
    chars = _INTL_CHARS.get(n)
    if not n or chars is None:
        return table
    key = (table, n)
    done = _INTL_TABLES.get(key)
    if done is None:
        listed = list(table)
        for position, char in zip(_INTL_POSITIONS, chars, strict=True):
            listed[position] = char
        done = _INTL_TABLES.setdefault(key, "".join(listed))
    return done
# Style objects by their fields: equal styles are one object (runs merge by identity)
_STYLES: dict[tuple[Any, ...], Style] = {}
_new_tuple = tuple.__new__  # builds a TextRun without its Python-level __new__


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
