"""Device servers: a simulated receipt printer any POS application can print to.

A :class:`DeviceServer` listens on TCP (like a network printer's raw port 9100) and/or on
a pseudo-terminal (like a serial printer), feeds every byte it receives to an
:class:`~printer.interpreter.EscPosInterpreter` sharing one
:class:`~printer.state.PrinterState`, and writes the interpreter's status replies back
on the same connection, so python-escpos's ``paper_status()`` and ``is_online()`` work
against it. Every receipt received lands in the output folder (:class:`ReceiptSink`):

=================  =========================================================================
file               what
=================  =========================================================================
``NNNN.bin``       the bytes of the receipt as received (from the previous cut to this one)
``NNNN.txt``       its text, as :attr:`~printer.roll.Receipt.text`
``NNNN.png``       its picture (:func:`~printer.render.receipt_to_png`)
``index.json``     one entry per receipt: number, files, source, connection, cut,
                   truncated, blank, byte offsets, warnings, time received; replaced
                   atomically after each receipt (readers never see a partial file)
=================  =========================================================================

A receipt is complete when it is cut; an uncut one is written, marked truncated, when its
TCP connection closes or when the server stops. A serial line has no connection: the
server holds the pseudo-terminal open, so clients can come and go, and the receipt in
progress is written when the server stops. Numbering continues after the receipts an
existing ``index.json`` lists.

Each TCP connection is a new stream to the printer (its own modes: an ``ESC @`` per job
is what drivers send anyway); the paper, cover and power are the one ``state``. The
server is one thread with a selector; :meth:`DeviceServer.serve` returns when
:meth:`DeviceServer.stop` is called (from a signal handler or another thread).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import selectors
import socket
import threading
import tty
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from printer.errors import PrinterConfigurationError
from printer.interpreter import EscPosInterpreter
from printer.roll import Receipt
from printer.state import PrinterState

__all__ = ["DeviceServer", "ReceiptSink", "parse_address"]

_CHUNK = 65536


def parse_address(text: str, *, default_port: int = 9100) -> tuple[str, int]:
    """``"HOST:PORT"`` (``"[::1]:9100"``, ``":9100"`` = 127.0.0.1) to ``(host, port)``."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = text, str(default_port)
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise PrinterConfigurationError(
            f"a TCP address is HOST:PORT with a port from 0 to 65535 (0: any free port), "
            f"not {text!r}")
    return host, int(port_text)


# -- where receipts go ----------------------------------------------------------------------


class ReceiptSink:
    """Writes receipts into a folder as ``NNNN.bin/.txt/.png`` plus ``index.json``.

    Thread-safe; ``png=False`` skips the pictures (for speed).
    """

    def __init__(self, folder: str | os.PathLike[str], *, width_dots: int = 576,
                 png: bool = True) -> None:
        self.folder = Path(folder)
        self.width_dots = width_dots
        self.png = png
        self._lock = threading.Lock()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._entries: list[dict[str, Any]] = self._existing()

    def _existing(self) -> list[dict[str, Any]]:
        index = self.folder / "index.json"
        if not index.exists():
            return []
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
            entries = data["receipts"]
            if not isinstance(entries, list):
                raise TypeError("receipts is not a list")
            return entries
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PrinterConfigurationError(
                f"{index} exists but is not an index this server wrote ({exc}); "
                f"choose another --out folder") from exc

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The index entries so far (a copy)."""
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def add(self, receipt: Receipt, data: bytes, *, source: str, connection: int) -> dict[str, Any]:
        """Write one receipt (``data``: its bytes) and update the index; return its entry."""
        from printer.render import receipt_png_bytes

        with self._lock:
            number = (max((int(e.get("number", 0)) for e in self._entries), default=0) + 1)
            stem = f"{number:04d}"
            self._write(f"{stem}.bin", data)
            self._write(f"{stem}.txt", (receipt.text + "\n").encode("utf-8"))
            entry: dict[str, Any] = {
                "number": number,
                "bin": f"{stem}.bin",
                "txt": f"{stem}.txt",
                "png": None,
                "source": source,
                "connection": connection,
                "cut": receipt.cut,
                "truncated": receipt.truncated,
                "blank": receipt.is_blank,
                "start_offset": receipt.start_offset,
                "end_offset": receipt.end_offset,
                "bytes": len(data),
                "warnings": [w.to_dict() for w in receipt.warnings],
                "received_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            }
            if self.png:
                self._write(f"{stem}.png", receipt_png_bytes(receipt, width_dots=self.width_dots))
                entry["png"] = f"{stem}.png"
            self._entries.append(entry)
            index = {"version": 1, "receipts": self._entries}
            self._write("index.json", (json.dumps(index, indent=1) + "\n").encode("utf-8"))
            return dict(entry)

    def _write(self, name: str, data: bytes) -> None:
        target = self.folder / name
        tmp = self.folder / f".{name}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)


# -- one stream of bytes --------------------------------------------------------------------


@dataclass
class _Session:
    """One connection's stream: its interpreter and the bytes of the receipt in progress."""

    number: int
    source: str
    interpreter: EscPosInterpreter
    sink: ReceiptSink
    buffer: bytearray = field(default_factory=bytearray)
    base: int = 0  # stream offset of buffer[0]
    written: int = 0  # receipts of this stream already written

    def feed(self, data: bytes) -> bytes:
        self.buffer += data
        reply = self.interpreter.feed(data)
        self._collect(final=False)
        return reply

    def finish(self) -> None:
        self.interpreter.finish()
        self._collect(final=True)

    def _collect(self, *, final: bool) -> None:
        interpreter = self.interpreter
        receipts = interpreter.roll.receipts
        done = len(receipts)
        if not final and done > self.written:
            last = receipts[-1]
            # the receipt still being printed: uncut, running up to the last byte
            if last.cut is None and last.truncated and last.end_offset == interpreter.offset:
                done -= 1
        for receipt in receipts[self.written : done]:
            start = max(receipt.start_offset, self.base) - self.base
            end = max(receipt.end_offset - self.base, start)
            self.sink.add(receipt, bytes(self.buffer[start:end]), source=self.source,
                          connection=self.number)
            del self.buffer[:end]
            self.base += end
        self.written = max(self.written, done)


# -- the server -----------------------------------------------------------------------------


class DeviceServer:
    """A simulated printer served on TCP and/or a pseudo-terminal (see the module doc)."""

    def __init__(self, sink: ReceiptSink, *, state: PrinterState | None = None,
                 columns: int = 48, chinese_mode: bool = False) -> None:
        self.sink = sink
        self.state = state if state is not None else PrinterState()
        self.columns = columns
        self.chinese_mode = chinese_mode
        self._selector = selectors.DefaultSelector()
        self._listeners: list[socket.socket] = []
        self._sessions: dict[int, tuple[Any, _Session]] = {}
        self._pty: tuple[int, int] | None = None  # (master, slave)
        self._next = 0
        self._stop = threading.Event()
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
        listener.listen(16)
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
        self._pty = (master, slave)
        session = self._new_session(f"serial {os.ttyname(slave)}")
        self._selector.register(master, selectors.EVENT_READ, ("pty", session))
        return os.ttyname(slave)

    def _new_session(self, source: str) -> _Session:
        self._next += 1
        interpreter = EscPosInterpreter(columns=self.columns, state=self.state,
                                        chinese_mode=self.chinese_mode)
        return _Session(self._next, source, interpreter, self.sink)

    # -- running --------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`serve` to return (safe from signal handlers and other threads)."""
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def serve(self) -> None:
        """Serve until :meth:`stop`; then write every receipt in progress and close."""
        try:
            while not self._stop.is_set():
                for key, _mask in self._selector.select(timeout=1.0):
                    kind, session = key.data
                    if kind == "listen":
                        self._accept(key.fileobj)
                    elif kind == "conn":
                        self._read_socket(key.fileobj, session)
                    elif kind == "pty":
                        self._read_pty(session)
                    else:
                        self._drain_wake()
        finally:
            self.close()

    def close(self) -> None:
        """Write the receipts in progress, close every connection, the pty and listeners."""
        for fd, (conn, session) in list(self._sessions.items()):
            self._end(fd, conn, session)
        for listener in self._listeners:
            self._unregister(listener)
            listener.close()
        self._listeners = []
        if self._pty is not None:
            master, slave = self._pty
            self._pty = None
            pty_session: _Session | None = None
            if self._registered(master):
                pty_session = self._selector.get_key(master).data[1]
            self._unregister(master)
            if pty_session is not None:
                pty_session.finish()
            os.close(master)
            os.close(slave)
        if self._wake_r >= 0:
            self._unregister(self._wake_r)
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._wake_r = self._wake_w = -1
        self._selector.close()

    # -- events ---------------------------------------------------------------------------

    def _accept(self, listener: Any) -> None:
        try:
            conn, address = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        session = self._new_session(f"tcp {address[0]}:{address[1]}")
        self._sessions[conn.fileno()] = (conn, session)
        self._selector.register(conn, selectors.EVENT_READ, ("conn", session))

    def _read_socket(self, conn: Any, session: _Session) -> None:
        try:
            data = conn.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._end(conn.fileno(), conn, session)
            return
        reply = session.feed(data)
        if reply:
            try:
                conn.setblocking(True)
                conn.settimeout(5.0)
                conn.sendall(reply)
            except OSError:
                self._end(conn.fileno(), conn, session)
                return
            finally:
                if conn.fileno() >= 0:
                    conn.setblocking(False)

    def _read_pty(self, session: _Session) -> None:
        if self._pty is None:
            return
        master = self._pty[0]
        try:
            data = os.read(master, _CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO:  # no client has the line open: nothing to read
                return
            raise
        reply = session.feed(data)
        view = memoryview(reply)
        while view:
            try:
                written = os.write(master, view)
            except BlockingIOError:
                break  # nobody reads the line: a reply a real printer would lose too
            view = view[written:]

    def _end(self, fd: int, conn: Any, session: _Session) -> None:
        self._sessions.pop(fd, None)
        self._unregister(conn)
        try:
            session.finish()
        finally:
            conn.close()

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
