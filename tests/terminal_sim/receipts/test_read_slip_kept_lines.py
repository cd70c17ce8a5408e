"""``read_slip`` keeps what each line of a slip says: a slip reads the same whether its
lines were seen before or not, and what is kept stays bounded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.receipts import layout
from terminal_sim.receipts.layout import read_slip

LINES = st.sampled_from([
    "CORNER CAFE", "MID:   M1", "TID:  T0000001", "DATE:  2026-01-05 08:03:58", "-" * 32,
    "SALE:   VISA", "VOID:  MC", "REFUND:  VISA", "CARD ERROR:  x", "CARD:  ****1111",
    "AMOUNT:   51.33 EUR", "AMOUNT:  -0.5 JPY", "AMOUNT:  12 eur", "APPROVED",
    "DECLINED DO NOT HONOUR", "RC:  05", "RRN:  600508000004", "STAN:   000004",
    "AUTH:  438452", "*** DUPLICATE ***", "***  ***", "NOTE:  x", "X: y", "  ", "",
    "THANK YOU", " -- ", "STAN:000004", "AUTH:\u00a0 1",
]) | st.text(st.sampled_from("AZ :-*\t0.\u00a0"), max_size=12)
TEXTS = st.lists(LINES, max_size=20).map("\n".join)


@given(st.lists(TEXTS, min_size=1, max_size=6))
def test_a_slip_reads_the_same_with_its_lines_seen_before_or_not(texts: list[str]) -> None:
    cold = []
    for text in texts:
        layout._READ_LINES.clear()  # noqa: SLF001  (the kept lines under test)
        cold.append(read_slip(text))
    layout._READ_LINES.clear()  # noqa: SLF001
    warm = [read_slip(text) for text in texts]
    again = [read_slip(text) for text in texts]
    assert warm == cold
    assert again == cold


def test_what_is_kept_stays_bounded() -> None:
    layout._READ_LINES.clear()  # noqa: SLF001
    for number in range(layout._READ_LINES_KEPT + 10):  # noqa: SLF001
        facts = read_slip(f"SALE:  VISA\nSTAN:  {number:06d}")
        assert facts.stan == f"{number:06d}"
        assert facts.kind == "sale"
    assert len(layout._READ_LINES) <= layout._READ_LINES_KEPT  # noqa: SLF001
