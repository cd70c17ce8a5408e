"""The acquirer server under hostile peers, on 127.0.0.1 only: it refuses, and keeps serving.

After each attack a normal terminal is answered within a second (the acceptance bound of
issue 15: the probe's socket timeout) and nothing logged a traceback.
"""

from __future__ import annotations

import errno
import logging
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import iso8583
import pytest
from iso8583.specs import default_ascii

from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.loops import loop_factory
from terminal_sim.acquirer.server import AcquirerServer, ServerThread
from terminal_sim.base.guards import RateLimitedLog
from tests.support import PRLIMIT_HOW, system_tool
from tests.terminal_sim.acquirer.conftest import make_host
from tests.terminal_sim.acquirer.wire import Wire
from tests.terminal_sim.hostile import Records, Stderr, flood_until_closed

pytestmark = pytest.mark.hostile

IDLE_TIMEOUT = 0.5
MAX_CONNECTIONS = 8
PROBE_TIMEOUT = 1.0  # "a normal client is served within 1 s"




@pytest.fixture(params=["asyncio", "uvloop"])
def guarded(ledger_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    """A server with a short idle timeout and few connections, on either event loop."""
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    ledger = HostLedger(ledger_path)
    running = ServerThread(make_host(ledger), idle_timeout=IDLE_TIMEOUT,
                           max_connections=MAX_CONNECTIONS,
                           loop_factory=loop_factory(request.param)[1])
    running.start()
    try:
        yield running
    finally:
        running.stop()
        ledger.close()


def assert_served(address: tuple[str, int], wire: Wire, records: Records | None = None,
                  stan: str = "000999") -> None:
    with wire.connect(address, timeout=PROBE_TIMEOUT) as sock:
        sock.sendall(wire.frame(wire.sale(stan=stan)))
        assert wire.read(sock)["39"] == "00"
    if records is not None:
        assert [r.getMessage() for r in records.records if r.exc_info] == []


def test_a_silent_connection_is_closed_after_the_idle_timeout(
        guarded: ServerThread, wire: Wire, records: Records) -> None:
    with wire.connect(guarded.address) as silent, wire.connect(guarded.address) as half:
        half.sendall(wire.frame(wire.sale())[:20])  # a frame begun, never finished
        assert wire.closed_by_peer(silent, timeout=30)
        assert wire.closed_by_peer(half, timeout=30)
    assert guarded.server.stats.idle_closed == 2
    assert any("unfinished" in m for m in records.messages())
    assert_served(guarded.address, wire, records)


def test_connections_beyond_the_cap_are_refused_and_the_others_served(
        guarded: ServerThread, wire: Wire, records: Records) -> None:
    held = [wire.connect(guarded.address) for _ in range(MAX_CONNECTIONS + 12)]
    try:
        closed = sum(wire.closed_by_peer(sock, timeout=0.2) for sock in held[MAX_CONNECTIONS:])
        assert closed == 12
        for index, sock in enumerate(held[:MAX_CONNECTIONS]):  # the first ones: served
            sock.sendall(wire.frame(wire.sale(stan=f"{index + 1:06d}")))
            assert wire.read(sock)["39"] == "00"
    finally:
        for sock in held:
            sock.close()
    assert guarded.server.stats.refused == 12
    refusals = [m for m in records.messages() if m.startswith("refused")]
    assert len(refusals) <= 10  # the rest summed up: "N similar errors suppressed"
    time.sleep(IDLE_TIMEOUT)  # the held ones are gone once the server saw them close
    assert_served(guarded.address, wire, records)


def test_a_message_type_with_newlines_is_escaped_in_the_log_and_the_ledger(
        guarded: ServerThread, wire: Wire, records: Records, ledger_path: Path) -> None:
    fields = wire.sale()
    fields["t"] = "0\n\x1b2"
    raw, _ = iso8583.encode(fields, default_ascii)
    with wire.connect(guarded.address) as sock:
        # no reply to it; the sale behind it on the same connection is answered after it
        sock.sendall(len(raw).to_bytes(2, "big") + bytes(raw) + wire.frame(wire.sale()))
        assert wire.read(sock)["39"] == "00"
    assert_served(guarded.address, wire, records)
    guarded.stop()
    logged = [m for m in records.messages() if "undecodable" in m]
    assert logged
    assert all("\n" not in m and "\x1b" not in m for m in records.messages())
    assert "0\\n\\x1b2" in logged[0]
    with closing(sqlite3.connect(ledger_path)) as db:
        kept = [row[0] for row in db.execute("SELECT mti FROM messages")]
    assert "0\\n\\x1b2" in kept
    assert not any("\n" in mti or "\x1b" in mti for mti in kept)


def test_a_peer_that_floods_without_reading_is_closed_and_the_others_served(
        guarded: ServerThread, wire: Wire, records: Records) -> None:
    """Replies it never reads fill the write buffer: the server stops reading from it
    (memory stays bounded), serves the others meanwhile, and closes it after the idle
    timeout."""
    batch = b"".join(wire.frame(wire.sale(stan=f"{n:06d}", terminal_id="F0000001"))
                     for n in range(1, 501))
    served, closed = flood_until_closed(guarded.address, batch,
                                        lambda: assert_served(guarded.address, wire))
    assert served
    assert closed
    assert guarded.server.stats.idle_closed >= 1
    assert any("read no reply" in m for m in records.messages())
    assert_served(guarded.address, wire, records)


def test_a_deep_pipeline_is_answered_in_order(guarded: ServerThread, wire: Wire) -> None:
    """Far more messages in one write than a connection may be owed at once (64): the
    rest wait read but unprocessed, and are answered in order once the first replies
    are out."""
    stans = [f"{n:06d}" for n in range(1, 1001)]
    with wire.connect(guarded.address) as sock:
        sock.sendall(b"".join(wire.frame(wire.sale(stan=s, terminal_id="P0000001"))
                              for s in stans))
        assert [wire.read(sock)["11"] for _ in stans] == stans
    guarded.stop()
    assert guarded.server.stats.replies == len(stans)


class _ScarceServer(AcquirerServer):
    """``accept`` fails with EMFILE for its first second, as when descriptors run out."""

    scarce_until: float | None = None

    async def _accept(self, listener: socket.socket) -> tuple[socket.socket, Any]:
        if self.scarce_until is None:
            self.scarce_until = time.monotonic() + 1.0
        if time.monotonic() < self.scarce_until:
            raise OSError(errno.EMFILE, "Too many open files")
        return await super()._accept(listener)


def test_accept_out_of_descriptors_backs_off_logs_little_and_recovers(
        wire: Wire, records: Records) -> None:
    running = ServerThread(make_host())
    running.server = _ScarceServer(running.server.acquirer)
    with running:
        # the connection waits in the backlog while accept fails, then it is served
        with wire.connect(running.address) as sock:
            sock.sendall(wire.frame(wire.sale(stan="000001")))
            assert wire.read(sock)["39"] == "00"
        # 10 ms doubling: a handful of tries in that second, not a spin of thousands
        assert 3 <= running.server.stats.accept_errors <= 12
        assert_served(running.address, wire, records)
    accepts = [m for m in records.messages() if m.startswith("accept failed")]
    assert 1 <= len(accepts) <= 10


def test_the_line_budget_sums_up_what_it_held_back() -> None:
    now = [0.0]
    logger = logging.getLogger("tests.guards")
    handler = Records()
    logger.addHandler(handler)
    try:
        budget = RateLimitedLog(logger, per_second=10, clock=lambda: now[0])
        for _ in range(1000):
            budget.warning("boom")
        assert handler.messages() == ["boom"] * 10
        now[0] = 1.0
        budget.flush()
        assert handler.messages()[-1] == "990 similar errors suppressed"
        budget.warning("again")
        assert handler.messages()[-1] == "again"
    finally:
        logger.removeHandler(handler)




@pytest.mark.slow
def test_out_of_descriptors_it_refuses_keeps_its_clients_and_logs_little(
        tmp_path: Path, wire: Wire) -> None:
    ledger = tmp_path / "host.sqlite"
    process = subprocess.Popen(
        [system_tool("prlimit", PRLIMIT_HOW), "--nofile=64", sys.executable, "-m",
         "terminal_sim", "acquirer", "serve", "--port", "0", "--ledger", str(ledger)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr = Stderr(process)
    try:
        assert process.stdout is not None
        found = re.search(r"listening on ([\d.]+):(\d+)", process.stdout.readline())
        assert found is not None
        address = (found.group(1), int(found.group(2)))
        kept = wire.connect(address)
        kept.sendall(wire.frame(wire.sale(stan="000001")))
        assert wire.read(kept)["39"] == "00"
        started = len(stderr.lines)
        extra = []
        for index in range(150):
            sock = wire.connect(address)
            sock.sendall(wire.frame(wire.sale(stan=f"{index + 10:06d}")))
            extra.append(sock)
        answered = refused = 0
        for sock in extra:
            try:
                wire.read(sock)
                answered += 1
            except ConnectionError:
                refused += 1
        assert answered > 0
        assert refused > 0
        kept.sendall(wire.frame(wire.sale(stan="000002")))  # what it has, it keeps serving
        assert wire.read(kept)["39"] == "00"
        kept.close()
        for sock in extra:
            sock.close()
        assert stderr.wait_for("similar errors suppressed"), stderr.text()
        assert_served(address, wire, stan="000003")
        assert stderr.most_lines_in_a_second(since=started) <= 10, stderr.text()
    finally:
        process.terminate()
        process.wait(timeout=30)
        stderr.join()
    assert process.returncode == 0
    assert "Traceback" not in stderr.text(), stderr.text()
