"""``report.json``: findings, expectations, counts. Deterministic: sorted keys, no wall time.

The report is built from what a run hands over (its scenario, seed, profile, the
evidence and the findings), not from the simulation itself: evidence sits below the
simulation that uses it.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from terminal_sim.evidence.reconcile import Finding
from terminal_sim.scenario.schema import FINDING_CODES

if TYPE_CHECKING:
    from terminal_sim.evidence.sources import Evidence
    from terminal_sim.scenario.loader import Scenario

REPORT_VERSION = 1


def build_report(scenario: Scenario, evidence: Evidence, findings: list[Finding], *,
                 seed: int, profile: str, power_cuts: int, virtual_ms: int) -> dict[str, Any]:
    """The report of a finished run of ``scenario`` with ``seed`` under ``profile``.

    ``power_cuts`` counts the power cuts of every terminal, ``virtual_ms`` is the virtual
    time the run ended at.
    """
    by_code = Counter(f.code for f in findings)
    expectations = []
    for expectation in scenario.expect:
        actual = by_code.get(expectation.code, 0)
        expectations.append({
            "code": expectation.code,
            "expect": f"{expectation.op} {expectation.value}",
            "actual": actual,
            "passed": expectation.holds(actual),
        })
    journal_states = Counter(f"{r['type']}:{r['state']}" for r in evidence.journal)
    host_states = Counter(f"{r['type']}:{r['status']}" for r in evidence.host)
    counts = {
        "receipts": len(evidence.receipts),
        "journal_records": len(evidence.journal),
        "journal": dict(sorted(journal_states.items())),
        "host_transactions": len(evidence.host),
        "host": dict(sorted(host_states.items())),
        "trace_events": len(evidence.trace),
        "power_cuts": power_cuts,
    }
    return {
        "report_version": REPORT_VERSION,
        "scenario": scenario.name,
        "seed": seed,
        "start": scenario.start.isoformat(),
        "profile": profile,
        "terminals": [t.id for t in scenario.terminals],
        "faults": [f.name for f in scenario.faults],
        "findings": [f.to_dict() for f in findings],
        "findings_by_code": {code: by_code[code] for code in FINDING_CODES if by_code[code]},
        "expectations": expectations,
        "passed": all(e["passed"] for e in expectations),
        "counts": counts,
        "virtual_ms": virtual_ms,
    }
