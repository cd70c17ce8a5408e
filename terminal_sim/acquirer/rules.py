"""How the mock acquirer decides, as data.

An authorization or financial request (0100, 0200: sale, refund) gets the response
code of the first rule that matches, in this order:

1. ``terminal_overrides``: a forced response code (or ``"no-reply"``) for one terminal id.
2. ``message_overrides``: a forced code (or ``"no-reply"``) for one MTI, e.g.
   ``{"0400": "no-reply"}`` makes the host swallow reversals so that the terminal has to
   send its 0420 advice, or ``{"0500": "96"}`` refuses reconciliation.
3. the **Luhn check**: a PAN (field 2) whose check digit is wrong gets ``14`` (invalid
   card number), before any table: no issuer emits such a number.
4. ``cards``: the test-card table of :mod:`terminal_sim.base.cards` (e.g. ``4000000000000002``
   always gets ``05``), extendable by PAN.
5. ``amount_endings``: the last two digits of the amount in minor units select a
   response, in the spirit of the processors' public test conventions:

   ======  ====  ======================
   ending  code  meaning
   ======  ====  ======================
   ``05``  05    do not honour
   ``51``  51    insufficient funds
   ``54``  54    expired card
   ``91``  91    issuer unavailable
   ``96``  96    system malfunction
   ======  ====  ======================

6. otherwise ``00``, approved.

Refunds follow the same table (a card that is declined is declined both ways). Every
other message (void, advice, reversal, reconciliation, network) is answered on its
merits (:mod:`terminal_sim.acquirer.host`) unless ``message_overrides`` names its MTI:
then a code is answered with no effect, and ``"no-reply"`` means the host records the
request as unanswered, changes nothing and answers nothing (a retransmission is processed afresh).

Before any rule, a request whose (terminal id, STAN, class) the ledger already holds is
judged by :mod:`terminal_sim.acquirer.checks`: a retransmission gets the stored answer
(``12`` when that approval was reversed or voided since), a STAN reused inside the
duplicate window for other content gets ``94`` and books nothing, one outside it is a
new transaction. A message that decodes but fails a field check gets ``30``. Every reply
echoes fields 3, 7, 11, 41 and 42 of its request as far as they are well-formed
(:data:`terminal_sim.iso.spec.ECHOED`); ``pos-sim acquirer spec`` prints these rules and
the fields of each message type.

A YAML rules file (``pos-sim acquirer serve --rules``) holds the same four keys, every
key and code quoted (YAML reads ``0400`` as an octal number)::

    terminal_overrides: {"T0000009": "no-reply"}
    message_overrides: {"0400": "no-reply"}
    cards: {"4242424242424242": "05"}      # added to the test-card table
    amount_endings: {"13": "13"}          # replaces the default endings table
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal_sim.base.cards import TEST_CARDS, luhn_valid, mask_pan
from terminal_sim.errors import ConfigurationError
from terminal_sim.iso.spec import RC_INVALID_CARD

NO_REPLY = "no-reply"

DEFAULT_AMOUNT_ENDINGS: Mapping[str, str] = {
    "05": "05",
    "51": "51",
    "54": "54",
    "91": "91",
    "96": "96",
}

_KEYS = ("terminal_overrides", "message_overrides", "cards", "amount_endings")


@dataclass(frozen=True)
class OutcomeRules:
    """The acquirer's decision table."""

    cards: Mapping[str, str] = field(
        default_factory=lambda: {card.pan: card.response_code for card in TEST_CARDS}
    )
    amount_endings: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_AMOUNT_ENDINGS))
    terminal_overrides: Mapping[str, str] = field(default_factory=dict)
    message_overrides: Mapping[str, str] = field(default_factory=dict)

    def decide(self, *, terminal_id: str, pan: str, amount_minor: int,
               mti: str = "0200") -> str:
        """The response code (or ``NO_REPLY``) for an authorization, sale or refund."""
        forced = self.terminal_overrides.get(terminal_id)
        if forced is not None:
            return forced
        forced = self.message_overrides.get(mti)
        if forced is not None:
            return forced
        if pan and not luhn_valid(pan):
            return RC_INVALID_CARD
        by_card = self.cards.get(pan)
        if by_card is not None and by_card != "00":
            return by_card
        by_amount = self.amount_endings.get(f"{amount_minor % 100:02d}")
        if by_amount is not None:
            return by_amount
        return "00"

    def override_for(self, mti: str) -> str | None:
        """The forced code (or ``NO_REPLY``) for a message answered on its merits, if any."""
        return self.message_overrides.get(mti)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "rules") -> OutcomeRules:
        """Rules from plain data (a parsed YAML file); anything odd is a ConfigurationError."""
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"{source}: expected a mapping with keys {', '.join(_KEYS)}")
        unknown = [str(key) for key in data if key not in _KEYS]
        if unknown:
            raise ConfigurationError(
                f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(_KEYS)}")
        tables: dict[str, dict[str, str]] = {}
        for key in _KEYS:
            tables[key] = _table(source, key, data.get(key) or {})
        cards = {card.pan: card.response_code for card in TEST_CARDS}
        cards.update(tables["cards"])
        endings = tables["amount_endings"] if "amount_endings" in data else dict(
            DEFAULT_AMOUNT_ENDINGS)
        return cls(cards=cards, amount_endings=endings,
                   terminal_overrides=tables["terminal_overrides"],
                   message_overrides=tables["message_overrides"])


# key table -> (check of its keys, what they should look like)
_KEY_SHAPE: dict[str, tuple[Callable[[str], bool], str]] = {
    "terminal_overrides": (lambda k: len(k) == 8, "an 8-character terminal id"),
    "message_overrides": (lambda k: len(k) == 4 and k.isdigit(), "a 4-digit MTI"),
    "cards": (lambda k: 12 <= len(k) <= 19 and k.isdigit(), "a PAN of 12-19 digits"),
    "amount_endings": (lambda k: len(k) == 2 and k.isdigit(), "two digits"),
}


def _table(source: str, key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{source}: {key}: expected a mapping")
    check, shape = _KEY_SHAPE[key]
    out: dict[str, str] = {}
    for name, code in value.items():
        # a card key may be a PAN: error messages show it masked, never in full
        shown = mask_pan(str(name)) if key == "cards" else repr(name)
        if not isinstance(name, str) or not check(name):
            raise ConfigurationError(
                f"{source}: {key}: key {shown} is not {shape} (quote it in YAML)")
        if not isinstance(code, str) or not (
                code == NO_REPLY or (len(code) == 2 and code.isascii() and code.isalnum())):
            raise ConfigurationError(
                f"{source}: {key}[{shown}]: {code!r} is not a quoted 2-character response "
                f"code or {NO_REPLY!r}")
        out[name] = code
    return out


def load_rules(path: str | Path) -> OutcomeRules:
    """Rules from a YAML file; a missing or malformed file is a ConfigurationError."""
    import yaml  # only the command line reads rules files

    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ConfigurationError(f"cannot read rules file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"rules file {path} is not valid YAML: {exc}") from exc
    return OutcomeRules.from_mapping(data if data is not None else {}, source=str(path))
