"""Hostile input against ``pos-sim printer serve`` (issue 15), on loopback only.

The server runs as a real subprocess (``python -m printer.commands serve``, what
``pos-sim printer serve`` runs), so its memory and descriptors are its own. After each
attack a normal client must be served (a status request answered and a receipt filed) and
the server's log must hold no traceback. The issue's bounds are: a normal client served
within 1 s, under 300 MB RSS while a 50 MB uncut stream is sent, 1,000 one-line receipts
on one connection filed in under 3 s while another client is served, at most 10 log
lines a second under ``prlimit --nofile=64``. Time bounds get a margin here (the machine
running the suite is shared); each says which bound of the issue it stands for.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import PRLIMIT_HOW, ROOT, system_tool

pytestmark = pytest.mark.hostile

DLE_EOT_1 = b"\x10\x04\x01"
RECEIPT = b"\x1b@NORMAL CLIENT\n\x1dV\x00"
SERVED_WITHIN = 1.0 * 3  # the bound (1 s), with a margin for a shared machine


class Served:
    """A ``printer serve`` subprocess on 127.0.0.1 port 0."""

    def __init__(self, out: Path, *args: str, prefix: tuple[str, ...] = ()) -> None:
        self.out = out
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "printer.commands", "serve", "--tcp",
             "127.0.0.1:0", "--out", str(out), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout is not None
        host, port = self.process.stdout.readline().strip().rsplit(":", 1)
        self.address = (host, int(port))
        self.stderr: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append((time.monotonic(), line))

    def entries(self) -> list[dict[str, Any]]:
        index = self.out / "index.jsonl"
        if not index.exists():
            return []
        lines = index.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        index = self.out / "index.jsonl"
        while time.monotonic() < deadline:
            # counting lines is cheap: this loop must not slow the server it waits for
            if index.exists() and index.read_bytes().count(b"\n") >= count:
                return self.entries()
            time.sleep(0.02)
        raise AssertionError(f"fewer than {count} jobs filed after {timeout} s: "
                             f"{len(self.entries())}; log: {self.log()}")

    def peak_rss(self) -> int:
        """The server's peak resident memory, in bytes (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM")

    def status(self, sock: socket.socket) -> bytes:
        sock.sendall(DLE_EOT_1)
        return sock.recv(1)

    def served(self) -> float:
        """A normal client: a status request answered, a receipt filed. Seconds taken."""
        started = time.monotonic()
        with socket.create_connection(self.address, timeout=10) as sock:
            source = "tcp {}:{}".format(*sock.getsockname())
            assert self.status(sock) == b"\x12"  # online
            sock.sendall(RECEIPT)
        while True:
            mine = [entry for entry in self.entries() if entry["source"] == source]
            if mine:
                break
            assert time.monotonic() - started < 10, self.log()
            time.sleep(0.01)
        assert (self.out / mine[0]["txt"]).read_text() == "NORMAL CLIENT\n"
        return time.monotonic() - started

    def log(self) -> str:
        return "".join(line for _, line in self.stderr)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._reader.join(5)
        assert "Traceback" not in self.log(), self.log()
        return code


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    servers: list[Served] = []

    def _serve(*args: str, prefix: tuple[str, ...] = ()) -> Served:
        server = Served(tmp_path / f"out{len(servers)}", *args, prefix=prefix)
        servers.append(server)
        return server

    yield _serve
    for server in servers:
        server.stop()


def _connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=10)


# -- attacks on one connection --------------------------------------------------------------


def test_attacks_on_one_connection_leave_the_server_serving(serve: Any) -> None:
    server = serve("--idle-timeout", "0.5", "--no-png")
    attacks = {
        "garbage": bytes(range(256)) * 2000,
        "unfinished line": b"\x1b@a line never ended",
        "oversized raster": b"\x1b@\x1dv0\x00\xff\xff\xff\x0f" + b"\x00" * 1000 + b"\x1dV\x00",
        "half a command": b"\x1b@\x1d(k\xff\xff",
    }
    for name, data in attacks.items():
        with _connect(server.address) as sock:
            sock.sendall(data)
        assert server.served() < SERVED_WITHIN, name
    # a client that asks for status and never reads the replies, while others print
    flood = _connect(server.address)
    flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with contextlib.suppress(TimeoutError):  # the server stopped reading: good
        flood.settimeout(2)
        for _ in range(200):
            flood.sendall(DLE_EOT_1 * 2048)
    assert server.served() < SERVED_WITHIN
    flood.close()
    # a client that connects and sends nothing is closed after --idle-timeout
    idle = _connect(server.address)
    idle.sendall(b"\x1b@HALF")
    idle.settimeout(10)
    assert idle.recv(10) == b""  # closed by the server
    idle.close()
    assert server.served() < SERVED_WITHIN
    entries = server.wait_for(1)
    unprinted = {entry["reason"] for entry in entries if not entry["printed"]}
    assert any(reason.startswith("text never printed") for reason in unprinted)
    assert any("over the" in reason for reason in unprinted)  # the oversized raster
    assert any("incomplete" in reason for reason in unprinted)
    assert server.stop() == 0
    assert "sent nothing for" in server.log()


@pytest.mark.parametrize(("args", "reason"), [(("--paper", "out"), "paper out"),
                                              (("--cover", "open"), "cover open")])
def test_a_job_that_prints_nothing_is_filed_with_its_bytes_and_why(
        serve: Any, args: tuple[str, ...], reason: str) -> None:
    # An offline printer keeps what it receives (its receive buffer) and would print it
    # when back: the bytes of a printer that never comes back are filed at the end.
    server = serve("--no-png", *args)
    with _connect(server.address) as sock:
        sock.sendall(RECEIPT)
    (event,) = server.wait_for(1)
    assert event["event"] == "held"
    assert event["reason"] == reason
    assert server.stop() == 0
    event, entry = server.entries()
    assert entry["printed"] is False
    assert entry["reason"] == f"{reason}; never printed: the server stopped"
    assert (server.out / entry["bin"]).read_bytes() == RECEIPT
    assert entry["txt"] is None


# -- memory and a finite roll ---------------------------------------------------------------


@pytest.mark.slow
def test_a_50_mb_uncut_stream_stays_under_300_mb(serve: Any) -> None:
    server = serve("--no-png")
    line = b"AN UNCUT RECEIPT LINE THAT NEVER ENDS .......... 0123456789\n"
    block = line * (1 << 20 // len(line) + 1)
    total = 0
    with _connect(server.address) as sock:
        sock.sendall(b"\x1b@")
        total += 2
        while total < 50 << 20:
            sock.sendall(block)
            total += len(block)
        # another client is served while the attacker's connection is still open
        assert server.peak_rss() < 300 << 20
        with _connect(server.address) as other:
            assert server.status(other) == b"\x1a"  # offline: the paper ran out
    entries = server.wait_for(2)
    first, rest = entries[0], entries[1]
    assert first["truncated"] is True  # the roll ended mid-receipt
    assert rest["printed"] is False
    assert rest["reason"] == "paper out"
    assert sum(entry["bytes"] for entry in entries[:2]) == total
    assert server.peak_rss() < 300 << 20  # the bound
    assert server.served() < SERVED_WITHIN  # a new roll is in
    assert "a new roll is put in" in server.log()


# -- throughput -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_thousand_receipts_on_one_connection_while_another_client_is_served(
        serve: Any) -> None:
    server = serve()
    receipts = b"".join(b"\x1b@RECEIPT %04d\n\x1dV\x00" % n for n in range(1000))
    latencies: list[float] = []
    done = threading.Event()

    def other_client() -> None:
        with _connect(server.address) as sock:
            while not done.is_set():
                started = time.monotonic()
                server.status(sock)
                latencies.append(time.monotonic() - started)
                time.sleep(0.01)

    thread = threading.Thread(target=other_client)
    thread.start()
    started = time.monotonic()
    with _connect(server.address) as sock:
        sock.sendall(receipts)
        entries = server.wait_for(1000, timeout=60)
    took = time.monotonic() - started
    done.set()
    thread.join(10)
    assert [e["number"] for e in entries] == list(range(1, 1001))
    assert (server.out / entries[-1]["txt"]).read_text() == "RECEIPT 0999\n"
    # The bound is 3 s for the 1,000 receipts, and the other client served within
    # 1 s; doubled here for a machine shared with other work.
    assert took < 3.0 * 2, took
    assert latencies
    assert max(latencies) < SERVED_WITHIN, max(latencies)


# -- descriptors ----------------------------------------------------------------------------


def _prlimit() -> tuple[str, ...]:
    return (system_tool("prlimit", PRLIMIT_HOW), "--nofile=64")


@pytest.mark.slow
@pytest.mark.parametrize("cap", [(), ("--max-connections", "1000")])
def test_out_of_descriptors_refuses_extra_connections_and_serves_the_others(
        serve: Any, cap: tuple[str, ...]) -> None:
    # without --max-connections the cap follows the descriptor limit; with 1000 the
    # server runs out of descriptors in accept (EMFILE) and must survive that too
    server = serve("--no-png", *cap, prefix=_prlimit())
    kept: list[socket.socket] = []
    refused = 0
    for _ in range(120):
        try:
            sock = _connect(server.address)
            sock.settimeout(3)
            sock.sendall(DLE_EOT_1)
            reply = sock.recv(1)
        except OSError:
            refused += 1
            continue
        if reply:
            kept.append(sock)
        else:
            refused += 1
            sock.close()
    assert refused > 0
    assert len(kept) >= 20
    for sock in kept:  # the connections it has are still served
        assert server.status(sock) == b"\x12"
    for sock in kept:
        sock.close()
    assert server.served() < SERVED_WITHIN
    assert server.stop() == 0
    per_second = Counter(int(at) for at, _ in server.stderr)
    assert max(per_second.values()) <= 10, server.log()
    assert ("accept failed: [Errno 24]" if cap else "(--max-connections") in server.log()
