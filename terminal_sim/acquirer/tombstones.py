"""Reversals that came before their original: the host's tombstones.

A reversal that finds nothing to reverse is remembered (ledger status
``unknown-original``); an original that arrives later with that STAN is then declined,
never approved. These functions decide whether a late request is such an original.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from terminal_sim.acquirer.ledger import UNKNOWN_ORIGINAL, HostLedger
from terminal_sim.iso.messages import HostRequest, message_class

#: field 90's time when the reversal did not know the original's transmission time
NO_TIME = "0000000000"


def find_tombstone(ledger: HostLedger, request: HostRequest, now: int,
                   ttl_ms: int) -> dict[str, Any] | None:
    """An earlier reversal of ``request`` that found nothing to reverse, if any.

    The STAN is the key; time tells a late original from a later message that reused
    the STAN (a STAN wraps after a million messages, days at the least). When field 90
    gave the original's time, it must lie within ``ttl_ms`` of the late request's field
    7 (terminals differ on which instant they put there: the sale's start or its
    transmission); without it, the reversal must have reached the host within ``ttl_ms``
    of host time.
    """
    if not ledger.may_hold_tombstone(request.terminal_id, request.stan):
        return None  # no statement: the ledger knows where tombstones may be
    for reversal in ledger.reversals_of(request.terminal_id, request.stan, UNKNOWN_ORIGINAL):
        named = reversal["original_data"]  # MTI(4) STAN(6) MMDDhhmmss(10), or ""
        if named and message_class(named[:4]) != message_class(request.mti):
            continue
        when = named[10:20] if named else NO_TIME
        if when != NO_TIME:
            apart = apart_ms(when, request.transmitted)
            if apart is not None and apart <= ttl_ms:
                return reversal
            continue
        if 0 <= now - reversal["received_vt"] <= ttl_ms:
            return reversal
    return None


def apart_ms(mmddhhmmss: str, other: dt.datetime) -> int | None:
    """Milliseconds between a field-7 style time (placed in ``other``'s year, or the one
    before or after it, whichever is nearest) and ``other``; None when it is no time."""
    try:
        month, day = int(mmddhhmmss[0:2]), int(mmddhhmmss[2:4])
        hour, minute, second = (int(mmddhhmmss[i:i + 2]) for i in (4, 6, 8))
        candidates = []
        for year in (other.year - 1, other.year, other.year + 1):
            try:
                candidates.append(dt.datetime(year, month, day, hour, minute, second))
            except ValueError:  # 29 February in a common year
                continue
    except ValueError:
        return None
    if not candidates:
        return None
    return min(abs(int((c - other).total_seconds() * 1000)) for c in candidates)
