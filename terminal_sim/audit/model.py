"""The auditor's verdict as values: one :class:`Invariant` per rule, one :class:`Audit` per run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Audit", "Invariant"]


@dataclass(frozen=True)
class Invariant:
    """One conservation rule checked over a run's raw artifacts.

    ``evidence`` lists the offending keys, each a dict naming ``terminal_id``, ``stan``,
    the amounts and what each source says; it is empty when the rule holds.
    ``not_judged`` says why the rule was not checked (its evidence is not in the run:
    a lab session's folder has no journal); such a rule neither holds nor fails.
    """

    name: str
    holds: bool
    evidence: list[dict[str, Any]] = field(default_factory=list)
    not_judged: str = ""

    @classmethod
    def unjudged(cls, name: str, why: str) -> Invariant:
        return cls(name, True, [], why)

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "holds": self.holds, "evidence": list(self.evidence)}
        if self.not_judged:
            out["not_judged"] = self.not_judged
        return out


@dataclass(frozen=True)
class Audit:
    """The auditor's verdict on one run directory and its agreement with report.json."""

    run_dir: str
    invariants: list[Invariant]
    agrees_with_report: bool
    disagreements: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        """Every invariant holds."""
        return all(invariant.holds for invariant in self.invariants)

    def invariant(self, name: str) -> Invariant:
        """The invariant called ``name`` (KeyError when there is none)."""
        for invariant in self.invariants:
            if invariant.name == name:
                return invariant
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": self.run_dir,
            "holds": self.holds,
            "invariants": [invariant.to_dict() for invariant in self.invariants],
            "agrees_with_report": self.agrees_with_report,
            "disagreements": list(self.disagreements),
        }
