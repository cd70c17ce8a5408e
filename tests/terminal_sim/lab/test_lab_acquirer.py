"""The acquirer behind the lab's fault layer, seen by an independent ISO 8583 client."""

from __future__ import annotations

import socket
import time

import pytest

from terminal_sim.lab.session import LabSession
from tests.terminal_sim.acquirer.wire import Wire

WIRE = Wire()


def _silent(sock: socket.socket, seconds: float) -> bool:
    """Nothing arrives for ``seconds`` (the connection may stay open)."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return True


def test_drop_reply_for_the_next_0200_only(pos_lab: LabSession) -> None:
    fault = pos_lab.client.add_fault("link-drop-reply", message="0200", limit=1)
    with WIRE.connect(pos_lab.acquirer, timeout=10) as sock:
        sock.sendall(WIRE.frame(WIRE.echo()))
        assert WIRE.read(sock)["t"] == "0810"  # another MTI passes
        sock.sendall(WIRE.frame(WIRE.sale(stan="000002")))
        assert _silent(sock, 0.5)  # the 0210 is lost ...
        sock.sendall(WIRE.frame(WIRE.sale(stan="000003")))
        assert WIRE.read(sock)["11"] == "000003"  # ... once
    host = {row["stan"]: row["status"] for row in pos_lab.client.evidence()["host"]}
    assert host["000002"] == "approved"  # the host committed what it answered
    trace = [e for e in pos_lab.lab.fault_trace() if e.get("id") == fault["id"]]
    assert [e["event"] for e in trace] == ["added", "fired", "spent"]
    assert trace[1]["stan"] == "000002"


def test_drop_request_never_reaches_the_host(pos_lab: LabSession) -> None:
    pos_lab.client.add_fault("link-drop-request", message="0200", terminals=["T0000009"])
    with WIRE.connect(pos_lab.acquirer, timeout=10) as sock:
        sock.sendall(WIRE.frame(WIRE.sale(stan="000010", terminal_id="T0000009")))
        assert _silent(sock, 0.5)
        sock.sendall(WIRE.frame(WIRE.sale(stan="000011", terminal_id="T0000001")))
        assert WIRE.read(sock)["11"] == "000011"  # another terminal is out of scope
    stans = {row["stan"] for row in pos_lab.client.evidence()["host"]}
    assert stans == {"000011"}


def test_decline_next_two_with_a_code(pos_lab: LabSession) -> None:
    pos_lab.client.add_fault("acquirer-decline", code="91", limit=2)
    codes = []
    with WIRE.connect(pos_lab.acquirer, timeout=10) as sock:
        for stan in ("000021", "000022", "000023"):
            sock.sendall(WIRE.frame(WIRE.sale(stan=stan)))
            codes.append(WIRE.read(sock)["39"])
    assert codes == ["91", "91", "00"]
    host = {row["stan"]: row["response_code"] for row in pos_lab.client.evidence()["host"]}
    assert host == {"000021": "91", "000022": "91", "000023": "00"}


def test_duplicate_and_late_replies(pos_lab: LabSession) -> None:
    pos_lab.client.add_fault("link-duplicate-reply", gap_ms=50, limit=1)
    with WIRE.connect(pos_lab.acquirer, timeout=10) as sock:
        sock.sendall(WIRE.frame(WIRE.sale(stan="000031")))
        assert [WIRE.read(sock)["11"] for _ in range(2)] == ["000031", "000031"]
        pos_lab.client.add_fault("link-late-reply", delay_ms=300, limit=1)
        started = time.monotonic()
        sock.sendall(WIRE.frame(WIRE.sale(stan="000032")))
        assert WIRE.read(sock)["11"] == "000032"
        assert time.monotonic() - started >= 0.3


def test_reset_slicer_and_corrupt(pos_lab: LabSession) -> None:
    pos_lab.client.add_fault("link-slicer", pieces=4, gap_ms=5, limit=1)
    assert WIRE.exchange(pos_lab.acquirer, WIRE.sale(stan="000041"))["39"] == "00"
    pos_lab.client.add_fault("link-reset", limit=1)
    with WIRE.connect(pos_lab.acquirer, timeout=10) as sock:
        sock.sendall(WIRE.frame(WIRE.sale(stan="000042")))
        assert WIRE.closed_by_peer(sock, 10)
    pos_lab.client.add_fault("link-corrupt", bytes=3, limit=1)
    with WIRE.connect(pos_lab.acquirer, timeout=10) as sock:
        sock.sendall(WIRE.frame(WIRE.sale(stan="000043")))
        reply = WIRE.recv_exact(sock, 2)
        size = int.from_bytes(reply, "big")
        assert len(WIRE.recv_exact(sock, size)) == size  # the header is left whole


@pytest.mark.parametrize("mode", ["refuse", "silent"])
def test_host_down(pos_lab: LabSession, mode: str) -> None:
    fault = pos_lab.client.add_fault("acquirer-host-down", mode=mode)
    with WIRE.connect(pos_lab.acquirer, timeout=10) as sock:
        if mode == "refuse":
            assert WIRE.closed_by_peer(sock, 10)
        else:
            sock.sendall(WIRE.frame(WIRE.sale(stan="000051")))
            assert _silent(sock, 0.5)
    pos_lab.client.remove_fault(fault["id"])
    assert WIRE.exchange(pos_lab.acquirer, WIRE.sale(stan="000052"))["39"] == "00"
    assert pos_lab.client.state()["acquirer"]["down"] is False
