"""How the mock acquirer decides, as data.

Rules are checked in this order; the first that matches gives the response code:

1. ``terminal_overrides``: a forced response code (or ``"no-reply"``) for one terminal id.
2. ``cards``: the test-card table of :mod:`terminal_sim.cards` (e.g. ``4000000000000002``
   always gets ``05``), extendable by PAN.
3. ``amount_endings``: the last two digits of the amount in minor units select a
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

4. otherwise ``00``, approved.

``"no-reply"`` as a code means the host records the request and answers nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from terminal_sim.cards import TEST_CARDS

NO_REPLY = "no-reply"

DEFAULT_AMOUNT_ENDINGS: Mapping[str, str] = {
    "05": "05",
    "51": "51",
    "54": "54",
    "91": "91",
    "96": "96",
}


@dataclass(frozen=True)
class OutcomeRules:
    """The acquirer's decision table."""

    cards: Mapping[str, str] = field(
        default_factory=lambda: {card.pan: card.response_code for card in TEST_CARDS}
    )
    amount_endings: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_AMOUNT_ENDINGS))
    terminal_overrides: Mapping[str, str] = field(default_factory=dict)

    def decide(self, *, terminal_id: str, pan: str, amount_minor: int) -> str:
        """The response code (or ``NO_REPLY``) for a purchase request."""
        forced = self.terminal_overrides.get(terminal_id)
        if forced is not None:
            return forced
        by_card = self.cards.get(pan)
        if by_card is not None and by_card != "00":
            return by_card
        by_amount = self.amount_endings.get(f"{amount_minor % 100:02d}")
        if by_amount is not None:
            return by_amount
        return "00"
