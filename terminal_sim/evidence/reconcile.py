"""Reconciliation: join paper, journal, host ledger (and back office) and name the gaps.

The join key is (terminal id, STAN): the STAN is printed on the slip, stored in the
journal and sent to the host. "The books" are the journal and the back office together:
a record the terminal evicted after syncing it is not lost. Each finding carries a
stable code (DESIGN.md), the evidence rows it points at, the trace event ids behind it,
and its causes: the fault records among those events.

Each code is one rule in :mod:`terminal_sim.evidence.rules`, over one shared join.

=========================  ==============================================================
code                       rule
=========================  ==============================================================
``STRAY_RECEIPT``          a receipt whose STAN has no record in the books, an APPROVED
                           slip whose record says otherwise (failed, pending, reversed),
                           or a slip with no transaction data at all (error slip, blank
                           slip; one cut off before its STAN is only ``TRUNCATED_RECEIPT``)
``BLANK_RECEIPT``          a receipt with nothing printed on it but feeds and a cut
``TRUNCATED_RECEIPT``      a receipt cut off mid-print (no cut at the end of the stream)
``LOST_RECORD``            the host approved a sale (not voided or reversed), the journal
                           has no record of it
``ORPHAN_AUTHORIZATION``   the host approved, the journal says the sale failed or was
                           declined or is still pending: the customer is charged for nothing
``MISSING_RECEIPT``        the journal has an approved sale, no complete receipt shows it
``DUPLICATE_CHARGE``       the host holds two approvals (not voided or reversed) for one
                           sale intent (the sale id the journal or the trace gives a STAN)
``TOTALS_MISMATCH``        a terminal's end-of-day totals (approved sales minus approved
                           voids, per currency) differ between the books and the host
``UNSYNCED_RECORD``        the journal has a final record the back office lacks
=========================  ==============================================================
"""

from __future__ import annotations

from terminal_sim.evidence.findings import Finding
from terminal_sim.evidence.rules import RULES, Join
from terminal_sim.evidence.sources import Evidence

__all__ = ["Finding", "Reconciler"]


class Reconciler:
    """Joins the evidence and lists findings in a stable order."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence

    def findings(self) -> list[Finding]:
        join = Join.of(self.evidence)
        found = [finding for rule in RULES.values() for finding in rule(join)]
        for finding in found:
            finding.causes = join.links.causes(finding.trace_ids)
        # stable: findings equal in this key keep the order their rule gave them
        found.sort(key=lambda f: (f.code, f.terminal_id, f.stan, f.summary))
        return found
