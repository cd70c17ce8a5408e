"""Typed helpers of the new message types, and the spec's documented field use."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.errors import FrameError, Iso8583Error
from terminal_sim.iso import codec, spec
from terminal_sim.iso.framing import FrameDecoder, frame
from terminal_sim.iso.messages import (
    MESSAGE_TYPES,
    REQUEST_ECHO,
    HostReply,
    HostRequest,
    NetworkRequest,
    OriginalData,
    Totals,
    TotalsRequest,
    advice_of,
    message_class,
    repeat_of,
    reply_mti,
    reversal_of,
)
from terminal_sim.iso.spec import echo_of

WHEN = dt.datetime(2026, 1, 5, 8, 30, 15)
LATER = dt.datetime(2026, 1, 5, 8, 30, 45)


def sale() -> HostRequest:
    return HostRequest("0200", "sale", "000042", "T0000001", "M00000000000001", 1250, "EUR",
                       WHEN, "4111111111111111", "2912", rrn="600508000001")


def round_trip(request: HostRequest) -> HostRequest:
    return HostRequest.from_fields(codec.decode(codec.encode(request.to_fields())), year=2026)


def test_reversal_carries_reason_in_field_60_and_the_original_in_90() -> None:
    reversal = reversal_of(sale(), stan="000043", transmitted=LATER)
    fields = reversal.to_fields()
    assert fields["t"] == "0400"
    assert fields["60"] == spec.REASON_TIMEOUT == "4021"
    assert fields["90"] == "0200" + "000042" + "0105083015" + "0" * 22
    assert fields["11"] == "000043"
    assert fields["7"] == "0105083045"
    assert fields["37"] == "600508000001"
    assert "2" not in fields
    assert round_trip(reversal) == reversal
    assert reversal.message_type == "reversal"


def test_reversal_advice_and_its_repeat() -> None:
    advice = reversal_of(sale(), stan="000043", transmitted=LATER, mti="0420")
    assert advice.message_type == "reversal-advice"
    repeated = repeat_of(advice)
    assert repeated.mti == "0421"
    assert repeat_of(repeated) == repeated
    assert message_class(repeated.mti) == message_class("0400") == "04"
    assert reply_mti(repeated.mti) == "0430"
    with pytest.raises(Iso8583Error, match="field t: only advices are repeated"):
        repeat_of(sale())
    with pytest.raises(Iso8583Error, match="field t: a reversal is an 0400 or 0420"):
        reversal_of(sale(), stan="000043", transmitted=LATER, mti="0200")


def test_advice_carries_the_offline_approval_code() -> None:
    advice = advice_of(sale(), approval_code="Y1OFFL")
    fields = advice.to_fields()
    assert fields["t"] == "0220"
    assert fields["38"] == "Y1OFFL"
    assert fields["2"]
    assert round_trip(advice) == advice
    assert repeat_of(advice).mti == "0221"


def test_bad_reason_code_is_named() -> None:
    fields = reversal_of(sale(), stan="000043", transmitted=LATER).to_fields()
    fields["60"] = "TIMEOUT"
    with pytest.raises(Iso8583Error, match="field 60"):
        HostRequest.from_fields(codec.decode(codec.encode(fields)), year=2026)


def test_totals_request_round_trip_and_fields() -> None:
    totals = Totals(sales_count=3, sales_minor=4500, refunds_count=1, refunds_minor=700,
                    sales_reversed_count=1, sales_reversed_minor=99)
    request = TotalsRequest("000050", "T0000001", "M00000000000001", WHEN, totals)
    fields = codec.decode(codec.encode(request.to_fields()))
    assert fields["t"] == "0500"
    assert (fields["74"], fields["76"]) == ("0000000001", "0000000003")
    assert (fields["86"], fields["88"]) == ("0000000000000700", "0000000000004500")
    assert fields["77"] == "0000000001"
    assert fields["89"] == "0000000000000099"
    assert TotalsRequest.from_fields(fields, year=2026) == request


def test_totals_compare_only_what_stands() -> None:
    ours = Totals(2, 300, 1, 50)
    assert ours.balances_with(Totals(2, 300, 1, 50, sales_reversed_count=7))
    assert not ours.balances_with(Totals(2, 301, 1, 50))
    assert ours.differences(Totals(3, 300, 1, 50)) == {"76": (2, 3)}


def test_totals_missing_or_bad_field_is_named() -> None:
    fields = TotalsRequest("000050", "T0000001", "M1", WHEN, Totals()).to_fields()
    del fields["88"]
    with pytest.raises(Iso8583Error, match="field 88"):
        TotalsRequest.from_fields(fields, year=2026)
    fields = TotalsRequest("000050", "T0000001", "M1", WHEN, Totals()).to_fields()
    fields["76"] = "00000000x1"
    with pytest.raises(Iso8583Error, match="field 76"):
        TotalsRequest.from_fields(fields, year=2026)


def test_reply_with_totals_and_network_code_round_trip() -> None:
    reply = HostReply("0510", "000050", "T0000001", "95", totals=Totals(1, 2, 3, 4))
    assert HostReply.from_fields(codec.decode(codec.encode(reply.to_fields()))) == reply
    echo = HostReply("0810", "000001", "T0000001", "00", network_code="301")
    assert HostReply.from_fields(codec.decode(codec.encode(echo.to_fields()))) == echo
    assert reply.with_mti("0530").mti == "0530"


def test_network_request_fields() -> None:
    fields = NetworkRequest("000001", "T0000001", WHEN, spec.NET_SIGN_ON).to_fields()
    assert fields == {"t": "0800", "7": "0105083015", "11": "000001", "41": "T0000001",
                      "70": "001"}


@pytest.mark.parametrize(("name", "value"), [("49", "999"), ("4", "00000000012x")])
def test_reply_readers_name_the_bad_field(name: str, value: str) -> None:
    """A reply with an unknown currency or a non-numeric amount is our error, not ValueError."""
    fields = HostReply("0210", "000001", "T0000001", "00", amount_minor=1, currency="EUR"
                       ).to_fields()
    fields[name] = value
    with pytest.raises(Iso8583Error) as caught:
        HostReply.from_fields(codec.decode(codec.encode(fields)))
    assert caught.value.field == name


def test_request_reader_checks_the_stan() -> None:
    fields = sale().to_fields()
    fields["11"] = "00004X"
    with pytest.raises(Iso8583Error, match="field 11"):
        HostRequest.from_fields(fields, year=2026)


def test_original_data_must_be_digits() -> None:
    with pytest.raises(Iso8583Error, match="field 90"):
        OriginalData.decode("x" * 42)


def test_every_request_type_is_named_and_documented() -> None:
    doc = spec.__doc__ or ""
    for mti in MESSAGE_TYPES:
        assert mti in doc or mti[:3] in doc, mti
    for field in ("2", "3", "4", "7", "11", "12/13", "22", "37", "38", "39", "41", "42", "49",
                  "60", "70", "74/86", "75/87", "76/88", "77/89", "90"):
        assert f"\n{field} " in doc, field
    assert spec.DEVIATIONS == {}  # default_ascii, unchanged
    assert spec.response_text("95") == "RECONCILE ERROR"


def test_split_keeps_the_messages_before_a_bad_header() -> None:
    decoder = FrameDecoder(max_size=100)
    messages, error = decoder.split(frame(b"one") + frame(b"two") + b"\x00\x00" + frame(b"x"))
    assert messages == [b"one", b"two"]
    assert isinstance(error, FrameError)
    assert error.offset == 10
    assert decoder.pending == 0
    assert decoder.consumed == 10
    with pytest.raises(FrameError):
        FrameDecoder().feed(frame(b"ok") + b"\x00\x00")


@given(kind=st.sampled_from(["sale", "void", "refund"]),
       when=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
       merchant=st.text(alphabet="M0123456789 ", max_size=17))
def test_echoed_is_what_a_reply_echoes_of_to_fields(kind: str, when: dt.datetime,
                                                    merchant: str) -> None:
    request = HostRequest("0200", kind, "000001", "T0000001", merchant, 1250, "EUR", when)
    assert request.echoed() == tuple(echo_of(request.to_fields(), REQUEST_ECHO).items())
    assert request.to_fields()["7"] == when.strftime("%m%d%H%M%S")
