"""Text: the line buffer, styles, code pages, double-byte (GB18030) text, tabs, margins."""

from __future__ import annotations

from itertools import pairwise

from printer.interpreter.codepages import CodePages
from printer.interpreter.codes import (
    _ALIGN,
    _FONT_A_DOTS,
    _FONT_B_DOTS,
    _FONTS,
    _HIGH,
    _INTL_CHARS,
    _INTL_SETS,
    _NO_TABLE,
    _STYLES,
    _UNDERLINE,
    _intl_table,
)
from printer.interpreter.core import InterpreterCore
from printer.roll import Style


class TextCommands(InterpreterCore):
    """Text commands and the line buffer they fill."""

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
        self._table = _intl_table(table if table is not None else _NO_TABLE, self._intl)
        return self._table

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
            size = _gb18030_size(buf, k, j, at_end)
            if size < 0:  # a character cut by the end of the chunk: wait for the rest
                self._need = -size
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

    def _line_feed(self, offset: int) -> None:
        if self._runs:
            self._commit(False)
        elif self._line_graphics:
            self._line_graphics = False  # the LF printed a line of bit image
        else:
            self._append((offset, "", self._align, (), False))  # an empty line, packed

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
        self._table = _intl_table(table, self._intl)

    def _c_intl(self, buf: bytes, i: int, offset: int) -> None:
        n = buf[i + 2]
        if n not in _INTL_SETS:
            self._malformed(offset, f"ESC R {n}: unknown international character set")
            return
        if n not in _INTL_CHARS:
            self._notice(offset, f"ESC R {n}: the characters of this set are not modelled; "
                                 "ASCII is printed")
        self._intl = n
        self._table = None  # rebuilt with the set's characters on first use

    def _c_user_chars(self, buf: bytes, i: int, offset: int) -> None:
        self._user_chars = bool(buf[i + 2] & 1)

    def _c_spacing_default(self, buf: bytes, i: int, offset: int) -> None:
        self._line_spacing = None

    def _c_spacing(self, buf: bytes, i: int, offset: int) -> None:
        self._line_spacing = buf[i + 2]

    def _c_absolute(self, buf: bytes, i: int, offset: int) -> None:
        if self._blocked is None:
            self._move_to(buf[i + 2] | buf[i + 3] << 8, offset)

    def _c_relative(self, buf: bytes, i: int, offset: int) -> None:
        step = buf[i + 2] | buf[i + 3] << 8
        if step >= 0x8000:
            return  # moving left overprints; not representable as text
        if self._blocked is None:
            self._move_to(self._line_dots + step, offset)

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

    def _c_kanji_on(self, buf: bytes, i: int, offset: int) -> None:
        self._kanji = True

    def _c_kanji_off(self, buf: bytes, i: int, offset: int) -> None:
        self._kanji = False

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


def _gb18030_size(buf: bytes, k: int, j: int, at_end: bool) -> int:
    """Bytes of the GB18030 character at ``buf[k]`` (a non-ASCII byte, ``k < j``): 2 or 4;
    0 when it is not valid; ``-need`` when the text run ends the chunk (``at_end``) inside
    it and ``need`` bytes from ``k`` are wanted before deciding."""
    if not 0x81 <= buf[k] <= 0xFE:
        return 0
    if k + 1 >= j:
        return -2 if at_end else 0
    second = buf[k + 1]
    if 0x40 <= second <= 0xFE and second != 0x7F:
        return 2
    if not 0x30 <= second <= 0x39:
        return 0
    if k + 3 < j:
        return 4 if 0x81 <= buf[k + 2] <= 0xFE and 0x30 <= buf[k + 3] <= 0x39 else 0
    if at_end and (k + 2 >= j or 0x81 <= buf[k + 2] <= 0xFE):
        return -(j - k + 1)
    return 0
