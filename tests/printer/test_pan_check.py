"""printer.pan_check: card numbers on paper against last4, PCI DSS 3.4.1 and FACTA."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from printer.errors import PrinterConfigurationError
from printer.interpreter import parse
from printer.pan_check import POLICIES, check_receipt, luhn_valid, redact
from terminal_sim.core.slips import Slip
from terminal_sim.receipts.layout import render_job


def rules(text: str, policy: str) -> list[tuple[int, str]]:
    return [(v.line_number, v.rule) for v in check_receipt(text, policy=policy)]


def test_our_slip_is_clean_under_every_policy() -> None:
    slip = Slip("sale", "APPROVED", "CORNER CAFE", "M00000000000001", "T0000001",
                dt.datetime(2026, 1, 5, 8, 5), 1250, "EUR", "************1111", "VISA",
                "000123", "600508000123", "A1B2C3", "00")
    text = parse(render_job(slip)).receipts[0].text
    for policy in POLICIES:
        assert check_receipt(text, policy=policy) == [], policy


@pytest.mark.parametrize(("line", "last4", "pci", "facta"), [
    ("CARD: ************1111", [], [], []),
    ("CARD: ****1111", [], [], []),
    ("CARD: ***********11111", ["PAN_LAST_DIGITS"], ["PAN_LAST_DIGITS"], []),
    ("CARD: 411111******1111", ["PAN_FIRST_DIGITS"], [], ["PAN_FIRST_DIGITS"]),
    ("CARD: 41111111****1111", ["PAN_FIRST_DIGITS"], ["PAN_FIRST_DIGITS"],
     ["PAN_FIRST_DIGITS"]),
    ("CARD: 4111 11** **** 1111", ["PAN_FIRST_DIGITS"], [], ["PAN_FIRST_DIGITS"]),
    ("CARD: XXXX-XXXX-XXXX-1111", [], [], []),
    ("CARD: ****11**1111", ["PAN_MASK_HOLE"], ["PAN_MASK_HOLE"], ["PAN_MASK_HOLE"]),
    ("CARD: 4111111111111111", ["UNMASKED_PAN"], ["UNMASKED_PAN"], ["UNMASKED_PAN"]),
    ("CARD: 4111 1111 1111 1111", ["UNMASKED_PAN"], ["UNMASKED_PAN"], ["UNMASKED_PAN"]),
    ("AMEX 378282246310005", ["UNMASKED_PAN"], ["UNMASKED_PAN"], ["UNMASKED_PAN"]),
    ("卡号: 620000******0005", ["PAN_FIRST_DIGITS"], [], ["PAN_FIRST_DIGITS"]),
])
def test_masking_rules(line: str, last4: list[str], pci: list[str], facta: list[str]) -> None:
    for policy, expected in (("last4", last4), ("pci", pci), ("facta", facta)):
        assert [rule for _, rule in rules(line, policy)] == expected, policy


@pytest.mark.parametrize("line", [
    "RRN: 600508000123", "DATE: 2026-01-05 08:05:00", "AMOUNT: 12.50 EUR", "TOTAL 1234",
    "MID: M00000000000001", "*** DUPLICATE ***", "TAX 12.00", "REF 1234567890",
])
def test_no_false_alarm_on_ordinary_lines(line: str) -> None:
    assert rules(line, "facta") == []


def test_expiry_dates_for_facta_only() -> None:
    text = "CARD ************1111\nEXP 12/29\nTHANK YOU 12/29\n\n\nVALID THRU 12/29"
    assert rules(text, "facta") == [(2, "EXPIRY_DATE"), (6, "EXPIRY_DATE")]
    assert rules(text, "last4") == []
    assert rules("VISA ****1111 12/29", "facta") == [(1, "EXPIRY_DATE")]
    assert rules("VISA ****1111\n12/2029", "facta") == [(2, "EXPIRY_DATE")]
    assert rules("卡号: ************0005\n有效期: 2912", "facta") == [(2, "EXPIRY_DATE")]
    assert rules("OPEN 12/29 CLOSED", "facta") == []  # a date far from any card number


def test_violation_names_line_rule_and_policy_and_can_be_redacted() -> None:
    (violation,) = check_receipt("HEAD\nPAN 4111111111111111 OK", policy="pci")
    assert violation.line_number == 2
    assert violation.line == "PAN 4111111111111111 OK"
    assert violation.rule == "UNMASKED_PAN"
    assert violation.policy == "pci"
    assert "PCI DSS 3.4.1" in violation.reason
    assert violation.redacted == "PAN ################ OK"
    assert "4111" not in str(violation.to_dict())
    assert redact("EXP 12/29") == "EXP ##/##"


def test_unknown_policy() -> None:
    with pytest.raises(PrinterConfigurationError, match="last4, pci, facta"):
        check_receipt("", policy="strict")


def test_check_command(tmp_path: object) -> None:
    from pathlib import Path

    from click.testing import CliRunner

    from printer.commands import printer

    folder = Path(str(tmp_path))
    bad = folder / "bad.txt"
    bad.write_text("CARD 4111111111111111\n")
    good = folder / "good.txt"
    good.write_text("CARD ************1111\n")
    result = CliRunner().invoke(printer, ["check", str(bad), str(good)])
    assert result.exit_code == 1
    assert "bad.txt:1: UNMASKED_PAN" in result.output
    assert "4111" not in result.output
    result = CliRunner().invoke(printer, ["check", "--policy", "facta", str(good)])
    assert result.exit_code == 0


@pytest.mark.parametrize(("merchant", "card"), [
    ("CORNER CAFE", "4111111111111111"),  # the card number printed whole
    ("CAFE 4111 1111 1111 1111", "************1111"),  # a Luhn-valid number elsewhere
    ("CORNER CAFE", "5500005555555559"),
])
def test_a_luhn_valid_number_on_a_slip_is_a_finding_under_every_policy(
        merchant: str, card: str) -> None:
    # The acquirer now refuses a Luhn-failing card (response 14): a number that passes
    # Luhn, printed on a slip however it got there, must still be flagged on paper.
    slip = Slip("sale", "APPROVED", merchant, "M00000000000001", "T0000001",
                dt.datetime(2026, 1, 5, 8, 5), 1250, "EUR", card, "VISA",
                "000123", "600508000123", "A1B2C3", "00")
    text = parse(render_job(slip)).receipts[0].text
    for policy in POLICIES:
        found = [v.rule for v in check_receipt(text, policy=policy)]
        assert found == ["UNMASKED_PAN"], (policy, text)


def test_a_luhn_failing_number_on_a_slip_is_not_a_card_number() -> None:
    slip = Slip("sale", "APPROVED", "CAFE 4111 1111 1111 1112", "M00000000000001",
                "T0000001", dt.datetime(2026, 1, 5, 8, 5), 1250, "EUR", "************1111",
                "VISA", "000123", "600508000123", "A1B2C3", "00")
    text = parse(render_job(slip)).receipts[0].text
    assert check_receipt(text, policy="pci") == []


def _luhn_by_check_digit(number: str) -> bool:
    """ISO/IEC 7812-1 annex B's statement: the last digit is the check digit computed
    over the others (double every second digit from the right, add the digits)."""
    payload, check = number[:-1], int(number[-1])
    total = 0
    for position, char in enumerate(reversed(payload)):
        doubled = int(char) * (2 if position % 2 == 0 else 1)
        total += doubled // 10 + doubled % 10
    return (10 - total % 10) % 10 == check


@given(st.text(alphabet="0123456789", min_size=1, max_size=24))
def test_luhn_valid_agrees_with_the_check_digit_definition(number: str) -> None:
    assert luhn_valid(number) is _luhn_by_check_digit(number)


@pytest.mark.parametrize(("text", "valid"), [
    ("4111111111111111", True), ("4111111111111112", False), ("", False),
    ("4111 1111 1111 1111", False), ("411111111111111x", False)])
def test_luhn_valid_on_known_numbers_and_non_digits(text: str, valid: bool) -> None:
    assert luhn_valid(text) is valid
