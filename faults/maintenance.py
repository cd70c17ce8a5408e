"""``maintenance-update``: a night-time software or parameter update that restarts the
terminal, and what a careless one leaves behind."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, ClassVar

from terminal_sim.core.effects import JournalEntry
from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.faults import Fault, Param, parse_time_ms
from terminal_sim.plugins.host import FaultHost, FaultTerminal


class MaintenanceUpdate(Fault):
    """A scheduled update at ``time`` that restarts the terminal (a process restart:
    committed journal writes survive). Modes:

    * ``spooler-replay``: the update migrates the print spooler's job index but
      discards its data area; every job the spooler still keeps comes back marked
      unfinished, and at boot the spooler resumes them: blank slips, one per job.
    * ``journal-migration``: the update copies the journal to a new schema in pages of
      ``page_size`` records and drops the last, partial page: records vanish (firmware
      that verifies migrations, ``verify_migration``, puts them back from its backup;
      the reversal queue is not part of the migrated schema).
    * ``parameters``: only the restart (parameters reloaded); nothing is lost.
    """

    name = "maintenance-update"
    summary = ("night-time update restarts the terminal; spooler replays blank jobs or "
               "migration drops records")
    params: ClassVar[dict[str, Param]] = {
        "time": Param((str, int), "02:00", "time of day of the update (24:00+ is the next day)",
                       vocabulary="time"),
        "mode": Param(str, "spooler-replay", "spooler-replay | journal-migration | parameters",
                      ("spooler-replay", "journal-migration", "parameters")),
        "down_s": Param(int, 300, "seconds the terminal is down for the update",
                        explore=(10, 1_800)),
        "page_size": Param(int, 50, "journal-migration: records copied per page", explore=(1, 100)),
    }

    #: virtual time of the update (known once installed)
    at_ms: int = 0

    @classmethod
    def check_values(cls, values: dict[str, Any]) -> None:
        parse_time_ms("time", values["time"])
        if values["page_size"] < 1:
            raise ConfigurationError("page_size: at least 1")

    def install(self, host: FaultHost) -> None:
        raw = self.values["time"]
        self.at_ms = parse_time_ms("time", raw) - (host.start_of_day_ms
                                                   if isinstance(raw, str) else 0)
        for terminal in self.targets(host):
            host.at(self.at_ms, partial(self._update, terminal))

    def latest_ms(self) -> int:
        down_ms: int = self.values["down_s"] * 1000
        return self.at_ms + down_ms

    def _update(self, terminal: FaultTerminal) -> None:
        if not self.trigger.fires(terminal.now(), self.stream):
            return
        mode = self.values["mode"]
        if mode == "spooler-replay":
            jobs = terminal.printer_spool
            for job in jobs:  # the index survives the migration, the data area does not
                job.done = False
                job.data = b""
            self.record(terminal, "spooler data discarded",
                        jobs_damaged=[job.job_id for job in jobs])
        elif mode == "journal-migration":
            terminal.add_boot_hook(_MigrationAtBoot(self, terminal))
            self.record(terminal, "journal migration scheduled for boot")
        else:
            self.record(terminal, "parameters updated")
        terminal.power_cut("maintenance:update", reboot_after_ms=self.values["down_s"] * 1000,
                           keeps_unsynced=True)

    def copy_full_pages(self, records: Sequence[JournalEntry]) -> Sequence[JournalEntry]:
        """The careless migration: it copies whole pages and forgets the last, partial one."""
        size = self.values["page_size"]
        return records[: len(records) // size * size]


class _MigrationAtBoot:
    """Migrates the journal at the next boot, once."""

    def __init__(self, fault: MaintenanceUpdate, terminal: FaultTerminal) -> None:
        self.fault = fault
        self.terminal = terminal

    def __call__(self) -> None:
        self.terminal.remove_boot_hook(self)
        migrated = self.terminal.migrate_journal(self.fault.copy_full_pages)
        self.fault.record(self.terminal, "journal migrated", copied=migrated.copied,
                          stans=list(migrated.removed))
