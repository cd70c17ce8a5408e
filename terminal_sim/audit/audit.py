"""Auditing one run directory: read the raw artifacts, check every invariant, compare."""

from __future__ import annotations

from pathlib import Path

from terminal_sim.audit.agreement import compare
from terminal_sim.audit.artifacts import read_run_dir
from terminal_sim.audit.model import Audit, Invariant
from terminal_sim.audit.money import (
    abandoned_approval_reversed,
    conservation,
    no_duplicate_charge,
    settlement_balanced,
)
from terminal_sim.audit.work import approved_slip_has_record, no_abandoned_work

__all__ = ["INVARIANTS", "audit_run_dir"]

#: The invariants' names, in the order they are reported (stable: callers key on them).
INVARIANTS = ("conservation", "approved_slip_has_record", "abandoned_approval_reversed",
              "settlement_balanced", "no_abandoned_work", "no_duplicate_charge")
#: The invariants that compare the merchant's books (the journal) with the host or paper.
_OVER_THE_BOOKS = ("conservation", "approved_slip_has_record", "abandoned_approval_reversed")


def audit_run_dir(path: str | Path) -> Audit:
    """Check the invariants of the run in ``path`` and compare them with its report.json.

    Changes nothing in ``path``. Raises :class:`~terminal_sim.errors.StoreUnreadable`
    when the directory is missing, lacks an artifact, or one is damaged.
    """
    run = read_run_dir(path)
    if run.report.get("journal_known") is False:
        # a lab session's own folder: the application under test keeps the journal, so
        # the invariants over the merchant's books cannot be checked (not: they hold)
        why = "the run has no journal: the application under test keeps it"
        invariants = [Invariant.unjudged(name, why) for name in _OVER_THE_BOOKS] + [
            settlement_balanced(run), no_abandoned_work(run), no_duplicate_charge(run)]
        invariants.sort(key=lambda invariant: INVARIANTS.index(invariant.name))
    else:
        invariants = [
            conservation(run), approved_slip_has_record(run),
            abandoned_approval_reversed(run), settlement_balanced(run),
            no_abandoned_work(run), no_duplicate_charge(run)]
    disagreements = compare(invariants, run.report)
    return Audit(str(path), invariants, not disagreements, disagreements)
