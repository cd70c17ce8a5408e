"""Hand-made ESC/POS streams read back against the text the Epson reference says they
print (tests/printer/corpus/README.md: each ``NAME.bin`` with its ``NAME.txt``, written by
hand). No ESC/POS reader we did not write installs from the package registries (the
escpos-tools reader is PHP; PyPI and npm hold encoders, not readers), so the reference is
the independent party."""

from __future__ import annotations

from pathlib import Path

import pytest

from printer.interpreter import parse
from printer.roll import TextLine

CORPUS = Path(__file__).parent / "corpus"
STREAMS = sorted(path.stem for path in CORPUS.glob("*.bin"))


def _printed(data: bytes) -> str:
    lines = []
    for receipt in parse(data).receipts:
        for element in receipt.elements:
            if isinstance(element, TextLine):
                prefix = "" if element.align == "left" else f"<{element.align}>"
                lines.append(prefix + element.text)
        lines.append(f"--- cut: {receipt.cut or 'none'} ---")
    return "\n".join(lines) + "\n"


def test_every_stream_has_its_expected_text() -> None:
    assert len(STREAMS) >= 9
    assert sorted(path.stem for path in CORPUS.glob("*.txt")) == STREAMS


@pytest.mark.parametrize("name", STREAMS)
def test_the_stream_prints_what_the_reference_says(name: str) -> None:
    expected = (CORPUS / f"{name}.txt").read_text(encoding="utf-8")
    assert _printed((CORPUS / f"{name}.bin").read_bytes()) == expected


def test_esc_r_2_prints_the_german_characters() -> None:
    roll = parse(b"\x1bR\x02@[\\]{|}~\n")
    assert roll.receipts[0].text == "§ÄÖÜäöüß"
    assert not roll.warnings


def test_a_set_without_a_table_prints_ascii_and_says_so() -> None:
    roll = parse(b"\x1bR\x10@[\\]\n")
    assert roll.receipts[0].text == "@[\\]"
    assert [w.reason for w in roll.warnings] == [
        "ESC R 16: the characters of this set are not modelled; ASCII is printed"]
