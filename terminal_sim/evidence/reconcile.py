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
``LOST_RECORD``            the host approved a sale, refund or void (that stands: not
                           voided or reversed) and the books have no record of it; or the
                           host reversed one the books still hold as approved
``ORPHAN_AUTHORIZATION``   the host approved a sale, refund or void, the books say it
                           failed or was declined or is still pending, and no reversal
                           reached the host (a sale: the customer is charged for nothing;
                           a refund or void: the merchant's books miss the money that left)
``MISSING_RECEIPT``        the journal has an approved sale, refund or void, no complete
                           receipt shows it
``DUPLICATE_CHARGE``       the host holds two approvals (that stand) for one sale intent,
                           or for one refund intent (the id the journal or the trace
                           gives a STAN)
``TOTALS_MISMATCH``        a terminal's end-of-day totals (approved sales minus approved
                           voids and refunds, per currency) differ between the books and the host
``UNSYNCED_RECORD``        the journal has a final record the back office lacks
=========================  ==============================================================

Without the terminals' journal (``Evidence.journal_known`` False: a lab session, whose
application keeps its own records) nothing is judged against the books: no
``LOST_RECORD``, no ``STRAY_RECEIPT`` of a slip showing a STAN, no books-against-host
``TOTALS_MISMATCH`` (the host's own out-of-balance answers still are).

Voids and refunds count like sales in every rule; a finding about one says "refund" or
"void" in its summary (a sale's summary keeps the words it always had).
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
