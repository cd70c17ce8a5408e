"""A reader of X11 PCF bitmap fonts (``.pcf``, ``.pcf.gz``, ``.pcf.xz``), for drawing receipts.

Receipt printers draw text from bitmap fonts (Epson font A is a 12 x 24 dot cell, Chinese
models print 24 x 24 Song glyphs); a bitmap font draws the same dots on every machine,
where an outline font's rasterisation depends on the FreeType build. FreeType (through
Pillow) cannot look glyphs up in PCF fonts whose charset is not Unicode or Latin-1 (it
selects no character map for them), so the few tables a drawing needs are read here:
metrics, bitmaps, encodings and accelerators, as the format is documented in the X.Org
``pcf.h``/``pcfread.c`` sources.

:meth:`PcfFont.glyph` takes a character code *in the font's charset* (``ord(char)`` for an
ISO 10646 font, the two GB 2312 bytes without their high bits for ``gb24st``...) and
returns a :class:`Glyph`: its bitmap as rows of bits in a cell of the font's ascent plus
descent. :func:`font_code` does that mapping for the registries we use.
"""

from __future__ import annotations

import gzip
import lzma
import struct
from dataclasses import dataclass
from pathlib import Path

from printer.errors import PrinterConfigurationError

__all__ = ["Glyph", "PcfFont", "font_code"]

_PROPERTIES = 1 << 0
_ACCELERATORS = 1 << 1
_METRICS = 1 << 2
_BITMAPS = 1 << 3
_BDF_ENCODINGS = 1 << 5
_BDF_ACCELERATORS = 1 << 8

_COMPRESSED_METRICS = 0x100
_BYTE_MASK = 1 << 2  # most significant byte first
_BIT_MASK = 1 << 3  # most significant bit first


@dataclass(frozen=True, slots=True)
class Glyph:
    """One character: ``rows`` (``height`` integers, bit ``width - 1`` = leftmost dot).

    ``left`` is where the bitmap starts right of the pen, ``top`` its first row below
    the top of the font's cell (ascent + descent rows), ``advance`` the pen movement.
    """

    width: int
    height: int
    left: int
    top: int
    advance: int
    rows: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Metric:
    lsb: int
    rsb: int
    width: int
    ascent: int
    descent: int


class PcfFont:
    """A PCF font read into memory (glyph bitmaps are decoded when first asked for)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            raw = self.path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                data = gzip.decompress(raw)
            elif raw[:6] == b"\xfd7zXZ\x00":
                data = lzma.decompress(raw, format=lzma.FORMAT_XZ)
            else:
                data = raw
        except (OSError, EOFError, gzip.BadGzipFile, lzma.LZMAError) as exc:
            raise PrinterConfigurationError(f"cannot read font {self.path}: {exc}") from exc
        if data[:4] != b"\x01fcp":
            raise PrinterConfigurationError(f"{self.path} is not a PCF font")
        try:
            self._load(data)
        except (struct.error, IndexError, KeyError) as exc:
            raise PrinterConfigurationError(f"{self.path}: malformed PCF font ({exc})") from exc
        self._cache: dict[int, Glyph | None] = {}

    # -- public --------------------------------------------------------------------------

    @property
    def cell_height(self) -> int:
        """Rows of the font's cell: ascent plus descent."""
        return self.ascent + self.descent

    def glyph(self, code: int) -> Glyph | None:
        """The glyph of ``code`` (in the font's charset), or None when the font lacks it."""
        if code in self._cache:
            return self._cache[code]
        glyph = self._make(code)
        self._cache[code] = glyph
        return glyph

    # -- loading -------------------------------------------------------------------------

    def _load(self, data: bytes) -> None:
        (count,) = struct.unpack_from("<i", data, 4)
        tables: dict[int, tuple[int, int]] = {}
        for index in range(count):
            kind, fmt, _size, offset = struct.unpack_from("<iiii", data, 8 + 16 * index)
            tables[kind] = (fmt, offset)
        self._data = data
        self._metrics = self._read_metrics(*tables[_METRICS])
        self._bitmap_offsets, self._bitmap_base, self._bitmap_format = self._read_bitmaps(
            *tables[_BITMAPS])
        self._encoding = self._read_encodings(*tables[_BDF_ENCODINGS])
        accel = tables.get(_BDF_ACCELERATORS) or tables[_ACCELERATORS]
        self.ascent, self.descent = self._read_accelerators(*accel)
        self.charset = self._read_charset(*tables[_PROPERTIES]) if _PROPERTIES in tables else ""

    def _order(self, offset: int) -> tuple[int, str]:
        (fmt,) = struct.unpack_from("<i", self._data, offset)
        return fmt, ">" if fmt & _BYTE_MASK else "<"

    def _read_metrics(self, _fmt: int, offset: int) -> list[_Metric]:
        fmt, order = self._order(offset)
        metrics = []
        if fmt & _COMPRESSED_METRICS:
            (count,) = struct.unpack_from(order + "h", self._data, offset + 4)
            base = offset + 6
            for index in range(count):
                values = self._data[base + 5 * index : base + 5 * index + 5]
                lsb, rsb, width, ascent, descent = (v - 0x80 for v in values)
                metrics.append(_Metric(lsb, rsb, width, ascent, descent))
        else:
            (count,) = struct.unpack_from(order + "i", self._data, offset + 4)
            base = offset + 8
            for index in range(count):
                lsb, rsb, width, ascent, descent, _attrs = struct.unpack_from(
                    order + "hhhhhH", self._data, base + 12 * index)
                metrics.append(_Metric(lsb, rsb, width, ascent, descent))
        return metrics

    def _read_bitmaps(self, _fmt: int, offset: int) -> tuple[tuple[int, ...], int, int]:
        fmt, order = self._order(offset)
        (count,) = struct.unpack_from(order + "i", self._data, offset + 4)
        offsets = struct.unpack_from(f"{order}{count}i", self._data, offset + 8)
        base = offset + 8 + 4 * count + 16  # after the four bitmap sizes
        return tuple(offsets), base, fmt

    def _read_encodings(self, _fmt: int, offset: int) -> tuple[int, int, int, int, tuple[int, ...]]:
        _fmt2, order = self._order(offset)
        min2, max2, min1, max1, _default = struct.unpack_from(order + "hhhhh", self._data,
                                                              offset + 4)
        count = (max2 - min2 + 1) * (max1 - min1 + 1)
        indices = struct.unpack_from(f"{order}{count}H", self._data, offset + 14)
        return min2, max2, min1, max1, tuple(indices)

    def _read_accelerators(self, _fmt: int, offset: int) -> tuple[int, int]:
        _fmt2, order = self._order(offset)
        ascent, descent = struct.unpack_from(order + "ii", self._data, offset + 4 + 8)
        return ascent, descent

    def _read_charset(self, _fmt: int, offset: int) -> str:
        _fmt2, order = self._order(offset)
        (count,) = struct.unpack_from(order + "i", self._data, offset + 4)
        props = [struct.unpack_from(order + "iBi", self._data, offset + 8 + 9 * i)
                 for i in range(count)]
        pad = (4 - (count & 3)) & 3
        strings_base = offset + 8 + 9 * count + pad + 4
        values: dict[str, str] = {}
        for name_at, is_string, value in props:
            name = self._cstring(strings_base + name_at)
            if is_string:
                values[name] = self._cstring(strings_base + value)
        registry = values.get("CHARSET_REGISTRY", "")
        encoding = values.get("CHARSET_ENCODING", "")
        return f"{registry}-{encoding}".upper() if registry else ""

    def _cstring(self, at: int) -> str:
        end = self._data.index(b"\0", at)
        return self._data[at:end].decode("latin-1")

    # -- glyphs --------------------------------------------------------------------------

    def _index(self, code: int) -> int | None:
        min2, max2, min1, max1, indices = self._encoding
        byte1, byte2 = code >> 8, code & 0xFF
        if not (min1 <= byte1 <= max1 and min2 <= byte2 <= max2):
            return None
        index = indices[(byte1 - min1) * (max2 - min2 + 1) + (byte2 - min2)]
        return None if index == 0xFFFF or index >= len(self._metrics) else index

    def _make(self, code: int) -> Glyph | None:
        index = self._index(code)
        if index is None:
            return None
        metric = self._metrics[index]
        fmt = self._bitmap_format
        pad = 1 << (fmt & 3)
        width = metric.rsb - metric.lsb
        height = metric.ascent + metric.descent
        row_bytes = ((width + 7) // 8 + pad - 1) // pad * pad
        start = self._bitmap_base + self._bitmap_offsets[index]
        msb_bit = bool(fmt & _BIT_MASK)
        msb_byte = bool(fmt & _BYTE_MASK)
        unit = 1 << ((fmt >> 4) & 3)
        rows = []
        for r in range(height):
            chunk = bytearray(self._data[start + r * row_bytes : start + (r + 1) * row_bytes])
            if unit > 1 and msb_byte != msb_bit:  # scan units stored in the other order
                for u in range(0, len(chunk), unit):
                    chunk[u : u + unit] = chunk[u : u + unit][::-1]
            if not msb_bit:
                chunk = bytearray(int(f"{b:08b}"[::-1], 2) for b in chunk)
            value = int.from_bytes(chunk, "big") >> (row_bytes * 8 - width) if width else 0
            rows.append(value)
        return Glyph(width, height, metric.lsb, self.ascent - metric.ascent, metric.width,
                     tuple(rows))


def font_code(char: str, charset: str) -> int | None:
    """The code of ``char`` in a font of ``charset`` (``"ISO10646-1"``, ``"GB2312.1980-0"``
    ...), or None when the charset has no such character."""
    if charset.startswith("ISO10646"):
        code = ord(char)
        return code if code <= 0xFFFF else None
    if charset == "ISO8859-1":
        code = ord(char)
        return code if code <= 0xFF else None
    codec = {"GB2312.1980-0": "gb2312", "JISX0208.1983-0": "euc_jp",
             "KSC5601.1987-0": "euc_kr"}.get(charset)
    if codec is None:
        return None
    try:
        data = char.encode(codec)
    except UnicodeEncodeError:
        return None
    if len(data) != 2:
        return None
    return (data[0] & 0x7F) << 8 | (data[1] & 0x7F)
