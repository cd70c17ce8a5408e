"""A whole ``GS ( k`` runs from the interpreter's main loop: the same roll, warnings and
replies as through ``_command`` (``symbols_inline = False``), whole or in chunks."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from printer.interpreter import EscPosInterpreter

CAP = 64  # a small command-size cap, so that oversize symbols are generated


class Reference(EscPosInterpreter):
    symbols_inline = False


def symbol(payload: bytes, size: int | None = None) -> bytes:
    n = len(payload) if size is None else size
    return b"\x1d(k" + bytes((n & 0xFF, n >> 8)) + payload


QR = [b"1A2\x00", b"1C\x04", b"1E0", b"1P0TSIM:T0000001:000006:600508000006", b"1Q0",
      b"1R0", b"2P0x", b"2Q0", b"1A9", b"1C\x00", b"\x00", b""]
TOKENS = st.one_of(
    st.sampled_from(QR).map(symbol),
    st.builds(symbol, st.binary(max_size=80)),
    st.builds(symbol, st.binary(min_size=CAP - 2, max_size=CAP + 8)),  # at the cap
    st.builds(symbol, st.binary(max_size=8), st.integers(0, 300)),  # lies about its size
    st.sampled_from([b"\x1d(k", b"\x1d(k\x05", b"\x1d(L\x02\x000p", b"\x1b=\x00",
                     b"\x1b=\x01", b"\x1c&", b"\x1c.", b"\x1b@", b"\n", b"TEXT\n", b"\x1ba\x01"]),
    st.binary(min_size=1, max_size=6),
)
STREAMS = st.lists(TOKENS, max_size=30).map(b"".join)


def read(kind: type[EscPosInterpreter], data: bytes, cuts: list[int]) -> dict[str, Any]:
    interpreter = kind(max_command_bytes=CAP)
    points = sorted({c % (len(data) + 1) for c in cuts})
    replies = [interpreter.feed(data[a:b])
               for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    return {"replies": replies, "roll": interpreter.finish().to_dict()}


@settings(max_examples=300, deadline=None)
@given(STREAMS, st.lists(st.integers(0, 10_000), max_size=6))
def test_symbols_read_in_the_main_loop_are_read_as_by_command(data: bytes,
                                                               cuts: list[int]) -> None:
    assert read(EscPosInterpreter, data, cuts) == read(Reference, data, cuts)
    assert read(EscPosInterpreter, data, []) == read(Reference, data, [])
