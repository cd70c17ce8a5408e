"""Hypothesis strategies for what customers and cashiers bring: cards, money, steps.

Part of :mod:`terminal_sim.testing.strategies` (import from there); the table of all
strategies is in its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from hypothesis import strategies as st

from terminal_sim.acquirer.rules import DEFAULT_AMOUNT_ENDINGS
from terminal_sim.base.cards import TEST_CARDS, Card, luhn_valid
from terminal_sim.base.money import CURRENCIES, Money
from terminal_sim.errors import ConfigurationError

SearchStrategy = st.SearchStrategy

#: Amounts up to this many minor units (99 999.99 EUR) unless told otherwise.
MAX_AMOUNT_MINOR = 9_999_999
#: Fault windows are drawn inside the first hours of virtual time.
DEFAULT_HORIZON_S = 4 * 3600


# -- cards -------------------------------------------------------------------------------


def card_names(*, approving_only: bool = False) -> SearchStrategy[str]:
    """A name from the test-card table; shrinks toward ``visa-approve``."""
    names = [c.name for c in TEST_CARDS if not approving_only or c.response_code == "00"]
    return st.sampled_from(names)


def catalog_cards(*, approving_only: bool = False) -> SearchStrategy[Card]:
    """A :class:`Card` of the test-card table (its ``label`` is the table's name)."""
    return card_names(approving_only=approving_only).map(_card_of)


def _card_of(name: str) -> Card:
    known = next(c for c in TEST_CARDS if c.name == name)
    return Card(known.pan, label=known.name)


def _with_check_digit(body: str) -> str:
    """``body`` and the one check digit that makes it Luhn-valid."""
    return body + next(d for d in "0123456789" if luhn_valid(body + d))


def _broken_check_digit(pan: str) -> str:
    """A Luhn-valid ``pan`` with another last digit: exactly one check digit is right."""
    return pan[:-1] + str((int(pan[-1]) + 1) % 10)


def malformed_pans() -> SearchStrategy[str]:
    """A card number a real card would never carry.

    Each draw is one of: a 13-19 digit number whose Luhn check digit is wrong; a number
    too short (0-12 digits) or too long (20-40 digits) with a valid check digit, so only
    its length is wrong; 16 characters with one that is no ASCII digit (a space, a dash,
    a letter, ``*``, or an Arabic-Indic digit, which ``str.isdigit`` accepts).
    """
    bodies = st.text("0123456789", min_size=12, max_size=18).filter(lambda b: b[0] != "0")
    bad_check = bodies.map(_with_check_digit).map(_broken_check_digit)
    short = st.text("0123456789", min_size=0, max_size=12)
    long = st.text("0123456789", min_size=19, max_size=39).map(_with_check_digit)
    not_digits = st.tuples(st.text("0123456789", min_size=15, max_size=15),
                           st.integers(0, 15),
                           st.sampled_from(" -xX*?/\u0663")).map(
        lambda t: t[0][:t[1]] + t[2] + t[0][t[1]:])
    return st.one_of(bad_check, short, long, not_digits)


def malformed_cards() -> SearchStrategy[Card]:
    """A :class:`Card` carrying a :func:`malformed_pans` number (``label="malformed"``)."""
    return malformed_pans().map(lambda pan: Card(pan, label="malformed"))


def cards(*, malformed: bool = True) -> SearchStrategy[Card]:
    """Test cards, and with ``malformed`` (the default) cards no issuer would make."""
    if malformed:
        return st.one_of(catalog_cards(), malformed_cards())
    return catalog_cards()


# -- money -------------------------------------------------------------------------------


def currencies() -> SearchStrategy[str]:
    """An ISO 4217 alpha code of :data:`~terminal_sim.base.money.CURRENCIES` (EUR first)."""
    return st.sampled_from(sorted(CURRENCIES, key=lambda c: (c != "EUR", c)))


Outcome = Literal["any", "approve", "decline"]


def _minor_units(min_minor: int, max_minor: int, outcome: Outcome) -> SearchStrategy[int]:
    if outcome not in ("any", "approve", "decline"):
        raise ConfigurationError(f"outcome {outcome!r}: choose 'any', 'approve' or 'decline'")
    if not 0 <= min_minor <= max_minor:
        raise ConfigurationError(f"amounts: need 0 <= min_minor <= max_minor, got "
                                 f"{min_minor} and {max_minor}")
    minor = st.integers(min_minor, max_minor)
    declining = sorted(int(ending) for ending in DEFAULT_AMOUNT_ENDINGS)
    if outcome == "approve":
        return minor.filter(lambda m: m % 100 not in declining)
    if outcome == "decline":
        return st.builds(lambda hundreds, ending: hundreds * 100 + ending,
                         st.integers(min_minor // 100, max_minor // 100),
                         st.sampled_from(declining)).filter(
            lambda m: min_minor <= m <= max_minor)
    return minor


def _currency_codes(currency: str | SearchStrategy[str] | None) -> SearchStrategy[str]:
    if currency is None:
        return currencies()
    if isinstance(currency, str):
        if currency not in CURRENCIES:
            raise ConfigurationError(
                f"unknown currency {currency!r}; known: {', '.join(CURRENCIES)}")
        return st.just(currency)
    return currency


def amounts(currency: str | SearchStrategy[str] | None = None, *, min_minor: int = 1,
            max_minor: int = MAX_AMOUNT_MINOR, outcome: Outcome = "any"
            ) -> SearchStrategy[Money]:
    """:class:`Money` in minor units; ``outcome`` picks the host's verdict by ending.

    The mock acquirer declines amounts ending in 05, 51, 54, 91 and 96 (see
    :mod:`terminal_sim.acquirer.rules`): ``outcome="approve"`` avoids those endings,
    ``"decline"`` draws only them. ``currency``: a code, a strategy of codes, or None
    for any known currency.
    """
    return st.builds(Money, _minor_units(min_minor, max_minor, outcome),
                     _currency_codes(currency))


# -- customer and cashier steps ----------------------------------------------------------


class TerminalLike(Protocol):
    """The part of :class:`~terminal_sim.sim.session.Session` the steps drive."""

    def sale(self, amount_minor: int, currency: str = ..., card: str = ...) -> str: ...

    def void(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Sale:
    """A customer buys ``amount_minor`` with the test card ``card``."""

    amount_minor: int
    currency: str
    card: str

    def apply(self, terminal: TerminalLike) -> str:
        """Present it to ``terminal``; returns the sale id."""
        return terminal.sale(self.amount_minor, self.currency, self.card)


@dataclass(frozen=True, slots=True)
class Void:
    """The cashier voids the last approved sale."""

    def apply(self, terminal: TerminalLike) -> None:
        terminal.void()


@dataclass(frozen=True, slots=True)
class Refund:
    """The cashier refunds ``amount_minor`` to the test card ``card``."""

    amount_minor: int
    currency: str
    card: str

    def apply(self, terminal: Any) -> str:
        """Needs a terminal with ``refund(amount_minor, currency, card)``."""
        refund = getattr(terminal, "refund", None)
        if not callable(refund):
            raise ConfigurationError(
                f"{type(terminal).__name__} has no refund(amount_minor, currency, card); "
                "give a terminal that can refund, or draw only sales and voids")
        return str(refund(self.amount_minor, self.currency, self.card))


def sales(*, currency: str | SearchStrategy[str] | None = "EUR",
          outcome: Outcome = "any", max_minor: int = MAX_AMOUNT_MINOR,
          card: SearchStrategy[str] | None = None) -> SearchStrategy[Sale]:
    """A :class:`Sale`; by default in EUR, any test card, any verdict.

    ``outcome="approve"`` draws amounts and cards the host approves; ``"decline"``
    amounts it declines (whatever the card).
    """
    if card is None:
        card = card_names(approving_only=outcome == "approve")
    return st.builds(Sale, amount_minor=_minor_units(1, max_minor, outcome),
                     currency=_currency_codes(currency), card=card)


def voids() -> SearchStrategy[Void]:
    """A :class:`Void` (it names no sale: a terminal voids its last approved one)."""
    return st.just(Void())


def refunds(*, currency: str | SearchStrategy[str] | None = "EUR",
            max_minor: int = MAX_AMOUNT_MINOR) -> SearchStrategy[Refund]:
    """A :class:`Refund` of an amount the host approves, to a test card it approves."""
    return st.builds(Refund, amount_minor=_minor_units(1, max_minor, "approve"),
                     currency=_currency_codes(currency),
                     card=card_names(approving_only=True))


__all__ = [
    "DEFAULT_HORIZON_S",
    "MAX_AMOUNT_MINOR",
    "Refund",
    "Sale",
    "SearchStrategy",
    "TerminalLike",
    "Void",
    "amounts",
    "card_names",
    "cards",
    "catalog_cards",
    "currencies",
    "malformed_cards",
    "malformed_pans",
    "refunds",
    "sales",
    "voids",
]
