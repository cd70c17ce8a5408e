"""ISO 8583 round trips through pyiso8583, framing, and errors with field and offset."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.errors import FrameError, Iso8583Error
from terminal_sim.iso import codec
from terminal_sim.iso.framing import FrameDecoder, frame, unframe
from terminal_sim.iso.messages import HostReply, HostRequest, OriginalData, reply_mti

WHEN = dt.datetime(2026, 1, 5, 8, 30, 15)


def sale(**changes: Any) -> HostRequest:
    base = HostRequest(mti="0200", kind="sale", stan="000042", terminal_id="T0000001",
                       merchant_id="M00000000000001", amount_minor=1250, currency="EUR",
                       transmitted=WHEN, pan="4111111111111111", expiry="2912")
    return replace(base, **changes)


def test_request_round_trip() -> None:
    request = sale()
    wire = codec.encode(request.to_fields())
    fields = codec.decode(wire)
    assert fields["t"] == "0200"
    assert fields["3"] == "000000"
    assert fields["4"] == "000000001250"
    assert fields["7"] == "0105083015"
    assert fields["11"] == "000042"
    assert fields["49"] == "978"
    assert HostRequest.from_fields(fields, year=2026) == request


def test_void_round_trip_carries_original_data() -> None:
    request = sale(kind="void", stan="000043", rrn="600508000001",
                   original=OriginalData("0200", "000042", "0105083015"))
    fields = codec.decode(codec.encode(request.to_fields()))
    assert fields["3"] == "020000"
    assert len(fields["90"]) == 42
    assert HostRequest.from_fields(fields, year=2026) == request


def test_reply_round_trip() -> None:
    answer = HostReply("0210", "000042", "T0000001", "00", "600508000001", "123456", 1250, "EUR")
    assert HostReply.from_fields(codec.decode(codec.encode(answer.to_fields()))) == answer


def test_encode_does_not_mutate_its_input() -> None:
    fields = sale().to_fields()
    copy = dict(fields)
    codec.encode(fields)
    assert fields == copy  # pyiso8583 would have added the bitmap "p"


def test_decode_error_names_field_and_offset() -> None:
    wire = codec.encode(sale().to_fields())
    with pytest.raises(Iso8583Error) as caught:
        codec.decode(wire[:30])
    assert caught.value.field is not None
    assert caught.value.offset is not None
    assert caught.value.partial.get("t") == "0200"


def test_missing_mandatory_field_is_named() -> None:
    fields = sale().to_fields()
    del fields["11"]
    with pytest.raises(Iso8583Error, match="field 11"):
        HostRequest.from_fields(codec.decode(codec.encode(fields)), year=2026)


def test_repr_and_trace_never_show_the_pan() -> None:
    request = sale()
    assert "4111111111111111" not in repr(request)
    assert request.trace_data()["pan"] == "************1111"


def test_reply_mti() -> None:
    assert reply_mti("0200") == "0210"
    assert reply_mti("0421") == "0430"


def test_frame_round_trip_and_errors() -> None:
    assert unframe(frame(b"0800abc")) == b"0800abc"
    with pytest.raises(FrameError):
        unframe(b"\x00")
    with pytest.raises(FrameError) as caught:
        unframe(b"\x00\x10abc")
    assert caught.value.offset == 5
    with pytest.raises(FrameError):
        unframe(b"\x00\x00")
    with pytest.raises(FrameError, match="trailing"):
        unframe(frame(b"ab") + b"x")


@given(st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=8), st.data())
def test_decoder_reassembles_any_split(messages: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(frame(m) for m in messages)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=10)))
    decoder = FrameDecoder()
    out: list[bytes] = []
    last = 0
    for cut in [*cuts, len(stream)]:
        out += decoder.feed(stream[last:cut])
        last = cut
    assert out == messages
    assert decoder.pending == 0


def test_decoder_rejects_oversize_header() -> None:
    decoder = FrameDecoder(max_size=100)
    with pytest.raises(FrameError) as caught:
        decoder.feed(frame(b"a" * 10) + b"\xff\xff")
    assert caught.value.offset == 12


@given(st.binary(max_size=200))
def test_decode_of_garbage_raises_only_our_error(data: bytes) -> None:
    caught: Iso8583Error | None = None
    try:
        codec.decode(data)
    except Iso8583Error as exc:  # anything else fails the test
        caught = exc
    if caught is not None:
        assert caught.offset is not None or caught.field is not None
