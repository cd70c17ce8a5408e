"""``read_slip`` reads a labelled line without a regular expression: the same as the
expression that documents it (``layout._LINE``), on any line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.receipts.layout import _LINE, _labelled

BLANKS = st.sampled_from([" ", "\t", "\u00a0", "\u2003", "\u3000", "\x0b", "\x1f", ""])
PIECES = st.one_of(
    BLANKS,
    st.text(st.sampled_from("ABZ :-*"), max_size=6),
    st.text(st.characters(codec="utf-8"), max_size=6),
)
LINES = st.lists(PIECES, max_size=8).map("".join)


def _reference(line: str) -> tuple[str, str] | None:
    match = _LINE.match(line)
    return None if match is None else (match.group(1), match.group(2))


@given(LINES)
def test_labelled_is_the_expression(line: str) -> None:
    for part in line.splitlines() or [line]:  # read_slip reads the lines of a text
        assert _labelled(part) == _reference(part)
        assert _labelled(part.strip()) == _reference(part.strip())


def test_examples() -> None:
    assert _labelled("AMOUNT:      65.37 EUR") == ("AMOUNT", "65.37 EUR")
    assert _labelled("SALE: VISA") == ("SALE", "VISA")
    assert _labelled("A B:\u00a0x y \t") == ("A B", "x y")
    for line in ("TID:", "TID:x", ":  x", "Tid:  x", "T1:  x", "APPROVED", "THANK YOU"):
        assert _labelled(line) is None, line
        assert _reference(line) is None, line
