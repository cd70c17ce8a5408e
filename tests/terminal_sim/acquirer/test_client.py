"""The terminal-side TCP link: delivery through ``post``, reconnects, errors reported."""

from __future__ import annotations

import datetime as dt
import queue
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from terminal_sim.acquirer.client import TcpAcquirerLink, exchange
from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.server import ServerThread
from terminal_sim.base.cards import Card
from terminal_sim.core.messages import (
    AuthorizationRequest,
    BatchTotals,
    HostReply,
    NetworkCheck,
    OriginalRef,
    ReversalRequest,
    SettlementRequest,
)
from terminal_sim.errors import FrameError
from terminal_sim.iso import codec
from terminal_sim.iso import messages as wire

WHEN = dt.datetime(2026, 1, 5, 9, 0, 0)


def sale(stan: str, terminal_id: str = "T0000001", amount: int = 1250) -> AuthorizationRequest:
    return AuthorizationRequest("sale", stan, terminal_id, "M1", amount, "EUR", WHEN,
                                Card("4111111111111111", "2912"))


class Caller:
    """The caller's thread: ``post`` queues calls, ``run`` executes them here."""

    def __init__(self) -> None:
        self.calls: queue.Queue[Callable[[], None]] = queue.Queue()
        self.replies: list[HostReply] = []
        self.errors: list[tuple[int | None, str]] = []
        self.threads: set[str] = set()

    def post(self, call: Callable[[], None]) -> None:
        self.calls.put(call)

    def deliver(self, reply: HostReply) -> None:
        self.threads.add(threading.current_thread().name)
        self.replies.append(reply)

    def on_error(self, offset: int | None, reason: str) -> None:
        self.errors.append((offset, reason))

    def run(self, count: int = 1, timeout: float = 60.0) -> None:
        # the timeout only keeps a lost reply from hanging the test; it is no time limit
        for _ in range(count):
            self.calls.get(timeout=timeout)()


@pytest.fixture
def caller() -> Caller:
    return Caller()


@pytest.fixture
def running(tmp_path: Path, host_factory: Callable[..., MockAcquirer]) -> Iterator[ServerThread]:
    ledger = HostLedger(tmp_path / "host.sqlite")
    server = ServerThread(host_factory(ledger), grace_s=1.0)
    server.start()
    yield server
    server.stop()
    ledger.close()


def link_to(address: tuple[str, int], caller: Caller) -> TcpAcquirerLink:
    return TcpAcquirerLink(*address, post=caller.post, on_error=caller.on_error,
                           connect_timeout=2.0)


def test_replies_are_delivered_on_the_callers_thread(running: ServerThread,
                                                     caller: Caller) -> None:
    with link_to(running.address, caller) as link:
        link.send("T0000001", sale("000001"), caller.deliver)
        link.send("T0000002", sale("000001", "T0000002", amount=1205), caller.deliver)
        caller.run(2)
    by_terminal = {r.terminal_id: r for r in caller.replies}
    assert by_terminal["T0000001"].approved
    assert by_terminal["T0000001"].stan == "000001"
    assert by_terminal["T0000002"].response_code == "05"
    assert caller.threads == {threading.current_thread().name}
    assert link.connects == 2
    assert caller.errors == []


def test_every_request_type_goes_through(running: ServerThread, caller: Caller) -> None:
    first = sale("000010")
    with link_to(running.address, caller) as link:
        link.send("T0000001", NetworkCheck("000009", "T0000001", WHEN, "001"), caller.deliver)
        link.send("T0000001", first, caller.deliver)
        link.send("T0000001", ReversalRequest("sale", "000011", "T0000001", "M1", 1250, "EUR",
                                              WHEN, OriginalRef(first.stan, WHEN)),
                  caller.deliver)
        link.send("T0000001", SettlementRequest("000012", "T0000001", "M1", WHEN,
                                                BatchTotals()),
                  caller.deliver)
        caller.run(4)
    assert [(r.mti, r.response_code) for r in caller.replies] == [
        ("0810", "00"), ("0210", "00"), ("0410", "00"), ("0510", "00")]
    assert caller.replies[0].network_code == "001"
    assert caller.replies[3].totals == BatchTotals(sales_reversed_count=1,
                                                   sales_reversed_minor=1250)


def test_drop_connection_then_reconnect_on_next_send(running: ServerThread,
                                                     caller: Caller) -> None:
    with link_to(running.address, caller) as link:
        link.send("T0000001", sale("000001"), caller.deliver)
        caller.run()
        link.drop_connection("T0000001")
        link.send("T0000001", sale("000002"), caller.deliver)
        caller.run()
    assert [r.stan for r in caller.replies] == ["000001", "000002"]
    assert link.connects == 2


def test_reconnects_after_the_host_restarts(tmp_path: Path, caller: Caller,
                                            host_factory: Callable[..., MockAcquirer]) -> None:
    ledger = HostLedger(tmp_path / "host.sqlite")
    first = ServerThread(host_factory(ledger))
    address = first.start()
    with link_to(address, caller) as link:
        link.send("T0000001", sale("000001"), caller.deliver)
        caller.run()
        first.stop()  # the host closes the terminal's connection
        for thread in threading.enumerate():
            if thread.name == "acquirer-link-T0000001":
                thread.join()  # the link's reader notices the close and ends
        assert not link.is_connected("T0000001")
        second = ServerThread(host_factory(ledger), port=address[1])
        second.start()
        try:
            link.send("T0000001", sale("000002"), caller.deliver)
            caller.run()
        finally:
            second.stop()
    ledger.close()
    assert [r.stan for r in caller.replies] == ["000001", "000002"]
    assert link.connects == 2


def test_connect_failure_is_reported_not_raised(caller: Caller) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    with link_to(("127.0.0.1", port), caller) as link:
        link.send("T0000001", sale("000001"), caller.deliver)
        caller.run()
    assert caller.replies == []
    assert caller.errors[0][0] is None
    assert "cannot connect" in caller.errors[0][1]


class FakeHost:
    """A host that answers every frame with the bytes it is told to."""

    def __init__(self, answers: list[bytes], *, hang_up: bool = False) -> None:
        self.answers = answers
        self.hang_up = hang_up
        self.listener = socket.create_server(("127.0.0.1", 0))
        host, port = self.listener.getsockname()[:2]
        self.address: tuple[str, int] = (str(host), int(port))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.recv(4096)
            for answer in self.answers:
                conn.sendall(answer)
            if not self.hang_up:
                conn.recv(4096)  # until the client goes

    def close(self) -> None:
        self.listener.close()
        self.thread.join(2.0)


def framed(payload: bytes) -> bytes:
    return struct.pack(">H", len(payload)) + payload


def test_undecodable_replies_are_reported_with_offsets(caller: Caller) -> None:
    good = codec.encode(wire.HostReply("0210", "000001", "T0000001", "00").to_fields())
    bad = b"0210" + b"\x00" * 3
    fake = FakeHost([framed(bad) + framed(good) + b"\x00\x00"])
    try:
        with link_to(fake.address, caller) as link:
            link.send("T0000001", sale("000001"), caller.deliver)
            caller.run(3)
    finally:
        fake.close()
    assert [r.stan for r in caller.replies] == ["000001"]  # the good one still arrives
    (decode_offset, decode_reason), (frame_offset, frame_reason) = caller.errors
    assert decode_offset is not None
    assert 2 <= decode_offset <= 2 + len(bad)
    assert "undecodable reply" in decode_reason
    assert "field" in decode_reason
    assert frame_offset == 2 + len(bad) + 2 + len(good)
    assert "length header" in frame_reason


def test_exchange_returns_the_reply_fields(running: ServerThread) -> None:
    reply = exchange(*running.address, {"t": "0800", "11": "000001", "41": "T0000001",
                                        "70": "301"}, timeout=2.0)
    assert reply["t"] == "0810"
    assert reply["39"] == "00"


def test_exchange_raises_frame_error_when_the_host_hangs_up() -> None:
    fake = FakeHost([b"\x00\x40" + b"0810"], hang_up=True)
    try:
        with pytest.raises(FrameError, match="closed before a complete reply") as caught:
            exchange(*fake.address, {"t": "0800", "11": "000001", "70": "301"}, timeout=2.0)
    finally:
        fake.close()
    assert caught.value.offset == 6


def test_exchange_times_out_when_the_host_says_nothing(running: ServerThread) -> None:
    with pytest.raises(TimeoutError):  # the host never answers a reply sent to it
        exchange(*running.address, {"t": "0210", "11": "000001", "39": "00"}, timeout=0.3)
