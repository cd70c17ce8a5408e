"""The terminal's side of the live link: ISO 8583 in length frames over TCP.

:class:`TcpAcquirerLink` implements the ``AcquirerLink`` port of
:mod:`terminal_sim.sim.ports` (``send`` and ``drop_connection``) with blocking sockets:
one TCP connection per terminal id, as real terminals have, each with a background
reader thread. The reader never calls the terminal: it hands every decoded reply to
``post`` (the live scheduler passes its loop's ``call_soon_threadsafe``) so replies
are delivered on the caller's thread. A reply that does not decode, a broken frame or
a connection that cannot be made is reported, through ``post`` as well, to
``on_error(offset, reason)``: ``offset`` is the byte offset in that connection's
stream from the host (None when there is no stream position), and nothing is raised
in the reader thread. A connection the host reset or closed is reopened on the next
``send`` for that terminal; replies in flight on it are lost, as on a real link.

Replies are routed to the ``deliver`` of the request with the same STAN; a reply for
no known STAN (a duplicate, or one from before a reset) goes to the most recent
``deliver`` of that terminal, so the terminal sees late and stray replies as it does
in simulation.

:func:`exchange` is the synchronous one-shot form for tests and tools: one request,
one reply, as a field dict.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import parse_qs, urlsplit

from terminal_sim.core.messages import HostReply, Request
from terminal_sim.errors import ConfigurationError, FrameError, ProtocolError, UsageError
from terminal_sim.iso import codec
from terminal_sim.iso.framing import DEFAULT_FRAMING, MAX_FRAME, Framing, get_framing
from terminal_sim.iso.mapping import from_iso, to_iso

log = logging.getLogger(__name__)

Deliver = Callable[[HostReply], None]
Post = Callable[[Callable[[], None]], None]
ErrorCallback = Callable[[int | None, str], None]

READ_SIZE = 65536


@dataclass(eq=False)
class _Connection:
    terminal_id: str
    sock: socket.socket
    routes: OrderedDict[str, Deliver] = field(default_factory=OrderedDict)
    latest: Deliver | None = None
    alive: bool = True
    thread: threading.Thread | None = None
    send_lock: threading.Lock = field(default_factory=threading.Lock)


class TcpAcquirerLink:
    """Carries requests to a TCP acquirer; replies come back through ``post``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        post: Post,
        on_error: ErrorCallback | None = None,
        connect_timeout: float = 5.0,
        max_frame: int = MAX_FRAME,
        route_memory: int = 1024,
        framing: Framing = DEFAULT_FRAMING,
    ) -> None:
        self.host = host
        self.port = port
        self.post = post
        self.on_error = on_error
        self.connect_timeout = connect_timeout
        self.max_frame = max_frame
        self.route_memory = route_memory
        self.framing = framing
        self.bytes_up = 0
        self.bytes_down = 0
        self.connects = 0
        self._lock = threading.Lock()
        self._connections: dict[str, _Connection] = {}
        self._closed = False

    # -- the port ------------------------------------------------------------------------

    def send(self, terminal_id: str, request: Request, deliver: Deliver) -> None:
        """Send ``request`` on the terminal's connection, opening it when needed.

        A request that cannot be encoded raises ``Iso8583Error`` (a caller's bug); a link
        that fails is reported to ``on_error`` and the request is simply not answered,
        as when a cable is pulled: the terminal's own timer decides what happens next.
        """
        fields = to_iso(request)
        wire = self.framing.encode(codec.encode(fields))
        stan = fields.get("11", "")
        conn = self._connection(terminal_id)
        if conn is None:
            return
        with self._lock:
            conn.routes[stan] = deliver
            conn.routes.move_to_end(stan)
            while len(conn.routes) > self.route_memory:
                conn.routes.popitem(last=False)
            conn.latest = deliver
        try:
            with conn.send_lock:
                conn.sock.sendall(wire)
        except OSError as exc:
            self._report(None, f"send to {self.host}:{self.port} for {terminal_id} "
                               f"failed: {exc}")
            self._kill(conn)
            return
        self.bytes_up += len(wire)

    def drop_connection(self, terminal_id: str) -> None:
        """Reset the terminal's connection (replies in flight on it are lost)."""
        with self._lock:
            conn = self._connections.pop(terminal_id, None)
        if conn is not None:
            self._kill(conn)
            if conn.thread is not None and conn.thread is not threading.current_thread():
                conn.thread.join(2.0)

    def is_connected(self, terminal_id: str) -> bool:
        """True while the terminal's connection is open as far as the link knows.

        A close by the host is noticed by the reader thread: a request sent before that
        goes into a dead socket and is lost, as it would be on a real link.
        """
        with self._lock:
            conn = self._connections.get(terminal_id)
        return conn is not None and conn.alive

    def close(self) -> None:
        """Close every connection and wait for the reader threads."""
        self._closed = True
        with self._lock:
            terminals = list(self._connections)
        for terminal_id in terminals:
            self.drop_connection(terminal_id)

    def __enter__(self) -> TcpAcquirerLink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- connections ---------------------------------------------------------------------

    def _connection(self, terminal_id: str) -> _Connection | None:
        with self._lock:
            conn = self._connections.get(terminal_id)
            if conn is not None and conn.alive:
                return conn
        if self._closed:
            raise UsageError("the link is closed")
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            self._report(None, f"cannot connect to {self.host}:{self.port} for {terminal_id}: "
                               f"{exc}")
            return None
        sock.settimeout(None)
        # one small message per exchange: do not let Nagle hold it back
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Connection(terminal_id, sock)
        conn.thread = threading.Thread(target=self._read_loop, args=(conn,),
                                       name=f"acquirer-link-{terminal_id}", daemon=True)
        with self._lock:
            if previous := self._connections.get(terminal_id):
                conn.latest = previous.latest  # late replies still find the terminal
            self._connections[terminal_id] = conn
        self.connects += 1
        conn.thread.start()
        return conn

    def _kill(self, conn: _Connection) -> None:
        conn.alive = False
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader blocked in recv
        except OSError:
            conn.sock.close()  # not connected any more: nothing to wake, just release it

    def _read_loop(self, conn: _Connection) -> None:
        decoder = self.framing.decoder(max_size=self.max_frame)
        head = self.framing.prefix_size
        try:
            while conn.alive:
                try:
                    data = conn.sock.recv(READ_SIZE)
                except OSError as exc:
                    if conn.alive:
                        self._report(None, f"connection of {conn.terminal_id} failed: {exc}")
                    break
                if not data:
                    if decoder.pending:
                        self._report(decoder.consumed + decoder.pending,
                                     f"host closed the connection of {conn.terminal_id} "
                                     f"mid-frame ({decoder.pending} bytes)")
                    break
                with self._lock:
                    self.bytes_down += len(data)
                start = decoder.consumed
                messages, error = decoder.split(data)
                for payload in messages:
                    self._dispatch(conn, payload, start, head)
                    start += head + len(payload)
                if error is not None:
                    self._report(error.offset, f"reply stream of {conn.terminal_id}: "
                                               f"{error.reason}")
                    break
        finally:
            conn.alive = False
            conn.sock.close()

    def _dispatch(self, conn: _Connection, payload: bytes, start: int, head: int) -> None:
        try:
            reply = from_iso(codec.decode(payload))
        except ProtocolError as exc:
            offset = start + head + (exc.offset or 0)
            self._report(offset, f"undecodable reply for {conn.terminal_id}: {exc}")
            return
        with self._lock:
            deliver = conn.routes.get(reply.stan) or conn.latest
        if deliver is None:
            self._report(start, f"reply for STAN {reply.stan} matches no request of "
                                f"{conn.terminal_id}")
            return
        self._post(partial(deliver, reply))

    def _report(self, offset: int | None, reason: str) -> None:
        log.warning("acquirer link: %s", reason)
        if self.on_error is not None:
            self._post(partial(self.on_error, offset, reason))

    def _post(self, call: Callable[[], None]) -> None:
        try:
            self.post(call)
        except Exception:  # the caller's loop may be gone; the reader thread must not die
            log.exception("acquirer link: could not hand a reply to the caller")


def framing_of_url(url: str) -> Framing | None:
    """The framing a live acquirer URL names: ``tcp://HOST:PORT?framing=tpdu&tpdu=6000010000``
    (``framing``: binary, tpdu or ascii, default binary; ``tpdu``: the TPDU sent, 10 hex
    digits); None when it names none; an unknown option or value is a
    ``ConfigurationError``."""
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    if not query:
        return None
    unknown = sorted(set(query) - {"framing", "tpdu"})
    if unknown:
        raise ConfigurationError(f"acquirer URL {url!r}: unknown option(s) "
                                 f"{', '.join(unknown)}; known: framing, tpdu")
    return get_framing(query.get("framing", [None])[-1], tpdu=query.get("tpdu", [None])[-1])


def exchange(host: str, port: int, fields: Mapping[str, str],
             timeout: float = 5.0, framing: Framing = DEFAULT_FRAMING) -> dict[str, str]:
    """Send one message, return the decoded reply.

    ``FrameError`` when the host closes before a whole reply, ``Iso8583Error`` when the
    reply does not decode; ``TimeoutError``/``OSError`` from the socket pass through.
    """
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(framing.encode(codec.encode(fields)))
        decoder = framing.decoder()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no reply from {host}:{port} within {timeout} s")
            sock.settimeout(remaining)
            data = sock.recv(READ_SIZE)
            if not data:
                raise FrameError("connection closed before a complete reply",
                                 decoder.consumed + decoder.pending)
            messages = decoder.feed(data)
            if messages:
                return codec.decode(messages[0])
