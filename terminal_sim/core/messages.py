"""The terminal's own messages to and from the acquirer: what is decided, not how it is encoded.

The core and the runtime build requests and read replies as these frozen dataclasses;
:mod:`terminal_sim.iso.mapping` maps them to ISO 8583 fields and back, so the core
imports no wire format. Codes stay data, as the terminal decides them: the message type
identifier (``mti``, which names a message in the trace and tells the runtime where a
reply goes), response codes (``00`` approves), reversal reasons (``4021``). ``repr``
and ``trace_data()`` never show the PAN.

==========================  =========================================================
type                        what the terminal asks
==========================  =========================================================
:class:`AuthorizationRequest`  authorize a sale, refund or void online (the host
                            authorizes and captures in one financial request)
:class:`ReversalRequest`    cancel a transaction it gave up on, online, then as an
                            advice and repeats of the advice (store and forward)
:class:`AdviceRequest`      forward a sale approved offline, then repeats
:class:`SettlementRequest`  compare its batch totals with the host's
:class:`NetworkCheck`       sign on, sign off, echo
:class:`HostReply`          every answer; ``totals`` set on a settlement answer
==========================  =========================================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from terminal_sim.base.cards import Card
from terminal_sim.errors import ConfigurationError

MTI_FINANCIAL = "0200"
MTI_ADVICE = "0220"
MTI_ADVICE_REPEAT = "0221"
MTI_REVERSAL = "0400"
MTI_REVERSAL_ADVICE = "0420"
MTI_REVERSAL_ADVICE_REPEAT = "0421"
MTI_RECONCILIATION = "0500"
MTI_NETWORK = "0800"

#: Reversal reason: no response from the host in time (ISO 8583:1993 message reason code).
REASON_TIMEOUT = "4021"
#: Reversal reason: the host's reply was no valid answer to the request (ISO 8583:1993).
REASON_INVALID_RESPONSE = "4020"
#: The response code of an approval.
RC_APPROVED = "00"

#: How a reversal travels: first online, then as an advice, then as repeats of the advice.
REVERSAL_DELIVERIES: dict[str, str] = {
    "online": MTI_REVERSAL,
    "advice": MTI_REVERSAL_ADVICE,
    "repeat": MTI_REVERSAL_ADVICE_REPEAT,
}

#: Response codes (field 39) the simulator gives a meaning to, as slips and reports say them.
RESPONSE_TEXT: dict[str, str] = {
    "00": "APPROVED",
    "05": "DO NOT HONOUR",
    "12": "INVALID TRANSACTION",
    "13": "INVALID AMOUNT",
    "14": "INVALID CARD NUMBER",
    "25": "UNABLE TO LOCATE RECORD",
    "30": "FORMAT ERROR",
    "43": "STOLEN CARD",
    "51": "INSUFFICIENT FUNDS",
    "54": "EXPIRED CARD",
    "63": "SECURITY VIOLATION",
    "91": "ISSUER UNAVAILABLE",
    "94": "DUPLICATE TRANSMISSION",
    "95": "RECONCILE ERROR",
    "96": "SYSTEM MALFUNCTION",
}


def reply_mti(mti: str) -> str:
    """The MTI of the answer to ``mti`` (0200 -> 0210, 0421 -> 0430)."""
    return mti[:2] + str(int(mti[2]) + 1) + "0"


def response_text(code: str) -> str:
    """A short human text for a response code, for slips and reports."""
    return RESPONSE_TEXT.get(code, f"DECLINED ({code})")


@dataclass(frozen=True, slots=True)
class OriginalRef:
    """Which earlier message a void or reversal refers to.

    ``sent_at`` is when the original was sent, or None when the sender does not keep it.
    """

    stan: str
    sent_at: dt.datetime | None = None
    mti: str = MTI_FINANCIAL


def _trace(mti: str, kind: str, stan: str, amount_minor: int, currency: str, pan: str,
           *, rrn: str = "", original: OriginalRef | None = None,
           reason: str = "") -> dict[str, Any]:
    """The PAN-free trace of a transaction message; optional keys only when set."""
    data: dict[str, Any] = {"mti": mti, "kind": kind, "stan": stan, "amount": amount_minor,
                            "currency": currency, "pan": pan}
    if rrn:
        data["rrn"] = rrn
    if original is not None:
        data["original_stan"] = original.stan
    if reason:
        data["reason"] = reason
    return data


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Authorize a sale, refund or void (``kind``). Voids carry the original's RRN and
    ``original``; sales and refunds the card, whose PAN only the wire sees."""

    kind: str  # sale | void | refund
    stan: str
    terminal_id: str
    merchant_id: str
    amount_minor: int
    currency: str
    sent_at: dt.datetime
    card: Card | None = field(default=None, repr=False)
    rrn: str = ""
    original: OriginalRef | None = None

    @property
    def mti(self) -> str:
        return MTI_FINANCIAL

    @property
    def masked_pan(self) -> str:
        return self.card.masked if self.card is not None else ""

    def trace_data(self) -> dict[str, Any]:
        return _trace(self.mti, self.kind, self.stan, self.amount_minor, self.currency,
                      self.masked_pan, rrn=self.rrn, original=self.original)


@dataclass(frozen=True, slots=True)
class ReversalRequest:
    """Cancel the transaction ``original`` names, for ``reason``.

    ``kind`` is the kind of the transaction reversed; ``delivery`` is how this attempt
    travels (:data:`REVERSAL_DELIVERIES`). The card is not repeated.
    """

    kind: str
    stan: str
    terminal_id: str
    merchant_id: str
    amount_minor: int
    currency: str
    sent_at: dt.datetime
    original: OriginalRef
    reason: str = REASON_TIMEOUT
    rrn: str = ""
    delivery: str = "online"

    def __post_init__(self) -> None:
        if self.delivery not in REVERSAL_DELIVERIES:
            raise ConfigurationError(f"a reversal travels {'/'.join(REVERSAL_DELIVERIES)}, "
                                     f"not {self.delivery!r}")

    @property
    def mti(self) -> str:
        return REVERSAL_DELIVERIES[self.delivery]

    @property
    def message_type(self) -> str:
        """``reversal`` online, ``reversal-advice`` stored and forwarded."""
        return "reversal" if self.delivery == "online" else "reversal-advice"

    def trace_data(self) -> dict[str, Any]:
        return _trace(self.mti, self.kind, self.stan, self.amount_minor, self.currency, "",
                      rrn=self.rrn, original=self.original, reason=self.reason)


@dataclass(frozen=True, slots=True)
class AdviceRequest:
    """A sale the terminal approved offline with ``approval_code``, forwarded later with
    the sale's own STAN and card; ``repeat`` once the first advice went unanswered."""

    sale: AuthorizationRequest
    approval_code: str
    repeat: bool = False

    @property
    def mti(self) -> str:
        return MTI_ADVICE_REPEAT if self.repeat else MTI_ADVICE

    @property
    def stan(self) -> str:
        return self.sale.stan

    def trace_data(self) -> dict[str, Any]:
        sale = self.sale
        return _trace(self.mti, sale.kind, sale.stan, sale.amount_minor, sale.currency,
                      sale.masked_pan, rrn=sale.rrn, original=sale.original)


@dataclass(frozen=True, slots=True)
class BatchTotals:
    """Totals of one terminal's open batch.

    ``sales``/``refunds`` are what stands (approved, not voided or reversed); the
    ``*_reversed`` pair counts what was voided or reversed, for information only.
    """

    sales_count: int = 0
    sales_minor: int = 0
    refunds_count: int = 0
    refunds_minor: int = 0
    sales_reversed_count: int = 0
    sales_reversed_minor: int = 0
    refunds_reversed_count: int = 0
    refunds_reversed_minor: int = 0


@dataclass(frozen=True, slots=True)
class SettlementRequest:
    """End of day: the terminal's totals, for the host to compare with its own."""

    stan: str
    terminal_id: str
    merchant_id: str
    sent_at: dt.datetime
    totals: BatchTotals

    @property
    def mti(self) -> str:
        return MTI_RECONCILIATION


@dataclass(frozen=True, slots=True)
class NetworkCheck:
    """Network management: ``code`` ``001`` sign-on, ``002`` sign-off, ``301`` echo."""

    stan: str
    terminal_id: str
    sent_at: dt.datetime
    code: str = "301"

    @property
    def mti(self) -> str:
        return MTI_NETWORK

    def trace_data(self) -> dict[str, Any]:
        return {"mti": self.mti, "kind": "network", "stan": self.stan, "code": self.code}


#: Everything a terminal sends its acquirer.
Request = AuthorizationRequest | ReversalRequest | AdviceRequest | SettlementRequest | NetworkCheck


@dataclass(frozen=True, slots=True)
class HostReply:
    """An answer from the host. ``mti`` names the answer (``0210``, ``0410`` ...);
    ``totals`` are the host's on a settlement answer, ``network_code`` is echoed."""

    mti: str
    stan: str
    terminal_id: str
    response_code: str
    rrn: str = ""
    approval_code: str = ""
    amount_minor: int | None = None
    currency: str | None = None
    totals: BatchTotals | None = None
    network_code: str = ""
    #: the terminal MACs its messages and this reply's MAC is missing or does not verify
    mac_failed: bool = False

    @property
    def approved(self) -> bool:
        return self.response_code == RC_APPROVED

    def problem_with(self, request: AuthorizationRequest) -> str:
        """Why this reply is no valid answer to ``request`` ("" when it is one).

        Without a MAC nothing protects a reply on the wire: a changed byte can turn "00"
        into "0Q", an approval into what reads like a decline. A reply whose MAC does not
        verify (``mac_failed``), that does not answer its request (another MTI, STAN or
        terminal id, an amount or currency that does not echo the request's) or carries a
        response code the terminal does not know says nothing reliable about what the
        host did.
        """
        if self.mac_failed:
            return "its MAC is missing or does not verify"
        expected = reply_mti(request.mti)
        echoes = (("MTI", self.mti, expected), ("STAN", self.stan, request.stan),
                  ("terminal id", self.terminal_id, request.terminal_id))
        for name, got, want in echoes:
            if got != want:
                return f"{name} {got!r} does not answer the request's {want!r}"
        if self.response_code not in RESPONSE_TEXT:
            return f"unknown response code {self.response_code!r}"
        if self.amount_minor is not None and self.amount_minor != request.amount_minor:
            return f"amount {self.amount_minor} does not echo the request's {request.amount_minor}"
        if self.currency is not None and self.currency != request.currency:
            return f"currency {self.currency!r} does not echo the request's {request.currency!r}"
        return ""

    def trace_data(self) -> dict[str, Any]:
        return {
            "mti": self.mti,
            "stan": self.stan,
            "rc": self.response_code,
            "rrn": self.rrn,
            "auth": self.approval_code,
        }
