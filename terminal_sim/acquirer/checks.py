"""What the host checks before it decides: reused STANs, retransmissions, echoes.

A transaction message is keyed by (terminal id, STAN, message class). When the ledger
already holds an answered row under the key of an arriving request (:func:`classify`):

========================  ===============================================================
verdict                   what the host does
========================  ===============================================================
``expired``               the row arrived more than the duplicate window ago (host time),
                          or field 7 of the request lies more than the window from the
                          field 7 the stored reply echoed: a terminal whose STAN counter
                          wrapped or was reset. The request is a **new transaction**; the
                          old row moves to the ledger's ``superseded`` table.
``conflict``              inside the window with other content (kind, amount, currency,
                          card, original STAN): a STAN reused for another transaction.
                          Answered **94** (duplicate transmission), **nothing booked**:
                          the old answer (its approval code, RRN) is never handed to a
                          transaction it does not belong to.
``retransmission``        inside the window, same content: the stored answer is repeated
                          (under the request's reply MTI, echoing the request's fields),
                          nothing booked twice. Except when that answer approved an 0100
                          or 0200 the ledger no longer holds as approved (``reversed``
                          after its 0400, ``voided``): then **12** (invalid transaction),
                          nothing changed. A host answers 12 to a transaction it will not
                          perform; 00 would claim an approval the books do not hold, and
                          94 is the answer to a different message under a used STAN,
                          which this is not. The same code answers a late original after
                          its reversal (:mod:`terminal_sim.acquirer.tombstones`).
========================  ===============================================================

Rows recorded ``unanswered`` (a ``no-reply`` rule) are not classified: the request is
processed afresh, in place. The window is ``duplicate_window_ms`` of
:class:`~terminal_sim.acquirer.host.MockAcquirer`, 24 hours by default.
"""

from __future__ import annotations

from typing import Any

from terminal_sim.acquirer.tombstones import apart_ms
from terminal_sim.base.cards import token_for
from terminal_sim.errors import Iso8583Error
from terminal_sim.iso import codec
from terminal_sim.iso.messages import REQUEST_ECHO, HostRequest, Outgoing
from terminal_sim.iso.spec import RC_APPROVED, echo_of

EXPIRED = "expired"
CONFLICT = "conflict"
RETRANSMISSION = "retransmission"

#: Default duplicate window (host milliseconds).
DEFAULT_DUPLICATE_WINDOW_MS = 24 * 3600 * 1000

#: Statuses of an approved sale, refund or void that no longer stands.
_WITHDRAWN = ("reversed", "voided")


def echo(request: Outgoing) -> tuple[tuple[str, str], ...]:
    """Fields 3, 7 and 42 of ``request`` as a reply echoes them (``HostReply.echo``)."""
    if isinstance(request, HostRequest):  # the same, without building every field
        return request.echoed()
    return tuple(echo_of(request.to_fields(), REQUEST_ECHO).items())


def classify(seen: dict[str, Any], request: HostRequest, now: int, window_ms: int,
             token_key: str) -> str:
    """The verdict on ``request`` whose key matches the answered row ``seen``."""
    if not 0 <= now - seen["received_vt"] <= window_ms:
        return EXPIRED
    sent = _stored_transmission(seen)
    if sent is not None:
        apart = apart_ms(sent, request.transmitted)
        if apart is not None and apart > window_ms:
            return EXPIRED
    return CONFLICT if difference(seen, request, token_key) else RETRANSMISSION


def difference(seen: dict[str, Any], request: HostRequest, token_key: str) -> str:
    """What differs between the stored row and ``request`` ("" when it is the same)."""
    kind = "reversal" if seen["type"] == "reversal" else request.kind
    checks = [("kind", seen["type"], kind), ("amount", seen["amount_minor"],
                                             request.amount_minor),
              ("currency", seen["currency"], request.currency)]
    if request.pan and seen["card_token"]:
        checks.append(("card", seen["card_token"], token_for(request.pan, token_key)))
    if request.original is not None and seen["original_stan"]:
        checks.append(("original STAN", seen["original_stan"], request.original.stan))
    for name, stored, arriving in checks:
        if stored != arriving:
            return name
    return ""


def withdrawn_approval(seen: dict[str, Any]) -> bool:
    """True when ``seen`` was answered 00 as a sale, refund or void that no longer stands."""
    return (seen["mti_class"] in ("01", "02") and seen["response_code"] == RC_APPROVED
            and seen["status"] in _WITHDRAWN)


def _stored_transmission(seen: dict[str, Any]) -> str | None:
    """Field 7 of the request ``seen`` answered, as its stored reply echoed it."""
    if not seen["reply"]:
        return None
    try:
        return codec.decode(bytes(seen["reply"])).get("7")
    except Iso8583Error:
        return None
