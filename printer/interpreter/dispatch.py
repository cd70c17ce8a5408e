"""Dispatch: the main loop, the command table, and the commands that move the paper."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Any

from printer.interpreter.codes import (
    _CONTROL,
    _CUTS,
    _DC4,
    _DESELECTED_WAKE,
    _DLE,
    _ENQ,
    _EOT,
    _ESC,
    _FS,
    _GS,
    _GS_PAREN_SETTINGS,
    _PREFIXES,
    _command_name,
)
from printer.interpreter.graphics import GraphicsCommands
from printer.interpreter.status import StatusCommands
from printer.interpreter.symbols import SymbolCommands
from printer.interpreter.text import TextCommands
from printer.roll import Buzz, Feed, Roll

_Handler = Callable[..., Any]  # an unbound command method: (self, buf, i, offset)


class EscPosInterpreter(TextCommands, GraphicsCommands, SymbolCommands, StatusCommands):
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

    #: whole ``GS ( k`` commands run from the main loop (False: through ``_command``,
    #: the reference the tests hold it to)
    symbols_inline = True

    def _run(self, buf: bytes, base: int) -> int:
        """Interpret ``buf`` (at stream offset ``base``); return how much was consumed.

        When less than all, the rest is an incomplete command and ``_need`` says how many
        bytes (from there) to wait for.
        """
        n = len(buf)
        i = 0
        search = _CONTROL.search
        charmap_decode = codecs.charmap_decode
        fixed = _FIXED
        if self._deselected:
            i = self._run_deselected(buf, 0, base)
            if self._deselected:
                return i
        while i < n:
            b = buf[i]
            if b >= 0x20:  # a run of text up to the next control byte
                match = search(buf, i)
                j = match.start() if match is not None else n
                if self._kanji or self._blocked is not None:
                    k = self._other_text(buf, i, j, base)
                    if k < j:
                        return k
                else:
                    table = self._table or self._load_table()  # a table is never empty
                    text = charmap_decode(buf[i:j], None, table)[0]
                    style = self._style or self._make_style()  # a Style is never false
                    if (j < n and buf[j] == 0x0A and not self._runs and not self._line_graphics
                            and len(text) * self._cw <= self._limit):
                        # The common case, a whole line and its LF: print it directly.
                        self._merge_column = False
                        self._elements.append((base + i, text, self._align,
                                               self._receipts.index(style), False))
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
                # a whole command of fixed length, the common case, runs here, and a
                # whole GS ( k; the rest (incomplete, unknown, of variable length,
                # deselecting) in _command
                spec = fixed.get(buf[i : i + 2])
                if spec is not None and spec[0] <= n - i:
                    spec[1](self, buf, i, base + i)
                    i += spec[0]
                    continue
                if buf[i : i + 3] == b"\x1d(k" and i + 5 <= n and self.symbols_inline:
                    # a whole GS ( k (a slip's QR code is five) goes to the symbol as
                    # _command and _v_paren would send it
                    end = i + 5 + (buf[i + 3] | buf[i + 4] << 8)
                    if end - i - 5 <= self._max_command and end <= n:
                        self._symbol(buf[i + 5 : end], base + i)
                        i = end
                        continue
                i = self._command(buf, i, base)
                if self._need:
                    return i
                continue
            self._control(b, base + i)
            i += 1
        return n

    def _other_text(self, buf: bytes, i: int, j: int, base: int) -> int:
        """Text ``buf[i:j]`` in double-byte mode, or while printing is blocked (then it is
        dropped); the index up to which it was taken (less than ``j``: an incomplete
        character waits for more bytes)."""
        if self._kanji:
            return self._kanji_text(buf, i, j, base, j == len(buf))
        return j

    def _command(self, buf: bytes, i: int, base: int) -> int:
        """Run the command at ``buf[i]``; the index after it, or ``i`` with ``_need`` set
        when it is incomplete."""
        n = len(buf)
        b = buf[i]
        if i + 1 >= n:
            self._need = 2
            return i
        spec = _COMMANDS.get(b << 8 | buf[i + 1])
        if spec is None:
            self._malformed(base + i, f"unknown command {_command_name(buf, i, 2)}")
            return i + (1 if b == _DLE else 2)
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
        return i

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

    def _c_init(self, buf: bytes, i: int, offset: int) -> None:
        if self._runs:
            self._notice(offset, "ESC @ discarded text never printed")
        self._clear_line()
        self._reset_modes()

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

    def _c_select(self, buf: bytes, i: int, offset: int) -> None:
        self._deselected = not buf[i + 2] & 1

    def _c_ignore(self, buf: bytes, i: int, offset: int) -> None:
        pass  # accepted, no effect on what is printed

    def _c_not_emulated(self, buf: bytes, i: int, offset: int) -> None:
        self._notice(offset, f"{_command_name(buf, i)} not emulated (no answer sent)")

    def _c_page_mode(self, buf: bytes, i: int, offset: int) -> None:
        self._notice(offset, "ESC L (page mode) not emulated: printing in standard mode")


def _command_table() -> dict[int, tuple[int, _Handler]]:
    # handlers by method name, looked up once here: the main loop calls them unbound
    esc: dict[str, tuple[int, str]] = {
        "@": (2, "_c_init"), "E": (3, "_c_bold"), "G": (3, "_c_double_strike"),
        "-": (3, "_c_underline"), "{": (3, "_c_upside_down"), "V": (3, "_c_rotate"),
        "r": (3, "_c_color"), "!": (3, "_c_print_mode"), "M": (3, "_c_font"),
        " ": (3, "_c_char_spacing"), "a": (3, "_c_align"), "t": (3, "_c_code_page"),
        "R": (3, "_c_intl"), "%": (3, "_c_user_chars"), "?": (3, "_c_ignore"),
        "2": (2, "_c_spacing_default"), "3": (3, "_c_spacing"), "A": (3, "_c_spacing"),
        "+": (3, "_c_spacing"), "d": (3, "_c_feed_lines"), "J": (3, "_c_feed_dots"),
        "e": (3, "_c_reverse_feed"), "K": (3, "_c_reverse_feed"),
        "i": (2, "_c_cut_partial"), "m": (2, "_c_cut_partial"), "p": (5, "_c_drawer"),
        "B": (4, "_c_buzzer"), "=": (3, "_c_select"), "$": (4, "_c_absolute"),
        "\\": (4, "_c_relative"), "c": (4, "_c_ignore"), "L": (2, "_c_page_mode"),
        "S": (2, "_c_ignore"), "T": (3, "_c_ignore"), "W": (10, "_c_ignore"),
        "U": (3, "_c_ignore"), "u": (3, "_c_transmit_drawer"), "v": (2, "_c_transmit_paper"),
        "\x0c": (2, "_c_ignore"),
        "D": (0, "_v_tabs"), "*": (0, "_v_bit_image"), "&": (0, "_v_define_chars"),
        "(": (0, "_v_paren"),
    }
    gs: dict[str, tuple[int, str]] = {
        "!": (3, "_c_size"), "B": (3, "_c_invert"), "h": (3, "_c_barcode_height"),
        "w": (3, "_c_barcode_width"), "H": (3, "_c_hri"), "f": (3, "_c_hri_font"),
        "r": (3, "_c_status"), "a": (3, "_c_asb"), "b": (3, "_c_ignore"),
        "|": (3, "_c_ignore"), "L": (4, "_c_margin"), "W": (4, "_c_area"),
        "P": (4, "_c_ignore"), "$": (4, "_c_ignore"), "\\": (4, "_c_ignore"),
        "I": (3, "_c_not_emulated"), "/": (3, "_c_print_downloaded"),
        ":": (2, "_c_ignore"), "^": (5, "_c_not_emulated"), "T": (3, "_c_ignore"),
        "E": (3, "_c_ignore"),
        "V": (0, "_v_cut"), "k": (0, "_v_barcode"), "(": (0, "_v_paren"),
        "8": (0, "_v_gs8"), "v": (0, "_v_raster"), "*": (0, "_v_define_downloaded"),
    }
    fs: dict[str, tuple[int, str]] = {
        "&": (2, "_c_kanji_on"), ".": (2, "_c_kanji_off"), "!": (3, "_c_ignore"),
        "-": (3, "_c_ignore"), "S": (4, "_c_ignore"), "W": (3, "_c_ignore"),
        "C": (3, "_c_ignore"), "?": (4, "_c_ignore"), "2": (76, "_c_ignore"),
        "p": (4, "_c_nv_image"),
        "q": (0, "_v_define_nv"), "(": (0, "_v_paren"),
    }
    names: dict[int, tuple[int, str]] = {}
    for prefix, commands in ((_ESC, esc), (_GS, gs), (_FS, fs)):
        for char, spec in commands.items():
            names[prefix << 8 | ord(char)] = spec
    names[_DLE << 8 | _EOT] = (0, "_v_realtime_status")
    names[_DLE << 8 | _ENQ] = (0, "_v_realtime_request")
    names[_DLE << 8 | _DC4] = (0, "_v_realtime_dc4")
    return {key: (length, getattr(EscPosInterpreter, name))
            for key, (length, name) in names.items()}


_COMMANDS = _command_table()
#: the commands of fixed length by their first two bytes, but ESC = (which may deselect
#: the printer): the main loop runs these itself when the whole command is there
_FIXED = {bytes((key >> 8, key & 0xFF)): spec for key, spec in _COMMANDS.items()
          if spec[0] and key != _ESC << 8 | 0x3D}


def parse(data: bytes, strict: bool = False, **options: Any) -> Roll:
    """Interpret a whole stream at once (``options`` as for :class:`EscPosInterpreter`).

    In strict mode the first problem raises :class:`~printer.errors.EscPosError`
    with its byte offset; otherwise problems are warnings in the roll.
    """
    interpreter = EscPosInterpreter(strict=strict, **options)
    interpreter.feed(data)
    return interpreter.finish()
