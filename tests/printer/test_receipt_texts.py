"""``iter_receipt_texts``: a receipt's text read off the packed lines is what the receipt
object says (``printer.interpreter.shelf.ReceiptText``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from printer.interpreter import EscPosInterpreter
from printer.interpreter.shelf import ReceiptShelf, ReceiptText
from printer.roll import DEFAULT_STYLE, Element, Feed, QRCode, Receipt, TextLine, TextRun
from printer.state import PrinterState
from tests.printer.test_fuzz_interpreter import FUZZ, STREAMS, chunks


def _texts_of_objects(interpreter: EscPosInterpreter) -> list[ReceiptText]:
    return [ReceiptText.of(receipt) for receipt in interpreter.iter_receipts()]


@FUZZ
@given(STREAMS, st.lists(st.integers(0, 10_000), max_size=4), st.booleans(),
       st.none() | st.integers(1, 400))
def test_texts_are_those_of_the_receipts(data: bytes, cuts: list[int], chinese: bool,
                                         roll_dots: int | None) -> None:
    state = PrinterState(roll_length=roll_dots) if roll_dots else None
    interpreter = EscPosInterpreter(chinese_mode=chinese, state=state)
    for chunk in chunks(data + b"\x1dV\x00" + data, cuts):
        interpreter.feed(chunk)
        assert list(interpreter.iter_receipt_texts()) == _texts_of_objects(interpreter)
    interpreter.finish()
    assert list(interpreter.iter_receipt_texts()) == _texts_of_objects(interpreter)


def test_blank_and_whitespace_lines() -> None:
    shelf = ReceiptShelf()
    blank: list[Element] = [TextLine(0, "  \t ", "left", (TextRun("  \t ", DEFAULT_STYLE),)),
             TextLine(5, "", "left"), Feed(6, lines=3)]
    shelf.add(blank, 0, 10, "full", False, ())
    shelf.add([*blank, QRCode(7, b"x")], 10, 20, "full", False, ())
    shelf.add([TextLine(20, "", "left"), TextLine(21, " A  ", "center",
                                                  (TextRun(" A  ", DEFAULT_STYLE),)),
               TextLine(25, "", "left")], 20, 30, None, True, ())
    texts = list(shelf.texts())
    assert texts == [ReceiptText.of(receipt) for receipt in shelf]
    assert [(t.text, t.is_blank) for t in texts] == [("", True), ("", False), (" A", False)]
    assert texts[2] == ReceiptText(20, 30, None, True, " A", False)
    assert texts[0] == ReceiptText.of(Receipt(tuple(blank), 0, 10, "full"))
