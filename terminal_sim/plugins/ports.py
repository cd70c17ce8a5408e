"""What a fault sees of the ports it wraps: small protocols and the data they pass.

A fault never reaches into the simulation: it asks the host (:mod:`.host`) to swap a
port for a wrapper object of its own that implements the same protocol and holds the
port it wraps (``inner``), the way pyserial's ``spy://`` wraps a serial port or httpx's
``MockTransport`` replaces a transport. The simulation's ports implement these
protocols; the types live here, below both, so neither imports the other.

===================  ===================================================================
protocol             one job
===================  ===================================================================
:class:`CardReader`  reads a presented card: :class:`ReadResult` (delay, card or reason)
:class:`Pipe`        one direction of the acquirer link: carries a connection's bytes
:class:`PrintJobs`   the printer port's job entry: a slip in, :class:`PrintDone` out
:class:`PrinterLine` the cable to the printer device: bytes in
:class:`BackOfficeLink` pushes a batch of journal records to the back office
:class:`TerminalClock` the terminal's own clock: virtual ms and the calendar it shows
===================  ===================================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from terminal_sim.base.cards import Card
from terminal_sim.core.effects import JournalEntry
from terminal_sim.core.events import PrintDone
from terminal_sim.core.slips import Slip
from terminal_sim.errors import TerminalSimError

Port = TypeVar("Port")
#: How a fault wraps a port: given the port as it is now, return what replaces it.
Wrap = Callable[[Port], Port]


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What the card reader reports, and how long it took."""

    delay_ms: int
    card: Card | None
    reason: str = ""


class CardReader(Protocol):
    def read(self, card: Card, now: int) -> ReadResult: ...


#: Called with the bytes when they reach the other end of a pipe.
Arrival = Callable[[bytes], None]


class Piece(bytes):
    """A piece of one frame that a pipe carries cut up: ``frame`` is the same object for
    every piece of that frame, ``last`` marks its final piece. Everything else a pipe
    carries is a whole frame; a connection never lets another frame's bytes in between
    the pieces of one."""

    frame: object
    last: bool

    def __new__(cls, data: bytes, *, frame: object, last: bool) -> Piece:
        piece = super().__new__(cls, data)
        piece.frame = frame
        piece.last = last
        return piece


class Pipe(Protocol):
    """One direction of a link: carries bytes of one terminal's connection."""

    def carry(self, terminal_id: str, data: bytes, arrive: Arrival) -> None: ...


class PrintJobs(Protocol):
    """The printer port's entry for jobs: spool a slip and print it."""

    def print(self, slip: Slip) -> PrintDone: ...


class PrinterLine(Protocol):
    """What carries a job's bytes to the printer device."""

    def send(self, data: bytes) -> None: ...


class PrinterConditions(Protocol):
    """The printer's physical state, which the world (a fault) changes and the printer
    reports truthfully when asked for its status."""

    @property
    def paper(self) -> str: ...

    @paper.setter
    def paper(self, value: str) -> None: ...

    cover_open: bool
    powered: bool


class PrinterDevice(Protocol):
    """The printer itself, as the world can act on it."""

    @property
    def state(self) -> PrinterConditions: ...

    def power_loss(self) -> None: ...

    def power_on(self) -> None: ...


class SpooledJob(Protocol):
    """One job the terminal's print spooler keeps: its index entry and its data."""

    job_id: int
    data: bytes
    done: bool


class SyncError(TerminalSimError):
    """The back office could not be reached or refused the batch."""


class BackOfficeLink(Protocol):
    def push(self, terminal_id: str, rows: list[dict[str, Any]], now: int) -> bool:
        """Send a batch; True when the back office acknowledged it (raises
        :class:`SyncError` when it cannot be reached)."""
        ...


class TerminalClock(Protocol):
    """The terminal's clock: virtual milliseconds, and the calendar time it shows."""

    def now(self) -> int: ...

    def wall(self) -> dt.datetime: ...


@dataclass(frozen=True, slots=True)
class Migrated:
    """What a journal migration did: records carried over, STANs of those it removed."""

    copied: int
    removed: tuple[str, ...]


#: A journal migration: given one terminal's records oldest first, return the records it
#: carries over to the new schema; the journal removes the others.
JournalMigration = Callable[[Sequence[JournalEntry]], Sequence[JournalEntry]]
