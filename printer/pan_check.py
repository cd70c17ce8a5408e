"""Card numbers on paper: does a printed receipt show more of a card number than allowed?

:func:`check_receipt` reads the text of any receipt (English, Chinese, another vendor's)
and returns a :class:`Violation` for each problem, with the line and the rule it breaks.
The rules are data, in :data:`POLICIES`:

=========  =====================  ====================  ===========  ==========================
policy     first digits shown     last digits shown     expiry date  source
=========  =====================  ====================  ===========  ==========================
``last4``  0                      at most 4             allowed      terminal-sim's own receipts
``pci``    at most 6              at most 4             allowed      PCI DSS v4 requirement
                                                                     3.4.1 (display masking)
``facta``  0                      at most 5             forbidden    FACTA, 15 U.S.C. 1681c(g)
                                                                     (customer receipts)
=========  =====================  ====================  ===========  ==========================

What is looked at:

* **masked card numbers**: runs of digits and mask characters (``*``, ``X``, ``x``, ``#``,
  ``•``), written together (``411111******1111``) or in groups of 4-6 separated by one
  space or dash (``4111 11** **** 1111``), with at least two mask characters. Digits
  before the first mask character are the *first digits shown*, digits after the last
  one the *last digits shown*, and any digit between mask characters is a violation of
  every policy (a mask with holes).
* **unmasked card numbers**: Luhn-valid runs of 13 to 19 digits not starting with 0
  (:func:`find_pans`), also when printed in groups of four; a
  violation of every policy. A merchant or reference number of that length that
  happens to pass the Luhn check is flagged too: paper cannot tell them apart.
* **expiry dates** (``facta`` only): a labelled one anywhere (``EXP 12/29``,
  ``EXPIRY: 2029-12``, ``VALID THRU 12/29``, ``有效期: 2912``), or an unlabelled
  ``MM/YY`` or ``MM/YYYY`` on the line of a card number or the line next to it.

A :class:`Violation` carries the line as printed (``line``; it may hold a card number:
report ``redacted`` instead, as the ``pos-sim printer check`` command does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from printer.errors import PrinterConfigurationError

__all__ = [
    "POLICIES",
    "Policy",
    "Violation",
    "check_receipt",
    "find_pans",
    "luhn_valid",
    "redact",
]

_DIGITS = re.compile(r"\d{13,19}")


#: a digit -> the digit of its double's digit sum (what the Luhn check adds for it)
_DOUBLED = str.maketrans("0123456789", "0246813579")


def luhn_valid(number: str) -> bool:
    """True when ``number`` (digits only) passes the Luhn check."""
    if number.isascii() and number.isdigit():
        # the same sum in C: the digits from the last, every other one doubled
        doubled = number[-2::-2].translate(_DOUBLED)
        total = sum(number[::-2].encode()) + sum(doubled.encode()) - 48 * len(number)
        return total % 10 == 0
    return _luhn_digits(number)


def _luhn_digits(number: str) -> bool:
    """:func:`luhn_valid` digit by digit (any Unicode digits ``str.isdigit`` accepts)."""
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def find_pans(text: str) -> list[str]:
    """Every run of 13-19 digits in ``text`` that could be a full PAN.

    A candidate is Luhn-valid and starts with a non-zero major industry identifier (no
    card number starts with 0; without this rule thirteen zeros in a merchant id would
    count). A longer run of digits is searched at every offset. One run of digits is one
    finding: its longest candidate (the leftmost of equal length), not also the shorter
    Luhn-valid runs inside it (one printed number in ten passes Luhn at any length).
    """
    found = []
    for match in _DIGITS.finditer(text):
        run = match.group()
        pan = _longest_pan(run)
        if pan is not None:
            found.append(pan)
    return found


def _longest_pan(run: str) -> str | None:
    for length in range(min(19, len(run)), 12, -1):
        for start in range(0, len(run) - length + 1):
            candidate = run[start : start + length]
            if candidate[0] != "0" and luhn_valid(candidate):
                return candidate
    return None


@dataclass(frozen=True, slots=True)
class Policy:
    """How much of a card number a receipt may show."""

    name: str
    first: int  # leading digits allowed
    last: int  # trailing digits allowed
    expiry_allowed: bool
    source: str


POLICIES: dict[str, Policy] = {
    "last4": Policy("last4", 0, 4, True, "terminal-sim prints the last four digits only"),
    "pci": Policy("pci", 6, 4, True,
                  "PCI DSS 3.4.1: at most the first six and last four digits are displayed"),
    "facta": Policy("facta", 0, 5, False,
                    "FACTA (15 U.S.C. 1681c(g)): a customer receipt shows at most the last "
                    "five digits and no expiry date"),
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem on one line of a receipt."""

    line_number: int  # 1-based
    line: str  # as printed (may contain a card number)
    rule: str  # UNMASKED_PAN | PAN_FIRST_DIGITS | PAN_LAST_DIGITS | PAN_MASK_HOLE | EXPIRY_DATE
    reason: str  # what was seen, and the policy's rule
    policy: str
    shown: str = ""  # the card number or date as printed

    @property
    def redacted(self) -> str:
        """The line with every digit of card numbers and dates replaced by ``#``."""
        return redact(self.line)

    def to_dict(self) -> dict[str, object]:
        return {"line_number": self.line_number, "line": self.redacted, "rule": self.rule,
                "reason": self.reason, "policy": self.policy}


_MASK = "*Xx#•"
_CELL = rf"[0-9{_MASK}]"
# a card number written together, or in groups of 4-6 separated by a space or a dash
_TOKEN = re.compile(
    rf"(?<![0-9A-Za-z{_MASK}])"
    rf"(?:{_CELL}{{4,6}}(?:[ -]{_CELL}{{1,6}}){{1,4}}|{_CELL}{{6,19}})"
    rf"(?![0-9A-Za-z{_MASK}])"
)
_EXPIRY_LABEL = re.compile(
    r"(?:\bEXP(?:IRY|IRES|IRATION)?\b\.?(?:\s*DATE)?|\bVALID\s+(?:THRU|THROUGH|UNTIL)\b|"
    r"\bGOOD\s+THRU\b|有效期|失效日期)\s*[:：]?\s*"
    r"(\d{2}\s*/\s*\d{2,4}|\d{4}\s*[-/]\s*\d{2}|\d{4})",
    re.IGNORECASE,
)
_BARE_DATE = re.compile(r"(?<![\d/])(0[1-9]|1[0-2])\s*/\s*(\d{2}|20\d{2})(?![\d/])")


def redact(line: str) -> str:
    """``line`` with the digits of card-number-like runs and dates replaced by ``#``."""
    out = _TOKEN.sub(lambda m: re.sub(r"\d", "#", m.group()), line)
    out = re.sub(r"\d{13,19}", lambda m: "#" * len(m.group()), out)
    out = _EXPIRY_LABEL.sub(lambda m: re.sub(r"\d", "#", m.group()), out)
    return _BARE_DATE.sub(lambda m: re.sub(r"\d", "#", m.group()), out)


def _split(token: str) -> tuple[str, str, str]:
    """(first digits, middle digits, last digits) of a masked token without separators."""
    first_mask = min(token.index(c) for c in _MASK if c in token)
    last_mask = max(token.rindex(c) for c in _MASK if c in token)
    middle = "".join(c for c in token[first_mask:last_mask] if c.isdigit())
    return token[:first_mask], middle, token[last_mask + 1 :]


def check_receipt(text: str, *, policy: str = "last4") -> list[Violation]:
    """Every card-number problem in the text of one receipt, in line order."""
    rules = POLICIES.get(policy)
    if rules is None:
        accepted = ", ".join(POLICIES)
        raise PrinterConfigurationError(f"policy must be one of {accepted}, not {policy!r}")
    lines = text.splitlines()
    found: list[Violation] = []
    card_lines: set[int] = set()
    for index, line in enumerate(lines):
        number = index + 1
        pans = set(find_pans(line))
        for match in _TOKEN.finditer(line):
            token = match.group()
            bare = re.sub(r"[ -]", "", token)
            if any(c in bare for c in _MASK):
                if sum(c in _MASK for c in bare) < 2 or not any(c.isdigit() for c in bare):
                    continue
                card_lines.add(index)
                found.extend(_masked(number, line, token, bare, rules))
            elif (13 <= len(bare) <= 19 and bare[0] != "0" and luhn_valid(bare)
                  and bare not in pans and token != bare):
                pans.add(bare)  # a card number printed in groups
        for pan in sorted(pans):
            card_lines.add(index)
            found.append(Violation(
                number, line, "UNMASKED_PAN",
                f"a full card number ({len(pan)} digits, Luhn-valid) is printed; "
                f"{rules.source}", policy, pan))
    if not rules.expiry_allowed:
        found.extend(_expiry(lines, card_lines, rules))
    found.sort(key=lambda v: v.line_number)
    return found


def _masked(number: int, line: str, token: str, bare: str, rules: Policy) -> list[Violation]:
    first, middle, last = _split(bare)
    out = []
    if middle:
        out.append(Violation(number, line, "PAN_MASK_HOLE",
                             f"{len(middle)} digit(s) shown inside the mask of {token!r}; "
                             f"{rules.source}", rules.name, token))
    if len(first) > rules.first:
        out.append(Violation(number, line, "PAN_FIRST_DIGITS",
                             f"{len(first)} leading digit(s) shown, at most {rules.first} "
                             f"allowed; {rules.source}", rules.name, token))
    if len(last) > rules.last:
        out.append(Violation(number, line, "PAN_LAST_DIGITS",
                             f"{len(last)} trailing digit(s) shown, at most {rules.last} "
                             f"allowed; {rules.source}", rules.name, token))
    return out


def _expiry(lines: list[str], card_lines: set[int], rules: Policy) -> list[Violation]:
    out = []
    near = {i + d for i in card_lines for d in (-1, 0, 1)}
    for index, line in enumerate(lines):
        labelled = _EXPIRY_LABEL.search(line)
        if labelled is not None:
            shown = labelled.group(1)
        elif index in near:
            bare = _BARE_DATE.search(line)
            if bare is None:
                continue
            shown = bare.group()
        else:
            continue
        out.append(Violation(index + 1, line, "EXPIRY_DATE",
                             f"an expiry date ({shown}) is printed; {rules.source}",
                             rules.name, shown))
    return out
