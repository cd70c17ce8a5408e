"""A bounded ``ThreadingHTTPServer`` for the project's loopback HTTP tools (the studio,
the lab's control API): a cap on threads, an accept that backs off, rate-limited logs."""

from __future__ import annotations

import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from terminal_sim.base.guards import RateLimitedLog, affordable_connections
from terminal_sim.errors import TerminalSimError

__all__ = ["DEFAULT_MAX_CONNECTIONS", "BoundedHTTPServer"]

#: Connections (threads) served at once: a browser opens about six.
DEFAULT_MAX_CONNECTIONS = 32
#: Descriptors kept for the process's stores (journal, ledger, back office), stdio ...
FD_RESERVE = 32
ACCEPT_BACKOFF = (0.01, 1.0)
_GONE = (ConnectionError, TimeoutError)  # the client went away or stalled
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class BoundedHTTPServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` with a cap on its threads, for hostile clients.

    At most ``max_connections`` connections have a thread (fewer when the descriptor
    limit is lower); one beyond gets ``503`` and is closed. ``accept`` failing (EMFILE)
    backs off before it is tried again, and errors are logged through ``errors``.
    """

    daemon_threads = True
    request_queue_size = 128  # the library's 5 drops a burst's SYNs: seconds of retries

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *,
                 errors: RateLimitedLog, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                 label: str = "studio") -> None:
        if max_connections < 1:
            raise TerminalSimError(f"max_connections: at least 1, got {max_connections}")
        self.errors = errors
        self.label = label  # what log lines call the server
        self.max_connections = affordable_connections(max_connections, FD_RESERVE)
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self._backoff = ACCEPT_BACKOFF[0]
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            request = super().get_request()
        except OSError as exc:
            # out of descriptors: the connection stays in the backlog while we wait
            self.errors.warning("%s: accept failed: %s; trying again in %g s", self.label,
                                exc.strerror or exc, self._backoff)
            time.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, ACCEPT_BACKOFF[1])
            raise
        self._backoff = ACCEPT_BACKOFF[0]
        return request

    def service_actions(self) -> None:
        self.errors.flush()  # a flood's summary, once it stopped (every poll interval)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.errors.warning("%s: refused a connection from %s: %d served at once",
                                self.label, client_address[0], self.max_connections)
            try:
                request.settimeout(0.5)
                request.sendall(_BUSY)
            except OSError:
                pass  # it is refused either way
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:  # no thread took the slot (it could not start): give it back
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, _GONE):
            self.errors.info("%s: client %s went away: %s", self.label, client_address[0], error)
        else:
            self.errors.error("%s: error serving %s", self.label, client_address[0], exc_info=True)
