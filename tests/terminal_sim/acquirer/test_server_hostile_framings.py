"""The acquirer server under hostile peers with its other framings: ``tpdu`` and ``ascii``.

test_server_hostile.py attacks the default (binary) framing; here the attacks that depend
on the framing's header are made against the other two: illegal headers of each kind, a
header left unfinished, a flood of frames never answered back, seeded garbage, a deep
pipeline. Frames are built by hand here (``struct``-free byte arithmetic), not with
:mod:`terminal_sim.iso.framing`. After each attack a normal terminal of the same framing
is answered within a second and nothing logged a traceback.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from pathlib import Path

import iso8583
import pytest
from iso8583.specs import default_ascii

from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.loops import loop_factory
from terminal_sim.acquirer.server import ServerThread
from terminal_sim.iso.framing import get_framing
from tests.terminal_sim.acquirer.conftest import make_host
from tests.terminal_sim.acquirer.wire import Wire
from tests.terminal_sim.hostile import Records, flood_until_closed

pytestmark = pytest.mark.hostile

IDLE_TIMEOUT = 0.5
PROBE_TIMEOUT = 1.0  # "a normal client is served within 1 s"
MAX_FRAME = 2048
#: what a terminal of the tpdu framing puts in front of its messages (ID, to 0007, from 0003)
TPDU = b"\x60\x00\x07\x00\x03"


class HandFrames:
    """One framing's frames, built and read by hand."""

    def __init__(self, name: str) -> None:
        self.name = name

    def frame(self, message: bytes) -> bytes:
        if self.name == "ascii":
            return b"%04d" % len(message) + message
        return (len(message) + len(TPDU)).to_bytes(2, "big") + TPDU + message

    def sale(self, stan: str, terminal_id: str = "T0000001") -> bytes:
        return self.frame(Wire.frame(Wire.sale(stan=stan, terminal_id=terminal_id))[2:])

    def read(self, sock: socket.socket) -> bytes:
        """The next reply's message; under tpdu its TPDU is checked (swapped)."""
        head = Wire.recv_exact(sock, 4 if self.name == "ascii" else 2)
        size = int(head) if self.name == "ascii" else int.from_bytes(head, "big")
        body = Wire.recv_exact(sock, size)
        if self.name == "tpdu":
            assert body[:5] == b"\x60\x00\x03\x00\x07"  # source and destination swapped
            body = body[5:]
        return body

    @staticmethod
    def stan_of(message: bytes) -> str:
        decoded, _ = iso8583.decode(message, default_ascii)
        return str(decoded["11"])


#: Headers no frame of the framing may start with: (name, bytes, what the log says).
ILLEGAL = {
    "ascii": [("letters", b"12a4", "not 4 ASCII digits"),
              ("sign", b"-012", "not 4 ASCII digits"),
              ("zero", b"0000", "announces 0 bytes"),
              ("too long", b"9999", "announces 9999 bytes"),
              ("binary length", b"\x00\x40\x00\x00", "not 4 ASCII digits")],
    "tpdu": [("no room for the TPDU", b"\x00\x05", "too few for a 5-byte TPDU"),
             ("too long", b"\xff\xff", "announces 65530 bytes"),
             ("wrong TPDU id", b"\x00\x30\x61\x00\x01\x00\x00", "TPDU starts with 61")],
}


@pytest.fixture(params=["tpdu", "ascii"])
def framed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[ServerThread,
                                                                              HandFrames]]:
    """A guarded server (short idle timeout, small frames) of one framing."""
    ledger = HostLedger(tmp_path / "host.sqlite")
    running = ServerThread(make_host(ledger), idle_timeout=IDLE_TIMEOUT, max_connections=8,
                           max_frame=MAX_FRAME, framing=get_framing(request.param),
                           loop_factory=loop_factory("auto")[1])
    running.start()
    try:
        yield running, HandFrames(request.param)
    finally:
        running.stop()
        ledger.close()


def assert_served(running: ServerThread, frames: HandFrames, records: Records,
                  stan: str = "000999") -> None:
    with socket.create_connection(running.address, timeout=PROBE_TIMEOUT) as sock:
        sock.sendall(frames.sale(stan))
        assert frames.read(sock)[:4] == b"0210"
    assert records.tracebacks() == []


def closed_by_peer(sock: socket.socket, timeout: float = 30.0) -> bool:
    """True once the peer closed, the replies it wrote before read and skipped (a
    ``TimeoutError`` when it does not close within ``timeout``)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return True


def test_illegal_headers_close_the_connection_after_answering_what_came_first(
        framed: tuple[ServerThread, HandFrames], records: Records) -> None:
    running, frames = framed
    cases = ILLEGAL[frames.name]
    for number, (_, header, _) in enumerate(cases, start=1):
        with socket.create_connection(running.address, timeout=30) as sock:
            # a good frame and the bad header in one write: the first is answered
            sock.sendall(frames.sale(f"{number:06d}") + header + b"\x00" * 40)
            assert frames.read(sock)[:4] == b"0210"
            assert closed_by_peer(sock)
    assert running.server.stats.frame_errors == len(cases)
    warnings = [m for m in records.messages() if m.startswith("closing connection")]
    for (name, _, said), line in zip(cases, warnings, strict=True):
        assert said in line, name
        assert "at byte" in line, name  # the offset in the stream
    assert_served(running, frames, records)


def test_a_header_left_unfinished_is_closed_after_the_idle_timeout(
        framed: tuple[ServerThread, HandFrames], records: Records) -> None:
    running, frames = framed
    whole = frames.sale("000001")
    cuts = [1, 3, 5, len(whole) - 1]  # inside the header, the TPDU, the message
    held = [socket.create_connection(running.address, timeout=30) for _ in cuts]
    try:
        for sock, cut in zip(held, cuts, strict=True):
            sock.sendall(whole[:cut])
        assert all(closed_by_peer(sock) for sock in held)
    finally:
        for sock in held:
            sock.close()
    assert running.server.stats.idle_closed == len(cuts)
    assert running.server.stats.messages == 0  # nothing of a frame begun was processed
    assert_served(running, frames, records)


def test_a_flood_never_read_back_is_bounded_and_closed(
        framed: tuple[ServerThread, HandFrames], records: Records) -> None:
    """Replies it never reads fill the write buffer: the server stops reading from it,
    serves the others meanwhile and closes it after the idle timeout."""
    running, frames = framed
    batch = b"".join(frames.sale(f"{n:06d}", terminal_id="F0000001") for n in range(1, 501))
    served, closed = flood_until_closed(running.address, batch,
                                        lambda: assert_served(running, frames, records))
    assert served
    assert closed
    stats = running.server.stats
    assert stats.idle_closed >= 1
    # it stopped reading once replies went unread: far fewer processed than sent
    assert stats.messages < 100_000
    assert_served(running, frames, records, stan="000998")


def test_seeded_garbage_never_stops_the_server(
        framed: tuple[ServerThread, HandFrames], records: Records) -> None:
    """Random bytes, random lengths, on 40 connections: each is refused or answered,
    none brings the server down or writes a traceback."""
    running, frames = framed
    draw = random.Random(19)
    for _ in range(40):
        body = bytes(draw.randrange(256) for _ in range(draw.randrange(1, 300)))
        # half of them framed well, so that the garbage reaches the ISO 8583 decoder
        data = frames.frame(body) if draw.random() < 0.5 else body
        with socket.create_connection(running.address, timeout=30) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            assert closed_by_peer(sock)
    assert_served(running, frames, records)


def test_a_deep_pipeline_is_answered_in_order(
        framed: tuple[ServerThread, HandFrames], records: Records) -> None:
    running, frames = framed
    stans = [f"{n:06d}" for n in range(1, 401)]
    with socket.create_connection(running.address, timeout=60) as sock:
        sock.sendall(b"".join(frames.sale(stan, terminal_id="P0000001") for stan in stans))
        assert [frames.stan_of(frames.read(sock)) for _ in stans] == stans
    assert records.tracebacks() == []
