"""The lab's control API under hostile input, as the studio's (issue 15): it refuses with
400, 413 or 403, stays bounded, and keeps serving; nothing logs a traceback.

One lab is shared by the attacks of this module (one printer, no acquirer); after each
attack a normal client is served and the lab's loggers have recorded no traceback.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from terminal_sim.lab.control import MAX_BODY, ControlServer
from terminal_sim.lab.faults import MAX_ACTIVE
from terminal_sim.lab.lab import Lab, LabConfig
from tests.terminal_sim.hostile import Records, http_request

pytestmark = pytest.mark.hostile

MAX_CONNECTIONS = 8
REQUEST_TIMEOUT = 0.5
PROBE_TIMEOUT = 1.0  # "a normal client is served within 1 s"
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@pytest.fixture(scope="module")
def control(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ControlServer,
                                                                        Records]]:
    records = Records()
    logger = logging.getLogger("terminal_sim.lab")
    logger.addHandler(records)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    lab = Lab(LabConfig(out=tmp_path_factory.mktemp("hostile") / "lab",
                        printers=("tcp://127.0.0.1:0",), acquirer=None)).start()
    server = ControlServer(lab, port=0, max_connections=MAX_CONNECTIONS,
                           request_timeout=REQUEST_TIMEOUT).start()
    try:
        yield server, records
    finally:
        server.stop()
        lab.stop()
        logger.removeHandler(records)
        logger.setLevel(level)


def request(port: int, method: str, path: str, body: bytes | None = None, *,
            headers: dict[str, str] | None = None, timeout: float = 10.0,
            ) -> tuple[int, Any]:
    status, parsed, _ = http_request(port, method, path, body, headers=headers,
                                     timeout=timeout)
    return status, parsed


def assert_still_serving(server: ControlServer, records: Records) -> None:
    status, answer = request(server.address[1], "GET", "/faults", timeout=PROBE_TIMEOUT)
    assert status == 200
    assert isinstance(answer["faults"], list)
    assert records.tracebacks() == []


@pytest.mark.parametrize(("body", "field"), [
    (b'{"name": "printer-paper-out", "refill_s": ' + b"9" * 5000 + b"}", None),
    (b'{"name": "printer-paper-out", "refill_s": ' + b"9" * 4000 + b"}", "refill_s"),
    (b'{"name": "printer-power-loss", "at_byte": ' + b"9" * 4000 + b"}", "at_byte"),
    (b'{"name": "printer-cover-open", "until": ' + b"7" * 4000 + b"}", "until"),
    (b'{"name": "printer-paper-out", "refill_s": 1e999}', "refill_s"),
    (b'{"name": "printer-offline", "probability": NaN}', "probability"),
    (b'{"name": "printer-power-loss", "at_byte": 1e18}', "at_byte"),
    (b"[" * 5000 + b"]" * 5000, None),
    (b'{"a":' * 3000 + b"1" + b"}" * 3000, None),
    (b'{"name": "' + b"x" * 60000 + b'"}', "name"),
    (b'{"name": ["printer-paper-out"]}', "name"),
    (b'{"name": "printer-paper-out", "printer": ["p1"]}', "printer"),
    (b'"printer-paper-out"', "name"),
    (b"null", "name"),
    (b"\xff\xfe", None),
    (b"{", None),
])
def test_malformed_faults_are_400(control: tuple[ControlServer, Records], body: bytes,
                                  field: str | None) -> None:
    server, records = control
    status, answer = request(server.address[1], "POST", "/faults", body)
    assert status == 400
    assert answer.get("field") == field
    assert len(answer["error"]) < 400  # a huge name or number is not echoed whole
    assert_still_serving(server, records)


def test_a_body_beyond_the_bound_is_413_unread(control: tuple[ControlServer, Records]
                                               ) -> None:
    server, records = control
    for length in (str(MAX_BODY + 1), str(10**12), "9" * 5000):
        with socket.create_connection(server.address, timeout=10) as sock:
            sock.sendall(b"POST /faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                         b"application/json\r\nContent-Length: " + length.encode() +
                         b"\r\n\r\n{")  # the rest never comes: it is not waited for
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    for length in ("-5", "lots"):
        status, _ = request(server.address[1], "POST", "/faults", b"{}",
                            headers={"Content-Length": length})
        assert status == 400
    assert_still_serving(server, records)


def test_the_active_faults_are_bounded(control: tuple[ControlServer, Records]) -> None:
    server, records = control
    body = json.dumps({"name": "printer-paper-near-end"}).encode()
    try:
        statuses = [request(server.address[1], "POST", "/faults", body)[0]
                    for _ in range(MAX_ACTIVE)]
        assert set(statuses) == {201}
        status, answer = request(server.address[1], "POST", "/faults", body)
        assert (status, answer["field"]) == (400, "name")
        assert f"{MAX_ACTIVE} active faults" in answer["error"]
    finally:
        status, answer = request(server.address[1], "POST", "/reset", b"{}")
    assert (status, answer["removed"]) == (200, MAX_ACTIVE)
    status, answer = request(server.address[1], "DELETE", "/faults/" + "f" * 10000)
    assert status == 404
    assert len(answer["error"]) < 200
    assert_still_serving(server, records)


def test_slow_and_many_clients_do_not_hold_a_thread_each(
        control: tuple[ControlServer, Records]) -> None:
    server, records = control
    threads_before = threading.active_count()
    held = []
    try:
        for number in range(120):
            sock = socket.create_connection(server.address, timeout=10)
            if number % 2:  # half of them send half a request, the rest nothing
                sock.sendall(b"POST /faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            held.append(sock)
        assert threading.active_count() <= threads_before + MAX_CONNECTIONS
        for sock in held:  # each is answered 503 (no thread free) or timed out
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
            assert data in (b"", _BUSY) or data.startswith(b"HTTP/1.1 408"), data[:80]
    finally:
        for sock in held:
            sock.close()
    assert_still_serving(server, records)


def test_strangers_are_refused(control: tuple[ControlServer, Records]) -> None:
    server, records = control
    allowed = server.allowed
    assert allowed("192.0.2.7", "127.0.0.1", "") is not None  # not loopback, no token
    assert allowed("192.0.2.7", "127.0.0.1", "Bearer guess-guess") is not None
    for host in ("attacker.example", "127.0.0.1.attacker.example", "x" * 5000):
        status, _ = request(server.address[1], "GET", "/state",
                                 headers={"Host": host})
        assert status == 403
    status, _ = request(server.address[1], "POST", "/faults",
                        json.dumps({"name": "printer-paper-out"}).encode(),
                        headers={"Host": "attacker.example"})
    assert status == 403
    assert server.lab.table.active() == []  # refused before anything was done
    assert_still_serving(server, records)


def test_a_stopped_lab_answers_400(tmp_path: Path) -> None:
    lab = Lab(LabConfig(out=tmp_path / "lab", printers=(), acquirer=None)).start()
    server = ControlServer(lab, port=0).start()
    try:
        lab.stop()
        status, answer = request(server.address[1], "POST", "/faults",
                                 json.dumps({"name": "link-latency"}).encode())
        assert status == 400
        assert "stopped" in answer["error"]
        assert request(server.address[1], "GET", "/state")[0] == 200
    finally:
        server.stop()
