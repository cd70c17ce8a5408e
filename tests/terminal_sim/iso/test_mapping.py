"""The terminal's own messages as ISO 8583 fields, and replies read back (iso.mapping)."""

from __future__ import annotations

import datetime as dt

import pytest

from terminal_sim.base.cards import Card
from terminal_sim.core.messages import (
    AdviceRequest,
    AuthorizationRequest,
    BatchTotals,
    HostReply,
    NetworkCheck,
    OriginalRef,
    ReversalRequest,
    SettlementRequest,
)
from terminal_sim.errors import ConfigurationError, Iso8583Error
from terminal_sim.iso import codec
from terminal_sim.iso import messages as wire
from terminal_sim.iso.mapping import UNKNOWN_SENT, from_iso, to_iso, to_wire

WHEN = dt.datetime(2026, 1, 5, 8, 30, 15)
SENT = dt.datetime(2026, 1, 5, 8, 29, 0)
CARD = Card("4111111111111111", expiry="2812")


def sale(card: Card | None = CARD) -> AuthorizationRequest:
    return AuthorizationRequest("sale", "000042", "T0000001", "M00000000000001", 1250, "EUR",
                                WHEN, card)


def reversal(delivery: str = "online") -> ReversalRequest:
    return ReversalRequest("sale", "000042", "T0000001", "M00000000000001", 1250, "EUR", WHEN,
                           OriginalRef("000042", SENT), rrn="600508000001", delivery=delivery)


def test_a_sale_is_a_financial_request_with_the_card() -> None:
    fields = to_iso(sale())
    assert fields == {
        "t": "0200", "2": "4111111111111111", "3": "000000", "4": "000000001250",
        "7": "0105083015", "11": "000042", "12": "083015", "13": "0105", "14": "2812",
        "22": "071", "25": "00", "41": "T0000001", "42": "M00000000000001", "49": "978",
    }


def test_a_void_names_its_original_without_a_send_time() -> None:
    void = AuthorizationRequest("void", "000043", "T0000001", "M1", 1250, "EUR", WHEN,
                                rrn="600508000001", original=OriginalRef("000042"))
    fields = to_iso(void)
    assert fields["3"] == "020000"
    assert fields["37"] == "600508000001"
    assert fields["90"] == "0200000042" + UNKNOWN_SENT + "0" * 22
    assert fields["42"] == "M1".ljust(15)
    assert "2" not in fields
    assert "14" not in fields


@pytest.mark.parametrize(("delivery", "mti", "message_type"), [
    ("online", "0400", "reversal"),
    ("advice", "0420", "reversal-advice"),
    ("repeat", "0421", "reversal-advice"),
])
def test_a_reversal_travels_online_then_as_advices(delivery: str, mti: str,
                                                    message_type: str) -> None:
    request = reversal(delivery)
    fields = to_iso(request)
    assert fields["t"] == request.mti == mti
    assert request.message_type == wire.MESSAGE_TYPES[mti] == message_type
    assert fields["60"] == "4021"
    assert fields["90"] == "0200000042" + "0105082900" + "0" * 22
    assert "2" not in fields  # the card is not repeated


def test_a_reversal_travels_only_known_ways() -> None:
    with pytest.raises(ConfigurationError, match="online/advice/repeat"):
        reversal("pigeon")


def test_an_advice_carries_the_offline_approval_code() -> None:
    advice = AdviceRequest(sale(), approval_code="Y1OFFL")
    fields = to_iso(advice)
    assert fields["t"] == "0220"
    assert fields["38"] == "Y1OFFL"
    assert fields["2"] == CARD.pan
    assert to_iso(AdviceRequest(sale(), "Y1OFFL", repeat=True))["t"] == "0221"


def test_settlement_and_network_checks() -> None:
    totals = BatchTotals(sales_count=3, sales_minor=4500, refunds_count=1, refunds_minor=700)
    fields = to_iso(SettlementRequest("000050", "T0000001", "M1", WHEN, totals))
    assert fields["t"] == "0500"
    assert fields["76"] == "0000000003"
    assert fields["88"] == "0000000000004500"
    assert fields["74"] == "0000000001"
    assert to_iso(NetworkCheck("000001", "T0000001", WHEN, "001")) == {
        "t": "0800", "7": "0105083015", "11": "000001", "41": "T0000001", "70": "001"}


@pytest.mark.parametrize("request_", [
    sale(), sale(None), reversal(), reversal("repeat"),
    AdviceRequest(sale(), "Y1OFFL"), NetworkCheck("000001", "T0000001", WHEN),
])
def test_the_terminal_traces_what_the_wire_carries(
        request_: AuthorizationRequest | ReversalRequest | AdviceRequest | NetworkCheck) -> None:
    """The trace of a request is the one its ISO 8583 message gives, and never the PAN."""
    assert request_.trace_data() == to_wire(request_).trace_data()
    assert CARD.pan not in repr(request_)
    assert CARD.pan not in str(request_.trace_data())


def test_the_wire_reads_its_own_fields_back() -> None:
    """A request survives encode, decode and the acquirer's reader unchanged."""
    for request in (sale(), reversal("advice")):
        fields = codec.decode(codec.encode(to_iso(request)))
        assert wire.HostRequest.from_fields(fields, year=2026) == to_wire(request)


def test_replies_are_read_into_the_terminals_type() -> None:
    answer = wire.HostReply("0510", "000050", "T0000001", "95",
                            totals=wire.Totals(1, 2, 3, 4, sales_reversed_count=5))
    reply = from_iso(codec.decode(codec.encode(answer.to_fields())))
    assert reply == HostReply("0510", "000050", "T0000001", "95",
                              totals=BatchTotals(1, 2, 3, 4, sales_reversed_count=5))
    assert not reply.approved
    approved = from_iso(wire.HostReply("0210", "000042", "T0000001", "00", "600508000001",
                                       "123456", 1250, "EUR").to_fields())
    assert approved.approved
    assert approved.trace_data() == {"mti": "0210", "stan": "000042", "rc": "00",
                                     "rrn": "600508000001", "auth": "123456"}


def test_a_reply_without_a_response_code_is_refused_by_field() -> None:
    fields = wire.HostReply("0210", "000042", "T0000001", "00").to_fields()
    del fields["39"]
    with pytest.raises(Iso8583Error, match="field 39"):
        from_iso(fields)
