"""Auditing one run directory: read the raw artifacts, check every invariant, compare."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from terminal_sim.audit.agreement import compare
from terminal_sim.audit.artifacts import RunArtifacts, read_run_dir
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
_CHECKS: dict[str, Callable[[RunArtifacts], Invariant]] = dict(zip(INVARIANTS, (
    conservation, approved_slip_has_record, abandoned_approval_reversed,
    settlement_balanced, no_abandoned_work, no_duplicate_charge), strict=True))
#: The invariants that compare the merchant's books (the journal) with the host or paper.
_OVER_THE_BOOKS = ("conservation", "approved_slip_has_record", "abandoned_approval_reversed")


def _without_journal(run: RunArtifacts) -> bool:
    """A lab session's own folder: the application under test keeps the journal. Taken
    from report.json only where the artifacts agree (a lab run, an empty journal): a
    report that says so of a run with records does not switch the auditor's checks off."""
    report = run.report
    return report.get("journal_known") is False and "lab" in report and not run.journal


def audit_run_dir(path: str | Path) -> Audit:
    """Check the invariants of the run in ``path`` and compare them with its report.json.

    Changes nothing in ``path``. Raises :class:`~terminal_sim.errors.StoreUnreadable`
    when the directory is missing, lacks an artifact, or one is damaged.
    """
    run = read_run_dir(path)
    # without the journal the invariants over the books cannot be checked (not: they hold)
    unknown = _without_journal(run)
    why = "the run has no journal: the application under test keeps it"
    invariants = [Invariant.unjudged(name, why) if unknown and name in _OVER_THE_BOOKS
                  else check(run) for name, check in _CHECKS.items()]
    disagreements = compare(invariants, run.report)
    return Audit(str(path), invariants, not disagreements, disagreements)
