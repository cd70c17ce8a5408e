"""The mock acquirer over TCP: ISO 8583 in length frames, many terminals at once.

One :class:`~terminal_sim.acquirer.host.MockAcquirer` sits behind an asyncio server (its
own accept loop, 127.0.0.1 unless told otherwise). Each connection cuts its byte stream
into messages (the ``framing``'s :class:`~terminal_sim.iso.framing.FrameDecoder`) for one
processing task, the only writer of the ledger:

* **group commit**: the processor takes every message waiting, processes each in its
  own savepoint and commits the group once; the replies are written only after that
  commit is durable, so a reply never announces what the ledger could still lose; the
  sync runs on a thread while the next group is processed (:mod:`~.durable`).
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
  long, or a reply the peer does not read for that long closes it. ``accept`` failing
  for want of descriptors or memory (EMFILE and the like) backs off (10 ms doubling to
  1 s) and tries again. Repeated per-connection messages go through a
  :class:`~terminal_sim.base.guards.RateLimitedLog` (at most 10 lines a second, then
  "N similar errors suppressed"); what a peer sent is logged with controls escaped.
* **clean shutdown** (:meth:`AcquirerServer.shutdown`, SIGINT/SIGTERM in :func:`serve`):
  stop accepting, stop reading, answer every message already read (up to ``grace_s``),
  close every connection, then stop the processor: no message is processed without
  its reply being written. Bytes not yet read are not received (their terminals time
  out). The caller closes (checkpoints) the ledger afterwards.

:class:`ServerThread` runs a server on its own event loop in a thread (tests, tools).
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
from dataclasses import dataclass
from typing import Any

from terminal_sim.acquirer.durable import SyncedReplies, Work
from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.base.clock import Clock, ScaledClock
from terminal_sim.base.guards import RateLimitedLog, affordable_connections
from terminal_sim.errors import ConfigurationError, FrameError, UsageError
from terminal_sim.iso.framing import DEFAULT_FRAMING, FrameDecoder, Framing

log = logging.getLogger(__name__)

#: Largest message the server accepts: ISO 8583 messages of this link are < 1 KiB, and
#: a bigger announced length is a broken or hostile peer, not a message.
DEFAULT_MAX_FRAME = 8192
READ_SIZE = 65536
#: Connections served at once, unless the descriptor limit allows fewer.
DEFAULT_MAX_CONNECTIONS = 1000
#: Seconds a connection may stay silent (or leave a frame unfinished, or not read its
#: replies) before the server closes it; terminals reconnect for their next message.
DEFAULT_IDLE_TIMEOUT = 300.0
#: Descriptors kept for the ledger (database, WAL, shared memory), stdio and the listener.
FD_RESERVE = 24
ACCEPT_BACKOFF = (0.01, 1.0)


@dataclass
class ServerStats:
    """Counters of a server's life, for logs and tests."""

    connections: int = 0
    messages: int = 0
    replies: int = 0
    frame_errors: int = 0
    truncated: int = 0
    failures: int = 0
    commits: int = 0
    refused: int = 0
    idle_closed: int = 0
    accept_errors: int = 0


@dataclass(eq=False)
class _Connection:
    peer: str
    task: asyncio.Task[None] | None
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    busy: bool = False


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
        self._flusher: asyncio.Task[None] | None = None
        self._adopting: set[asyncio.Task[None]] = set()
        self._serving: set[asyncio.Task[None]] = set()
        self._queue: asyncio.Queue[Work] | None = None
        self._processor: asyncio.Task[None] | None = None
        self._replies = SyncedReplies(acquirer.ledger, self._log, self._count_failures)
        self._connections: dict[int, _Connection] = {}
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
        self._queue = asyncio.Queue()
        self._replies.start()
        self._processor = asyncio.create_task(self._process(), name="acquirer-processor")
        try:
            family = socket.getaddrinfo(self.host or None, self.port, type=socket.SOCK_STREAM,
                                        flags=socket.AI_PASSIVE)[0][0]
            listener = socket.create_server((self.host, self.port), family=family,
                                            backlog=self.backlog)
        except OSError:
            self._processor.cancel()
            await self._replies.stop()
            raise
        listener.setblocking(False)
        self._listener = listener
        # the host's own warnings (undecodable messages) share the budget of lines
        logging.getLogger(MockAcquirer.__module__).addFilter(self._log)
        sockname = listener.getsockname()
        self._address = (str(sockname[0]), int(sockname[1]))
        # our own accept loop: asyncio's (3.11) logs a traceback per pending connection
        # when descriptors run out, thousands a second, and never backs off for long
        self._acceptor = asyncio.create_task(self._accept_loop(listener),
                                             name="acquirer-acceptor")
        self._flusher = asyncio.create_task(self._flush_loop(), name="acquirer-log")
        log.info("acquirer listening on %s:%d (at most %d connections, idle timeout %g s)",
                 *self._address, self.max_connections, self.idle_timeout)
        return self._address

    async def shutdown(self) -> None:
        """Stop accepting, answer what is in flight, close every connection."""
        if self._closing:
            return
        self._closing = True
        for task in (self._acceptor, self._flusher):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._listener is not None:
            self._listener.close()  # connections still in the backlog are reset
        if self._adopting:  # accepted, not yet handed their streams: let them register
            await asyncio.wait(list(self._adopting), timeout=self.grace_s)
        for conn in list(self._connections.values()):
            # read nothing more; what is already read is still answered, then the
            # connection's loop sees the EOF (or the closing flag) and closes
            transport = conn.writer.transport
            if isinstance(transport, asyncio.ReadTransport):
                transport.pause_reading()
            conn.reader.feed_eof()
        tasks = [c.task for c in self._connections.values() if c.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.grace_s)
            if late:
                log.warning("%d connections still busy after %.1f s at shutdown: aborted",
                            len(late), self.grace_s)
                for conn in list(self._connections.values()):
                    conn.writer.transport.abort()
                _, late = await asyncio.wait(late, timeout=1.0)
                for task in late:
                    task.cancel()
        if self._processor is not None:
            self._processor.cancel()
            await asyncio.gather(self._processor, return_exceptions=True)
        await self._replies.stop()
        self._log.flush()
        logging.getLogger(MockAcquirer.__module__).removeFilter(self._log)
        log.info("acquirer stopped: %s", self.stats)

    # -- connections ---------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:  # a flood's summary once it stopped
            await asyncio.sleep(0.25)
            self._log.flush()

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
            if len(self._connections) + len(self._adopting) >= self.max_connections:
                self.stats.refused += 1
                self._log.warning("refused a connection: %d open (at most %d)",
                                  len(self._connections) + len(self._adopting),
                                  self.max_connections)
                conn.close()
                continue
            task = asyncio.create_task(self._adopt(conn))
            self._adopting.add(task)
            task.add_done_callback(self._adopting.discard)

    async def _adopt(self, conn: socket.socket) -> None:
        try:
            reader, writer = await asyncio.open_connection(sock=conn)
        except OSError as exc:
            conn.close()
            self._log.info("connection lost before it was served: %s", exc)
            return
        # its own task: shutdown waits for it among the connections
        task = asyncio.create_task(self._serve_connection(reader, writer))
        self._serving.add(task)
        task.add_done_callback(self._serving.discard)
        await asyncio.sleep(0)  # let it register before shutdown looks

    async def _read(self, reader: asyncio.StreamReader, decoder: FrameDecoder,
                    peer: str) -> bytes | None:
        """The next bytes; ``None`` when the peer stayed silent for ``idle_timeout``."""
        try:
            async with asyncio.timeout(self.idle_timeout):  # no task per read, as wait_for
                return await reader.read(READ_SIZE)
        except TimeoutError:
            self.stats.idle_closed += 1
            what = (f"a frame unfinished ({decoder.pending} bytes)" if decoder.pending
                    else "idle")
            self._log.info("closing connection from %s: %s for %g s", peer, what,
                           self.idle_timeout)
            return None

    async def _serve_connection(self, reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername)
        conn = _Connection(peer, asyncio.current_task(), reader, writer)
        key = id(conn)
        self._connections[key] = conn
        self.stats.connections += 1
        decoder = self.framing.decoder(max_size=self.max_frame)
        try:
            while not self._closing:
                try:
                    data = await self._read(reader, decoder, peer)
                except OSError as exc:
                    self._log.info("connection from %s failed: %s", peer, exc)
                    break
                if data is None:
                    break
                if not data:
                    if decoder.pending:
                        self.stats.truncated += 1
                        why = "closed at shutdown" if self._closing else "closed"
                        self._log.warning("connection from %s %s mid-frame: %d bytes of an "
                                          "incomplete message dropped at byte %d",
                                          peer, why, decoder.pending, decoder.consumed)
                    break
                conn.busy = True
                frames, error = decoder.split_frames(data)
                if frames:
                    answers = await self._submit([item.payload for item in frames], peer)
                    out = self.framing.replies(frames, answers)
                    if out:
                        writer.write(out)
                        if writer.transport.get_write_buffer_size():
                            # a peer that does not read its replies cannot hold us for ever
                            async with asyncio.timeout(self.idle_timeout):
                                await writer.drain()
                        self.stats.replies += sum(answer is not None for answer in answers)
                conn.busy = False
                if error is not None:
                    self._frame_error(peer, error)
                    break
        except TimeoutError:
            self.stats.idle_closed += 1
            self._log.info("closing connection from %s: it read no reply for %g s", peer,
                           self.idle_timeout)
            writer.transport.abort()
        except (ConnectionError, OSError) as exc:  # the peer went away while we wrote
            self._log.info("connection from %s lost: %s", peer, exc)
        finally:
            self._connections.pop(key, None)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):  # reset by the peer: closed
                await writer.wait_closed()

    def _frame_error(self, peer: str, error: FrameError) -> None:
        self.stats.frame_errors += 1
        self._log.warning("closing connection from %s: %s", peer, error)

    async def _submit(self, messages: list[bytes], peer: str) -> list[bytes | None]:
        if self._queue is None:
            raise UsageError("the server is not started")
        loop = asyncio.get_running_loop()
        work = [Work(message, peer, loop.create_future()) for message in messages]
        for item in work:
            self._queue.put_nowait(item)
        return [await item.answer for item in work]

    # -- the one writer of the ledger ----------------------------------------------------

    async def _process(self) -> None:
        queue = self._queue
        if queue is None:
            raise UsageError("the server is not started")
        while True:
            group = [await queue.get()]
            while not queue.empty():
                group.append(queue.get_nowait())
            answers = self._process_group(group)
            self._replies.committed(group, answers)  # released once durable

    def _process_group(self, group: list[Work]) -> list[bytes | None]:
        acquirer = self.acquirer
        answers: list[bytes | None] = []
        try:
            with acquirer.ledger.atomic():  # one commit for the whole group
                for item in group:
                    answers.append(self._handle_one(item))
        # the commit failed: nothing of the group is durable, say nothing
        except Exception:  # noqa: BLE001 - logged with its traceback
            self._log.error("ledger commit failed: %d messages left unanswered", len(group),
                            exc_info=True)
            self.stats.failures += len(group)
            return [None] * len(group)
        self.stats.commits += 1
        return answers

    def _count_failures(self, lost: int) -> None:
        self.stats.failures += lost

    def _handle_one(self, item: Work) -> bytes | None:
        self.stats.messages += 1
        try:
            return self.acquirer.handle(item.payload, self.clock.now(), self.clock.wall())
        except Exception:  # noqa: BLE001 - logged with its traceback
            # the server never dies of input: a bug on one message (its savepoint rolled
            # back) costs that message its reply, not the other terminals their host
            self._log.error("failed to process a message from %s", item.peer, exc_info=True)
            self.stats.failures += 1
            return None


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

    def __init__(self, acquirer: MockAcquirer, **options: Any) -> None:
        self.server = AcquirerServer(acquirer, **options)
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
        asyncio.run(self._main())

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
