"""The lab's control API: HTTP + JSON, on loopback unless a token is configured.

=========================  ===============================================================
``GET /``                  the lab: its printers' and acquirer's endpoints, seed, folder
``GET /faults``            ``{"faults": [...]}``: the active faults with their ids
``POST /faults``           a fault as in a scenario file, ``{"name": ..., params,
                           trigger}``: ``201 {"id": "f1", ...}``, or ``400 {"error": ...,
                           "field": ...}`` naming the bad field
``DELETE /faults/{id}``    remove it (the device heals): ``200``, or ``404``
``POST /reset``            remove every fault: ``{"removed": N}``
``GET /state``             sensors, connections, queue depths, active faults
``GET /evidence``          filed printer jobs, host ledger rows, the trace of faults
=========================  ===============================================================

Who may call: a loopback client always (with a ``Host`` header naming a loopback
address: no page elsewhere reaches it by DNS rebinding); any other client only when the
lab has a token and the request carries it (``Authorization: Bearer TOKEN``), else
``403``. ``POST`` takes JSON only (``415`` otherwise: a form on another site cannot post
one without the browser asking first), at most :data:`MAX_BODY` bytes (``413``
beyond); JSON that does not parse, nests too deep or holds a number of more than
4,300 digits is ``400``; the lab holds at most
:data:`~terminal_sim.lab.faults.MAX_ACTIVE` faults (``400`` beyond). Served by the studio's
:class:`~terminal_sim.base.http.BoundedHTTPServer`: a cap on threads, a timeout per
request, rate-limited logs.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from terminal_sim.base.guards import RateLimitedLog
from terminal_sim.base.http import BoundedHTTPServer
from terminal_sim.errors import ConfigurationError, TerminalSimError
from terminal_sim.lab.faults import LabFaultError
from terminal_sim.lab.lab import Lab

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_ERROR = 300
DEFAULT_MAX_CONNECTIONS = 16
DEFAULT_REQUEST_TIMEOUT = 10.0
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class ControlServer:
    """Serves the control API of ``lab`` on ``host:port`` (port 0: any free one)."""

    def __init__(self, lab: Lab, *, host: str = "127.0.0.1", port: int = 8474,
                 token: str | None = None, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                 request_timeout: float = DEFAULT_REQUEST_TIMEOUT) -> None:
        if token is not None and len(token) < 8:
            raise ConfigurationError("--token: at least 8 characters")
        self.lab = lab
        self.token = token
        self.errors = RateLimitedLog(log)
        handler = type("LabHandler", (_Handler,), {"control": self,
                                                   "timeout": request_timeout})
        try:
            self.httpd = BoundedHTTPServer((host, port), handler, errors=self.errors,
                                           max_connections=max_connections, label="lab")
        except OSError as exc:
            raise ConfigurationError(f"--control {host}:{port}: cannot listen: "
                                     f"{exc.strerror or exc}") from exc
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        return str(self.httpd.server_address[0]), int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def start(self) -> ControlServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.2,),
                                        name="lab-control", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(5)
        self.httpd.server_close()

    def allowed(self, client: str, host_header: str, authorization: str) -> str | None:
        """None when the request may be served, else why not."""
        if self.token is not None and authorization.startswith("Bearer ") and \
                hmac.compare_digest(authorization[7:].encode(), self.token.encode()):
            return None
        if not is_loopback(client):
            return ("non-loopback clients need the lab's token" if self.token is not None
                    else "the control API serves loopback clients only (start the lab "
                         "with --token to allow others)")
        if host_header.startswith("["):
            name = host_header[:host_header.find("]") + 1]
        else:
            name = host_header.partition(":")[0]
        if name not in _LOOPBACK_NAMES and name != self.address[0]:
            return f"wrong host {host_header!r}"
        return None


class _Handler(BaseHTTPRequestHandler):
    control: ControlServer
    server_version = "terminal-sim-lab"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def version_string(self) -> str:
        return self.server_version

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _admitted(self) -> bool:
        refused = self.control.allowed(self.client_address[0], self.headers.get("Host", ""),
                                       self.headers.get("Authorization", ""))
        if refused is not None:
            self._json(HTTPStatus.FORBIDDEN, {"error": refused})
            return False
        return True

    def _body(self) -> Any:
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send JSON"})
            return _NO_BODY
        text = self.headers.get("Content-Length", "0").strip()
        if not (text.isascii() and text.isdigit()):
            length = -1
        else:  # 5,000 digits are not parsed (int() refuses them): too large all the same
            length = int(text) if len(text) <= 18 else MAX_BODY + 1
        if length < 0:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "Content-Length is not a length"})
            return _NO_BODY
        if length > MAX_BODY:
            self.close_connection = True  # the body is not read: the stream is lost
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                       {"error": f"body of {length} bytes; at most {MAX_BODY}"})
            return _NO_BODY
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            # RecursionError: arrays or objects nested thousands deep
            reason = "nested too deep" if isinstance(exc, RecursionError) else _short(exc)
            self._json(HTTPStatus.BAD_REQUEST, {"error": f"not JSON: {reason}"})
            return _NO_BODY

    def _guarded(self, work: Callable[[], None]) -> None:
        try:
            work()
        except LabFaultError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": _short(exc), "field": exc.field[:100]})
        except TerminalSimError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": _short(exc)})
        except Exception:  # noqa: BLE001 - a bug: logged, and the client told so
            self.control.errors.error("lab: failed to answer %s", self.path[:200],
                                      exc_info=True)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"})

    def do_GET(self) -> None:
        if not self._admitted():
            return
        lab = self.control.lab
        path = urlsplit(self.path).path.rstrip("/") or "/"
        routes: dict[str, Callable[[], Any]] = {
            "/": lab.describe, "/state": lab.state, "/evidence": lab.evidence,
            "/faults": lambda: {"faults": [f.to_dict() for f in lab.table.active()]}}
        route = routes.get(path)
        if route is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no page {path}"})
            return
        self._guarded(lambda: self._json(HTTPStatus.OK, route()))

    do_HEAD = do_GET

    def do_POST(self) -> None:
        if not self._admitted():
            return
        lab = self.control.lab
        path = urlsplit(self.path).path.rstrip("/")
        if path not in ("/faults", "/reset"):
            self._json(HTTPStatus.NOT_FOUND, {"error": f"nothing to post at {path}"})
            return
        body = self._body()
        if body is _NO_BODY:
            return
        if path == "/reset":
            self._guarded(lambda: self._json(HTTPStatus.OK, {"removed": lab.reset()}))
            return

        def add() -> None:
            fault = lab.add_fault(body)
            self._json(HTTPStatus.CREATED, fault.to_dict())

        self._guarded(add)

    def do_DELETE(self) -> None:
        if not self._admitted():
            return
        path = urlsplit(self.path).path.rstrip("/")
        head, _, fault_id = path.rpartition("/")
        if head != "/faults" or not fault_id:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"nothing to delete at {path}"})
            return
        if self.control.lab.remove_fault(fault_id):
            self._json(HTTPStatus.OK, {"removed": fault_id})
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no active fault {fault_id[:100]!r}"})


_NO_BODY = object()


def _short(error: Exception) -> str:
    """An error's message, cut to :data:`MAX_ERROR` characters (a 60 kB name or a
    4,000-digit number is not echoed back whole)."""
    text = str(error)
    return text if len(text) <= MAX_ERROR else f"{text[:MAX_ERROR]}... (cut)"
