"""The acquirer's front door in the lab: a frame-aware fault layer before the mock host.

The application under test connects to :class:`AcquirerFront`; each of its connections
gets its own connection to the :class:`~terminal_sim.acquirer.server.AcquirerServer`
behind (loopback, a free port), and every ISO 8583 frame that passes in either
direction is one opportunity for the active ``link-*`` faults (the scenario files'
names and parameters, :mod:`terminal_sim.lab.faults`): delayed, dropped, sent late or
twice, cut into pieces, corrupted, or the connection reset. ``acquirer-host-down``
refuses new connections (or swallows requests); ``acquirer-decline`` is decided by the
host itself (:class:`LabAcquirer`), so its ledger books the decline it answered.

The proxy cuts the streams with the lab's framing (:mod:`terminal_sim.iso.framing`:
``binary``, ``tpdu``, ``ascii``; the host behind speaks the same one), so every fault
acts on one whole frame of that framing, its length header and TPDU included: a slicer
cuts anywhere in it, a corruption spares the header and the TPDU (the message is what
is damaged), a duplicate repeats the frame byte for byte.

Frames stay whole and in order per connection (a delay holds the frames behind it, as
TCP does); a late or duplicated reply is written on its own. The first matching fault
acts on a frame (faults do not stack here). Bounded like the host: a connection cap,
an idle timeout, a largest frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Coroutine
from itertools import pairwise
from typing import Any

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.base.guards import RateLimitedLog
from terminal_sim.errors import ProtocolError
from terminal_sim.iso import codec
from terminal_sim.iso.framing import DEFAULT_FRAMING, Frame, Framing
from terminal_sim.lab.faults import ACQUIRER, ActiveFault, FaultTable

log = logging.getLogger(__name__)

READ_SIZE = 65536
REQUEST_ONLY = ("link-drop-request",)
REPLY_ONLY = ("link-drop-reply", "link-late-reply", "link-duplicate-reply")
BOTH_WAYS = ("link-latency", "link-reset", "link-corrupt", "link-slicer")
_DEFAULT_DIRECTION = {"link-latency": "both", "link-slicer": "both", "link-reset": "reply",
                      "link-corrupt": "reply"}


def peek(message: bytes) -> tuple[str, str, str]:
    """(MTI, terminal id, STAN) of a message; empty strings where it does not decode."""
    try:
        fields = codec.decode(message)
    except ProtocolError:
        mti = codec.peek_mti(message)
        return mti or "", "", ""
    return fields.get("t", ""), fields.get("41", "").strip(), fields.get("11", "")


def request_mti(reply_mti: str) -> str:
    """The MTI a reply answers (0210 -> 0200, 0410 -> 0400); itself when it is none."""
    if len(reply_mti) == 4 and reply_mti.isdigit() and int(reply_mti[2]) % 2 == 1:
        return f"{reply_mti[:2]}{int(reply_mti[2]) - 1}{reply_mti[3]}"
    return reply_mti


class LabAcquirer(MockAcquirer):
    """The mock acquirer that declines on demand (``acquirer-decline``): the decision is
    the host's, so its ledger books what it answered."""

    table: FaultTable | None = None

    def handle(self, message: bytes, now: int, wall: dt.datetime) -> bytes | None:
        table = self.table
        if table is None:
            return super().handle(message, now, wall)
        mti, terminal_id, stan = peek(message)
        fault = table.fire(ACQUIRER, ("acquirer-decline",), terminal_id, (mti,),
                           "declined", mti=mti, stan=stan)
        if fault is None:
            return super().handle(message, now, wall)
        kept = self.rules
        self.rules = dataclasses.replace(
            kept, message_overrides={**kept.message_overrides, mti: fault.values["code"]})
        try:
            return super().handle(message, now, wall)
        finally:
            self.rules = kept


def _directed(fault: ActiveFault, direction: str) -> bool:
    if fault.name in REQUEST_ONLY:
        return direction == "request"
    if fault.name in REPLY_ONLY:
        return direction == "reply"
    chosen = fault.values.get("direction") or _DEFAULT_DIRECTION[fault.name]
    return chosen in (direction, "both")


class _Pair:
    """One client connection and its connection to the host."""

    def __init__(self, peer: str, client: asyncio.StreamWriter) -> None:
        self.peer = peer
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.later: set[asyncio.Task[None]] = set()

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()


class AcquirerFront:
    """Listens for the application; forwards to ``upstream`` through the fault table."""

    def __init__(self, upstream: tuple[str, int], table: FaultTable, *,
                 host: str = "127.0.0.1", port: int = 0, max_frame: int = 8192,
                 idle_timeout: float = 300.0, max_connections: int = 256,
                 framing: Framing = DEFAULT_FRAMING) -> None:
        self.upstream = upstream
        self.framing = framing
        self.table = table
        self.host, self.port = host, port
        self.max_frame = max_frame
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.pairs: dict[int, _Pair] = {}
        self.counts = {"connections": 0, "refused": 0, "requests": 0, "replies": 0}
        self._server: asyncio.Server | None = None
        self._log = RateLimitedLog(log)

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        sockname = self._server.sockets[0].getsockname()
        self.host, self.port = str(sockname[0]), int(sockname[1])
        return self.host, self.port

    async def shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for pair in list(self.pairs.values()):
            pair.abort()
            for task in pair.later:
                task.cancel()
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    def cut_all(self) -> int:
        """Reset every connection (the host went down); how many there were."""
        pairs = list(self.pairs.values())
        for pair in pairs:
            pair.abort()
        return len(pairs)

    def _down(self, mode: str, terminal_id: str | None, what: str) -> ActiveFault | None:
        """The host-down fault of ``mode`` that fires on this connection or request."""
        return self.table.fire(ACQUIRER, ("acquirer-host-down",), terminal_id, (), what,
                               accept=lambda fault: fault.values["mode"] == mode)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername)
        if len(self.pairs) >= self.max_connections or self._down(
                "refuse", None, f"refused a connection from {peer}"):
            self.counts["refused"] += 1
            writer.transport.abort()
            return
        pair = _Pair(peer, writer)
        key = id(pair)
        self.pairs[key] = pair
        self.counts["connections"] += 1
        try:
            up_reader, pair.upstream = await asyncio.open_connection(*self.upstream)
            await asyncio.gather(self._pump(pair, reader, pair.upstream, "request"),
                                 self._pump(pair, up_reader, writer, "reply"))
        except (TimeoutError, OSError) as exc:
            self._log.info("lab acquirer: connection from %s ended: %s", peer, exc)
        finally:
            self.pairs.pop(key, None)
            pair.abort()

    async def _pump(self, pair: _Pair, source: asyncio.StreamReader,
                    sink: asyncio.StreamWriter, direction: str) -> None:
        decoder = self.framing.decoder(max_size=self.max_frame)
        try:
            while True:
                data = await asyncio.wait_for(source.read(READ_SIZE), self.idle_timeout)
                if not data:
                    break
                frames, error = decoder.split_frames(data)
                for item in frames:
                    await self._carry(pair, sink, direction, item)
                if error is not None:
                    self._log.warning("lab acquirer: %s from %s: %s", direction, pair.peer,
                                      error)
                    break
        finally:
            pair.abort()  # either side ending ends both: the host or the client is gone

    async def _carry(self, pair: _Pair, sink: asyncio.StreamWriter, direction: str,
                     item: Frame) -> None:
        mti, terminal_id, stan = peek(item.payload)
        self.counts["requests" if direction == "request" else "replies"] += 1
        mtis = (mti,) if direction == "request" else (mti, request_mti(mti))
        if direction == "request" and self._down(
                "silent", terminal_id, f"swallowed request {mti}") is not None:
            return
        fault = self.table.fire(
            ACQUIRER, REQUEST_ONLY + REPLY_ONLY + BOTH_WAYS, terminal_id, mtis,
            f"on {direction} {mti}", accept=lambda f: _directed(f, direction),
            direction=direction, mti=mti, **({"stan": stan} if stan else {}))
        data = self.framing.encode(item.payload, item.tpdu or None)
        if fault is None:
            await _write(sink, data, self.idle_timeout)
            return
        await self._act(fault, pair, sink, data)

    async def _act(self, fault: ActiveFault, pair: _Pair, sink: asyncio.StreamWriter,
                   data: bytes) -> None:
        values, stream = fault.values, fault.stream
        name = fault.name
        if name in ("link-drop-request", "link-drop-reply"):
            return
        if name == "link-latency":
            extra = values["delay_ms"] + stream.between(0, values["jitter_ms"])
            await asyncio.sleep(extra / 1000)
            await _write(sink, data, self.idle_timeout)
        elif name == "link-late-reply":
            self._later(pair, values["delay_ms"], sink, data)
        elif name == "link-duplicate-reply":
            await _write(sink, data, self.idle_timeout)
            self._later(pair, values["gap_ms"], sink, data)
        elif name == "link-reset":
            pair.abort()
        elif name == "link-slicer":
            count = min(values["pieces"], len(data))
            cuts = sorted({stream.between(1, len(data) - 1) for _ in range(count - 1)})
            for index, (start, end) in enumerate(pairwise([0, *cuts, len(data)])):
                if index:
                    await asyncio.sleep(values["gap_ms"] / 1000)
                await _write(sink, data[start:end], self.idle_timeout)
        elif name == "link-corrupt":
            mangled = bytearray(data)
            for _ in range(values["bytes"]):
                at = stream.between(self.framing.prefix_size, len(data) - 1)
                mangled[at] = (mangled[at] + 1 + stream.below(255)) % 256
            await _write(sink, bytes(mangled), self.idle_timeout)

    def _later(self, pair: _Pair, delay_ms: int, sink: asyncio.StreamWriter,
               data: bytes) -> None:
        async def deliver() -> None:
            await asyncio.sleep(delay_ms / 1000)
            if not sink.is_closing():
                with contextlib.suppress(OSError, asyncio.TimeoutError):
                    await _write(sink, data, self.idle_timeout)

        task = asyncio.get_running_loop().create_task(deliver())
        pair.later.add(task)
        task.add_done_callback(pair.later.discard)


async def _write(sink: asyncio.StreamWriter, data: bytes, timeout: float) -> None:
    if sink.is_closing():
        return
    sink.write(data)
    await asyncio.wait_for(sink.drain(), timeout)


class LoopThread:
    """An asyncio loop on a daemon thread: ``start(coro)`` runs a set-up coroutine on it
    and returns its result (re-raising its error); ``call`` runs a function on it;
    ``stop(coro)`` runs a clean-up coroutine, then ends the loop and the thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, function: Callable[[], Any], timeout: float = 10.0) -> Any:
        async def wrapped() -> Any:
            return function()

        return self.run(wrapped(), timeout)

    def stop(self, coro: Coroutine[Any, Any, Any] | None = None, timeout: float = 15.0
             ) -> None:
        try:
            if coro is not None and self.loop.is_running():
                self.run(coro, timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self.loop.close()
