"""Typed ISO 8583 messages of the link, and their field dicts.

The terminal core builds :class:`HostRequest`; the acquirer reads it back with
:meth:`HostRequest.from_fields`; replies are :class:`HostReply`. ``repr`` and
:meth:`trace_data` never show the PAN.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from terminal_sim.cards import mask_pan
from terminal_sim.errors import Iso8583Error
from terminal_sim.iso.spec import PROC_PURCHASE, PROC_REFUND, PROC_VOID
from terminal_sim.money import currency_alpha, currency_numeric

_KIND_BY_PROC = {PROC_PURCHASE: "sale", PROC_VOID: "void", PROC_REFUND: "refund"}
_PROC_BY_KIND = {kind: proc for proc, kind in _KIND_BY_PROC.items()}


def reply_mti(mti: str) -> str:
    """The MTI of the answer to ``mti`` (0200 -> 0210, 0421 -> 0430)."""
    return mti[:2] + str(int(mti[2]) + 1) + "0"


@dataclass(frozen=True, slots=True)
class OriginalData:
    """Field 90: which message a void or reversal refers to."""

    mti: str
    stan: str
    transmitted: str  # MMDDhhmmss

    def encode(self) -> str:
        return f"{self.mti}{self.stan}{self.transmitted}" + "0" * 22

    @classmethod
    def decode(cls, value: str) -> OriginalData:
        if len(value) != 42 or not value.isdigit():
            raise Iso8583Error("original data elements must be 42 digits", None, "90")
        return cls(value[:4], value[4:10], value[10:20])


@dataclass(frozen=True, slots=True)
class HostRequest:
    """A request from terminal to host."""

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

    @property
    def masked_pan(self) -> str:
        return mask_pan(self.pan) if self.pan else ""

    def to_fields(self) -> dict[str, str]:
        fields = {
            "t": self.mti,
            "3": _PROC_BY_KIND[self.kind],
            "4": f"{self.amount_minor:012d}",
            "7": self.transmitted.strftime("%m%d%H%M%S"),
            "11": self.stan,
            "12": self.transmitted.strftime("%H%M%S"),
            "13": self.transmitted.strftime("%m%d"),
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
        if self.original is not None:
            fields["90"] = self.original.encode()
        return fields

    @classmethod
    def from_fields(cls, fields: dict[str, str], *, year: int) -> HostRequest:
        """Read a decoded request; a missing or bad field raises ``Iso8583Error`` naming it."""
        for required in ("t", "3", "4", "7", "11", "41", "49"):
            if required not in fields:
                raise Iso8583Error("mandatory field missing", None, required)
        kind = _KIND_BY_PROC.get(fields["3"])
        if kind is None:
            raise Iso8583Error(f"unsupported processing code {fields['3']!r}", None, "3")
        amount = fields["4"]
        if not amount.isdigit():
            raise Iso8583Error("amount is not numeric", None, "4")
        try:
            transmitted = dt.datetime.strptime(f"{year}{fields['7']}", "%Y%m%d%H%M%S")
        except ValueError:
            raise Iso8583Error("transmission date/time is not MMDDhhmmss", None, "7") from None
        try:
            currency = currency_alpha(fields["49"])
        except ValueError as exc:
            raise Iso8583Error(str(exc), None, "49") from None
        original = OriginalData.decode(fields["90"]) if "90" in fields else None
        return cls(
            mti=fields["t"],
            kind=kind,
            stan=fields["11"],
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
        return data


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
        return fields

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> HostReply:
        for required in ("t", "11", "39", "41"):
            if required not in fields:
                raise Iso8583Error("mandatory field missing", None, required)
        amount = fields.get("4")
        currency = fields.get("49")
        return cls(
            mti=fields["t"],
            stan=fields["11"],
            terminal_id=fields["41"],
            response_code=fields["39"],
            rrn=fields.get("37", ""),
            approval_code=fields.get("38", ""),
            amount_minor=int(amount) if amount and amount.isdigit() else None,
            currency=currency_alpha(currency) if currency else None,
        )

    def trace_data(self) -> dict[str, Any]:
        return {
            "mti": self.mti,
            "stan": self.stan,
            "rc": self.response_code,
            "rrn": self.rrn,
            "auth": self.approval_code,
        }
