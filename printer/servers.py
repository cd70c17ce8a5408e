"""Device servers: a simulated receipt printer any POS application can print to.

A :class:`DeviceServer` listens on TCP (a network printer's port 9100) and/or a
pseudo-terminal (a serial printer), feeds what it receives to an
:class:`~printer.interpreter.EscPosInterpreter` sharing one
:class:`~printer.state.PrinterState`, and writes status replies back on the same
connection (python-escpos's ``paper_status()`` and ``is_online()`` work against it).
Jobs land in the output folder (:mod:`printer.filing`); :mod:`printer.sessions` cuts a
stream into jobs. A receipt is complete when cut; an uncut one is filed, truncated, when
its TCP connection closes or the server stops. The server holds the pseudo-terminal open,
so serial clients can come and go.

Modes live in the printer, not the connection: set on one connection they apply on the
next until ``ESC @`` or a power cycle. An offline printer holds what it receives in its
receive buffer and prints it when back; beyond it the server stops reading. Change the
state while serving with ``update_state`` / ``schedule_state`` (:mod:`printer.control`).
One thread with a selector; :meth:`DeviceServer.serve` returns on :meth:`DeviceServer.stop`.

**Hostile clients.** What one client can take is bounded, and the others are still served:

- at most ``max_connections`` TCP connections (64): one more is accepted and closed at
  once; a connection that sends nothing for ``idle_timeout`` seconds (60) is closed (its
  receipt in progress filed, truncated);
- each readable connection is read :data:`RECEIPT_CHUNK` bytes per turn of the loop while
  it is finishing receipts (filing is the costly part), and up to :data:`CHUNK` bytes
  (doubling each turn) while it is not, so a flood on one connection delays the others
  by one small turn's work;
- the paper is a finite roll when ``state.roll_length`` is set (``pos-sim printer serve``
  sets 80 m): past it the printer reports paper out, as hardware does, and nothing more of
  that stream reaches paper (so a receipt never holds more than a roll); when the stream
  that used the roll up ends, an operator puts in a new roll (logged);
- replies a client does not read wait in a buffer of at most :data:`MAX_REPLY_BUFFER`
  bytes; beyond it the server stops reading that connection until the client reads;
- ``accept`` failing for want of descriptors (EMFILE ...) is logged once per burst; a
  reserved descriptor is freed to accept and close (refuse) the waiting connection, then
  accepting backs off (up to 1 s) while the connections it has are served;
- log lines are throttled (:class:`~printer.sessions.Throttle`); a failure while handling
  one connection closes it with one log line and no traceback.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import selectors
import socket
import threading
import time
import tty
from dataclasses import dataclass, field
from typing import Any

from printer.addresses import default_max_connections, parse_address
from printer.control import RECEIVE_BUFFER, PrinterControl, ReceiveBuffer, StateControl
from printer.errors import PrinterConfigurationError
from printer.filing import ReceiptSink
from printer.interpreter import EscPosInterpreter
from printer.interpreter.paper import DOTS_PER_MM
from printer.sessions import Session, Throttle
from printer.state import PrinterState

__all__ = ["CHUNK", "MAX_REPLY_BUFFER", "RECEIPT_CHUNK", "DeviceServer", "ReceiptSink",
           "parse_address"]

log = logging.getLogger(__name__)

CHUNK = 65536  # bytes read from one connection per turn of the loop
RECEIPT_CHUNK = 1024  # ... while it is finishing receipts: ~45 one-line receipts a turn
MAX_REPLY_BUFFER = 65536  # unread replies held for one connection before it is paused
_TCP_WINDOW = 65536
_OUT_OF_DESCRIPTORS = frozenset((errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM))
_MAX_BACKOFF = 1.0


@dataclass(eq=False)
class _Connection:
    sock: socket.socket
    session: Session
    out: bytearray = field(default_factory=bytearray)
    paused: bool = False  # not read until the client reads its replies
    starved: bool = False  # not read until the receive buffer has room
    closed: bool = False
    read_size: int = RECEIPT_CHUNK


class DeviceServer(PrinterControl):
    """A simulated printer served on TCP and/or a pseudo-terminal (see the module doc)."""

    def __init__(self, sink: ReceiptSink, *, state: PrinterState | None = None,
                 columns: int = 48, chinese_mode: bool = False,
                 max_connections: int | None = None, idle_timeout: float = 60.0,
                 job_limit: int = 64 << 20, receive_buffer: int = RECEIVE_BUFFER) -> None:
        if max_connections is not None and max_connections < 1:
            raise PrinterConfigurationError("max_connections must be at least 1")
        if idle_timeout <= 0:
            raise PrinterConfigurationError("idle_timeout must be positive")
        self.sink = sink
        self.state = state if state is not None else PrinterState()
        self.columns = columns
        self.chinese_mode = chinese_mode
        self.max_connections = (max_connections if max_connections is not None
                                else default_max_connections())
        self.idle_timeout = idle_timeout
        self.job_limit = job_limit
        self.refused = 0  # connections closed at once: over the cap or out of descriptors
        self.throttle = Throttle(log)
        self.buffer = ReceiveBuffer(receive_buffer)
        self.control = StateControl()
        self.received = 0
        self._serving: threading.Thread | None = None
        self._last: Session | None = None
        self._cycles = self.state.power_cycles
        self._pty_starved = False
        self._selector = selectors.DefaultSelector()
        self._listeners: list[socket.socket] = []
        self._paused_until = 0.0  # accepting resumes then (after running out of descriptors)
        self._backoff = 0.0
        self._connections: dict[int, _Connection] = {}
        self._pty: tuple[int, int, Session] | None = None  # (master, slave, session)
        self._next = 0
        self._stop = threading.Event()
        self._reserve = os.open(os.devnull, os.O_RDONLY)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, ("wake", None))

    # -- endpoints ------------------------------------------------------------------------

    def listen_tcp(self, host: str = "127.0.0.1", port: int = 9100) -> tuple[str, int]:
        """Listen on ``host:port`` (0: any free port); return the address bound."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
        except OSError as exc:
            listener.close()
            raise PrinterConfigurationError(f"cannot listen on {host}:{port}: {exc}") from exc
        listener.listen(128)
        listener.setblocking(False)
        self._listeners.append(listener)
        self._selector.register(listener, selectors.EVENT_READ, ("listen", None))
        bound = listener.getsockname()
        return str(bound[0]), int(bound[1])

    def open_pty(self) -> str:
        """Create a pseudo-terminal pair; return the device path clients open."""
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no newline translation: a plain 8-bit line
        os.set_blocking(master, False)
        session = self._new_session(f"serial {os.ttyname(slave)}")
        self._pty = (master, slave, session)
        self._selector.register(master, selectors.EVENT_READ, ("pty", None))
        return os.ttyname(slave)

    def _new_session(self, source: str) -> Session:
        self._next += 1
        interpreter = EscPosInterpreter(columns=self.columns, state=self.state,
                                        chinese_mode=self.chinese_mode)
        return Session(self._next, source, interpreter, self.sink, job_limit=self.job_limit,
                       throttle=self.throttle)

    @property
    def connections(self) -> int:
        """TCP connections open now."""
        return len(self._connections)

    # -- running --------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`serve` to return (safe from signal handlers and other threads)."""
        self._stop.set()
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def serve(self) -> None:
        """Serve until :meth:`stop`; then write every receipt in progress and close."""
        self._serving = threading.current_thread()
        try:
            self.sink.warm_up()  # fonts loaded now, not while a client waits
            swept = time.monotonic()
            while not self._stop.is_set():
                for key, mask in self._selector.select(timeout=0.25):
                    self._event(key, mask)
                self._apply_requests()
                now = time.monotonic()
                if now - swept >= 0.25:
                    swept = now
                    self._housekeeping(now)
        finally:
            self._serving = None
            self._apply_requests()  # nobody waits for ever on a change asked meanwhile
            self.close()

    def _event(self, key: selectors.SelectorKey, mask: int) -> None:
        kind, connection = key.data
        if kind == "listen":
            self._accept(key.fileobj)
        elif kind == "conn":
            self._guarded(connection, mask)
        elif kind == "pty":
            self._read_pty()
        else:
            self._drain_wake()

    def _housekeeping(self, now: float) -> None:
        if self._paused_until and now >= self._paused_until:
            self._paused_until = 0.0
            for listener in self._listeners:
                if not self._registered(listener):
                    self._selector.register(listener, selectors.EVENT_READ, ("listen", None))
        for connection in list(self._connections.values()):
            if connection.starved:
                connection.session.last_active = now  # waiting for the printer, not idle
            idle = now - connection.session.last_active
            if idle >= self.idle_timeout:
                self.throttle("idle", logging.INFO,
                              f"connection {connection.session.number} "
                              f"({connection.session.source}) sent nothing for {idle:.0f} s: "
                              f"closed")
                self._end(connection)
        self.throttle.flush()
        try:
            self.sink.sync()
        except OSError as exc:
            self.throttle("sync", logging.ERROR, f"cannot sync the index: {exc}")

    def close(self) -> None:
        """Write the receipts in progress, close every connection, the pty and listeners."""
        self._drop_held("never printed: the server stopped")
        for connection in list(self._connections.values()):
            self._end(connection)
        for listener in self._listeners:
            self._unregister(listener)
            listener.close()
        self._listeners = []
        if self._pty is not None:
            master, slave, session = self._pty
            self._pty = None
            self._unregister(master)
            try:
                session.finish()
            finally:
                os.close(master)
                os.close(slave)
        if self._wake_r >= 0:
            self._unregister(self._wake_r)
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._wake_r = self._wake_w = -1
        if self._reserve >= 0:
            os.close(self._reserve)
            self._reserve = -1
        self._selector.close()
        self.throttle.flush()
        self.sink.close()

    # -- accepting ------------------------------------------------------------------------

    def _accept(self, listener: Any) -> None:
        for _ in range(16):  # a few at a time: the connections we have are served meanwhile
            try:
                conn, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._accept_failed(listener, exc)
                return
            self._backoff = 0.0
            if len(self._connections) >= self.max_connections:
                self._refuse(conn)
                self.throttle("refused", logging.WARNING,
                              f"connection from {address[0]}:{address[1]} refused: "
                              f"{len(self._connections)} open (--max-connections "
                              f"{self.max_connections})")
                continue
            self._admit(conn, address)

    def _admit(self, conn: socket.socket, address: Any) -> None:
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # a printer's small TCP window: backpressure reaches the client soon (receive buffer)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _TCP_WINDOW)
        session = self._new_session(f"tcp {address[0]}:{address[1]}")
        connection = _Connection(conn, session)
        self._connections[conn.fileno()] = connection
        self._selector.register(conn, selectors.EVENT_READ, ("conn", connection))

    def _refuse(self, conn: socket.socket) -> None:
        self.refused += 1
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        conn.close()

    def _accept_failed(self, listener: Any, exc: OSError) -> None:
        if exc.errno not in _OUT_OF_DESCRIPTORS:
            self.throttle("accept", logging.WARNING, f"accept failed: {exc}")
            return
        # Out of descriptors: the waiting clients would wait for ever. With the reserved
        # descriptor freed, accept each and close it (it sees a refusal), then take the
        # reserve back; without one, stop accepting for a while.
        refused = self._refuse_waiting(listener)
        if self._reserve >= 0:
            self.throttle("accept", logging.WARNING,
                          f"accept failed: {exc}; refused {refused} connection(s), "
                          f"{len(self._connections)} still served")
            return
        self._backoff = min(_MAX_BACKOFF, max(0.05, self._backoff * 2))
        self._paused_until = time.monotonic() + self._backoff
        for each in self._listeners:
            self._unregister(each)
        self.throttle("accept", logging.WARNING,
                      f"accept failed: {exc}; {len(self._connections)} connection(s) still "
                      f"served, accepting again in {self._backoff:.2f} s")

    def _refuse_waiting(self, listener: Any) -> int:
        refused = 0
        while self._reserve >= 0 and refused < 1024:
            os.close(self._reserve)
            self._reserve = -1
            try:
                conn, _address = listener.accept()
            except OSError:
                conn = None
            if conn is not None:
                self._refuse(conn)
                refused += 1
            with contextlib.suppress(OSError):
                self._reserve = os.open(os.devnull, os.O_RDONLY)
            if conn is None:
                break
        return refused

    # -- a connection ---------------------------------------------------------------------

    def _guarded(self, connection: _Connection, mask: int) -> None:
        try:
            if mask & selectors.EVENT_WRITE:
                self._flush(connection)
            if mask & selectors.EVENT_READ and not connection.paused and not connection.closed:
                self._read_socket(connection)
        except Exception as exc:  # noqa: BLE001 - one client's failure must not stop the server
            self.throttle("failure", logging.ERROR,
                          f"connection {connection.session.number}: "
                          f"{type(exc).__name__}: {exc}; closed")
            self._end(connection, finish=False)

    def _read_socket(self, connection: _Connection) -> None:
        size = self._read_limit(connection.read_size)
        if size <= 0:
            connection.starved = True
            self._set_events(connection)
            return
        try:
            data = connection.sock.recv(size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._end(connection)
            return
        reply = self._deliver(connection.session, data)
        # small reads while receipts come (filing is the costly part), larger when not
        connection.read_size = (RECEIPT_CHUNK if connection.session.filed_last
                                else min(CHUNK, connection.read_size * 2))
        if reply:
            connection.out += reply
            self._flush(connection)

    def _flush(self, connection: _Connection) -> None:
        sock = connection.sock
        if connection.out:
            try:
                sent = sock.send(connection.out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._end(connection)
                return
            del connection.out[:sent]
            if sent:
                connection.session.last_active = time.monotonic()
        connection.paused = len(connection.out) > MAX_REPLY_BUFFER
        self._set_events(connection)

    def _set_events(self, connection: _Connection) -> None:
        sock = connection.sock
        events = selectors.EVENT_WRITE if connection.out else 0
        if not connection.paused and not connection.starved:
            events |= selectors.EVENT_READ
        registered = self._registered(sock)
        if not events:
            if registered:
                self._selector.unregister(sock)
        elif not registered:
            self._selector.register(sock, events, ("conn", connection))
        elif self._selector.get_key(sock).events != events:
            self._selector.modify(sock, events, ("conn", connection))

    def _send_reply(self, session: Session, reply: bytes) -> None:
        if not reply:
            return
        if self._pty is not None and self._pty[2] is session:
            self._write_pty(reply)
            return
        for connection in self._connections.values():
            if connection.session is session and not connection.closed:
                connection.out += reply
                self._flush(connection)
                return

    def _resume_reading(self) -> None:
        for connection in list(self._connections.values()):
            if connection.starved:
                connection.starved = False
                self._set_events(connection)
        if self._pty_starved and self._pty is not None:
            self._pty_starved = False
            self._selector.register(self._pty[0], selectors.EVENT_READ, ("pty", None))

    def _read_pty(self) -> None:
        if self._pty is None:
            return
        master, _slave, session = self._pty
        size = self._read_limit(CHUNK)
        if size <= 0:
            self._pty_starved = True
            self._unregister(master)
            return
        try:
            data = os.read(master, size)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO:  # no client has the line open: nothing to read
                return
            raise
        self._write_pty(self._deliver(session, data))

    def _write_pty(self, reply: bytes) -> None:
        if self._pty is None:
            return
        master = self._pty[0]
        view = memoryview(reply)
        while view:
            try:
                written = os.write(master, view)
            except BlockingIOError:
                break  # nobody reads the line: a reply a real printer would lose too
            view = view[written:]

    def _end(self, connection: _Connection, *, finish: bool = True) -> None:
        if connection.closed:
            return
        connection.closed = True
        sock = connection.sock
        self._connections.pop(sock.fileno(), None)
        self._unregister(sock)
        try:
            if self.buffer.held_by(connection.session):
                connection.session.ended = True  # it finishes when its bytes have printed
            elif finish:
                connection.session.finish()
            else:
                connection.session.close()
        finally:
            sock.close()
            if connection.session.used_up_roll and self.state.roll_ended:
                used = self.state.paper_used / DOTS_PER_MM / 1000
                self.throttle("roll", logging.WARNING,
                              f"the paper ran out ({used:.1f} m used by connection "
                              f"{connection.session.number}); a new roll is put in")
                self.state.load_roll()

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 512):
                pass
        except (BlockingIOError, OSError):
            pass

    def _registered(self, fileobj: Any) -> bool:
        try:
            self._selector.get_key(fileobj)
        except (KeyError, ValueError):
            return False
        return True

    def _unregister(self, fileobj: Any) -> None:
        if self._registered(fileobj):
            self._selector.unregister(fileobj)
