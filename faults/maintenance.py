"""``maintenance-update``: a night-time software or parameter update that restarts the
terminal, and what a careless one leaves behind."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.faults import Fault, Param, parse_time_ms
from terminal_sim.plugins.registry import register

if TYPE_CHECKING:
    from terminal_sim.sim.node import TerminalNode
    from terminal_sim.sim.simulation import Simulation


@register
class MaintenanceUpdate(Fault):
    """A scheduled update at ``time`` that restarts the terminal (a process restart:
    committed journal writes survive). Modes:

    * ``spooler-replay``: the update migrates the print spooler's job index but
      discards its data area; every job the spooler still keeps comes back marked
      unfinished, and at boot the spooler resumes them: blank slips, one per job.
    * ``journal-migration``: the update copies the journal to a new schema in pages of
      ``page_size`` records and drops the last, partial page: records vanish.
    * ``parameters``: only the restart (parameters reloaded); nothing is lost.
    """

    name = "maintenance-update"
    summary = ("night-time update restarts the terminal; spooler replays blank jobs or "
               "migration drops records")
    params: ClassVar[dict[str, Param]] = {
        "time": Param((str, int), "02:00", "time of day of the update (24:00+ is the next day)"),
        "mode": Param(str, "spooler-replay", "spooler-replay | journal-migration | parameters",
                      ("spooler-replay", "journal-migration", "parameters")),
        "down_s": Param(int, 300, "seconds the terminal is down for the update"),
        "page_size": Param(int, 50, "journal-migration: records copied per page"),
    }

    @classmethod
    def check_values(cls, values: dict[str, Any]) -> None:
        parse_time_ms("time", values["time"])
        if values["page_size"] < 1:
            raise ConfigurationError("page_size: at least 1")

    def install(self, sim: Simulation) -> None:
        raw = self.values["time"]
        self.at_ms = parse_time_ms("time", raw) - (sim.start_of_day_ms
                                                   if isinstance(raw, str) else 0)
        for node in self.targets(sim):
            sim.scheduler.at(self.at_ms, partial(self._update, node))

    def latest_ms(self) -> int:
        return getattr(self, "at_ms", 0) + self.values["down_s"] * 1000

    def _update(self, node: TerminalNode) -> None:
        now = node.clock.now()
        if not self.trigger.fires(now, self.stream):
            return
        mode = self.values["mode"]
        if mode == "spooler-replay":
            jobs = node.ports.printer.spool
            for job in jobs:  # the index survives the migration, the data area does not
                job.done = False
                job.data = b""
            self.record(node, "spooler data discarded",
                        jobs_damaged=[job.job_id for job in jobs])
        elif mode == "journal-migration":
            node.boot_hooks.append(self._migrate_once)
            self.record(node, "journal migration scheduled for boot")
        else:
            self.record(node, "parameters updated")
        node.power_cut("maintenance:update", reboot_after_ms=self.values["down_s"] * 1000,
                       keeps_unsynced=True)

    def _migrate_once(self, node: TerminalNode) -> None:
        node.boot_hooks.remove(self._migrate_once)
        journal = node.ports.journal
        rows = journal.journal.execute(
            "SELECT stan FROM records WHERE terminal_id = ? ORDER BY created_vt, stan",
            (node.terminal_id,)).fetchall()
        size = self.values["page_size"]
        full_pages = len(rows) // size
        dropped = [r[0] for r in rows[full_pages * size:]]  # the bug: the partial page
        for stan in dropped:
            journal.journal.execute("DELETE FROM records WHERE terminal_id = ? AND stan = ?",
                                    (node.terminal_id, stan))
        self.record(node, "journal migrated", copied=full_pages * size, stans=dropped)
