"""The interpreter's state: the stream, the roll being built, warnings, conditions, modes.

:class:`InterpreterCore` holds what every concern shares and the public API
(``feed``, ``roll``, ``finish``, ``clear``, power); the command mixins
(:mod:`~printer.interpreter.text`, ``graphics``, ``symbols``, ``status``) act on it, and
:class:`~printer.interpreter.dispatch.EscPosInterpreter` puts them together with the
main loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import Any

from printer.errors import EscPosError, PrinterConfigurationError
from printer.interpreter.codepages import CodePages
from printer.interpreter.codes import (
    _DEFAULT_TABS,
    _FONT_A_DOTS,
    MAX_COMMAND_BYTES,
    MAX_WARNINGS,
    _command_name,
)
from printer.interpreter.paper import element_dots
from printer.interpreter.shelf import PackedLine, ReceiptShelf, ReceiptText
from printer.roll import (
    Buzz,
    DrawerPulse,
    Element,
    Feed,
    Receipt,
    Roll,
    RollWarning,
    StatusReply,
    Style,
)
from printer.state import PrinterState


class InterpreterCore:
    """The state and public API of :class:`~printer.interpreter.EscPosInterpreter`."""

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
        self._receipts = ReceiptShelf()  # closed receipts, packed
        self._elements: list[Element | PackedLine] = []  # text lines packed by the shelf
        self._charged = 0  # elements of _elements whose paper a finite roll has counted
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
        self.answer_realtime = True  # False: DLE EOT was answered on receipt (held bytes)
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
        if self._state.roll_length is not None:
            self._charge_paper()
            if self._state.revision != self._seen:  # the roll ran out in this chunk
                self._sync_state(self._offset)
        if not self._out:
            return b""
        reply = bytes(self._out)
        self._out.clear()
        return reply

    @property
    def roll(self) -> Roll:
        """The roll as if the stream ended now (feeding can go on afterwards)."""
        tail, extra = self._tail()
        return self._make_roll([*self._receipts.receipts(), *tail], [*self._warnings, *extra])

    def iter_receipts(self) -> Iterator[Receipt]:
        """``roll.receipts`` one at a time: a reader that keeps none holds one at a time."""
        tail, _ = self._tail()
        return chain(iter(self._receipts), tail)

    def iter_receipt_texts(self) -> Iterator[ReceiptText]:
        """What :meth:`iter_receipts` gives, as :class:`ReceiptText` (offsets, cut,
        ``truncated``, ``text``, ``is_blank``): read off the kept lines, no receipt built."""
        tail, _ = self._tail()
        return chain(self._receipts.texts(), map(ReceiptText.of, tail))

    def _tail(self) -> tuple[list[Receipt], list[RollWarning]]:
        """The receipt in progress, truncated (if any), and the end-of-stream warnings."""
        if self._state.revision != self._seen:
            self._sync_state(self._offset)
        extra = [RollWarning(self._line_offset, self._unprinted_reason())] if self._runs else []
        if self._pending:
            extra.append(RollWarning(self._pending_base, self._incomplete_reason()))
        if not self._elements:
            return [], extra
        warnings = tuple(self._warnings[self._receipt_warn :]) + tuple(extra)
        return [Receipt(tuple(map(self._receipts.unpack, self._elements)), self._receipt_start,
                        self._offset, None, True, warnings)], extra

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
        return self._make_roll(self._receipts.receipts(), self._warnings)

    def take(self) -> tuple[list[Receipt], list[RollWarning]]:
        """Hand over the receipts closed so far and the warnings outside the receipt in
        progress, and forget them, with the drawer pulses, buzzes and status replies.

        What a long-lived stream (a server's connection) calls after each chunk to keep
        its memory bounded; ``roll`` afterwards shows only what came since.
        """
        receipts = self._receipts.take()
        done = self._warnings[: self._receipt_warn]
        self._warnings = self._warnings[self._receipt_warn :]
        self._receipt_warn = 0
        self._pulses = []
        self._buzzes = []
        self._replies = []
        return receipts, done

    def clear(self) -> None:
        """Forget everything received (roll, warnings, offsets); keep the printer's modes.

        A new roll of paper on the same printer: what python-escpos's ``Dummy.clear()``
        means, and why python-escpos's remembered code page stays right.
        """
        self._offset = self._dropped = 0
        self._pending.clear()
        self._need = self._skip = 0
        self._out.clear()
        self._receipts = ReceiptShelf()
        self._elements = []
        self._charged = 0
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

    def modes(self) -> dict[str, Any]:
        """A snapshot of the printer's modes (what ``ESC @`` and a power cycle reset)."""
        return {name: _copied(getattr(self, name)) for name in _MODE_NAMES}

    def restore_modes(self, modes: dict[str, Any] | None) -> None:
        """Take over ``modes`` (from :meth:`modes` of another stream to the same
        printer), or the power-on modes for None."""
        if modes is None:
            self._reset_modes()
            return
        for name in _MODE_NAMES:
            setattr(self, name, _copied(modes[name]))

    def power_loss(self) -> None:
        """Cut the printer's power now (same as ``state.power_off()``, noticed at once)."""
        self._state.power_off()
        self._sync_state(self._offset)

    def power_on(self) -> None:
        """Restore the printer's power."""
        self._state.power_on()
        self._sync_state(self._offset)

    def _run(self, buf: bytes, base: int) -> int:
        """Interpret ``buf`` at stream offset ``base``: the main loop, in ``dispatch``."""
        raise NotImplementedError

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

    def _incomplete_reason(self) -> str:
        name = _command_name(self._pending, 0)
        if self._kanji and self._pending[0] >= 0x80:
            name = "double-byte character"
        return f"incomplete {name} at end of stream ({len(self._pending)} bytes)"

    def _unprinted_reason(self) -> str:
        text = "".join(run[0] for run in self._runs)
        return f"text never printed (no line feed before the end): {text[:40]!r}"

    def _charge_paper(self) -> None:
        """Count the paper of the elements printed since the last count (a finite roll)."""
        elements = self._elements
        if self._charged < len(elements):
            spacing, unpack = self._line_spacing, self._receipts.unpack
            self._state.use_paper(sum(element_dots(unpack(element), spacing)
                                      for element in elements[self._charged :]))
            self._charged = len(elements)

    def _close(self, end: int, cut: str | None, truncated: bool) -> None:
        if self._elements:
            if self._state.roll_length is not None:
                self._charge_paper()
            warnings = tuple(self._warnings[self._receipt_warn :])
            self._receipts.add(self._elements, self._receipt_start, end, cut, truncated,
                               warnings)
            self._elements = []
            self._charged = 0
        self._receipt_start = end
        self._receipt_warn = len(self._warnings)
        self._merge_column = False

    def _append(self, element: Element | PackedLine) -> None:
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
        if data and (self.answer_realtime or not request.startswith("DLE EOT")):
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

    def _at_line_start(self) -> bool:
        return not self._runs and not self._line_graphics

    # -- the line buffer and the cut ----------------------------------------------------

    def _commit(self, wrapped: bool) -> None:
        self._append(self._receipts.pack_runs(self._line_offset, self._runs, self._align,
                                              wrapped))
        self._clear_line()

    def _clear_line(self) -> None:
        self._runs = []
        self._line_dots = 0
        self._line_offset = -1
        self._line_graphics = False

    def _print_line(self, offset: int) -> None:
        """Print what the line buffer holds, if anything (before a feed, a code, ...)."""
        if self._runs:
            self._commit(False)
        else:
            self._line_graphics = False

    def _wait(self, need: int) -> int:
        self._need = need
        return -1

    def _oversize(self, i: int, offset: int, header: int, size: int, buf: bytes) -> int:
        self._malformed(offset, f"{_command_name(buf, i)} declares {size} bytes of data, over "
                                f"the {self._max_command}-byte limit: skipped")
        self._skip = size
        return i + header

    def _cut(self, offset: int, end: int, cut: str, feed_dots: int) -> None:
        if self._blocked is not None:
            return
        if not self._at_line_start():
            self._notice(offset, "cut ignored: not at the beginning of a line")
            return
        if feed_dots:
            self._append(Feed(offset, dots=feed_dots))
        self._close(end, cut, False)
        if self._state.roll_length is not None and self._state.revision != self._seen:
            self._sync_state(end)  # this receipt used up the roll


def _copied(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


class _ModeNames:
    """Records the attributes ``_reset_modes`` sets: the printer's modes."""

    names: list[str]

    def __init__(self) -> None:
        object.__setattr__(self, "names", [])
        object.__setattr__(self, "_full", 0)
        object.__setattr__(self, "_kanji_default", False)

    def __setattr__(self, name: str, value: Any) -> None:
        self.names.append(name)


def _mode_names() -> tuple[str, ...]:
    probe = _ModeNames()
    InterpreterCore._reset_modes(probe)  # type: ignore[arg-type]  # noqa: SLF001
    return tuple(probe.names)


_MODE_NAMES = _mode_names()
