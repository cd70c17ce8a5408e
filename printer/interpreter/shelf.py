"""The receipts an interpreter has closed, kept compactly until somebody reads them.

A long stream (a simulated day of 3,000 receipts) keeps every receipt it printed; as
:class:`~printer.roll.TextLine` and :class:`~printer.roll.TextRun` objects that is ~50
objects a receipt that Python's cyclic garbage collector walks on every full collection
for the rest of the stream (on such a day most of a sale's collector cost). The shelf
keeps a text line as a plain tuple of strings and integers instead, which the collector
stops tracking after its first look at it; a receipt keeps only its other elements
(barcodes, feeds ...), its elements' tuple and its warnings as objects.

A packed text line (:data:`PackedLine`) is ``(offset, text, align, runs, wrapped)``:
``runs`` is the index of the line's one style (its one run is the line's text) or a
tuple of ``(text, index)`` pairs, indexes into the shelf's table of styles
(:meth:`ReceiptShelf.index`). The interpreter writes its text lines packed from the
start (no ``TextLine`` is built only to be taken apart); :meth:`ReceiptShelf.add` packs
those given as objects. :meth:`ReceiptShelf.receipts` builds the receipts again, equal to
the receipts of the elements given to :meth:`ReceiptShelf.add` (new objects on every
call; the warnings are the very objects given). :meth:`ReceiptShelf.texts` gives what a
reader of the text wants (:class:`ReceiptText`: the offsets, ``truncated``, ``text``,
``is_blank``) straight from the packed lines, without building the receipts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from printer.interpreter.codes import _new_tuple
from printer.roll import _CONTENT, Element, Receipt, RollWarning, Style, TextLine, TextRun

__all__ = ["PackedLine", "ReceiptShelf", "ReceiptText"]

#: a text line as the shelf keeps it: (offset, text, align, style index or
#: ((text, style index), ...), wrapped)
PackedLine = tuple[int, str, str, "int | tuple[tuple[str, int], ...]", bool]

# (elements, start_offset, end_offset, cut, truncated, warnings)
_Packed = tuple[tuple[Any, ...], int, int, "str | None", bool, tuple[RollWarning, ...]]


class ReceiptText(NamedTuple):
    """What :class:`~printer.roll.Receipt` says of its text, without its elements:
    ``text`` and ``is_blank`` are those of the receipt (same rules, same values)."""

    start_offset: int
    end_offset: int
    cut: str | None
    truncated: bool
    text: str
    is_blank: bool

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptText:
        """The text of a receipt built as an object."""
        return cls(receipt.start_offset, receipt.end_offset, receipt.cut, receipt.truncated,
                   receipt.text, receipt.is_blank)


def _text_of(elements: Iterable[Any]) -> tuple[str, bool]:
    """``Receipt.text`` and ``Receipt.is_blank`` of packed elements."""
    lines = []
    blank = True
    for element in elements:
        if type(element) is tuple:
            line = element[1].rstrip()
            lines.append(line)
            if line:  # something left of rstrip() is not whitespace: strip() keeps it
                blank = False
        elif blank and isinstance(element, _CONTENT):
            blank = False
    return "\n".join(lines).strip("\n"), blank


class ReceiptShelf:
    """Closed receipts, text lines packed as plain tuples (see the module's text)."""

    __slots__ = ("_packed", "_style_ids", "_styles")

    def __init__(self) -> None:
        self._packed: list[_Packed] = []
        self._styles: list[Style] = []
        self._style_ids: dict[int, int] = {}  # id(style) -> its index (the table keeps it)

    def __len__(self) -> int:
        return len(self._packed)

    def add(self, elements: Iterable[Element | PackedLine], start: int, end: int,
            cut: str | None, truncated: bool, warnings: tuple[RollWarning, ...]) -> None:
        """Keep a receipt made of ``elements`` (what :class:`Receipt` takes, text lines
        as objects or packed by this shelf)."""
        pack = self.pack
        packed = tuple(pack(e) if type(e) is TextLine else e for e in elements)
        self._packed.append((packed, start, end, cut, truncated, warnings))

    def __iter__(self) -> Iterator[Receipt]:
        """The receipts kept, oldest first, built one at a time (those kept when the
        iteration starts)."""
        unpack = self.unpack
        for elements, start, end, cut, truncated, warnings in tuple(self._packed):
            yield Receipt(tuple(unpack(e) for e in elements), start, end, cut, truncated,
                          warnings)

    def texts(self) -> Iterator[ReceiptText]:
        """The text of each receipt kept, oldest first (those kept when it starts)."""
        for elements, start, end, cut, truncated, _ in tuple(self._packed):
            text, blank = _text_of(elements)
            yield ReceiptText(start, end, cut, truncated, text, blank)

    def receipts(self) -> list[Receipt]:
        """The receipts kept, oldest first (new objects, equal to those added)."""
        return list(self)

    def take(self) -> list[Receipt]:
        """The receipts kept, and forget them."""
        receipts = self.receipts()
        self._packed = []
        return receipts

    def index(self, style: Style) -> int:
        """The index of ``style`` in this shelf's table (added when new)."""
        index = self._style_ids.get(id(style))
        if index is None:
            index = self._style_ids[id(style)] = len(self._styles)
            self._styles.append(style)
        return index

    def pack_runs(self, offset: int, runs: list[list[Any]], align: str,
                  wrapped: bool) -> PackedLine:
        """The packed line of the line buffer's ``[text, style]`` runs (at least one)."""
        if len(runs) == 1:
            text, style = runs[0]
            return (offset, text, align, self.index(style), wrapped)
        index = self.index
        return (offset, "".join(run[0] for run in runs), align,
                tuple((text, index(style)) for text, style in runs), wrapped)

    def pack(self, line: TextLine) -> PackedLine:
        """``line`` packed."""
        runs = line.runs
        packed_runs: int | tuple[tuple[str, int], ...]
        if len(runs) == 1 and runs[0][0] == line.text:
            packed_runs = self.index(runs[0][1])
        else:
            index = self.index
            packed_runs = tuple((text, index(style)) for text, style in runs)
        return (line.offset, line.text, line.align, packed_runs, line.wrapped)

    def unpack(self, element: Element | PackedLine) -> Element:
        """The element as an object (a packed text line as its :class:`TextLine`)."""
        if type(element) is not tuple:
            return element  # type: ignore[return-value]  # an Element: not a plain tuple
        offset, text, align, packed_runs, wrapped = element
        styles = self._styles
        runs: tuple[TextRun, ...]
        if type(packed_runs) is int:
            runs = (_new_tuple(TextRun, (text, styles[packed_runs])),)
        else:
            runs = tuple(_new_tuple(TextRun, (run_text, styles[index]))
                         for run_text, index in packed_runs)  # type: ignore[union-attr]
        return TextLine(offset, text, align, runs, wrapped)
