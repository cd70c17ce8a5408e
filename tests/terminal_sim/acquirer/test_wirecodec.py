"""The host's fast codec gives what pyiso8583 (through ``terminal_sim.iso.codec``) gives.

Well-formed messages must come out equal (same dict and key order, same bytes); for
anything else both must refuse alike (the fast path hands it to pyiso8583).
"""

from __future__ import annotations

import iso8583
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_sim.acquirer import wirecodec
from terminal_sim.errors import Iso8583Error
from terminal_sim.iso import codec
from terminal_sim.iso.spec import SPEC

NUMBERS = [n for n in range(2, 129) if n != 65]
ASCII = st.characters(min_codepoint=32, max_codepoint=126)
EXAMPLES = settings(max_examples=300, derandomize=True, deadline=None)


@st.composite
def messages(draw: st.DrawFn) -> dict[str, str]:
    """Field dicts that fit the spec (lengths included), with the odd one out now and then."""
    fields = {"t": draw(st.text(ASCII, min_size=4, max_size=4))}
    for number in draw(st.lists(st.sampled_from(NUMBERS), max_size=14, unique=True)):
        spec = SPEC[str(number)]
        most = spec["max_len"]
        if spec["len_type"]:
            value = draw(st.text(ASCII, max_size=min(most, 40)))
        else:
            value = draw(st.text(ASCII, min_size=min(most, 40), max_size=min(most, 40)))
            value = value.ljust(most, "0")[:most]
        fields[str(number)] = value
    if draw(st.integers(0, 9)) == 0:  # now and then something pyiso8583 has to judge
        key = draw(st.sampled_from(["2", "4", "1", "p", "65", "x", "02", "129"]))
        fields[key] = draw(st.text(max_size=30))
    return fields


def outcome(call: object, *args: object) -> tuple[str, object]:
    try:
        return "ok", call(*args)  # type: ignore[operator]
    except Iso8583Error as exc:
        return "error", (str(exc), exc.field)


@EXAMPLES
@given(messages())
def test_encode_is_pyiso8583s(fields: dict[str, str]) -> None:
    assert outcome(wirecodec.encode, fields) == outcome(codec.encode, fields)


@EXAMPLES
@given(messages(), st.data())
def test_decode_is_pyiso8583s(fields: dict[str, str], data: st.DataObject) -> None:
    try:
        raw = codec.encode(fields)
    except Iso8583Error:
        raw = data.draw(st.binary(max_size=80))
    if data.draw(st.booleans()):  # damage it: cut, extend or overwrite a byte
        where = data.draw(st.integers(0, len(raw)))
        what = data.draw(st.sampled_from(["cut", "add", "set"]))
        byte = bytes([data.draw(st.integers(0, 255))])
        raw = {"cut": raw[:where], "add": raw[:where] + byte + raw[where:],
               "set": raw[:where] + byte + raw[where + 1:]}[what]
    fast, slow = outcome(wirecodec.decode, raw), outcome(codec.decode, raw)
    assert fast == slow
    if fast[0] == "ok":
        assert isinstance(fast[1], dict)
        assert isinstance(slow[1], dict)
        assert list(fast[1]) == list(slow[1])  # the same key order too


@pytest.mark.parametrize("raw", [
    b"0200", b"0200" + b"G" * 16, b"0200 000000000000000", b"02004000000000000000",
    b"02004000000000000000 4", b"020040000000000000000411112", b"0200C" + b"0" * 31,
    b"0200800000000000000080" + b"0" * 14,
    b"02004000000000000000" + b"16" + b"4" * 16 + b"X",  # a byte after the last field
    b"02004000000000000000" + b"20" + b"4" * 20,  # field 2 holds 19 at most
    b"02004000000000000000" + b"19" + b"4" * 19,
    b"02004000000000000000" + b"00",
])
def test_edge_cases_decode_alike(raw: bytes) -> None:
    assert outcome(wirecodec.decode, raw) == outcome(codec.decode, raw)


def test_the_fast_path_is_taken_for_a_plain_sale() -> None:
    fields = {"t": "0200", "2": "4111111111111111", "3": "000000", "4": "000000001250",
              "11": "000001", "41": "T0000001", "90": "0" * 42}
    raw = bytes(iso8583.encode(dict(fields), SPEC)[0])
    assert wirecodec._encode_fast(fields) == raw  # noqa: SLF001 - the path under test
    decoded = wirecodec._decode_fast(raw)  # noqa: SLF001
    assert decoded == iso8583.decode(raw, SPEC)[0]
