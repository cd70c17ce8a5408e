"""The paper and queued-work invariants.

* ``approved_slip_has_record``: every approved slip that reached paper (APPROVED, or
  交易成功 on a zh-CN slip; copies too; a truncated slip counts if its outcome line
  printed) matches a record of the merchant's books (journal, else back office) with its
  terminal, STAN, type and amount that stands (``approved``, a sale also ``voided``).
  A slip cut off before its STAN is matched on terminal, type and amount alone.
* ``no_abandoned_work``: at the end of the run nothing is left in a queue: no ``saf``
  row ``pending`` or ``given-up`` (a reversal or advice never delivered), no journal
  record that was never synced to the back office or changed after its last sync, no
  journal intent still ``pending``. Unsynced records at the end may be legitimate for a
  profile (naive syncs on a timer and may stop mid-day); the invariant reports them and
  the caller decides what a failure is.
"""

from __future__ import annotations

from typing import Any

from terminal_sim.audit.artifacts import BookRow, RunArtifacts
from terminal_sim.audit.books import book_standing
from terminal_sim.audit.model import Invariant
from terminal_sim.audit.paper import Paper, read_paper

__all__ = ["approved_slip_has_record", "no_abandoned_work"]


def _slip_entry(paper: Paper, books: dict[tuple[str, str], Any], what: str) -> dict[str, Any]:
    slip = paper.slip
    record = books.get((slip.terminal_id, slip.stan))
    return {"terminal_id": slip.terminal_id, "stan": slip.stan, "type": slip.kind,
            "amount_minor": slip.amount_minor, "currency": slip.currency,
            "receipt": {"offset": paper.offset, "outcome": slip.outcome, "copy": slip.copy,
                        "truncated": paper.truncated},
            "books": None if record is None else record.describe(), "what": what}


def approved_slip_has_record(run: RunArtifacts, papers: list[Paper] | None = None
                             ) -> Invariant:
    papers = read_paper(run.receipts_bin, run.trace) if papers is None else papers
    journal, backoffice = book_standing(run.journal), book_standing(run.backoffice)
    books = {**backoffice, **journal}
    evidence: list[dict[str, Any]] = []
    for paper in papers:
        slip = paper.slip
        if not (paper.printed and slip.approved and slip.kind in ("sale", "void", "refund")):
            continue
        if slip.stan:
            record = books.get((slip.terminal_id, slip.stan))
            matches = record is not None and record.net_minor != 0 and record.type == slip.kind \
                and (slip.amount_minor is None or record.amount_minor == slip.amount_minor)
        else:
            matches = any(terminal == slip.terminal_id and record.net_minor != 0
                          and record.type == slip.kind
                          and record.amount_minor == slip.amount_minor
                          for (terminal, _), record in books.items())
        if not matches:
            evidence.append(_slip_entry(paper, books,
                                        "an approved slip the merchant's books do not stand for"))
    return Invariant("approved_slip_has_record", not evidence, evidence)


def _record_entry(row: BookRow, queue: str, what: str) -> dict[str, Any]:
    return {"terminal_id": row.terminal_id, "stan": row.stan, "type": row.type,
            "amount_minor": row.amount_minor, "currency": row.currency, "queue": queue,
            "state": row.state, "what": what}


def no_abandoned_work(run: RunArtifacts) -> Invariant:
    evidence: list[dict[str, Any]] = [
        {"terminal_id": row.terminal_id, "stan": row.stan, "queue": "saf", "state": row.state,
         "reason": row.reason, "attempts": row.attempts,
         "what": f"store-and-forward entry left {row.state}"}
        for row in run.saf if row.state in ("pending", "given-up")]
    backoffice = {(row.terminal_id, row.stan): row for row in run.backoffice}
    for row in run.journal:
        if row.state == "pending":
            evidence.append(_record_entry(row, "journal", "intent never resolved"))
        elif row.synced_vt < 0:
            evidence.append(_record_entry(row, "sync", "never synced to the back office"))
        elif row.updated_vt > row.synced_vt and (
                (synced := backoffice.get((row.terminal_id, row.stan))) is None
                or synced.state != row.state):
            evidence.append(_record_entry(row, "sync", "changed after its last sync"))
    return Invariant("no_abandoned_work", not evidence, evidence)
