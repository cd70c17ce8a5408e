"""The receipts an interpreter has closed, kept compactly until somebody reads them.

A long stream (a simulated day of 3,000 receipts) keeps every receipt it printed; as
:class:`~printer.roll.TextLine` and :class:`~printer.roll.TextRun` objects that is ~50
objects a receipt that Python's cyclic garbage collector walks on every full collection
for the rest of the stream (on such a day most of a sale's collector cost). The shelf
keeps a text line as a plain tuple of strings and integers instead, which the collector
stops tracking after its first look at it; a receipt keeps only its other elements
(barcodes, feeds ...), its elements' tuple and its warnings as objects.

A packed text line is ``(offset, text, align, runs, wrapped)``: ``runs`` is the index of
the line's one style (its one run is the line's text) or a tuple of ``(text, index)``
pairs, indexes into the shelf's table of styles. :meth:`ReceiptShelf.receipts` builds
the receipts again, equal to those given to :meth:`ReceiptShelf.add` (new objects on
every call; the warnings are the very objects given).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from printer.interpreter.codes import _new_tuple
from printer.roll import Element, Receipt, RollWarning, Style, TextLine, TextRun

__all__ = ["ReceiptShelf"]

# (elements, start_offset, end_offset, cut, truncated, warnings)
_Packed = tuple[tuple[Any, ...], int, int, "str | None", bool, tuple[RollWarning, ...]]


class ReceiptShelf:
    """Closed receipts, text lines packed as plain tuples (see the module's text)."""

    __slots__ = ("_packed", "_style_ids", "_styles")

    def __init__(self) -> None:
        self._packed: list[_Packed] = []
        self._styles: list[Style] = []
        self._style_ids: dict[int, int] = {}  # id(style) -> its index (the table keeps it)

    def __len__(self) -> int:
        return len(self._packed)

    def add(self, elements: list[Element], start: int, end: int, cut: str | None,
            truncated: bool, warnings: tuple[RollWarning, ...]) -> None:
        """Keep a receipt made of ``elements`` (what :class:`Receipt` takes)."""
        pack = self._pack_line
        packed = tuple(pack(e) if type(e) is TextLine else e for e in elements)
        self._packed.append((packed, start, end, cut, truncated, warnings))

    def __iter__(self) -> Iterator[Receipt]:
        """The receipts kept, oldest first, built one at a time (those kept when the
        iteration starts)."""
        unpack = self._unpack_line
        for elements, start, end, cut, truncated, warnings in tuple(self._packed):
            yield Receipt(tuple(unpack(e) if type(e) is tuple else e for e in elements),
                          start, end, cut, truncated, warnings)

    def receipts(self) -> list[Receipt]:
        """The receipts kept, oldest first (new objects, equal to those added)."""
        return list(self)

    def take(self) -> list[Receipt]:
        """The receipts kept, and forget them."""
        receipts = self.receipts()
        self._packed = []
        return receipts

    def _style_index(self, style: Style) -> int:
        index = self._style_ids.get(id(style))
        if index is None:
            index = self._style_ids[id(style)] = len(self._styles)
            self._styles.append(style)
        return index

    def _pack_line(self, line: TextLine) -> tuple[Any, ...]:
        runs = line.runs
        packed_runs: int | tuple[tuple[str, int], ...]
        if len(runs) == 1 and runs[0][0] == line.text:
            packed_runs = self._style_index(runs[0][1])
        else:
            index = self._style_index
            packed_runs = tuple((text, index(style)) for text, style in runs)
        return (line.offset, line.text, line.align, packed_runs, line.wrapped)

    def _unpack_line(self, packed: tuple[Any, ...]) -> TextLine:
        offset, text, align, packed_runs, wrapped = packed
        styles = self._styles
        runs: tuple[TextRun, ...]
        if type(packed_runs) is int:
            runs = (_new_tuple(TextRun, (text, styles[packed_runs])),)
        else:
            runs = tuple(_new_tuple(TextRun, (run_text, styles[index]))
                         for run_text, index in packed_runs)
        return TextLine(offset, text, align, runs, wrapped)
