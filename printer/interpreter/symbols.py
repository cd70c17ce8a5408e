"""Symbols: 1D barcodes (GS k) and 2D codes (GS ( k: QR, PDF417, ...)."""

from __future__ import annotations

from printer.interpreter.codes import (
    _BARCODES_A,
    _BARCODES_B,
    _HRI,
    _HRI_FONTS,
    _QR_EC,
    _QR_MODELS,
    _SYMBOLOGIES_2D,
)
from printer.interpreter.core import InterpreterCore
from printer.roll import Barcode, Code2D, QRCode


class SymbolCommands(InterpreterCore):
    """Barcode and 2D code commands and their settings."""

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
