"""Card numbers: Luhn, masking, tokens and the test-card table.

A full PAN lives only inside the simulated card and the ISO 8583 field 2 bytes on
the link; everything that is stored or written (journal, ledger, trace, receipts,
reports) gets :func:`mask_pan` or :func:`token_for`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# one implementation, shared with the printer's receipt check (printer is the lower layer)
from printer.pan_check import find_pans, luhn_valid
from terminal_sim.errors import ConfigurationError

__all__ = [
    "TEST_CARDS",
    "Card",
    "CatalogCard",
    "catalog_card",
    "find_pans",
    "luhn_valid",
    "mask_pan",
    "scheme_of",
    "token_for",
]


def mask_pan(pan: str, *, show_last: int = 4) -> str:
    """``************1111``: at most the last four digits are kept."""
    if not 0 <= show_last <= 4:
        raise ConfigurationError("we never show more than the last four digits")
    keep = pan[-show_last:] if show_last else ""
    return "*" * (len(pan) - len(keep)) + keep


def token_for(pan: str, key: str) -> str:
    """A stable, non-reversible token of a PAN under ``key`` (the run's seed-derived key).

    Same card, same key -> same token, so stores can join on it without the PAN.
    """
    digest = hashlib.sha256(f"{key}\x1f{pan}".encode()).hexdigest()
    return "tok_" + digest[:20]


def scheme_of(pan: str) -> str:
    """The card scheme by IIN prefix (enough for receipts and the host's rules)."""
    if pan.startswith("4"):
        return "VISA"
    if pan[:2] in {"51", "52", "53", "54", "55"} or "2221" <= pan[:4] <= "2720":
        return "MASTERCARD"
    if pan[:2] in {"34", "37"}:
        return "AMEX"
    if pan.startswith("62"):
        return "UNIONPAY"
    return "CARD"


@dataclass(frozen=True, slots=True)
class Card:
    """A card as the reader sees it. ``repr`` never shows the PAN."""

    pan: str = field(repr=False)
    expiry: str = "2912"  # YYMM, ISO 8583 field 14
    label: str = ""

    @property
    def masked(self) -> str:
        return mask_pan(self.pan)

    @property
    def scheme(self) -> str:
        return scheme_of(self.pan)


@dataclass(frozen=True, slots=True)
class CatalogCard:
    """One row of the test-card table: what the mock acquirer does with this card."""

    name: str
    pan: str = field(repr=False)
    response_code: str  # "00" approves
    description: str


#: Test cards in the spirit of the public test-card lists of card processors: the
#: numbers are the well-known published test PANs, never real cards.
TEST_CARDS: tuple[CatalogCard, ...] = (
    CatalogCard("visa-approve", "4111111111111111", "00", "Visa, always approved"),
    CatalogCard("mastercard-approve", "5555555555554444", "00", "Mastercard, always approved"),
    CatalogCard("amex-approve", "378282246310005", "00", "Amex, always approved"),
    CatalogCard("unionpay-approve", "6200000000000005", "00", "UnionPay, always approved"),
    CatalogCard("visa-decline", "4000000000000002", "05", "Do not honour"),
    CatalogCard("visa-insufficient-funds", "4000000000009995", "51", "Insufficient funds"),
    CatalogCard("visa-expired", "4000000000000069", "54", "Expired card"),
    CatalogCard("visa-stolen", "4000000000009979", "43", "Stolen card, pick up"),
)

_BY_NAME = {card.name: card for card in TEST_CARDS}


def catalog_card(name: str) -> CatalogCard:
    """The test card called ``name``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(_BY_NAME)
        raise ConfigurationError(f"unknown test card {name!r}; known: {known}") from None
