"""Amounts in integer minor units with an ISO 4217 currency; never floats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from terminal_sim.errors import ConfigurationError

#: ISO 4217: alpha code -> (numeric code, minor-unit exponent).
CURRENCIES: dict[str, tuple[str, int]] = {
    "EUR": ("978", 2),
    "USD": ("840", 2),
    "GBP": ("826", 2),
    "CHF": ("756", 2),
    "CNY": ("156", 2),
    "JPY": ("392", 0),
    "SEK": ("752", 2),
    "PLN": ("985", 2),
}

_BY_NUMERIC = {numeric: alpha for alpha, (numeric, _) in CURRENCIES.items()}


def currency_numeric(alpha: str) -> str:
    """The ISO 4217 numeric code (ISO 8583 field 49) of ``alpha``."""
    try:
        return CURRENCIES[alpha][0]
    except KeyError:
        known = ", ".join(CURRENCIES)
        raise ConfigurationError(f"unknown currency {alpha!r}; known: {known}") from None


def currency_alpha(numeric: str) -> str:
    """The alpha code of an ISO 4217 numeric code."""
    try:
        return _BY_NUMERIC[numeric]
    except KeyError:
        raise ConfigurationError(f"unknown ISO 4217 numeric currency {numeric!r}") from None


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (cents) of a currency."""

    minor: int
    currency: str

    def format(self) -> str:
        """``12.50 EUR``; exact, using the currency's exponent."""
        exponent = CURRENCIES[self.currency][1]
        sign = "-" if self.minor < 0 else ""
        value = abs(self.minor)
        if exponent == 0:
            return f"{sign}{value} {self.currency}"
        major, minor = divmod(value, 10**exponent)
        return f"{sign}{major}.{minor:0{exponent}d} {self.currency}"


def format_amount(minor: Any, currency: Any, missing: str = "") -> str:
    """An amount as a person reads it (``40.80 EUR``), from a record's minor units.

    Whatever a report, an explanation or a console line shows of an amount goes through
    here: a known currency in major units, an integer of an unknown currency as it is
    and ``missing`` for no amount at all.
    """
    if isinstance(minor, int) and isinstance(currency, str) and currency in CURRENCIES:
        return Money(minor, currency).format()
    return str(minor) if isinstance(minor, int) else missing
