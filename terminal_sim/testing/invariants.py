"""The reconciliation rules as checks you can call from any test.

The state machine of :mod:`terminal_sim.testing.stateful` asserts these after the world
has settled; they are plain functions so a test using the ``simulation`` fixture (or a
:class:`~terminal_sim.sim.session.Session` of its own) can make the same checks::

    session.settle()
    assert not forbidden_findings(session.findings())
    assert not paper_contradictions(session.evidence())
    assert not money_discrepancies(session.evidence())

================================  ======================================================
check                             what it says
================================  ======================================================
:func:`forbidden_findings`        no ``LOST_RECORD``, ``ORPHAN_AUTHORIZATION``,
                                  ``DUPLICATE_CHARGE``, nor ``STRAY_RECEIPT`` of a slip
                                  that says APPROVED (an error slip is a stray receipt
                                  too, but not a forbidden one: it claims no sale)
:func:`paper_contradictions`      no slip saying APPROVED for a STAN the books hold
                                  as failed, pending, reversed or declined: the
                                  strict reading of ``STRAY_RECEIPT`` (paper with no
                                  *matching* record), which the reconciler checks
                                  only as "no record at all"
:func:`money_discrepancies`       per terminal and currency, what the host holds as
                                  charged equals what the books (journal and back
                                  office) hold as charged
================================  ======================================================

:func:`money_discrepancies` is computed here from the raw evidence, not taken from the
reconciler's ``TOTALS_MISMATCH``: a second, independent reading of the same rule is a
better oracle than the code under test reading itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from terminal_sim.base.money import Money

#: What a robust terminal must never leave behind (DESIGN.md, "Firmware profiles").
FORBIDDEN: frozenset[str] = frozenset(
    {"LOST_RECORD", "ORPHAN_AUTHORIZATION", "DUPLICATE_CHARGE", "STRAY_RECEIPT"})


class FindingLike(Protocol):
    """What the checks read of a finding (:class:`terminal_sim.evidence.reconcile.Finding`)."""

    code: str
    terminal_id: str
    stan: str
    summary: str
    evidence: dict[str, Any]
    causes: list[dict[str, Any]]


class EvidenceLike(Protocol):
    """What the checks read of :class:`terminal_sim.evidence.sources.Evidence`."""

    receipts: list[Any]
    journal: list[dict[str, Any]]
    host: list[dict[str, Any]]
    backoffice: list[dict[str, Any]] | None


def _claims_approval(finding: FindingLike) -> bool:
    receipt = finding.evidence.get("receipt")
    return isinstance(receipt, Mapping) and receipt.get("outcome") == "APPROVED"


def forbidden_findings(findings: Iterable[FindingLike],
                       codes: Iterable[str] = FORBIDDEN) -> list[FindingLike]:
    """The findings among ``findings`` whose code is in ``codes``.

    ``STRAY_RECEIPT`` counts only for a slip that says APPROVED: paper claiming a sale
    the books do not have. A "card unreadable" slip is a stray receipt the naive
    firmware prints on purpose; it misleads nobody about money.
    """
    wanted = set(codes)
    found = []
    for finding in findings:
        if finding.code not in wanted:
            continue
        if finding.code == "STRAY_RECEIPT" and not _claims_approval(finding):
            continue
        found.append(finding)
    return found


def describe_finding(finding: FindingLike) -> str:
    """One line: code, where, what, and the faults the reconciler names as causes."""
    where = f"{finding.terminal_id}/{finding.stan}" if finding.stan else finding.terminal_id
    causes = sorted({f"{c.get('fault')} at {c.get('crash_point')}" if c.get("crash_point")
                     else str(c.get("fault")) for c in finding.causes})
    because = f" [caused by {', '.join(causes)}]" if causes else ""
    return f"{finding.code} {where}: {finding.summary}{because}"


def _host_charged(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], int]:
    # The host keeps one row per transaction and updates it: a voided or reversed sale
    # is no longer "approved", so what stands approved is what the customer pays.
    charged: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        if row["status"] != "approved":
            continue
        sign = {"sale": 1, "refund": -1}.get(row["type"], 0)
        charged[(row["terminal_id"], row["currency"])] += sign * row["amount_minor"]
    return charged


def _books(evidence: EvidenceLike) -> dict[tuple[str, str], dict[str, Any]]:
    # A record the terminal evicted after syncing it is still in the books, in the back
    # office; where both have it, the journal is the newer word.
    books = {(r["terminal_id"], r["stan"]): r for r in evidence.backoffice or []}
    books.update({(r["terminal_id"], r["stan"]): r for r in evidence.journal})
    return books


def paper_contradictions(evidence: EvidenceLike) -> list[str]:
    """Slips saying APPROVED whose STAN the books hold as anything but approved/voided.

    The paper is the customer's proof of payment and cannot be taken back: it must
    never say more than the books will stand by. A slip whose STAN the books lack
    entirely is a ``STRAY_RECEIPT`` finding already and is not repeated here.
    """
    books = _books(evidence)
    out = []
    for receipt in evidence.receipts:
        facts = receipt.facts
        if not facts.approved or not facts.stan:
            continue
        record = books.get((receipt.terminal_id, facts.stan))
        if record is not None and record["state"] not in ("approved", "voided"):
            out.append(f"receipt {receipt.ref} says APPROVED for STAN {facts.stan}; the "
                       f"books hold that {record['type']} as {record['state']!r}")
    return out


def _books_charged(evidence: EvidenceLike) -> dict[tuple[str, str], int]:
    # The journal keeps a voided sale's own row and adds the void as a row of its own:
    # the sale counts (approved or voided) and the approved void takes it back.
    books = _books(evidence)
    charged: dict[tuple[str, str], int] = defaultdict(int)
    for row in books.values():
        kind, state = row["type"], row["state"]
        if kind == "sale" and state in ("approved", "voided"):
            sign = 1
        elif kind in ("void", "refund") and state == "approved":
            sign = -1
        else:
            continue
        charged[(row["terminal_id"], row["currency"])] += sign * row["amount_minor"]
    return charged


def money_discrepancies(evidence: EvidenceLike) -> list[str]:
    """Where the host and the books disagree on what customers were charged.

    Empty when money is conserved. Only meaningful once nothing is in flight: a sale
    the host approved a moment ago is not in the journal yet.
    """
    host = _host_charged(evidence.host)
    books = _books_charged(evidence)
    out = []
    for terminal_id, currency in sorted(set(host) | set(books)):
        theirs, ours = host[(terminal_id, currency)], books[(terminal_id, currency)]
        if theirs != ours:
            out.append(f"{terminal_id}: the host holds {Money(theirs, currency).format()} as "
                       f"charged, the books {Money(ours, currency).format()}")
    return out


__all__ = [
    "FORBIDDEN",
    "EvidenceLike",
    "FindingLike",
    "describe_finding",
    "forbidden_findings",
    "money_discrepancies",
    "paper_contradictions",
]
