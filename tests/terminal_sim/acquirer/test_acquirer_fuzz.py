"""Bounded fuzzing of the host and the reply reader with random and mutated messages.

Only our ``ProtocolError`` family may escape the readers, every rejection names an
offset or a field, and ``MockAcquirer.handle`` returns bytes or None, never raises.
A second property drives the host with random sequences of sales, retransmissions,
reversals and advices and checks the books.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.base.cards import token_for
from terminal_sim.base.seeds import SeedTree
from terminal_sim.errors import Iso8583Error
from terminal_sim.iso import codec
from terminal_sim.iso.framing import FrameDecoder
from terminal_sim.iso.messages import (
    HostReply,
    HostRequest,
    NetworkRequest,
    Totals,
    TotalsRequest,
    advice_of,
    repeat_of,
    reversal_of,
)

WHEN = dt.datetime(2026, 1, 5, 9, 0, 0)
PAN = "4111111111111111"
FUZZ = settings(max_examples=200, derandomize=True, deadline=None)


def host() -> MockAcquirer:
    return MockAcquirer(HostLedger(), stream=SeedTree(1).stream("acquirer"), token_key="key")


def _sale(stan: str = "000001") -> HostRequest:
    return HostRequest("0200", "sale", stan, "T0000001", "M1", 1250, "EUR", WHEN, PAN, "2912")


SEEDS: list[bytes] = [
    codec.encode(_sale().to_fields()),
    codec.encode(advice_of(_sale(), approval_code="Y1OFFL").to_fields()),
    codec.encode(reversal_of(_sale(), stan="000002", transmitted=WHEN).to_fields()),
    codec.encode(repeat_of(reversal_of(_sale(), stan="000002", transmitted=WHEN,
                                       mti="0420")).to_fields()),
    codec.encode(TotalsRequest("000003", "T0000001", "M1", WHEN, Totals(1, 1250)).to_fields()),
    codec.encode(NetworkRequest("000004", "T0000001", WHEN).to_fields()),
    codec.encode(HostReply("0210", "000001", "T0000001", "00", "600508000001", "123456", 1250,
                           "EUR").to_fields()),
    codec.encode(HostReply("0510", "000003", "T0000001", "95", totals=Totals(2)).to_fields()),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.sampled_from([0x00, 0x20, 0x30, 0x39, 0x41, 0x7F, 0xFF,
                                             data[at] ^ 0x01]))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        else:
            del data[at:]
    return bytes(data)


FIELD_SEEDS = [codec.decode(seed) for seed in SEEDS]
MTIS = ["0100", "0200", "0220", "0221", "0400", "0420", "0421", "0500", "0800", "0210",
        "0300", "9999", "02A0"]
PICKABLE = ["3", "4", "7", "11", "14", "37", "38", "39", "41", "49", "60", "70", "74", "76",
            "86", "88", "90"]


@st.composite
def field_mutated(draw: st.DrawFn) -> bytes:
    """Well-framed messages with wrong *content*: reaches the typed readers and the host."""
    fields = {k: v for k, v in draw(st.sampled_from(FIELD_SEEDS)).items() if k not in "p1"}
    if draw(st.booleans()):  # half keep their type, to get past the dispatch
        fields["t"] = draw(st.sampled_from(MTIS))
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(PICKABLE))
        if name in fields and draw(st.booleans()):
            del fields[name]
            continue
        length = len(fields[name]) if name in fields else {
            "60": 4, "70": 3, "74": 10, "76": 10, "86": 16, "88": 16, "90": 42, "14": 4,
            "37": 12, "38": 6, "39": 2, "3": 6, "4": 12, "7": 10, "11": 6, "41": 8, "49": 3,
        }[name]
        alphabet = draw(st.sampled_from(["0123456789", "0123456789 ", "09AZaz -"]))
        fields[name] = draw(st.text(alphabet, min_size=length, max_size=length))
    try:
        return codec.encode(fields)
    except Iso8583Error:  # a variable field of a length the spec refuses: send it raw
        return repr(fields).encode()


#: content mutations twice as often as byte mutations: those reach the deeper readers
MESSAGES = st.one_of(field_mutated(), field_mutated(), mutated(), st.binary(max_size=300))
_NAMED = re.compile(r"field \S+:|at byte \d+")


@FUZZ
@given(MESSAGES)
def test_host_never_raises_and_names_what_it_rejects(message: bytes) -> None:
    acquirer = host()
    out = acquirer.handle(message, 0, WHEN)
    assert out is None or isinstance(out, bytes)
    if out is not None:  # whatever the host says is itself a well-formed reply
        fields = codec.decode(out)
        assert fields["t"][2] in "13579"
        assert len(fields["39"]) == 2
    if acquirer.rejected:
        rejection = next(m for m in acquirer.ledger.messages() if m["response_code"] == "30")
        assert _NAMED.search(rejection["detail"]), rejection["detail"]
    assert PAN not in repr(acquirer.ledger.messages())


@FUZZ
@given(MESSAGES)
def test_reply_reader_raises_only_our_errors_with_a_position(message: bytes) -> None:
    try:
        HostReply.from_fields(codec.decode(message))
    except Iso8583Error as exc:  # any other error propagates and fails the test
        rejected = exc
    else:
        return
    assert rejected.offset is not None or rejected.field is not None


@FUZZ
@given(st.binary(max_size=400), st.integers(1, 64))
def test_frame_decoder_raises_only_frame_errors(stream: bytes, max_size: int) -> None:
    decoder = FrameDecoder(max_size=max_size)
    messages, error = decoder.split(stream)
    assert all(1 <= len(m) <= max_size for m in messages)
    assert error is None or error.offset is not None


# -- the books under random recovery traffic --------------------------------------------

STANS = [f"{n:06d}" for n in range(1, 6)]
Action = tuple[str, str, int]


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["sale", "resend", "reverse", "advice-reverse",
                                           "repeat", "decline"]),
                          st.sampled_from(STANS), st.integers(1, 3)), max_size=25))
def test_books_stay_consistent(actions: list[Action]) -> None:
    acquirer = host()
    sent: dict[bytes, bytes | None] = {}
    reversed_stans: set[str] = set()
    for index, (what, stan, size) in enumerate(actions):
        original = _sale(stan)
        if what == "decline":
            original = HostRequest("0200", "sale", stan, "T0000001", "M1", 1205, "EUR", WHEN,
                                   PAN, "2912")
        rev_stan = f"{900000 + int(stan) * 10 + size:06d}"
        message: HostRequest
        if what in ("sale", "decline", "resend"):
            message = original
        elif what == "reverse":
            message = reversal_of(original, stan=rev_stan, transmitted=WHEN)
        elif what == "advice-reverse":
            message = reversal_of(original, stan=rev_stan, transmitted=WHEN, mti="0420")
        else:
            message = repeat_of(reversal_of(original, stan=rev_stan, transmitted=WHEN,
                                            mti="0420"))
        wire = codec.encode(message.to_fields())
        answer = acquirer.handle(wire, index, WHEN)
        assert answer is not None
        if message.mti[:2] == "04":
            reversed_stans.add(stan)
        if message.mti[:2] == "02" and stan in reversed_stans:
            # resent after its reversal: never an approval the books no longer hold
            assert codec.decode(answer)["39"] != "00"
        elif wire in sent:  # an exact retransmission: the very same answer
            assert answer == sent[wire]
        sent.setdefault(wire, answer)
    books = acquirer.ledger.transactions()
    sales = {row["stan"]: row for row in books if row["type"] == "sale"}
    for stan in reversed_stans:  # reversed before or after it came: never standing
        if stan in sales:
            assert sales[stan]["status"] != "approved", sales[stan]
    standing = sum(r["amount_minor"] for r in sales.values() if r["status"] == "approved")
    assert acquirer.ledger.balance(token_for(PAN, "key"), "EUR") == standing
    keys = [(r["terminal_id"], r["stan"], r["mti_class"]) for r in books]
    assert len(keys) == len(set(keys))


def test_fuzz_corpus_is_well_formed() -> None:
    """The seeds themselves decode: mutations start from valid messages."""
    decode: Callable[[bytes], dict[str, str]] = codec.decode
    assert all(decode(seed)["t"] for seed in SEEDS)
