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


def audit_run_dir(path: str | Path) -> Audit:
    """Check the invariants of the run in ``path`` and compare them with its report.json.

    Changes nothing in ``path``. Raises :class:`~terminal_sim.errors.StoreUnreadable`
    when the directory is missing, lacks an artifact, or one is damaged.
    """
    run = read_run_dir(path)
    invariants: list[Invariant] = [
        conservation(run), approved_slip_has_record(run), abandoned_approval_reversed(run),
        settlement_balanced(run), no_abandoned_work(run), no_duplicate_charge(run)]
    disagreements = compare(invariants, run.report)
    return Audit(str(path), invariants, not disagreements, disagreements)
