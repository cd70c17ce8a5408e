"""Fuzzing the interpreter: whatever the bytes, it raises nothing (lenient) or only
EscPosError (strict), terminates, keeps its buffer bounded, and reads the same roll however
the stream is cut into chunks."""

from __future__ import annotations

import contextlib
import io
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from printer.errors import EscPosError
from printer.escpos_loader import escpos_module
from printer.interpreter import EscPosInterpreter, parse
from printer.roll import Roll
from printer.state import PrinterState

CAP = 2048  # a small command-size cap, so that the cap is exercised
# The largest command that is not capped: ESC & (user-defined characters) is at most
# 5 + 95 * (1 + 3 * 255) bytes.
BUFFER_BOUND = max(CAP, 5 + 95 * 766) + 8

# On top of the suite's Hypothesis profile (tests/conftest.py: "ci" derandomizes, "nightly"
# runs more examples): at least 300 examples, no example database.
_PROFILE = settings()  # the suite's profile in force
FUZZ = settings(_PROFILE, max_examples=max(300, _PROFILE.max_examples),
                database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Command prefixes the interpreter knows (and a few it does not), to reach deep paths.
PREFIXES = [
    b"\x1b@", b"\x1bE", b"\x1bG", b"\x1b-", b"\x1ba", b"\x1b!", b"\x1bM", b"\x1bt", b"\x1b2",
    b"\x1b3", b"\x1bd", b"\x1bJ", b"\x1bi", b"\x1bm", b"\x1bp", b"\x1bB", b"\x1b{", b"\x1bV",
    b"\x1b=", b"\x1bD", b"\x1b*", b"\x1b&", b"\x1b(A", b"\x1b$", b"\x1b\\", b"\x1bu", b"\x1bv",
    b"\x1d!", b"\x1dB", b"\x1dV", b"\x1dh", b"\x1dw", b"\x1dH", b"\x1df", b"\x1dk", b"\x1d(k",
    b"\x1d(k\x04\x001A2", b"\x1d(k\x03\x001Q0", b"\x1d(L", b"\x1d8L", b"\x1dv0", b"\x1dr",
    b"\x1da", b"\x1dL", b"\x1dW", b"\x1d*", b"\x1d/", b"\x1c&", b"\x1c.", b"\x1cp", b"\x1cq",
    b"\x1c(C", b"\x1c2", b"\x10\x04", b"\x10\x05", b"\x10\x14", b"\x1b\xff", b"\x1d\x00",
]
TOKENS = st.one_of(
    st.builds(lambda p, b: p + b, st.sampled_from(PREFIXES), st.binary(max_size=6)),
    st.binary(min_size=1, max_size=12),  # text (and stray control bytes)
    st.sampled_from([b"\n", b"\t", b"\r", b"\x0c", b"\x00", b"\x7f", b"\x81\x30", "签".encode(
        "gb18030")]),
)
STREAMS = st.lists(TOKENS, max_size=40).map(b"".join)


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def check_stream(data: bytes, cuts: list[int], chinese: bool) -> None:
    reference = parse(data, max_command_bytes=CAP, chinese_mode=chinese).to_dict()
    interpreter = EscPosInterpreter(max_command_bytes=CAP, chinese_mode=chinese)
    for chunk in chunks(data, cuts):
        interpreter.feed(chunk)
        assert interpreter.buffered <= BUFFER_BOUND
    roll = interpreter.finish()
    assert roll.to_dict() == reference  # the chunking never changes what is read
    assert roll.total_bytes == len(data)
    assert sum(len(r.elements) for r in roll.receipts) <= len(data)
    check_offsets(roll)
    one_shot = strict_outcome([data], chinese)
    assert strict_outcome(chunks(data, cuts), chinese) == one_shot
    if one_shot is not None:
        assert 0 <= one_shot[0] <= len(data)
        assert one_shot in {(w.offset, w.reason) for w in roll.warnings}


def strict_outcome(parts: list[bytes], chinese: bool) -> tuple[int, str] | None:
    """The (offset, reason) strict mode stops at, or None; it raises nothing else."""
    interpreter = EscPosInterpreter(strict=True, max_command_bytes=CAP, chinese_mode=chinese)
    try:
        for part in parts:
            interpreter.feed(part)
        interpreter.finish()
    except EscPosError as error:
        offset, reason = error.offset, error.reason
    else:
        return None
    assert offset is not None
    return offset, reason


def check_offsets(roll: Roll) -> None:
    end = 0
    for receipt in roll.receipts:
        assert end <= receipt.start_offset < receipt.end_offset <= roll.total_bytes
        assert all(receipt.start_offset <= e.offset < receipt.end_offset
                   for e in receipt.elements)
        end = receipt.end_offset
    assert all(0 <= w.offset <= roll.total_bytes for w in roll.warnings)


@FUZZ
@given(STREAMS, st.lists(st.integers(min_value=0), max_size=6), st.booleans())
def test_random_streams(data: bytes, cuts: list[int], chinese: bool) -> None:
    check_stream(data, cuts, chinese)


@FUZZ
@given(st.binary(max_size=300), st.lists(st.integers(min_value=0), max_size=4))
def test_raw_bytes(data: bytes, cuts: list[int]) -> None:
    check_stream(data, cuts, False)


@cache
def seed_receipts() -> tuple[bytes, ...]:
    """Real receipts, as python-escpos sends them."""
    escpos_module()
    from escpos.printer import Dummy
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (24, 16), "white")
    ImageDraw.Draw(picture).rectangle((2, 2, 12, 9), fill="black")

    def sale(p: Any) -> None:
        p.set(align="center", bold=True, double_height=True)
        p.text("ACME Café €\n")
        p.set(align="left", bold=False, normal_textsize=True)
        p.text("TID:      12345678\nAMOUNT:      12.50 EUR\n")
        p.qr("TSIM:12345678:000123", native=True, size=4)
        p.cut()

    def codes(p: Any) -> None:
        p.barcode("{B012345", "CODE128", function_type="B")
        p.barcode("4006381333931", "EAN13", function_type="A")
        p.image(picture)
        p.image(picture, impl="bitImageColumn")
        p.image(picture, impl="graphics")
        p.cashdraw(2)
        p.buzzer()
        p.cut(mode="PART")

    def mixed(p: Any) -> None:
        p.hw("INIT")
        p.control("HT")
        p.text("a\tb Привет Ελληνικά\n")
        p.set(custom_size=True, width=3, height=2, invert=True)
        p.text("BIG " * 10 + "\n")
        p.linedisplay("shown elsewhere")
        raw = b"\x10\x04\x04\x1dr1\x1c&" + "签购单".encode("gb18030") + b"\x1c.\n"
        p._raw(raw)  # noqa: SLF001 (python-escpos has no public way to send raw bytes)
        p.cut(feed=False)

    seeds = []
    for job in (sale, codes, mixed):
        dummy = Dummy()
        with contextlib.redirect_stdout(io.StringIO()):
            job(dummy)
        seeds.append(bytes(dummy.output))
    return tuple(seeds)


MUTATIONS = st.lists(
    st.tuples(st.sampled_from(["flip", "insert", "delete", "set"]), st.integers(min_value=0),
              st.integers(min_value=0, max_value=255)),
    min_size=1, max_size=8,
)


def mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    for op, position, value in mutations:
        k = position % (len(out) + 1)
        if op == "insert":
            out[k:k] = bytes((value,))
        elif k == len(out):
            continue
        elif op == "delete":
            del out[k]
        elif op == "flip":
            out[k] ^= 1 << (value & 7)
        else:
            out[k] = value
    return bytes(out)


@FUZZ
@given(st.integers(min_value=0, max_value=2), MUTATIONS,
       st.lists(st.integers(min_value=0), max_size=5), st.booleans())
def test_mutated_real_receipts(seed: int, mutations: list[tuple[str, int, int]],
                               cuts: list[int], chinese: bool) -> None:
    check_stream(mutate(seed_receipts()[seed], mutations), cuts, chinese)


EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("feed"), st.one_of(TOKENS, st.sampled_from([
            b"SALE 12.50\n", b"\x1bd\x06\x1dV\x00", b"\x1d(k\x04\x001P0x\x1d(k\x03\x001Q0"]))),
        st.tuples(st.just("paper"), st.sampled_from(["ok", "near-end", "out"])),
        st.tuples(st.sampled_from(["cover_open", "online", "autocutter_error"]), st.booleans()),
        st.tuples(st.sampled_from(["power_off", "power_on", "roll", "finish", "clear"]),
                  st.none()),
    ),
    max_size=30,
)


@FUZZ
@given(EVENTS)
def test_random_printer_conditions(events: list[tuple[str, Any]]) -> None:
    state = PrinterState()
    interpreter = EscPosInterpreter(state=state, max_command_bytes=CAP)
    received = 0
    for event, value in events:
        if event == "feed":
            interpreter.feed(value)
            received += len(value)
        elif event in ("power_off", "power_on"):
            getattr(state, event)()
        elif event == "roll":
            check_offsets(interpreter.roll)
        elif event == "finish":
            check_offsets(interpreter.finish())
        elif event == "clear":
            interpreter.clear()
            received = 0
        else:
            setattr(state, event, value)
        assert interpreter.buffered <= BUFFER_BOUND
    roll = interpreter.finish()
    check_offsets(roll)
    assert roll.total_bytes == received
    assert roll.dropped_bytes <= received


def test_seed_receipts_are_clean() -> None:
    # The mutation test starts from receipts the interpreter reads without a warning.
    for data in seed_receipts():
        roll = parse(data, strict=True)
        assert roll.receipts
        assert roll.warnings == ()


@pytest.mark.parametrize(
    "header",
    [b"\x1dv0\x00\xff\xff\xff\xff", b"\x1d8L\xff\xff\xff\x7f0p", b"\x1cq\x01\xff\xff\xff\xff"],
)
def test_huge_declared_lengths_are_not_buffered(header: bytes) -> None:
    interpreter = EscPosInterpreter(max_command_bytes=60000)
    interpreter.feed(header)
    for _ in range(32):  # 2 MiB of the declared data: swallowed, as a printer would
        interpreter.feed(b"\n" * 65536)
        assert interpreter.buffered == 0
    roll = interpreter.finish()
    assert roll.receipts == ()
    assert [w.offset for w in roll.warnings] == [0]
    assert "over the 60000-byte limit" in roll.warnings[0].reason
