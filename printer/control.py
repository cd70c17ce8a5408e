"""A printer's receive buffer while it is offline, and state changes from other threads.

**Receive buffer.** A real printer that is offline (cover open, paper out, an error, the
offline switch) still receives: bytes go to its receive buffer and print when it is back.
:class:`ReceiveBuffer` holds them, in arrival order across every stream to the printer,
up to ``limit`` bytes (4 KiB: Epson TM printers' receive buffer; ``pos-sim printer
serve --receive-buffer``, at most :data:`MAX_RECEIVE_BUFFER`); beyond it the server
stops reading (TCP backpressure: the client's ``send`` blocks, as against a real
printer). Real-time status requests (``DLE EOT n``) are answered on receipt, even while
held, as Epson printers do; the interpreter then does not answer them again when the
held bytes print. Losing power loses the buffer.

**State changes.** The device server runs in one thread; its :class:`StateControl`
queues changes asked from other threads (``DeviceServer.update_state``) and the serve
loop applies them between two chunks, so the interpreter never sees the state change in
the middle of a command. ``DeviceServer.schedule_state`` applies a change when the
printer has received exactly N bytes (the server reads no further than N before applying
it): how a lab opens the cover or cuts the power at byte N of a job.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import deque
from typing import Any

from printer.errors import PrinterConfigurationError
from printer.state import PrinterState

__all__ = ["MAX_RECEIVE_BUFFER", "RECEIVE_BUFFER", "STATE_FIELDS", "PrinterControl",
           "ReceiveBuffer", "StateControl", "apply_changes", "check_changes"]

RECEIVE_BUFFER = 4096
#: The largest receive buffer a printer may be given (``printer serve --receive-buffer``):
#: real printers hold a few KiB; more only grows the memory one stalled client can pin.
MAX_RECEIVE_BUFFER = 1 << 20
_REALTIME = re.compile(rb"\x10\x04([\x01-\x04])")
# What update_state may change (power_cycles, paper_used and revision are the printer's own)
STATE_FIELDS = tuple(f.name for f in dataclasses.fields(PrinterState)
                     if f.name not in ("power_cycles", "paper_used", "revision"))


def check_changes(changes: dict[str, Any]) -> None:
    """Raise ``PrinterConfigurationError`` for a key that is not a state field, or a
    paper level or roll length that cannot be."""
    unknown = sorted(set(changes) - set(STATE_FIELDS) - {"new_roll"})
    if unknown:
        raise PrinterConfigurationError(
            f"unknown printer state field(s) {', '.join(unknown)}; "
            f"known: {', '.join(STATE_FIELDS)}, new_roll")
    if "paper" in changes:
        PrinterState(paper=changes["paper"])  # raises for a level that does not exist
    if "roll_length" in changes and changes["roll_length"] is not None and (
            not isinstance(changes["roll_length"], int) or changes["roll_length"] < 1):
        raise PrinterConfigurationError(
            f"roll_length must be a positive number of dots or None, not "
            f"{changes['roll_length']!r}")


def apply_changes(state: PrinterState, changes: dict[str, Any]) -> None:
    """Apply ``changes`` to ``state``: ``powered`` through ``power_off``/``power_on`` (a
    power cycle is counted), ``new_roll=True`` through ``load_roll``, the rest as set."""
    check_changes(changes)
    for name, value in changes.items():
        if name == "powered":
            if value:
                state.power_on()
            else:
                state.power_off()
        elif name == "new_roll":
            if value:
                state.load_roll()
        else:
            setattr(state, name, value)


class StateControl:
    """Changes asked from other threads, applied by the serve loop (see module doc)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[tuple[dict[str, Any], threading.Event]] = deque()
        self._scheduled: list[tuple[int, int, dict[str, Any]]] = []  # (at byte, order, ..)
        self._order = 0

    def ask(self, changes: dict[str, Any]) -> threading.Event:
        """Queue ``changes``; the returned event is set once they are applied."""
        check_changes(changes)
        done = threading.Event()
        with self._lock:
            self._queue.append((dict(changes), done))
        return done

    def schedule(self, at_byte: int, changes: dict[str, Any]) -> int:
        """Apply ``changes`` when the printer has received ``at_byte`` bytes in all;
        returns the ticket that :meth:`cancel` takes."""
        check_changes(changes)
        if at_byte < 0:
            raise PrinterConfigurationError(f"at_byte must be >= 0, not {at_byte}")
        with self._lock:
            self._order += 1
            self._scheduled.append((at_byte, self._order, dict(changes)))
            self._scheduled.sort(key=lambda item: (item[0], item[1]))
            return self._order

    def cancel(self, ticket: int) -> bool:
        """Withdraw the scheduled change ``ticket``; False when it was applied already
        (or never scheduled)."""
        with self._lock:
            kept = [item for item in self._scheduled if item[1] != ticket]
            gone = len(kept) != len(self._scheduled)
            self._scheduled = kept
        return gone

    def take(self) -> list[tuple[dict[str, Any], threading.Event]]:
        """The queued changes, in order (the caller applies them, then sets the events)."""
        with self._lock:
            taken = list(self._queue)
            self._queue.clear()
        return taken

    def due(self, received: int) -> list[dict[str, Any]]:
        """The scheduled changes whose byte has been reached."""
        with self._lock:
            ready = [changes for at, _, changes in self._scheduled if at <= received]
            self._scheduled = [item for item in self._scheduled if item[0] > received]
        return ready

    def next_byte(self) -> int | None:
        """The byte count of the next scheduled change, if any."""
        with self._lock:
            return self._scheduled[0][0] if self._scheduled else None


class ReceiveBuffer:
    """Bytes received while the printer could not print, in arrival order."""

    def __init__(self, limit: int = RECEIVE_BUFFER) -> None:
        if not 1 <= limit <= MAX_RECEIVE_BUFFER:
            raise PrinterConfigurationError(
                f"the receive buffer holds 1 to {MAX_RECEIVE_BUFFER} bytes, not {limit}")
        self.limit = limit
        self.chunks: deque[tuple[Any, bytes]] = deque()  # (session, bytes)
        self.size = 0

    def __bool__(self) -> bool:
        return bool(self.chunks)

    @property
    def room(self) -> int:
        """Bytes it can take before the server stops reading."""
        return max(0, self.limit - self.size)

    def hold(self, session: Any, data: bytes, state: PrinterState) -> bytes:
        """Keep ``data``; return the answers to the real-time requests in it."""
        self.chunks.append((session, data))
        self.size += len(data)
        if b"\x10\x04" not in data:
            return b""
        return b"".join(state.realtime_status(int(match.group(1)[0]))
                        for match in _REALTIME.finditer(data))

    def pop(self) -> tuple[Any, bytes]:
        """The oldest chunk."""
        session, data = self.chunks.popleft()
        self.size -= len(data)
        return session, data

    def held_by(self, session: Any) -> int:
        """Bytes ``session`` has in the buffer."""
        return sum(len(data) for owner, data in self.chunks if owner is session)

    def drop(self, session: Any | None = None) -> dict[Any, bytes]:
        """Take out every chunk (or ``session``'s); return their bytes by session."""
        gone: dict[Any, bytearray] = {}
        kept: deque[tuple[Any, bytes]] = deque()
        for owner, data in self.chunks:
            if session is None or owner is session:
                gone.setdefault(owner, bytearray()).extend(data)
                self.size -= len(data)
            else:
                kept.append((owner, data))
        self.chunks = kept
        return {owner: bytes(data) for owner, data in gone.items()}


class PrinterControl:
    """What :class:`~printer.servers.DeviceServer` adds for the receive buffer and state
    changes from other threads (a mixin: the server provides the attributes below)."""

    state: PrinterState
    sink: Any
    throttle: Any
    buffer: ReceiveBuffer
    control: StateControl
    received: int  # bytes received by the printer in all, every stream
    _serving: threading.Thread | None
    _last: Any  # the session whose bytes the printer interpreted last (its modes rule)
    _cycles: int

    # -- the public API (stable: the lab builds on it) -----------------------------------

    def update_state(self, *, timeout: float = 10.0, **changes: Any) -> dict[str, Any]:
        """Change the printer's hardware state; safe from any thread.

        ``changes`` are :class:`~printer.state.PrinterState` fields (``cover_open``,
        ``paper``, ``online``, ``powered``, ``drawer_pin_high``, the error flags ...)
        and ``new_roll=True`` (a new roll of paper). ``powered=False`` cuts the power
        (a power cycle: the modes and the receive buffer are lost), ``powered=True``
        restores it. While :meth:`serve` runs in another thread the change is applied
        by the serve loop between two chunks of data, and this call waits for it (at
        most ``timeout`` seconds); otherwise it is applied at once. When the printer can
        print again, the bytes held in its receive buffer print and reading resumes.
        Returns :meth:`PrinterState.to_dict` after the change. Unknown fields raise
        ``PrinterConfigurationError``.
        """
        serving = self._serving
        if serving is None or serving is threading.current_thread():
            self._apply(changes)
        else:
            done = self.control.ask(changes)
            self._wake()
            if not done.wait(timeout):
                raise PrinterConfigurationError(
                    f"the printer did not take the state change within {timeout} s")
        return self.state.to_dict()

    def schedule_state(self, at_byte: int, **changes: Any) -> int:
        """Apply ``changes`` (as :meth:`update_state`) once the printer has received
        ``at_byte`` bytes in all (:attr:`received`, every stream counted): the byte
        after it is read only after the change. Safe from any thread. Returns a ticket
        for :meth:`cancel_scheduled`."""
        ticket = self.control.schedule(at_byte, changes)
        self._wake()
        return ticket

    def cancel_scheduled(self, ticket: int) -> bool:
        """Withdraw the change :meth:`schedule_state` returned ``ticket`` for, if the
        printer has not reached its byte yet: True when it was withdrawn (it will never
        apply), False when it was applied already or the ticket is unknown. Safe from
        any thread (the serve loop takes due changes under the same lock, so a change
        is either withdrawn or applied, never both)."""
        gone = self.control.cancel(ticket)
        if gone:
            self._wake()  # the read limit the withdrawn byte set is lifted
        return gone

    @property
    def held(self) -> int:
        """Bytes waiting in the receive buffer for the printer to come back."""
        return self.buffer.size

    # -- the serve thread ----------------------------------------------------------------

    def _wake(self) -> None:
        raise NotImplementedError

    def _send_reply(self, session: Any, reply: bytes) -> None:
        raise NotImplementedError

    def _resume_reading(self) -> None:
        raise NotImplementedError

    def _apply_requests(self) -> None:
        for changes, done in self.control.take():
            try:
                self._apply(changes)
            except PrinterConfigurationError as exc:
                self.throttle("state", 40, f"state change {changes} refused: {exc}")
            finally:
                done.set()
        for changes in self.control.due(self.received):
            self._apply(changes)

    def _apply(self, changes: dict[str, Any]) -> None:
        cycles = self.state.power_cycles
        apply_changes(self.state, changes)
        if self.state.power_cycles != cycles:
            self._drop_held("power lost while held: never printed")
        self._release()

    def _holding(self) -> bool:
        """Bytes go to the receive buffer: the printer is on but cannot print (a finite
        roll used up is the server's own flood guard: those bytes are dropped)."""
        state = self.state
        if not state.powered:
            return False
        return bool(self.buffer) or (state.blocked_reason() is not None
                                     and not state.roll_ended)

    def _read_limit(self, size: int) -> int:
        """How much to read now: no more than the buffer takes, nor past a scheduled byte."""
        if self._holding():
            size = min(size, self.buffer.room)
        upcoming = self.control.next_byte()
        if upcoming is not None and upcoming > self.received:
            size = min(size, upcoming - self.received)
        return size

    def _deliver(self, session: Any, data: bytes) -> bytes:
        """Take ``data`` from ``session``'s stream; return the printer's replies."""
        self.received += len(data)
        if self._holding():
            if not session.holding:
                session.holding = True
                session.held_reason = self.state.blocked_reason()
                session.note_held(len(data))
            reply = self.buffer.hold(session, data, self.state)
        else:
            reply = self._feed(session, data)
        for changes in self.control.due(self.received):
            self._apply(changes)
        return reply

    def _feed(self, session: Any, data: bytes) -> bytes:
        # One printer, many streams: the modes the last stream left are this one's.
        if self._last is not session:
            if self._last is not None:
                same_power = self.state.power_cycles == self._cycles
                session.interpreter.restore_modes(
                    self._last.interpreter.modes() if same_power else None)
            self._last = session
        self._cycles = self.state.power_cycles
        return bytes(session.feed(data))

    def _release(self) -> None:
        """Print what the receive buffer holds, while the printer can."""
        released = False
        while self.buffer and self.state.powered and (
                self.state.blocked_reason() is None or self.state.roll_ended):
            session, data = self.buffer.pop()
            session.interpreter.answer_realtime = False
            try:
                reply = self._feed(session, data)
            finally:
                session.interpreter.answer_realtime = True
            self._send_reply(session, reply)
            if not self.buffer.held_by(session):
                self._released(session)
            released = True
        if released or not self._holding():
            self._resume_reading()

    def _released(self, session: Any) -> None:
        session.holding = False
        if session.ended:
            session.finish()

    def _drop_held(self, reason: str) -> None:
        for session, data in self.buffer.drop().items():
            session.file_lost(data, f"{session.held_reason}; {reason}")
            self._released(session)
