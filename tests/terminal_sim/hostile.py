"""What the hostile-input tests of the servers share: log capture, a watched stderr, an
HTTP request made by hand, a flood that never reads its replies."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any


class Records(logging.Handler):
    """Every record a logger emits, kept."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]

    def tracebacks(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.exc_info]


class Stderr:
    """A subprocess's stderr read line by line on a thread, each line with its arrival time."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.stamps: list[float] = []
        self._process = process
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        stream = self._process.stderr
        if stream is None:
            return
        for line in stream:
            self.stamps.append(time.monotonic())
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 10.0) -> bool:
        """Whether a line with ``text`` arrives within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.05)
        return False

    def most_lines_in_a_second(self, since: int = 0) -> int:
        """The most lines (from line ``since`` on) that arrived within one second."""
        stamps = self.stamps[since:]
        return max((sum(1 for t in stamps if start <= t < start + 1.0) for start in stamps),
                   default=0)

    def join(self) -> None:
        self._thread.join(timeout=5)


def http_request(port: int, method: str, path: str, body: bytes | None = None, *,
                 headers: dict[str, str] | None = None, timeout: float = 10.0,
                 ) -> tuple[int, Any, dict[str, str]]:
    """One request to 127.0.0.1:``port``: the status, the body (parsed when it is JSON)
    and the response's headers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = {"Content-Type": "application/json"} if body is not None else {}
    sent.update(headers or {})
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    kind = response.getheader("Content-Type", "")
    parsed = json.loads(raw) if kind.startswith("application/json") else raw
    return response.status, parsed, dict(response.getheaders())


def flood_until_closed(address: tuple[str, int], batch: bytes,
                       when_stalled: Callable[[], None], *,
                       guard_s: float = 120.0) -> tuple[bool, bool]:
    """Send ``batch`` over and over on one connection that never reads its replies,
    until the server closes it; ``when_stalled`` runs once, the first time a send
    blocks (the server stopped reading from it). Returns (stalled, closed)."""
    with socket.socket() as flooder:
        flooder.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills up soon
        flooder.connect(address)
        flooder.settimeout(0.05)
        stalled = closed = False
        deadline = time.monotonic() + guard_s  # a guard against a hang, not a time limit
        while not closed and time.monotonic() < deadline:
            try:
                flooder.sendall(batch)
            except TimeoutError:  # it stopped reading: the others must be served meanwhile
                if not stalled:
                    when_stalled()
                    stalled = True
            except OSError:  # reset: the server closed it
                closed = True
    return stalled, closed
