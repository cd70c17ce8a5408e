"""Judging one world: run it with its artifacts in a temp folder, and say why it fails.

The run is a campaign job (:func:`terminal_sim.harness.campaign_job.run_job`, which
reduces a run to an outcome); the reasons, each a stable short string, in this order:

* ``simulator-error:<ExceptionType>``: the simulator raised (any profile);
* whatever the judges say (:class:`Judge`: callables over the run dir; the independent
  auditor is one, its disagreement with the reconciler reads
  ``oracle-disagreement:<invariant>``, a failure of the tool; a judge that raises gives
  ``judge-error:<ExceptionType>``, also a failure of the tool);
* the forbidden findings (:func:`~terminal_sim.harness.campaign_job.forbidden_findings`):
  ``LOST_RECORD``, ``ORPHAN_AUTHORIZATION``, ``DUPLICATE_CHARGE``, ``STRAY_RECEIPT`` (of
  an approved slip), under either profile (naive is expected to show them);
* under robust, ``liveness:<what>`` (``reversal``, ``reprint``, ``state``, ``other``)
  for work a terminal left unfinished.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from terminal_sim.audit import audit_run_dir
from terminal_sim.explore.world import dump_yaml
from terminal_sim.harness.campaign_job import FORBIDDEN, Job, forbidden_findings, run_job

__all__ = ["DEFAULT_JUDGES", "ORACLE", "AuditLike", "Judge", "Verdict", "audit_reasons",
           "auditor_judge", "judge_world", "liveness_reason"]

#: The prefix of a reason that is a disagreement of the two oracles.
ORACLE = "oracle-disagreement"


class Judge(Protocol):
    """A second opinion on a finished run: the reasons it fails (empty: none)."""

    def __call__(self, run_dir: Path) -> list[str]: ...


class AuditLike(Protocol):
    """What a judge needs of the auditor's verdict (``terminal_sim.audit.Audit``)."""

    @property
    def agrees_with_report(self) -> bool: ...

    @property
    def disagreements(self) -> list[str]: ...


def audit_reasons(audit: AuditLike) -> list[str]:
    """``oracle-disagreement:<invariant>`` for each invariant the auditor and the
    reconciler disagree on (the text of a disagreement up to its first ``:``)."""
    if audit.agrees_with_report:
        return []
    names = [text.split(":", 1)[0].strip() or "unnamed" for text in audit.disagreements]
    return [f"{ORACLE}:{name}" for name in dict.fromkeys(names or ["unnamed"])]


def auditor_judge(run_dir: Path) -> list[str]:
    """The independent auditor as a judge."""
    return audit_reasons(audit_run_dir(run_dir))


#: The judges every world meets (module-level functions: a process pool pickles them).
DEFAULT_JUDGES: tuple[Judge, ...] = (auditor_judge,)


@dataclass(frozen=True)
class Verdict:
    """Why a world fails (no reasons: it passes)."""

    reasons: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.reasons)

    @property
    def reason(self) -> str:
        """The first reason (``""`` when it passes): the one shrinking keeps."""
        return self.reasons[0] if self.reasons else ""


def liveness_reason(problem: str) -> str:
    """A liveness problem of the simulation as a stable short reason."""
    for word in ("reversal", "reprint", "state"):
        if word in problem:
            return f"liveness:{word}"
    return "liveness:other"


def _error_reason(error: str) -> str:
    return "simulator-error:" + error.split(":", 1)[0].strip()


def _finding_reasons(run_dir: Path) -> list[str]:
    report: dict[str, Any] = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    found = {str(finding["code"]) for finding in forbidden_findings(report["findings"])}
    return [code for code in (*FORBIDDEN, "STRAY_RECEIPT") if code in found]


def _opinion(judge: Judge, run_dir: Path) -> list[str]:
    """What ``judge`` says; a judge that breaks on a run is a failure of the tool (its
    reason names the error), not the end of the exploration."""
    try:
        return judge(run_dir)
    except Exception as error:  # noqa: BLE001 - any bug of a judge is one finding
        return [f"judge-error:{type(error).__name__}"]


def judge_world(data: dict[str, Any], profile: str,
                judges: Sequence[Judge] = DEFAULT_JUDGES) -> Verdict:
    """Run the scenario ``data`` under ``profile`` and judge it."""
    source = dump_yaml(data)
    with tempfile.TemporaryDirectory(prefix="pos-sim-explore-") as tmp:
        run_dir = Path(tmp)
        outcome = run_job(Job(0, f"{data['name']}.yaml", source, int(data["seed"]), profile,
                              swarm=False, out_dir=str(run_dir)))
        if outcome.error is not None:
            return Verdict((_error_reason(outcome.error),))
        reasons = [reason for judge in judges for reason in _opinion(judge, run_dir)]
        reasons += _finding_reasons(run_dir)
    if outcome.profile == "robust":
        reasons += [liveness_reason(problem) for problem in outcome.liveness]
    return Verdict(tuple(dict.fromkeys(reasons)))
