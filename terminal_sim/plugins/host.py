"""The host protocol: everything a fault may touch, and nothing else.

``terminal_sim`` implements :class:`FaultHost` (the simulation's adapter) and hands it
to :meth:`Fault.install <terminal_sim.plugins.faults.Fault.install>`; a fault keeps the
:class:`FaultTerminal` handles it was given and acts through them later. The fault's
own seeded stream is given to it when it is made (``Fault(values, stream)``): each
fault draws from its own, so adding one never perturbs the others.

What a fault can do, per terminal (:class:`FaultTerminal`):

* wrap a port with a wrapper object: the card reader (:meth:`~FaultTerminal.wrap_card_reader`),
  the printer's job entry and its line to the device, the back-office link of the sync
  agent, the terminal's clock. Wrappers stack: the one installed last sees a call first.
* act on the world around the terminal: the printer device's paper, cover and power,
  the spooler's jobs, the operator's key press (:meth:`~FaultTerminal.request`), the
  power (:meth:`~FaultTerminal.power_cut`);
* observe crash points (an observer may raise :class:`~terminal_sim.errors.PowerLost`)
  and run a journal migration at the next boot through the journal's migration hook;
* write its ``fault`` records to the trace (:meth:`~FaultTerminal.record_fault`).

And for the whole run (:class:`FaultHost`): the terminals, virtual time and scheduling,
and the acquirer link's two pipes (shared by every terminal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from terminal_sim.core.events import Event
from terminal_sim.core.lifecycle import InFlight
from terminal_sim.plugins.ports import (
    BackOfficeLink,
    CardReader,
    JournalMigration,
    Migrated,
    Pipe,
    PrinterDevice,
    PrinterLine,
    PrintJobs,
    SpooledJob,
    TerminalClock,
    Wrap,
)

#: Told the name of every crash point the terminal passes; may raise ``PowerLost``.
CrashPointObserver = Callable[[str], None]
BootHook = Callable[[], None]
LineT = TypeVar("LineT", bound=PrinterLine)
ClockT = TypeVar("ClockT", bound=TerminalClock)


class FaultTerminal(Protocol):
    """One terminal as a fault may touch it."""

    @property
    def terminal_id(self) -> str: ...

    @property
    def powered(self) -> bool: ...

    @property
    def state(self) -> str:
        """The core's state (``idle``, ``authorizing`` ...)."""
        ...

    @property
    def in_flight(self) -> InFlight | None:
        """The transaction the terminal is working on, if any."""
        ...

    def now(self) -> int:
        """Virtual ms on this terminal's clock."""
        ...

    # -- ports ----------------------------------------------------------------------

    def wrap_card_reader(self, wrap: Wrap[CardReader]) -> None: ...

    def wrap_print_jobs(self, wrap: Wrap[PrintJobs]) -> None: ...

    def wrap_printer_line(self, wrap: Callable[[PrinterLine], LineT]) -> LineT:
        """Wrap the line to the printer device; returns the wrapper now in place."""
        ...

    def unwrap_printer_line(self, wrapper: PrinterLine) -> None:
        """Put back the line ``wrapper`` wrapped (and drop what was stacked on it)."""
        ...

    def wrap_clock(self, wrap: Callable[[TerminalClock], ClockT]) -> ClockT:
        """Wrap the terminal's clock; returns the wrapper now in place."""
        ...

    def wrap_backoffice_link(self, wrap: Wrap[BackOfficeLink]) -> None:
        """Wrap the sync agent's link (nothing happens when the terminal does not sync)."""
        ...

    # -- the world around the terminal ----------------------------------------------

    @property
    def printer_device(self) -> PrinterDevice: ...

    @property
    def printer_spool(self) -> Sequence[SpooledJob]: ...

    @property
    def printer_position(self) -> int:
        """Bytes sent to the printer device so far."""
        ...

    def request(self, event: Event) -> None:
        """A customer's or operator's action (a key press), queued like theirs."""
        ...

    def power_cut(self, at: str, *, reboot_after_ms: int | None,
                  keeps_unsynced: bool = False) -> None: ...

    def observe_crash_points(self, observer: CrashPointObserver) -> None: ...

    def add_boot_hook(self, hook: BootHook) -> None:
        """Run ``hook`` each time the terminal boots, before anything else."""
        ...

    def remove_boot_hook(self, hook: BootHook) -> None: ...

    def migrate_journal(self, migration: JournalMigration) -> Migrated:
        """Run ``migration`` through the journal's migration hook (durably)."""
        ...

    # -- the trace ------------------------------------------------------------------

    def note(self, name: str, **data: object) -> int:
        """A trace record about the terminal that is neither event nor effect."""
        ...

    def record_fault(self, fault_name: str, data: dict[str, object]) -> int:
        """Write a ``fault`` record (now, in the terminal's state); returns its id."""
        ...


class FaultHost(Protocol):
    """The run a fault is installed into."""

    @property
    def start_of_day_ms(self) -> int:
        """Time of day of virtual time zero (faults speak in time of day)."""
        ...

    def terminal_ids(self) -> list[str]:
        """Every terminal id, sorted."""
        ...

    def terminal(self, terminal_id: str) -> FaultTerminal: ...

    def now(self) -> int:
        """Virtual ms of the run."""
        ...

    def at(self, t_ms: int, action: Callable[[], None]) -> None:
        """Run ``action`` at virtual time ``t_ms``."""
        ...

    def after(self, delay_ms: int, action: Callable[[], None]) -> None: ...

    @property
    def has_link_pipes(self) -> bool:
        """Is the acquirer link the in-process one, whose pipes a fault can wrap?"""
        ...

    @property
    def link_prefix(self) -> int:
        """Bytes in front of each message on the link's pipes (length header, TPDU)."""
        ...

    def wrap_uplink(self, wrap: Wrap[Pipe]) -> None:
        """Wrap the pipe carrying requests to the host."""
        ...

    def wrap_downlink(self, wrap: Wrap[Pipe]) -> None:
        """Wrap the pipe carrying replies to the terminals."""
        ...

    def drop_connection(self, terminal_id: str) -> None:
        """Reset a terminal's connection to the host (half-received frames are lost)."""
        ...


__all__ = ["BootHook", "CrashPointObserver", "FaultHost", "FaultTerminal"]
