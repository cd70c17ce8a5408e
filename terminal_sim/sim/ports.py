"""The ports a terminal's effects run through, and their in-process implementations.

Faults never branch inside the terminal core: they wrap these ports (the way pyserial's
``spy://`` wraps a port), so each port is a small class with one job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.base.cards import Card, luhn_valid
from terminal_sim.base.clock import VirtualClock
from terminal_sim.base.seeds import Stream
from terminal_sim.core.events import PrintDone
from terminal_sim.core.messages import HostReply, Request
from terminal_sim.core.slips import Slip
from terminal_sim.errors import ProtocolError
from terminal_sim.iso.framing import DEFAULT_FRAMING, FrameDecoder, Framing
from terminal_sim.iso.mapping import read_reply, request_bytes
from terminal_sim.plugins.ports import (
    Arrival,
    Piece,
    Pipe,
    PrinterLine,
    PrintJobs,
    ReadResult,
    Wrap,
)
from terminal_sim.sim.scheduler import Scheduler
from terminal_sim.sim.trace import Trace

LineT = TypeVar("LineT", bound=PrinterLine)


class SimCardReader:
    """A contactless reader: reads a card in 300-900 ms. A number that is not 13-19
    digits passing the Luhn check is refused the way a kernel refuses a bad read."""

    def __init__(self, stream: Stream, *, min_ms: int = 300, max_ms: int = 900) -> None:
        self.stream = stream
        self.min_ms = min_ms
        self.max_ms = max_ms

    def read(self, card: Card, now: int) -> ReadResult:
        delay = self.stream.between(self.min_ms, self.max_ms)
        if not (13 <= len(card.pan) <= 19 and luhn_valid(card.pan)):
            return ReadResult(delay, None, "CARD NOT SUPPORTED")
        return ReadResult(delay, card)


class AcquirerLink(Protocol):
    """Carries a request to the host; calls ``deliver`` with the reply when (if) it comes."""

    def send(self, terminal_id: str, request: Request,
             deliver: Callable[[HostReply], None]) -> None: ...

    def drop_connection(self, terminal_id: str) -> None: ...


class LatencyPipe:
    """Bytes arrive after a latency drawn from the link's own seeded stream, and in the
    order they were sent (as on one TCP connection): never before earlier bytes. While a
    frame is on its way in :class:`Piece` s, a whole frame waits until its last piece
    went: a byte stream never mixes two frames."""

    def __init__(self, scheduler: Scheduler, stream: Stream, *, min_ms: int = 60,
                 max_ms: int = 400) -> None:
        self.scheduler = scheduler
        self.stream = stream
        self.min_ms = min_ms
        self.max_ms = max_ms
        self.bytes = 0
        self._last_arrival: dict[str, int] = {}
        #: per terminal: the frame under way in pieces, and what waits behind it
        self._open: dict[str, object] = {}
        self._behind: dict[str, list[tuple[bytes, Arrival]]] = {}

    def carry(self, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        frame_ = data.frame if isinstance(data, Piece) else None
        open_ = self._open.get(terminal_id)
        if open_ is not None and frame_ is not open_:
            self._behind.setdefault(terminal_id, []).append((data, arrive))
            return
        self._send(terminal_id, data, arrive)
        if not isinstance(data, Piece):
            return
        if not data.last:
            self._open[terminal_id] = data.frame
            return
        self._open.pop(terminal_id, None)
        for waiting, then in self._behind.pop(terminal_id, []):
            self.carry(terminal_id, waiting, then)

    def _send(self, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        self.bytes += len(data)
        now = self.scheduler.clock.now()
        at = max(now + self.stream.between(self.min_ms, self.max_ms),
                 self._last_arrival.get(terminal_id, 0))
        self._last_arrival[terminal_id] = at
        self.scheduler.at(at, lambda: arrive(data))


class InProcessLink:
    """The simulator's link: real ISO 8583 bytes in length frames (``framing``), no socket.

    The terminal side encodes and frames a request and puts it on ``uplink``; the host
    side cuts the arriving bytes into frames (:class:`FrameDecoder`, so a message that
    arrives in pieces is reassembled), has the host handle each, and puts the framed
    reply on ``downlink``, where the terminal side reassembles and decodes it. Link
    faults wrap ``uplink`` or ``downlink`` (:meth:`wrap_uplink`, :meth:`wrap_downlink`).

    Each terminal's connection has a generation, new after :meth:`drop_connection`
    (a reset, a power cut, a framing error): bytes reassemble only with bytes of their
    own connection, so the tail of a frame cut by a reset never becomes the head of a
    frame on the next connection (a whole frame already under way still arrives).

    With ``mac`` (the profile's ``mac_messages``) the terminal side MACs its requests and
    verifies the MAC of each reply (:mod:`terminal_sim.iso.mac`).
    """

    def __init__(self, host: MockAcquirer, scheduler: Scheduler, clock: VirtualClock,
                 stream: Stream, trace: Trace, *, min_ms: int = 60, max_ms: int = 400,
                 mac: bool = False, framing: Framing = DEFAULT_FRAMING) -> None:
        self.host = host
        self.framing = framing
        self.mac = mac
        self.scheduler = scheduler
        self.clock = clock
        self.trace = trace
        self.uplink: Pipe = LatencyPipe(scheduler, stream, min_ms=min_ms, max_ms=max_ms)
        self.downlink: Pipe = LatencyPipe(scheduler, stream, min_ms=min_ms, max_ms=max_ms)
        #: decoders per (terminal, connection generation)
        self._host_side: dict[tuple[str, int], FrameDecoder] = {}
        self._terminal_side: dict[tuple[str, int], FrameDecoder] = {}
        self._generation: dict[str, int] = {}
        self._deliver: dict[str, Callable[[HostReply], None]] = {}

    def wrap_uplink(self, wrap: Wrap[Pipe]) -> None:
        """Replace the request pipe by ``wrap(pipe)``: a wrapper around it."""
        self.uplink = wrap(self.uplink)

    def wrap_downlink(self, wrap: Wrap[Pipe]) -> None:
        """Replace the reply pipe by ``wrap(pipe)``: a wrapper around it."""
        self.downlink = wrap(self.downlink)

    def send(self, terminal_id: str, request: Request,
             deliver: Callable[[HostReply], None]) -> None:
        self._deliver[terminal_id] = deliver
        wire = self.framing.encode(request_bytes(request, mac=self.mac))
        self.uplink.carry(terminal_id, wire,
                          partial(self._at_host, (terminal_id, self._connection(terminal_id))))

    def _connection(self, terminal_id: str) -> int:
        return self._generation.get(terminal_id, 0)

    def drop_connection(self, terminal_id: str) -> None:
        """The connection is gone: bytes of a half-received frame are lost on both ends,
        and the next message travels on a new connection."""
        generation = self._connection(terminal_id)
        self._host_side.pop((terminal_id, generation), None)
        self._terminal_side.pop((terminal_id, generation), None)
        self._generation[terminal_id] = generation + 1

    def _close(self, connection: tuple[str, int]) -> None:
        """A framing error ends ``connection`` (an older one is merely forgotten)."""
        terminal_id, generation = connection
        if generation == self._connection(terminal_id):
            self.drop_connection(terminal_id)
        self._host_side.pop(connection, None)
        self._terminal_side.pop(connection, None)

    def _at_host(self, connection: tuple[str, int], data: bytes) -> None:
        terminal_id = connection[0]
        decoder = self._host_side.get(connection)
        if decoder is None:
            decoder = self._host_side[connection] = self.framing.decoder()
        try:
            frames = decoder.feed_frames(data)
        except ProtocolError as exc:
            self._close(connection)
            self.trace.write(self.clock.now(), terminal_id, "", "host", "connection_closed",
                             data={"reason": str(exc), "offset": exc.offset})
            return
        for request in frames:
            now = self.clock.now()
            answer = self.host.handle(request.payload, now, self.clock.wall())
            if answer is None:
                self.trace.write(now, terminal_id, "", "host", "no_reply")
                continue
            self.downlink.carry(terminal_id, self.framing.reply(answer, request),
                                partial(self._at_terminal, connection))

    def _at_terminal(self, connection: tuple[str, int], data: bytes) -> None:
        terminal_id = connection[0]
        decoder = self._terminal_side.get(connection)
        if decoder is None:
            decoder = self._terminal_side[connection] = self.framing.decoder()
        try:
            messages = decoder.feed(data)
        except ProtocolError as exc:
            self._close(connection)
            self.trace.write(self.clock.now(), terminal_id, "", "note", "reply_rejected",
                             data={"reason": str(exc), "offset": exc.offset})
            return
        for message in messages:
            try:
                reply = read_reply(message, mac=self.mac)
            except ProtocolError as exc:
                self.trace.write(self.clock.now(), terminal_id, "", "note", "reply_rejected",
                                 data={"reason": str(exc), "offset": exc.offset})
                continue
            deliver = self._deliver.get(terminal_id)
            if deliver is not None:
                deliver(reply)


@dataclass(slots=True)
class SpoolJob:
    """One print job as the terminal's spooler keeps it: header and data."""

    job_id: int
    kind: str
    stan: str
    data: bytes
    done: bool = False


class _Spooler:
    """The printer port's own job entry, innermost of its wrappers."""

    def __init__(self, port: ReceiptPrinter) -> None:
        self.port = port

    def print(self, slip: Slip) -> PrintDone:
        return self.port.spool_and_send(slip)


class _DeviceLine:
    """The printer port's own line: bytes go straight to the device."""

    def __init__(self, device: Any) -> None:
        self.device = device

    def send(self, data: bytes) -> None:
        # ``_raw`` is how python-escpos printers take bytes (its documented extension point)
        self.device._raw(data)  # noqa: SLF001


class ReceiptPrinter:
    """The printer port: slips become ESC/POS jobs, spooled, then sent to a device.

    The spooler keeps the last ``keep_jobs`` jobs (for "reprint last receipt") and, like
    a real spooler, resumes jobs not marked done when the terminal boots
    (:meth:`resume`). A job's data is what it sends; a job whose data is gone prints as
    an empty frame: paper feeds and a cut.

    Both entry points can be wrapped, each by a stack of wrapper objects (the last
    installed sees a call first): :meth:`wrap_jobs` around :meth:`print` (a slip in),
    :meth:`wrap_line` around :meth:`send` (bytes to the device).
    """

    def __init__(self, device: Any, *, width: int = 32, keep_jobs: int = 20,
                 check_status: bool = False, skip_empty_jobs: bool = False) -> None:
        from terminal_sim.receipts.layout import (  # the printer package is the adapter
            print_slip,
            render_job,
        )

        self._print_slip = print_slip
        self._render_job = render_job
        self.device = device
        self.width = width
        self.keep_jobs = keep_jobs
        self.check_status = check_status
        self.skip_empty_jobs = skip_empty_jobs
        self.spool: list[SpoolJob] = []
        self._job_seq = 0
        self._jobs: list[PrintJobs] = [_Spooler(self)]
        self._lines: list[PrinterLine] = [_DeviceLine(device)]

    def wrap_jobs(self, wrap: Wrap[PrintJobs]) -> None:
        """Put ``wrap(entry)`` in front of the job entry as it is now."""
        self._jobs.append(wrap(self._jobs[-1]))

    def wrap_line(self, wrap: Callable[[PrinterLine], LineT]) -> LineT:
        """Put ``wrap(line)`` in front of the line as it is now; returns the wrapper."""
        wrapper = wrap(self._lines[-1])
        self._lines.append(wrapper)
        return wrapper

    def unwrap_line(self, wrapper: PrinterLine) -> None:
        """Back to the line ``wrapper`` wrapped: it goes, and whatever was put on it."""
        for index, line in enumerate(self._lines):
            if index and line is wrapper:
                del self._lines[index:]
                return

    def print(self, slip: Slip) -> PrintDone:
        """Print ``slip`` through the job entry's wrappers."""
        return self._jobs[-1].print(slip)

    def send(self, data: bytes) -> None:
        """Bytes to the device, through the line's wrappers."""
        self._lines[-1].send(data)

    @property
    def position(self) -> int:
        """Bytes sent to the device so far (receipts are joined to trace records by it).

        A virtual printer's interpreter counts them; joining its whole output on every
        print would make a long day quadratic.
        """
        interpreter = getattr(self.device, "interpreter", None)
        if interpreter is not None:
            return int(interpreter.offset)
        return len(self.device.output)

    def status(self) -> str:
        """``ok``, ``paper-out``, ``cover-open`` or ``offline``, asked the ESC/POS way."""
        if not self.check_status:
            return "ok"
        try:
            # paper end also takes an Epson printer offline: ask about paper first
            if self.device.paper_status() == 0:
                return "paper-out"
            if not self.device.is_online():
                return "offline"
        except Exception:  # noqa: BLE001 - any device that cannot answer status is offline
            return "offline"
        return "ok"

    def spool_and_send(self, slip: Slip) -> PrintDone:
        """Spool ``slip`` and send it; a status check first when the firmware does one.
        (The port's own job entry: :meth:`print` reaches it through the wrappers.)"""
        status = self.status()
        if status != "ok":
            return PrintDone(ok=False, status=status)
        self._job_seq += 1
        job = SpoolJob(self._job_seq, slip.kind, slip.stan, self._render_job(slip, self.width))
        self.spool.append(job)
        del self.spool[: -self.keep_jobs]
        self.send(job.data)
        job.done = True
        after = self.status()  # a printer that died mid-job says so now
        if after != "ok":
            return PrintDone(ok=False, status=f"{after} after printing")
        return PrintDone()

    def resume(self, on_job: Callable[[SpoolJob, int], object] | None = None) -> list[SpoolJob]:
        """Boot: send every job not marked done, as the spooler has it; returns them.

        ``on_job(job, at_byte)`` is told of each job before it is sent.
        """
        pending = [job for job in self.spool if not job.done]
        for job in pending:
            job.done = True
            if not job.data and self.skip_empty_jobs:
                continue  # a job without data would print a blank slip: drop it
            if on_job is not None:
                on_job(job, self.position)
            self.send(self._render_job(None, self.width) if not job.data else job.data)
        return pending
