"""Typed ISO 8583 messages of the link, and their field dicts.

The acquirer reads requests with ``from_fields`` and answers with :class:`HostReply`;
the terminal's own types (:mod:`terminal_sim.core.messages`) become these in
:mod:`terminal_sim.iso.mapping`. ``repr`` and ``trace_data()`` never show the PAN.

=========================  ===========================================================
type                       messages
=========================  ===========================================================
:class:`HostRequest`       0100 authorization, 0200 sale/void/refund, 0220/0221 advice,
                           0400 reversal, 0420/0421 reversal advice (``reason`` is
                           field 60; build them with :func:`reversal_of`,
                           :func:`advice_of`, :func:`repeat_of`)
:class:`TotalsRequest`     0500 reconciliation with the terminal's :class:`Totals`
:class:`NetworkRequest`    0800 sign-on, sign-off, echo
:class:`HostReply`         every reply (0110 ... 0810); ``totals`` set on 0510
=========================  ===========================================================

Every reader refuses with :class:`~terminal_sim.errors.Iso8583Error` naming the field;
it never lets another exception through for any decoded input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

from terminal_sim.base.cards import mask_pan
from terminal_sim.base.money import currency_alpha, currency_numeric
from terminal_sim.core.messages import (
    MTI_ADVICE,
    MTI_ADVICE_REPEAT,
    MTI_FINANCIAL,
    MTI_NETWORK,
    MTI_RECONCILIATION,
    MTI_REVERSAL,
    MTI_REVERSAL_ADVICE,
    MTI_REVERSAL_ADVICE_REPEAT,
    BatchTotals,
)
from terminal_sim.core.messages import reply_mti as reply_mti  # one rule, the core's
from terminal_sim.errors import ConfigurationError, Iso8583Error
from terminal_sim.iso.spec import (
    PROC_PURCHASE,
    PROC_REFUND,
    PROC_VOID,
    REASON_TIMEOUT,
    echo_of,
)

#: The echoed fields a :class:`HostReply` keeps in ``echo`` (11 and 41 are its own).
REQUEST_ECHO = ("3", "7", "42")

_KIND_BY_PROC = {PROC_PURCHASE: "sale", PROC_VOID: "void", PROC_REFUND: "refund"}
_PROC_BY_KIND = {kind: proc for proc, kind in _KIND_BY_PROC.items()}

#: Sent by no terminal of ours today; the host books it in class 01, outside the batch.
MTI_AUTHORIZATION = "0100"

#: What each request MTI is, in words (also the ``message_type`` of a request).
MESSAGE_TYPES: dict[str, str] = {
    MTI_AUTHORIZATION: "authorization",
    MTI_FINANCIAL: "financial",
    MTI_ADVICE: "advice",
    MTI_ADVICE_REPEAT: "advice",
    MTI_REVERSAL: "reversal",
    MTI_REVERSAL_ADVICE: "reversal-advice",
    MTI_REVERSAL_ADVICE_REPEAT: "reversal-advice",
    MTI_RECONCILIATION: "reconciliation",
    MTI_NETWORK: "network",
}

_REPEATS = {MTI_ADVICE: MTI_ADVICE_REPEAT, MTI_REVERSAL_ADVICE: MTI_REVERSAL_ADVICE_REPEAT}


def message_class(mti: str) -> str:
    """The class part of the host's idempotency key: MTI digits 1-2 (0420, 0421 -> ``04``).

    A request, its advice form and its repeats share the class, so a repeat is the same
    message to the host whatever MTI it travels under.
    """
    return mti[:2]


def _digits(fields: Mapping[str, str], name: str, *, length: int | None = None) -> str:
    value = fields.get(name)
    if value is None:
        raise Iso8583Error("mandatory field missing", None, name)
    if not (value.isascii() and value.isdigit()) or (length is not None and len(value) != length):
        size = f"{length} " if length is not None else ""
        raise Iso8583Error(f"must be {size}digits, got {len(value)} characters", None, name)
    return value


def _require(fields: Mapping[str, str], *names: str) -> None:
    for name in names:
        if name not in fields:
            raise Iso8583Error("mandatory field missing", None, name)


def mmddhhmmss(when: dt.datetime) -> str:
    """Field 7's form of ``when`` (``strftime("%m%d%H%M%S")``, at a third of its cost)."""
    # percent formatting: an f-string with format specs costs twice as much here
    fields = (when.month, when.day, when.hour, when.minute, when.second)
    return "%02d%02d%02d%02d%02d" % fields  # noqa: UP031


def _transmitted(fields: Mapping[str, str], year: int) -> dt.datetime:
    """Field 7 (MMDDhhmmss) in ``year``; sliced by hand, strptime costs 10x more."""
    value = _digits(fields, "7", length=10)
    try:
        return dt.datetime(year, int(value[0:2]), int(value[2:4]), int(value[4:6]),
                           int(value[6:8]), int(value[8:10]))
    except ValueError:
        raise Iso8583Error("transmission date/time is not MMDDhhmmss", None, "7") from None


def _currency(fields: Mapping[str, str], name: str = "49") -> str:
    try:
        return currency_alpha(fields[name])
    except ConfigurationError as exc:
        raise Iso8583Error(str(exc), None, name) from exc


@dataclass(frozen=True, slots=True)
class OriginalData:
    """Field 90: which message a void or reversal refers to."""

    mti: str
    stan: str
    transmitted: str  # MMDDhhmmss, or zeros when the sender does not keep it

    def encode(self) -> str:
        return f"{self.mti}{self.stan}{self.transmitted}" + "0" * 22

    @classmethod
    def decode(cls, value: str) -> OriginalData:
        if len(value) != 42 or not (value.isascii() and value.isdigit()):
            raise Iso8583Error("original data elements must be 42 digits", None, "90")
        return cls(value[:4], value[4:10], value[10:20])


class Outgoing(Protocol):
    """What a link needs of a request: its identity and its fields."""

    @property
    def mti(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def stan(self) -> str: ...

    @property
    def terminal_id(self) -> str: ...

    def to_fields(self) -> dict[str, str]: ...

    def trace_data(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class HostRequest:
    """A transaction request from terminal to host (0100, 0200, 0220, 0400, 0420 ...).

    ``kind`` is the transaction (sale | void | refund, field 3); for a reversal it is the
    kind of the transaction reversed. ``reason`` (field 60) is set on reversals,
    ``approval_code`` (field 38) on advices of offline approvals.
    """

    mti: str
    kind: str  # sale | void | refund
    stan: str
    terminal_id: str
    merchant_id: str
    amount_minor: int
    currency: str
    transmitted: dt.datetime
    pan: str = field(repr=False, default="")
    expiry: str = ""
    entry_mode: str = "071"
    rrn: str = ""  # voids and reversals echo the original RRN
    original: OriginalData | None = None
    reason: str = ""
    approval_code: str = ""

    @property
    def masked_pan(self) -> str:
        return mask_pan(self.pan) if self.pan else ""

    @property
    def message_type(self) -> str:
        """``financial``, ``reversal``, ``advice`` ... (:data:`MESSAGE_TYPES`)."""
        return MESSAGE_TYPES.get(self.mti, self.mti)

    def to_fields(self) -> dict[str, str]:
        transmitted = mmddhhmmss(self.transmitted)  # 12 and 13 are parts of it
        fields = {
            "t": self.mti,
            "3": _PROC_BY_KIND[self.kind],
            "4": f"{self.amount_minor:012d}",
            "7": transmitted,
            "11": self.stan,
            "12": transmitted[4:],
            "13": transmitted[:4],
            "22": self.entry_mode,
            "25": "00",
            "41": self.terminal_id,
            "42": self.merchant_id.ljust(15),
            "49": currency_numeric(self.currency),
        }
        if self.pan:
            fields["2"] = self.pan
        if self.expiry:
            fields["14"] = self.expiry
        if self.rrn:
            fields["37"] = self.rrn
        if self.approval_code:
            fields["38"] = self.approval_code
        if self.reason:
            fields["60"] = self.reason
        if self.original is not None:
            fields["90"] = self.original.encode()
        return fields

    def echoed(self) -> tuple[tuple[str, str], ...]:
        """Fields 3, 7 and 42 of :meth:`to_fields` as a reply echoes them (those
        well-formed: field 42 only when the merchant id fits its 15 characters), without
        building the other fields (the host asks this of every request)."""
        head = (("3", _PROC_BY_KIND[self.kind]), ("7", mmddhhmmss(self.transmitted)))
        merchant = self.merchant_id.ljust(15)
        return (*head, ("42", merchant)) if len(merchant) == 15 else head

    @classmethod
    def from_fields(cls, fields: Mapping[str, str], *, year: int) -> HostRequest:
        """Read a decoded request; a missing or bad field raises ``Iso8583Error`` naming it."""
        _require(fields, "t", "3", "4", "7", "11", "41", "49")
        kind = _KIND_BY_PROC.get(fields["3"])
        if kind is None:
            raise Iso8583Error(f"unsupported processing code {fields['3']!r}", None, "3")
        amount = _digits(fields, "4")
        stan = _digits(fields, "11", length=6)
        transmitted = _transmitted(fields, year)
        currency = _currency(fields)
        reason = _digits(fields, "60", length=4) if "60" in fields else ""
        original = OriginalData.decode(fields["90"]) if "90" in fields else None
        return cls(
            mti=fields["t"],
            kind=kind,
            stan=stan,
            terminal_id=fields["41"],
            merchant_id=fields.get("42", "").rstrip(),
            amount_minor=int(amount),
            currency=currency,
            transmitted=transmitted,
            pan=fields.get("2", ""),
            expiry=fields.get("14", ""),
            entry_mode=fields.get("22", ""),
            rrn=fields.get("37", ""),
            original=original,
            reason=reason,
            approval_code=fields.get("38", ""),
        )

    def trace_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "mti": self.mti,
            "kind": self.kind,
            "stan": self.stan,
            "amount": self.amount_minor,
            "currency": self.currency,
            "pan": self.masked_pan,
        }
        if self.rrn:
            data["rrn"] = self.rrn
        if self.original is not None:
            data["original_stan"] = self.original.stan
        if self.reason:
            data["reason"] = self.reason
        return data


def reversal_of(
    original: HostRequest,
    *,
    stan: str,
    transmitted: dt.datetime,
    mti: str = MTI_REVERSAL,
    reason: str = REASON_TIMEOUT,
    rrn: str = "",
) -> HostRequest:
    """The 0400 (or 0420 advice) that cancels ``original``, with ``reason`` in field 60.

    ``stan`` is the reversal's own STAN (a new one, or the original's under the same-STAN
    convention); field 90 names the original either way. The PAN is not repeated.
    """
    if mti not in (MTI_REVERSAL, MTI_REVERSAL_ADVICE):
        raise Iso8583Error(f"a reversal is an 0400 or 0420, not {mti}", None, "t")
    return replace(
        original,
        mti=mti,
        stan=stan,
        transmitted=transmitted,
        pan="",
        expiry="",
        rrn=rrn or original.rrn,
        original=OriginalData(original.mti, original.stan,
                              mmddhhmmss(original.transmitted)),
        reason=reason,
        approval_code="",
    )


def advice_of(sale: HostRequest, *, approval_code: str = "") -> HostRequest:
    """The 0220 advice of a sale the terminal approved offline (same STAN, same card)."""
    return replace(sale, mti=MTI_ADVICE, approval_code=approval_code)


def repeat_of(request: HostRequest) -> HostRequest:
    """The repeat of an advice (0220 -> 0221, 0420 -> 0421); other MTIs are refused."""
    repeated = _REPEATS.get(request.mti)
    if repeated is None:
        if request.mti in _REPEATS.values():
            return request
        raise Iso8583Error(f"only advices are repeated (0220, 0420), not {request.mti}",
                           None, "t")
    return replace(request, mti=repeated)


@dataclass(frozen=True, slots=True)
class Totals(BatchTotals):
    """The core's batch totals as fields 74-77 (counts) and 86-89 (amounts)."""

    #: field -> (attribute, width); the compared ones are :data:`COMPARED`
    FIELDS: ClassVar[dict[str, tuple[str, int]]] = {
        "74": ("refunds_count", 10),
        "75": ("refunds_reversed_count", 10),
        "76": ("sales_count", 10),
        "77": ("sales_reversed_count", 10),
        "86": ("refunds_minor", 16),
        "87": ("refunds_reversed_minor", 16),
        "88": ("sales_minor", 16),
        "89": ("sales_reversed_minor", 16),
    }
    COMPARED: ClassVar[tuple[str, ...]] = ("74", "76", "86", "88")

    def to_fields(self) -> dict[str, str]:
        return {name: f"{getattr(self, attr):0{width}d}"
                for name, (attr, width) in self.FIELDS.items()}

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Totals:
        """Read 74-77/86-89; the compared four are mandatory, the others default to 0."""
        values: dict[str, int] = {}
        for name, (attr, width) in cls.FIELDS.items():
            if name in cls.COMPARED or name in fields:
                values[attr] = int(_digits(fields, name, length=width))
        return cls(**values)

    def balances_with(self, other: Totals) -> bool:
        """True when the compared totals (74, 76, 86, 88) agree."""
        mine, theirs = self.to_fields(), other.to_fields()
        return all(mine[name] == theirs[name] for name in self.COMPARED)

    def differences(self, other: Totals) -> dict[str, tuple[int, int]]:
        """Compared field -> (ours, theirs) where they differ."""
        out = {}
        for name in self.COMPARED:
            attr = self.FIELDS[name][0]
            if getattr(self, attr) != getattr(other, attr):
                out[name] = (getattr(self, attr), getattr(other, attr))
        return out


@dataclass(frozen=True, slots=True)
class TotalsRequest:
    """0500: the terminal's totals of its open batch, for the host to compare."""

    stan: str
    terminal_id: str
    merchant_id: str
    transmitted: dt.datetime
    totals: Totals
    mti: str = MTI_RECONCILIATION

    @property
    def kind(self) -> str:
        return "totals"

    def to_fields(self) -> dict[str, str]:
        fields = {
            "t": self.mti,
            "7": mmddhhmmss(self.transmitted),
            "11": self.stan,
            "41": self.terminal_id,
            "42": self.merchant_id.ljust(15),
        }
        fields.update(self.totals.to_fields())
        return fields

    @classmethod
    def from_fields(cls, fields: Mapping[str, str], *, year: int) -> TotalsRequest:
        _require(fields, "t", "7", "11", "41")
        stan = _digits(fields, "11", length=6)
        transmitted = _transmitted(fields, year)
        return cls(stan, fields["41"], fields.get("42", "").rstrip(), transmitted,
                   Totals.from_fields(fields), mti=fields["t"])

    def trace_data(self) -> dict[str, Any]:
        return {"mti": self.mti, "kind": self.kind, "stan": self.stan,
                **{k: v for k, v in self.totals.to_fields().items() if k in Totals.COMPARED}}


@dataclass(frozen=True, slots=True)
class NetworkRequest:
    """0800: sign-on (``001``), sign-off (``002``) or echo test (``301``)."""

    stan: str
    terminal_id: str
    transmitted: dt.datetime
    code: str = "301"
    mti: str = MTI_NETWORK

    @property
    def kind(self) -> str:
        return "network"

    def to_fields(self) -> dict[str, str]:
        return {"t": self.mti, "7": mmddhhmmss(self.transmitted),
                "11": self.stan, "41": self.terminal_id, "70": self.code}

    def trace_data(self) -> dict[str, Any]:
        return {"mti": self.mti, "kind": self.kind, "stan": self.stan, "code": self.code}


@dataclass(frozen=True, slots=True)
class HostReply:
    """A reply from host to terminal."""

    mti: str
    stan: str
    terminal_id: str
    response_code: str
    rrn: str = ""
    approval_code: str = ""
    amount_minor: int | None = None
    currency: str | None = None
    totals: Totals | None = None  # 0510: the host's totals
    network_code: str = ""  # 0810: field 70 echoed
    echo: tuple[tuple[str, str], ...] = ()  # fields 3, 7, 42 of the request (spec.ECHOED)

    @property
    def approved(self) -> bool:
        return self.response_code == "00"

    def to_fields(self) -> dict[str, str]:
        fields = {"t": self.mti, "11": self.stan, "39": self.response_code, "41": self.terminal_id}
        if self.rrn:
            fields["37"] = self.rrn
        if self.approval_code:
            fields["38"] = self.approval_code
        if self.amount_minor is not None:
            fields["4"] = f"{self.amount_minor:012d}"
        if self.currency is not None:
            fields["49"] = currency_numeric(self.currency)
        if self.totals is not None:
            fields.update(self.totals.to_fields())
        if self.network_code:
            fields["70"] = self.network_code
        fields.update(self.echo)
        return fields

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> HostReply:
        """Read a decoded reply; a missing or bad field raises ``Iso8583Error`` naming it."""
        _require(fields, "t", "11", "39", "41")
        amount = fields.get("4")
        if amount is not None:
            amount = _digits(fields, "4")
        return cls(
            mti=fields["t"],
            stan=fields["11"],
            terminal_id=fields["41"],
            response_code=fields["39"],
            rrn=fields.get("37", ""),
            approval_code=fields.get("38", ""),
            amount_minor=int(amount) if amount is not None else None,
            currency=_currency(fields) if "49" in fields else None,
            totals=Totals.from_fields(fields) if "74" in fields else None,
            network_code=fields.get("70", ""),
            echo=tuple(echo_of(fields, REQUEST_ECHO).items()),
        )

    def with_mti(self, mti: str, echo: Mapping[str, str] | None = None) -> HostReply:
        """The same answer under another MTI (a repeat sent as 0421 gets an 0430), echoing
        ``echo`` (the fields of the request it answers now) when given."""
        if echo is None:
            return replace(self, mti=mti)
        return replace(self, mti=mti, echo=tuple(echo_of(echo, REQUEST_ECHO).items()))

    def trace_data(self) -> dict[str, Any]:
        return {
            "mti": self.mti,
            "stan": self.stan,
            "rc": self.response_code,
            "rrn": self.rrn,
            "auth": self.approval_code,
        }
