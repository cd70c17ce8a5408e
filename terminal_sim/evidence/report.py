"""``report.json``: findings, expectations, counts. Deterministic: sorted keys, no wall time."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from terminal_sim.evidence.reconcile import Finding
from terminal_sim.scenario.schema import FINDING_CODES

if TYPE_CHECKING:
    from terminal_sim.evidence.sources import Evidence
    from terminal_sim.sim.simulation import Simulation

REPORT_VERSION = 1


def build_report(sim: Simulation, evidence: Evidence, findings: list[Finding]) -> dict[str, Any]:
    """The report of a finished run."""
    by_code = Counter(f.code for f in findings)
    expectations = []
    for expectation in sim.scenario.expect:
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
        "power_cuts": sum(node.power_cuts for node in sim.nodes.values()),
    }
    return {
        "report_version": REPORT_VERSION,
        "scenario": sim.scenario.name,
        "seed": sim.seed,
        "start": sim.scenario.start.isoformat(),
        "profile": sim.profile.name,
        "terminals": [t.id for t in sim.scenario.terminals],
        "faults": [f.name for f in sim.scenario.faults],
        "findings": [f.to_dict() for f in findings],
        "findings_by_code": {code: by_code[code] for code in FINDING_CODES if by_code[code]},
        "expectations": expectations,
        "passed": all(e["passed"] for e in expectations),
        "counts": counts,
        "virtual_ms": sim.clock.now(),
    }
