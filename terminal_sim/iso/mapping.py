"""The terminal's messages (:mod:`terminal_sim.core.messages`) as ISO 8583, and back.

:func:`to_iso` gives the field dict of a request, :func:`from_iso` reads a decoded reply;
links call them at the edge so nothing above the wire holds an ISO 8583 type. Field use
is the one :mod:`terminal_sim.iso.spec` documents:

==========================  ======  ===============================================
request                     MTI     fields
==========================  ======  ===============================================
AuthorizationRequest        0200    3 by kind, 4, 7, 11-13, 22, 25, 41, 42, 49; card:
                                    2, 14; void: 37 (original RRN), 90 (original)
ReversalRequest             0400    as its original, no card; 37, 60 (reason), 90
                            0420/1  the same, as an advice and its repeats
AdviceRequest               0220/1  as the sale, plus 38 (the offline approval code)
SettlementRequest           0500    7, 11, 41, 42, 74-77 and 86-89 (the totals)
NetworkCheck                0800    7, 11, 41, 70
==========================  ======  ===============================================

A reply that misses a mandatory field or carries a bad one raises
:class:`~terminal_sim.errors.Iso8583Error` naming the field, as
:meth:`~terminal_sim.iso.messages.HostReply.from_fields` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import assert_never

from terminal_sim.core.messages import (
    AdviceRequest,
    AuthorizationRequest,
    BatchTotals,
    HostReply,
    NetworkCheck,
    OriginalRef,
    Request,
    ReversalRequest,
    SettlementRequest,
)
from terminal_sim.iso import codec
from terminal_sim.iso import messages as wire
from terminal_sim.iso.mac import seal, verify

#: Field 90 of an original whose send time the terminal does not keep.
UNKNOWN_SENT = "0000000000"

WireRequest = wire.HostRequest | wire.TotalsRequest | wire.NetworkRequest


def wire_totals(totals: BatchTotals) -> wire.Totals:
    """Batch totals as fields 74-77/86-89 know them."""
    return wire.Totals(**asdict(totals))


def batch_totals(totals: wire.Totals) -> BatchTotals:
    """The terminal's view of totals read from fields 74-77/86-89."""
    return BatchTotals(**asdict(totals))


def _original(ref: OriginalRef | None) -> wire.OriginalData | None:
    if ref is None:
        return None
    sent = wire.mmddhhmmss(ref.sent_at) if ref.sent_at is not None else UNKNOWN_SENT
    return wire.OriginalData(ref.mti, ref.stan, sent)


def _authorization(request: AuthorizationRequest, *, mti: str,
                   approval_code: str = "") -> wire.HostRequest:
    card = request.card
    return wire.HostRequest(
        mti=mti,
        kind=request.kind,
        stan=request.stan,
        terminal_id=request.terminal_id,
        merchant_id=request.merchant_id,
        amount_minor=request.amount_minor,
        currency=request.currency,
        transmitted=request.sent_at,
        pan=card.pan if card is not None else "",
        expiry=card.expiry if card is not None else "",
        rrn=request.rrn,
        original=_original(request.original),
        approval_code=approval_code,
    )


def _reversal(request: ReversalRequest) -> wire.HostRequest:
    return wire.HostRequest(
        mti=request.mti,
        kind=request.kind,
        stan=request.stan,
        terminal_id=request.terminal_id,
        merchant_id=request.merchant_id,
        amount_minor=request.amount_minor,
        currency=request.currency,
        transmitted=request.sent_at,
        rrn=request.rrn,
        original=_original(request.original),
        reason=request.reason,
    )


def to_wire(request: Request) -> WireRequest:
    """The typed ISO 8583 message of ``request`` (its fields, trace and checks)."""
    if isinstance(request, AuthorizationRequest):
        return _authorization(request, mti=request.mti)
    if isinstance(request, ReversalRequest):
        return _reversal(request)
    if isinstance(request, AdviceRequest):
        return _authorization(request.sale, mti=request.mti,
                              approval_code=request.approval_code)
    if isinstance(request, SettlementRequest):
        return wire.TotalsRequest(request.stan, request.terminal_id, request.merchant_id,
                                  request.sent_at, wire_totals(request.totals))
    if isinstance(request, NetworkCheck):
        return wire.NetworkRequest(request.stan, request.terminal_id, request.sent_at,
                                   request.code)
    assert_never(request)


def to_iso(request: Request) -> dict[str, str]:
    """The ISO 8583 fields of ``request``, ready for :func:`terminal_sim.iso.codec.encode`."""
    return to_wire(request).to_fields()


def request_bytes(request: Request, *, mac: bool = False) -> bytes:
    """The wire bytes of ``request`` (unframed), with a MAC (:mod:`terminal_sim.iso.mac`)
    when ``mac``."""
    fields = to_iso(request)
    return seal(fields) if mac else codec.encode(fields)


def read_reply(message: bytes, *, mac: bool = False) -> HostReply:
    """Decode and read the reply ``message``; when ``mac``, a reply whose MAC is missing or
    does not verify is read with ``mac_failed`` set (the core takes it as no valid answer)."""
    fields = codec.decode(message)
    return from_iso(fields, mac_failed=mac and verify(message, fields) is not True)


def from_iso(fields: Mapping[str, str], *, mac_failed: bool = False) -> HostReply:
    """Read a decoded reply; a missing or bad field raises ``Iso8583Error`` naming it."""
    reply = wire.HostReply.from_fields(fields)
    return HostReply(
        mti=reply.mti,
        stan=reply.stan,
        terminal_id=reply.terminal_id,
        response_code=reply.response_code,
        rrn=reply.rrn,
        approval_code=reply.approval_code,
        amount_minor=reply.amount_minor,
        currency=reply.currency,
        totals=batch_totals(reply.totals) if reply.totals is not None else None,
        network_code=reply.network_code,
        mac_failed=mac_failed,
    )


__all__ = ["UNKNOWN_SENT", "batch_totals", "from_iso", "read_reply", "request_bytes", "to_iso",
           "to_wire", "wire_totals"]
