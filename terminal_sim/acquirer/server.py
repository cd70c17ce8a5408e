"""The mock acquirer over TCP: ISO 8583 in length frames, many terminals at once.

One :class:`~terminal_sim.acquirer.host.MockAcquirer` sits behind an asyncio server (its
own accept loop, 127.0.0.1 unless told otherwise). Each connection is an asyncio
``Protocol`` (:class:`~terminal_sim.acquirer.connection.HostConnection`) that cuts its
bytes into messages (the ``framing``'s :class:`~terminal_sim.iso.framing.FrameDecoder`)
and hands each to the server the moment it is complete; everything runs on the event
loop's thread, the only user of the ledger:

* **group commit**: the first message of a group opens the ledger's transaction and
  schedules its commit (``call_soon``) for after every callback the event loop has ready
  now, so the messages that arrived together, on all connections, are processed each in
  its own savepoint and committed once. The replies are written only after that commit
  is durable, so a reply never announces what the ledger could still lose; with a
  ledger file the sync runs on a thread while the next group is processed
  (:mod:`~.durable`), an in-memory ledger's replies are written right after the commit.
* **the server never dies of input**: a message that does not decode gets the host's
  format-error reply (or none); a bad length header (zero, or above ``max_frame``)
  cannot be resynchronised, so the messages before it are answered and the connection
  is closed with a logged reason; a connection that ends mid-frame is logged and its
  partial message dropped; a bug while processing one message is logged with its
  traceback and that message gets no reply.
* **nor of too many peers**: at most ``max_connections`` connections are served (by
  default 1,000, fewer when the process may open fewer files: the rest of the descriptor
  limit less a reserve for the ledger); a connection beyond is accepted and closed at
  once. A connection silent for ``idle_timeout`` seconds, a frame left unfinished that
  long, or a reply the peer does not read for that long (the write buffer above its
  high-water mark) closes it: one periodic sweep looks at every connection, there is no
  timer per message. A connection stops reading while it is owed more than
  :data:`~terminal_sim.acquirer.connection.MAX_OWED` replies or its peer does not read
  them, so what it holds stays bounded. ``accept`` failing for want of descriptors or
  memory (EMFILE and the like) backs off (10 ms doubling to 1 s) and tries again.
  Repeated per-connection messages go through a
  :class:`~terminal_sim.base.guards.RateLimitedLog` (at most 10 lines a second, then
  "N similar errors suppressed"); what a peer sent is logged with controls escaped.
* **clean shutdown** (:meth:`AcquirerServer.shutdown`, SIGINT/SIGTERM in :func:`serve`):
  stop accepting, stop reading, answer every message already read (up to ``grace_s``),
  close every connection: no message is processed without its reply being written.
  Bytes not yet read are not received (their terminals time out). The caller closes
  (checkpoints) the ledger afterwards.

:class:`ServerThread` runs a server on its own event loop in a thread (tests, tools).
:func:`~terminal_sim.acquirer.loops.loop_factory` picks the event loop of ``pos-sim
acquirer serve``: uvloop when it is installed (the ``fast`` extra), else asyncio's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from terminal_sim.acquirer.connection import HostConnection
from terminal_sim.acquirer.durable import GroupCommit, ServerStats
from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.base.clock import Clock, ScaledClock
from terminal_sim.base.guards import RateLimitedLog, affordable_connections
from terminal_sim.errors import ConfigurationError, FrameError, UsageError
from terminal_sim.iso.framing import DEFAULT_FRAMING, Framing

log = logging.getLogger(__name__)

#: Largest message the server accepts: ISO 8583 messages of this link are < 1 KiB, and
#: a bigger announced length is a broken or hostile peer, not a message.
DEFAULT_MAX_FRAME = 8192
#: Connections served at once, unless the descriptor limit allows fewer.
DEFAULT_MAX_CONNECTIONS = 1000
#: Seconds a connection may stay silent (or leave a frame unfinished, or not read its
#: replies) before the server closes it; terminals reconnect for their next message.
DEFAULT_IDLE_TIMEOUT = 300.0
#: Descriptors kept for the ledger (database, WAL, shared memory), stdio and the listener.
FD_RESERVE = 24
ACCEPT_BACKOFF = (0.01, 1.0)
#: Seconds between two looks at every connection for idleness (less for short timeouts),
#: and between two flushes of the log's "similar errors suppressed" summary.
SWEEP_INTERVAL = 0.25


class AcquirerServer:
    """An asyncio TCP server in front of one ``MockAcquirer``."""

    def __init__(
        self,
        acquirer: MockAcquirer,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_frame: int = DEFAULT_MAX_FRAME,
        clock: Clock | None = None,
        backlog: int = 1024,
        grace_s: float = 5.0,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        framing: Framing = DEFAULT_FRAMING,
    ) -> None:
        if not 1 <= max_frame <= 0xFFFF:
            raise ConfigurationError(f"max_frame must be 1..65535, got {max_frame}")
        if max_connections < 1:
            raise ConfigurationError(f"max_connections: at least 1, got {max_connections}")
        if not idle_timeout > 0:
            raise ConfigurationError(f"idle_timeout: more than 0 s, got {idle_timeout}")
        self.acquirer = acquirer
        self.host = host
        self.port = port
        self.max_frame = max_frame
        self.framing = framing
        # live: real wall clock at start, then monotonic (simulated runs: virtual time)
        self.clock: Clock = clock or ScaledClock(dt.datetime.now().replace(microsecond=0))
        self.backlog = backlog
        self.grace_s = grace_s
        self.stats = ServerStats()
        self.max_connections = affordable_connections(max_connections, FD_RESERVE)
        self.idle_timeout = float(idle_timeout)
        self._log = RateLimitedLog(log)
        self._listener: socket.socket | None = None
        self._acceptor: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._adopting: set[asyncio.Task[None]] = set()
        self._unconnected = 0  # accepted, not yet connected to their protocol
        self.group = GroupCommit(acquirer, self.clock, framing, self.stats, self._log)
        self._connections: dict[HostConnection, None] = {}
        self._drained: asyncio.Event | None = None  # set when the last connection closed
        self._closing = False
        self._address: tuple[str, int] | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the server listens on; the real port when started on port 0."""
        if self._address is None:
            raise UsageError("the server is not started")
        return self._address

    async def start(self) -> tuple[str, int]:
        """Bind and start accepting; an ``OSError`` when the address cannot be bound."""
        family = socket.getaddrinfo(self.host or None, self.port, type=socket.SOCK_STREAM,
                                    flags=socket.AI_PASSIVE)[0][0]
        listener = socket.create_server((self.host, self.port), family=family,
                                        backlog=self.backlog)
        listener.setblocking(False)
        self.group.replies.start()
        self._drained = asyncio.Event()
        self._listener = listener
        # the host's own warnings (undecodable messages) share the budget of lines
        logging.getLogger(MockAcquirer.__module__).addFilter(self._log)
        sockname = listener.getsockname()
        self._address = (str(sockname[0]), int(sockname[1]))
        # our own accept loop: asyncio's (3.11) logs a traceback per pending connection
        # when descriptors run out, thousands a second, and never backs off for long
        self._acceptor = asyncio.create_task(self._accept_loop(listener),
                                             name="acquirer-acceptor")
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="acquirer-sweeper")
        log.info("acquirer listening on %s:%d (at most %d connections, idle timeout %g s)",
                 *self._address, self.max_connections, self.idle_timeout)
        return self._address

    async def shutdown(self) -> None:
        """Stop accepting, answer what was read, close every connection."""
        if self._closing:
            return
        self._closing = True
        for task in (self._acceptor, self._sweeper):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._listener is not None:
            self._listener.close()  # connections still in the backlog are reset
        if self._adopting:  # accepted, not yet connected to their protocol
            await asyncio.wait(list(self._adopting), timeout=self.grace_s)
        for conn in list(self._connections):
            # read nothing more; what is already read is still answered, then it closes
            conn.end(shutdown=True)
        if self._connections and self._drained is not None:
            try:
                await asyncio.wait_for(self._drained.wait(), self.grace_s)
            except TimeoutError:
                log.warning("%d connections still busy after %.1f s at shutdown: aborted",
                            len(self._connections), self.grace_s)
                for conn in list(self._connections):
                    conn.close(abort=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._drained.wait(), 1.0)
        self.group.commit()  # nothing should be left open; if it is, it is committed
        await self.group.replies.stop()
        self._log.flush()
        logging.getLogger(MockAcquirer.__module__).removeFilter(self._log)
        log.info("acquirer stopped: %s", self.stats)

    # -- connections ---------------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        """One periodic look at every connection: idle ones close; the log's summary."""
        loop = asyncio.get_running_loop()
        interval = min(SWEEP_INTERVAL, max(self.idle_timeout / 4, 0.01))
        while True:
            await asyncio.sleep(interval)
            self._log.flush()  # a flood's summary once it stopped
            now = loop.time()
            for conn in list(self._connections):
                if not conn.closed and conn.idle_for(now) >= self.idle_timeout:
                    self._close_idle(conn)

    def _close_idle(self, conn: HostConnection) -> None:
        self.stats.idle_closed += 1
        if conn.write_blocked:  # a peer that does not read its replies cannot hold us
            self._log.info("closing connection from %s: it read no reply for %g s",
                           conn.peer, self.idle_timeout)
            conn.close(abort=True)
            return
        what = (f"a frame unfinished ({conn.decoder.pending} bytes)" if conn.decoder.pending
                else "idle")
        self._log.info("closing connection from %s: %s for %g s", conn.peer, what,
                       self.idle_timeout)
        conn.close()

    async def _accept(self, listener: socket.socket) -> tuple[socket.socket, Any]:
        accepting = asyncio.ensure_future(asyncio.get_running_loop().sock_accept(listener))
        try:
            return await asyncio.shield(accepting)
        except asyncio.CancelledError:
            # at shutdown: a connection handed over meanwhile is closed, not leaked
            accepting.add_done_callback(_close_accepted)
            accepting.cancel()
            raise

    async def _accept_loop(self, listener: socket.socket) -> None:
        backoff = ACCEPT_BACKOFF[0]
        while not self._closing:
            try:
                conn, _ = await self._accept(listener)
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue
            except OSError as exc:
                if self._closing:
                    return
                # out of descriptors or memory: the connection waits in the backlog
                self.stats.accept_errors += 1
                self._log.warning("accept failed: %s; %d connections open; trying again "
                                  "in %g s", exc.strerror, len(self._connections), backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, ACCEPT_BACKOFF[1])
                continue
            backoff = ACCEPT_BACKOFF[0]
            if len(self._connections) + self._unconnected >= self.max_connections:
                self.stats.refused += 1
                self._log.warning("refused a connection: %d open (at most %d)",
                                  len(self._connections) + self._unconnected,
                                  self.max_connections)
                conn.close()
                continue
            self._unconnected += 1
            task = asyncio.create_task(self._adopt(conn))
            self._adopting.add(task)
            task.add_done_callback(self._adopting.discard)

    async def _adopt(self, conn: socket.socket) -> None:
        try:
            await asyncio.get_running_loop().connect_accepted_socket(
                lambda: HostConnection(self), conn)
        except OSError as exc:
            self._unconnected -= 1
            conn.close()
            self._log.info("connection lost before it was served: %s", exc)

    def connection_opened(self, conn: HostConnection) -> None:
        """``conn`` is connected (its ``connection_made``)."""
        self._connections[conn] = None
        self._unconnected -= 1
        self.stats.connections += 1
        if self._closing:
            conn.end(shutdown=True)

    def connection_closed(self, conn: HostConnection, exc: Exception | None) -> None:
        """``conn`` is gone (its ``connection_lost``); ``exc`` when it failed."""
        self._connections.pop(conn, None)
        if exc is not None:  # reset by the peer, or a write that failed
            self._log.info("connection from %s lost: %s", conn.peer, exc)
        if not self._connections and self._closing and self._drained is not None:
            self._drained.set()

    def frame_error(self, conn: HostConnection, error: FrameError) -> None:
        """A length header that cannot be resynchronised: what came before is answered,
        then ``conn`` closes."""
        self.stats.frame_errors += 1
        self._log.warning("closing connection from %s: %s", conn.peer, error)

    def truncated(self, conn: HostConnection, *, shutdown: bool) -> None:
        """``conn`` ended (or is closed at shutdown) with an incomplete frame."""
        self.stats.truncated += 1
        why = "closed at shutdown" if shutdown else "closed"
        self._log.warning("connection from %s %s mid-frame: %d bytes of an incomplete "
                          "message dropped at byte %d", conn.peer, why, conn.decoder.pending,
                          conn.decoder.consumed)

async def serve(
    server: AcquirerServer,
    *,
    ready: Callable[[str, int], None] | None = None,
    signals: Iterable[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
) -> None:
    """Run ``server`` until one of ``signals`` arrives, then shut it down cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed = []
    await server.start()
    try:
        for sig in signals:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        if ready is not None:
            ready(*server.address)
        await stop.wait()
        log.info("signal received: shutting down")
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await server.shutdown()


class ServerThread:
    """An ``AcquirerServer`` on its own event loop in a background thread.

    ``with ServerThread(acquirer) as running: running.address`` ... the server is shut
    down (in-flight messages answered) when the block ends. The acquirer's ledger is
    used from the server thread only while it runs; read it after :meth:`stop`, or
    through a second connection to its file.
    """

    def __init__(self, acquirer: MockAcquirer, *,
                 loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
                 **options: Any) -> None:
        self.server = AcquirerServer(acquirer, **options)
        self._loop_factory = loop_factory  # None: asyncio's own loop
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: Exception | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def start(self, timeout: float = 10.0) -> tuple[str, int]:
        """Start the thread; the server's address once it listens (re-raises its errors)."""
        self._thread = threading.Thread(target=self._run, name="acquirer-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"acquirer server did not start within {timeout} s")
        if self._error is not None:
            raise self._error
        return self.address

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down and wait for the thread."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended: nothing to stop
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        with asyncio.Runner(loop_factory=self._loop_factory) as runner:
            runner.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.server.start()
        # any start-up failure is handed to the thread that called start(), raised there
        except Exception as exc:  # noqa: BLE001
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.shutdown()


def _close_accepted(accepting: asyncio.Future[tuple[socket.socket, Any]]) -> None:
    if not accepting.cancelled() and accepting.exception() is None:  # a client left waiting
        accepting.result()[0].close()
