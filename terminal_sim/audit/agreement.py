"""Does the reconciler's report.json say what the auditor found?

Each invariant maps to the finding codes that report the same loss, compared per key:

* ``conservation`` entries of book ``journal``, ``evicted`` (only the back office still
  has the record) or ``none``, and every
  ``abandoned_approval_reversed`` entry: LOST_RECORD or ORPHAN_AUTHORIZATION, per
  (terminal, STAN);
* ``conservation`` entries of book ``backoffice``, and ``no_abandoned_work`` entries of
  queue ``sync``: UNSYNCED_RECORD, per (terminal, STAN);
* ``conservation`` entries of book ``totals``, and ``settlement_balanced`` entries:
  TOTALS_MISMATCH, per terminal;
* ``approved_slip_has_record``: STRAY_RECEIPT whose receipt shows an approved outcome,
  per (terminal, STAN);
* ``no_duplicate_charge``: DUPLICATE_CHARGE whose STAN is one of the intent's STANs;
* ``no_abandoned_work`` entries of queue ``saf``: per run, a finding whose code names a
  reversal, settlement or abandoned work, or a ``liveness`` entry in report.json.

Every auditor key must be met by a finding of a mapped code, and every finding of those
codes by an auditor key; each miss is one disagreement, in words. Findings of other codes
(MISSING_RECEIPT, BLANK_RECEIPT, TRUNCATED_RECEIPT, STRAY_RECEIPT of a slip that is not
approved) are outside the auditor's invariants and ignored.
"""

from __future__ import annotations

import re
from typing import Any

from terminal_sim.audit.model import Invariant

__all__ = ["compare"]

_BOOKS = ("LOST_RECORD", "ORPHAN_AUTHORIZATION")
_QUEUE_CODE = re.compile(r"REVERSAL|ABANDON|SAF|SETTLEMENT|LIVENESS")


def _keys(invariant: Invariant, books: tuple[str, ...] | None = None,
          queue: str | None = None) -> set[tuple[str, str]]:
    return {(str(e["terminal_id"]), str(e["stan"])) for e in invariant.evidence
            if (books is None or e.get("book") in books)
            and (queue is None or e.get("queue") == queue)}


def _found(findings: list[dict[str, Any]], *codes: str) -> set[tuple[str, str]]:
    return {(str(f.get("terminal_id", "")), str(f.get("stan", ""))) for f in findings
            if f.get("code") in codes}


def _approved_stray(finding: dict[str, Any]) -> bool:
    receipt = (finding.get("evidence") or {}).get("receipt") or {}
    return finding.get("code") == "STRAY_RECEIPT" and receipt.get("outcome") in (
        "APPROVED", "交易成功")


def _diff(what: str, auditor: set[tuple[str, str]], report: set[tuple[str, str]],
          codes: str) -> list[str]:
    out = [f"{what}: auditor flags {t}/{s or '-'}, report.json has no {codes} for it"
           for t, s in sorted(auditor - report)]
    out += [f"{what}: report.json has {codes} for {t}/{s or '-'}, the auditor finds it holds"
            for t, s in sorted(report - auditor)]
    return out


def compare(invariants: list[Invariant], report: dict[str, Any]) -> list[str]:
    """The disagreements between the invariants and ``report`` (a parsed report.json)."""
    by_name = {invariant.name: invariant for invariant in invariants}
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    out: list[str] = []
    money = _keys(by_name["conservation"], ("journal", "evicted", "none")) | _keys(
        by_name["abandoned_approval_reversed"])
    out += _diff("books", money, _found(findings, *_BOOKS), "/".join(_BOOKS))
    synced = _keys(by_name["conservation"], ("backoffice",)) | _keys(
        by_name["no_abandoned_work"], queue="sync")
    out += _diff("back office", synced, _found(findings, "UNSYNCED_RECORD"), "UNSYNCED_RECORD")
    stray = {(str(f.get("terminal_id", "")), str(f.get("stan", ""))) for f in findings
             if _approved_stray(f)}
    out += _diff("paper", _keys(by_name["approved_slip_has_record"]), stray,
                 "STRAY_RECEIPT of an approved slip")
    totals = {(t, "") for t, _ in _keys(by_name["conservation"], ("totals",))
              | _keys(by_name["settlement_balanced"])}
    reported = {(t, "") for t, _ in _found(findings, "TOTALS_MISMATCH")}
    out += _diff("totals", totals, reported, "TOTALS_MISMATCH")
    out += _duplicates(by_name["no_duplicate_charge"], _found(findings, "DUPLICATE_CHARGE"))
    queued = _keys(by_name["no_abandoned_work"], queue="saf")
    told = bool(report.get("liveness")) or any(
        _QUEUE_CODE.search(str(f.get("code", ""))) for f in findings)
    if queued and not told:
        out += [f"queued work: auditor flags saf entry {t}/{s} left undone, report.json "
                "reports no abandoned work" for t, s in sorted(queued)]
    return out


def _duplicates(invariant: Invariant, found: set[tuple[str, str]]) -> list[str]:
    out: list[str] = []
    matched: set[tuple[str, str]] = set()
    for entry in invariant.evidence:
        keys = {(str(entry["terminal_id"]), str(stan)) for stan in entry["stans"]}
        if keys & found:
            matched |= keys & found
        else:
            out.append(f"duplicates: auditor flags sale {entry['sale_id']} charged "
                       f"{len(keys)} times, report.json has no DUPLICATE_CHARGE for it")
    out += [f"duplicates: report.json has DUPLICATE_CHARGE for {t}/{s}, the auditor finds "
            "no second charge" for t, s in sorted(found - matched)]
    return out
