"""The acquirer behind the lab's fault layer, seen by an independent ISO 8583 client."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import iso8583
import pytest
from iso8583.specs import default_ascii

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


# -- the framings: built here by hand, not with terminal_sim.iso.framing ------------------

TPDU = bytes.fromhex("6000120034")


def _framed(name: str, message: bytes) -> bytes:
    if name == "ascii":
        return f"{len(message):04d}".encode() + message
    if name == "tpdu":
        return len(TPDU + message).to_bytes(2, "big") + TPDU + message
    return len(message).to_bytes(2, "big") + message


def _read_framed(name: str, sock: socket.socket) -> tuple[bytes, bytes]:
    """(TPDU or b"", message) of the next frame."""
    if name == "ascii":
        return b"", WIRE.recv_exact(sock, int(WIRE.recv_exact(sock, 4)))
    size = int.from_bytes(WIRE.recv_exact(sock, 2), "big")
    body = WIRE.recv_exact(sock, size)
    return (body[:5], body[5:]) if name == "tpdu" else (b"", body)


def _raw(fields: dict[str, str]) -> bytes:
    return WIRE.frame(fields)[2:]  # pyiso8583's message, without Wire's binary header


@pytest.mark.parametrize("framing", ["binary", "tpdu", "ascii"])
def test_each_framing_carries_faults_on_whole_frames(tmp_path: Path, framing: str) -> None:
    from terminal_sim.iso.framing import get_framing
    from terminal_sim.lab.lab import LabConfig

    config = LabConfig(out=tmp_path / "lab", printers=(), acquirer=("127.0.0.1", 0),
                       framing=get_framing(framing))
    with LabSession(config) as lab, WIRE.connect(lab.acquirer, timeout=10) as sock:
        assert lab.client.describe()["framing"] == framing
        # a request cut in pieces is put back together: the host answers it
        lab.client.add_fault("link-slicer", pieces=5, gap_ms=5, direction="request", limit=1)
        sock.sendall(_framed(framing, _raw(WIRE.sale(stan="000061"))))
        tpdu, reply = _read_framed(framing, sock)
        assert iso8583.decode(reply, default_ascii)[0]["39"] == "00"
        assert tpdu == (bytes.fromhex("6000340012") if framing == "tpdu" else b"")
        # a duplicated reply is the same whole frame twice
        lab.client.add_fault("link-duplicate-reply", gap_ms=20, limit=1)
        sock.sendall(_framed(framing, _raw(WIRE.sale(stan="000062"))))
        first, second = _read_framed(framing, sock), _read_framed(framing, sock)
        assert first == second
        assert iso8583.decode(first[1], default_ascii)[0]["11"] == "000062"
        # a corrupted reply keeps its length header and TPDU: the next frame still parses
        lab.client.add_fault("link-corrupt", bytes=4, limit=1)
        sock.sendall(_framed(framing, _raw(WIRE.sale(stan="000063"))))
        tpdu, _ = _read_framed(framing, sock)
        assert tpdu == (bytes.fromhex("6000340012") if framing == "tpdu" else b"")
        sock.sendall(_framed(framing, _raw(WIRE.sale(stan="000064"))))
        assert iso8583.decode(_read_framed(framing, sock)[1], default_ascii)[0]["11"] == \
            "000064"
        fired = [e["name"] for e in lab.lab.fault_trace() if e["event"] == "fired"]
    assert fired == ["link-slicer", "link-duplicate-reply", "link-corrupt"]
    stans = {row["stan"] for row in json.loads(
        (tmp_path / "lab" / "evidence.json").read_text())["host"]}
    assert stans == {"000061", "000062", "000063", "000064"}
