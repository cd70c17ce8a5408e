"""The studio's HTTP server: the standard library's, on 127.0.0.1 only.

One page and two JSON endpoints:

=======================  =================================================================
``GET /``                the page (HTML, CSS, script and the state diagram, all inline)
``GET /api/state``       the terminal now: ``?since=<trace id>&slips=<receipts held>``
                         return only newer trace records and receipts
``POST /api/action``     ``{"action": "sale", "amount": "12.50", "card": "visa-approve"}``
                         and the others of :class:`~terminal_sim.studio.live.LiveTerminal`
                         or :class:`~terminal_sim.studio.replay.Replay`; ``400`` with
                         ``{"error": ...}`` for a bad one
=======================  =================================================================

Requests are served on threads (``ThreadingHTTPServer``), but the terminal lives on one
thread of its own: every request and every clock tick is handed to it and waited for.
That is the lock around the session, and more: SQLite connections (the journal, the
host ledger, the back office) may only be used by the thread that opened them, so the
terminal is built on that thread too. A ticker moves the virtual clock every
``tick_ms`` of wall time (``speed`` times as far).

The server answers only requests addressed to its own host name and port (a page
elsewhere cannot reach it by DNS rebinding), and actions only as JSON (a form on
another site cannot post one without the browser asking first). Every action is checked
with the scenario files' bounds (:mod:`terminal_sim.studio.validate`): ``400`` names the
field. No page may frame it (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``); the
``Server`` header names no Python version.

Hostile clients: at most ``max_connections`` connections are served at once, each on
its own thread (fewer when the descriptor limit is lower); one beyond gets ``503`` and is
closed. A request (or a keep-alive connection) silent for ``request_timeout`` seconds is
closed. ``accept`` failing (EMFILE) backs off; a client that goes away mid-answer is a
line of log, not a traceback; repeated errors share a budget of 10 lines a second.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as WorkTimeout
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlsplit

from terminal_sim.base.guards import RateLimitedLog
from terminal_sim.base.http import BoundedHTTPServer
from terminal_sim.errors import TerminalSimError
from terminal_sim.studio.page import render_page
from terminal_sim.studio.validate import ActionError, parse_body

__all__ = ["BoundedHTTPServer", "Studio", "StudioServer"]

log = logging.getLogger(__name__)
T = TypeVar("T")

HOST = "127.0.0.1"
MAX_BODY = 64 * 1024
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
#: Connections (threads) served at once: a browser opens about six.
DEFAULT_MAX_CONNECTIONS = 32
#: Seconds a request may take to arrive, or a keep-alive connection may stay silent.
DEFAULT_REQUEST_TIMEOUT = 10.0


class Studio(Protocol):
    """What the server drives: a live terminal or a replay."""

    mode: str
    message: str

    def tick(self, real_ms: float) -> None: ...

    def act(self, action: dict[str, Any]) -> str: ...

    def snapshot(self, since: int = 0, slips_from: int = 0) -> dict[str, Any]: ...

    def config(self) -> dict[str, Any]: ...


class StudioServer:
    """Serves one studio (a terminal or a replay) on ``127.0.0.1:port`` (0: any free).

    ``make`` builds the studio; it is called on the studio's own thread.
    """

    def __init__(self, make: Callable[[], Studio], *, port: int = 8000,
                 tick_ms: int = 100, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                 request_timeout: float = DEFAULT_REQUEST_TIMEOUT) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-terminal")
        made = False
        try:
            self.studio: Studio = self._worker.submit(make).result()
            made = True
        finally:
            if not made:  # whatever stopped it (a bad option, ^C): no thread left behind
                self._worker.shutdown(wait=False)
        self.tick_ms = tick_ms
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._page: bytes | None = None
        self.errors = RateLimitedLog(log)
        handler = type("StudioHandler", (_Handler,), {"server_ref": self,
                                                      "timeout": request_timeout})
        try:
            self.httpd = BoundedHTTPServer((HOST, port), handler, errors=self.errors,
                                           max_connections=max_connections)
        except OSError:
            self._worker.shutdown(wait=False)
            raise

    def call(self, work: Callable[[Studio], T], timeout: float = 60.0) -> T:
        """Run ``work(studio)`` on the studio's thread and return what it returns."""
        return self._worker.submit(work, self.studio).result(timeout=timeout)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def page(self) -> bytes:
        if self._page is None:
            self._page = render_page(self.call(lambda studio: studio.config())).encode("utf-8")
        return self._page

    # -- running ---------------------------------------------------------------------------

    def start_ticker(self) -> None:
        """Move the studio's clock in the background until :meth:`shutdown`."""
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick_loop, name="studio-clock",
                                            daemon=True)
            self._ticker.start()

    def _tick_loop(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.tick_ms / 1000):
            now = time.monotonic()
            elapsed = (now - last) * 1000
            last = now
            try:
                self.call(partial(_tick, ms=elapsed))
            except TerminalSimError as exc:  # keep the page alive; say what happened
                self.studio.message = f"error: {exc}"
                self.errors.warning("studio clock: %s", exc)
            except RuntimeError:  # the worker is shutting down
                return
            except Exception:  # noqa: BLE001 - a bug must not stop the clock for good
                self.errors.error("studio clock failed", exc_info=True)

    def serve_forever(self) -> None:
        self.start_ticker()
        self.httpd.serve_forever(poll_interval=0.2)

    def serve_in_thread(self) -> threading.Thread:
        """Serve from a daemon thread (for tests and embedding); returns the thread."""
        thread = threading.Thread(target=self.serve_forever, name="studio-http", daemon=True)
        thread.start()
        return thread

    def shutdown(self, finish: Callable[[Studio], Any] | None = None) -> Any:
        """Stop serving and the clock; run ``finish(studio)`` on its thread last (e.g. to
        save the session) and return what it returned."""
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        try:
            return self.call(finish) if finish is not None else None
        finally:
            self._worker.shutdown(wait=True)


def _tick(studio: Studio, ms: float) -> None:
    studio.tick(ms)


class _Handler(BaseHTTPRequestHandler):
    server_ref: StudioServer
    server_version = "terminal-sim-studio"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def version_string(self) -> str:
        return self.server_version  # no Python version for a scanner to match

    def end_headers(self) -> None:
        # on every answer, the library's error pages (a bad request line) included
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    # -- helpers -----------------------------------------------------------------------------

    def _allowed_host(self) -> bool:
        port = self.server_ref.port
        host = self.headers.get("Host", "")
        return host in (f"127.0.0.1:{port}", f"localhost:{port}")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    # -- routes ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        if not self._allowed_host():
            self._json(HTTPStatus.FORBIDDEN, {"error": "wrong host"})
            return
        parts = urlsplit(self.path)
        if parts.path == "/":
            self._send(HTTPStatus.OK, self.server_ref.page(), "text/html; charset=utf-8")
        elif parts.path == "/api/state":
            query = parse_qs(parts.query)
            try:
                since = int(query.get("since", ["0"])[0])
                slips = int(query.get("slips", ["0"])[0])
            except ValueError:
                self._json(HTTPStatus.BAD_REQUEST, {"error": "since and slips are numbers"})
                return
            if not (0 <= since < 2**53 and 0 <= slips < 2**53):
                self._json(HTTPStatus.BAD_REQUEST, {"error": "since and slips: 0 or more",
                                                    "field": "since" if since < 0 else "slips"})
                return
            self._studio(lambda studio: studio.snapshot(since, slips))
        elif parts.path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no page {parts.path}"})

    do_HEAD = do_GET

    def do_POST(self) -> None:
        if not self._allowed_host():
            self._json(HTTPStatus.FORBIDDEN, {"error": "wrong host"})
            return
        if urlsplit(self.path).path != "/api/action":
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no action at {self.path}"})
            return
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send JSON"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "body too large or no length"})
            return
        try:
            action = parse_body(self.rfile.read(length))
        except ActionError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc), "field": exc.field})
            return
        self._studio(lambda studio: {"ok": True, "message": studio.act(action)})

    def _studio(self, work: Callable[[Studio], Any]) -> None:
        """Answer with what ``work`` returns on the studio's thread, or the error."""
        try:
            answer = self.server_ref.call(work)
        except ActionError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc), "field": exc.field})
        except (TerminalSimError, ValueError, TypeError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except WorkTimeout:
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the terminal is busy"})
        except RuntimeError:  # the studio's thread is shutting down
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the studio is stopping"})
        except Exception:  # noqa: BLE001 - a bug: logged, and the client told so
            self.server_ref.errors.error("studio: failed to answer %s", self.path[:200],
                                         exc_info=True)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"})
        else:
            self._json(HTTPStatus.OK, answer)
