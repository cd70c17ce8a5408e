"""The interpreter's closed receipts kept compactly (``printer.interpreter.shelf``)."""

from __future__ import annotations

import gc

from printer.interpreter import EscPosInterpreter
from printer.interpreter.shelf import ReceiptShelf
from printer.roll import DEFAULT_STYLE, Feed, QRCode, Receipt, RollWarning, Style, TextLine, TextRun

BOLD = Style(bold=True)
WIDE = Style(width=2, underline=1)


def _receipt() -> Receipt:
    return Receipt(
        (TextLine(0, "ONE STYLE", "center", (TextRun("ONE STYLE", BOLD),)),
         TextLine(10, "AB", "left", (TextRun("A", DEFAULT_STYLE), TextRun("B", WIDE)), True),
         TextLine(14, "", "right"),
         TextLine(15, "ODD", "left", (TextRun("OTHER", BOLD),)),
         QRCode(20, b"https://x", size=4),
         Feed(40, lines=2)),
        0, 50, "partial", False, (RollWarning(12, "something"),))


def test_a_receipt_comes_back_equal_with_its_warnings_themselves() -> None:
    shelf = ReceiptShelf()
    receipt = _receipt()
    shelf.add(list(receipt.elements), 0, 50, "partial", False, receipt.warnings)
    shelf.add([TextLine(60, "X", "left", (TextRun("X", WIDE),))], 50, 70, None, True, ())
    back = shelf.receipts()
    assert back[0] == receipt
    assert back[0].warnings[0] is receipt.warnings[0]  # printer.sessions joins them by id
    assert back[1] == Receipt((TextLine(60, "X", "left", (TextRun("X", WIDE),)),),
                              50, 70, None, True, ())
    assert [r.text for r in shelf] == [r.text for r in back]
    assert len(shelf) == 2
    assert shelf.take() == back
    assert len(shelf) == 0
    assert shelf.receipts() == []


STREAM = b"\x1b@" + b"".join(
    b"\x1ba\x01\x1bE\x01SHOP %d\n\x1bE\x00\x1ba\x00" % n
    + b"".join(b"LINE %d OF RECEIPT %d\n" % (i, n) for i in range(12))
    + b"A\x1b!\x30WIDE\x1b!\x00\n\x1dV\x00"
    for n in range(300))


def test_a_long_roll_leaves_little_for_the_collector_to_walk() -> None:
    gc.collect()
    before = len(gc.get_objects())
    interpreter = EscPosInterpreter()
    interpreter.feed(STREAM)
    gc.collect()
    kept = len(gc.get_objects()) - before
    # 14 text lines a receipt: as TextLine objects that was ~50 tracked objects each
    assert kept < 300 * 4, kept
    receipts = interpreter.roll.receipts
    assert len(receipts) == 300
    assert receipts[7].lines[0] == "SHOP 7"
    first, last = receipts[7].elements[0], receipts[7].elements[-1]
    assert isinstance(first, TextLine)
    assert first.style.bold
    assert isinstance(last, TextLine)
    assert [run.text for run in last.runs] == ["A", "WIDE"]


def test_iter_receipts_is_the_roll_one_at_a_time() -> None:
    interpreter = EscPosInterpreter()
    interpreter.feed(STREAM[:5000] + b"UNFINISHED")  # a receipt in progress, text unprinted
    roll = interpreter.roll
    assert roll.receipts[-1].truncated
    assert roll.receipts[-1].warnings
    assert list(interpreter.iter_receipts()) == list(roll.receipts)
