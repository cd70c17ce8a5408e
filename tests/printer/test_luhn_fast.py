"""``luhn_valid`` sums ASCII digits in C: the same answer as the digit-by-digit loop."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from printer.pan_check import _luhn_digits, luhn_valid

DIGITS = st.text(st.sampled_from("0123456789"), max_size=25)
ANY = st.text(st.sampled_from("0123456789 x-\u00b2\u0663\uff11"), max_size=20)


@given(DIGITS | ANY)
def test_the_fast_sum_is_the_loop(number: str) -> None:
    assert luhn_valid(number) == _luhn_digits(number)


def test_examples() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("0")
    assert luhn_valid("18")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("19")
    assert not luhn_valid("")
    assert not luhn_valid("4111 1111 1111 1111")
