"""The simulation as a fault's host: :class:`~terminal_sim.plugins.host.FaultHost`.

Faults are plugins: they get this adapter, never the :class:`Simulation` or its nodes,
and change the run only through the methods below, each of which swaps a port for a
wrapper through the port's own ``wrap_*`` method or acts through the node's public API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from terminal_sim.core.events import Event
from terminal_sim.core.lifecycle import InFlight
from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.host import BootHook, CrashPointObserver, FaultTerminal
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
from terminal_sim.sim.node import TerminalNode
from terminal_sim.sim.ports import InProcessLink

if TYPE_CHECKING:
    from terminal_sim.sim.simulation import Simulation

LineT = TypeVar("LineT", bound=PrinterLine)
ClockT = TypeVar("ClockT", bound=TerminalClock)


class NodeFaultTerminal:
    """One :class:`TerminalNode` as a fault may touch it."""

    def __init__(self, node: TerminalNode) -> None:
        self.node = node

    @property
    def terminal_id(self) -> str:
        return self.node.terminal_id

    @property
    def powered(self) -> bool:
        return self.node.powered

    @property
    def state(self) -> str:
        return self.node.core.state

    @property
    def in_flight(self) -> InFlight | None:
        return self.node.core.current

    def now(self) -> int:
        return self.node.clock.now()

    # -- ports ----------------------------------------------------------------------

    def wrap_card_reader(self, wrap: Wrap[CardReader]) -> None:
        ports = self.node.ports
        ports.reader = wrap(ports.reader)

    def wrap_print_jobs(self, wrap: Wrap[PrintJobs]) -> None:
        self.node.ports.printer.wrap_jobs(wrap)

    def wrap_printer_line(self, wrap: Callable[[PrinterLine], LineT]) -> LineT:
        return self.node.ports.printer.wrap_line(wrap)

    def unwrap_printer_line(self, wrapper: PrinterLine) -> None:
        self.node.ports.printer.unwrap_line(wrapper)

    def wrap_clock(self, wrap: Callable[[TerminalClock], ClockT]) -> ClockT:
        return self.node.wrap_clock(wrap)

    def wrap_backoffice_link(self, wrap: Wrap[BackOfficeLink]) -> None:
        if self.node.sync is not None:
            self.node.sync.wrap_link(wrap)

    # -- the world around the terminal ----------------------------------------------

    @property
    def printer_device(self) -> PrinterDevice:
        device: PrinterDevice = self.node.ports.printer.device
        return device

    @property
    def printer_spool(self) -> Sequence[SpooledJob]:
        return self.node.ports.printer.spool

    @property
    def printer_position(self) -> int:
        return self.node.ports.printer.position

    def request(self, event: Event) -> None:
        self.node.request(event)

    def power_cut(self, at: str, *, reboot_after_ms: int | None,
                  keeps_unsynced: bool = False) -> None:
        self.node.power_cut(at, reboot_after_ms=reboot_after_ms, keeps_unsynced=keeps_unsynced)

    def observe_crash_points(self, observer: CrashPointObserver) -> None:
        self.node.crash_observers.append(lambda _node, point: observer(point))

    def add_boot_hook(self, hook: BootHook) -> None:
        self.node.boot_hooks.append(hook)

    def remove_boot_hook(self, hook: BootHook) -> None:
        self.node.boot_hooks.remove(hook)

    def migrate_journal(self, migration: JournalMigration) -> Migrated:
        """Run an update's migration. Firmware that verifies migrations (robust) backs its
        records up first and puts back whatever the migration dropped; the reversal queue
        (``saf``) is the firmware's own table and no migration touches it."""
        journal = self.node.ports.journal
        verify = self.node.core.profile.verify_migration
        backup = journal.backup() if verify else []
        copied, removed = journal.migrate(migration)
        if verify and removed:
            restored = journal.restore(backup)
            self.node.note("journal_migration_restored", stans=restored)
            return Migrated(copied + len(restored), ())
        return Migrated(copied, tuple(removed))

    # -- the trace ------------------------------------------------------------------

    def note(self, name: str, **data: object) -> int:
        return self.node.note(name, **data)

    def record_fault(self, fault_name: str, data: dict[str, object]) -> int:
        node = self.node
        return node.trace.write(node.clock.now(), node.terminal_id, node.core.state, "fault",
                                fault_name, data=data)


class SimulationFaultHost:
    """A :class:`Simulation` as the host faults are installed into."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim

    @property
    def start_of_day_ms(self) -> int:
        return self.sim.start_of_day_ms

    def terminal_ids(self) -> list[str]:
        return sorted(self.sim.nodes)

    def terminal(self, terminal_id: str) -> FaultTerminal:
        return NodeFaultTerminal(self.sim.nodes[terminal_id])

    def now(self) -> int:
        return self.sim.scheduler.clock.now()

    def at(self, t_ms: int, action: Callable[[], None]) -> None:
        self.sim.scheduler.at(t_ms, action)

    def after(self, delay_ms: int, action: Callable[[], None]) -> None:
        self.sim.scheduler.after(delay_ms, action)

    @property
    def has_link_pipes(self) -> bool:
        return isinstance(self.sim.link, InProcessLink)

    @property
    def link_prefix(self) -> int:
        return self._pipes().framing.prefix_size

    def _pipes(self) -> InProcessLink:
        link = self.sim.link
        if not isinstance(link, InProcessLink):
            raise ConfigurationError("only the in-process acquirer link has pipes to wrap")
        return link

    def wrap_uplink(self, wrap: Wrap[Pipe]) -> None:
        self._pipes().wrap_uplink(wrap)

    def wrap_downlink(self, wrap: Wrap[Pipe]) -> None:
        self._pipes().wrap_downlink(wrap)

    def drop_connection(self, terminal_id: str) -> None:
        self.sim.link.drop_connection(terminal_id)
