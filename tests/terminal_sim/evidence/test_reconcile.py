"""Reconciliation on hand-made evidence: one case per finding code, and the quiet case."""

from __future__ import annotations

from typing import Any

from terminal_sim.evidence.reconcile import Reconciler
from terminal_sim.evidence.rules import RULES, Join
from terminal_sim.evidence.sources import Evidence, PaperReceipt
from terminal_sim.receipts.layout import read_slip
from terminal_sim.scenario.schema import FINDING_CODES

TID = "T0000001"


def slip_text(stan: str, outcome: str = "APPROVED", amount: str = "12.50 EUR",
              kind: str = "SALE") -> str:
    return "\n".join([
        "SHOP", f"TID:  {TID}", "--------", f"{kind}:  VISA", "CARD:  ************1111",
        f"AMOUNT:  {amount}", "--------", outcome, f"RRN:  6005{stan}", f"STAN:  {stan}",
        "THANK YOU",
    ])


def paper(text: str, index: int = 1, *, truncated: bool = False) -> PaperReceipt:
    return PaperReceipt(TID, index, text, truncated, not text.strip(), 0, len(text),
                        read_slip(text))


def journal(stan: str, state: str = "approved", kind: str = "sale",
            sale_id: str = "") -> dict[str, Any]:
    return {"terminal_id": TID, "stan": stan, "type": kind, "state": state,
            "sale_id": sale_id or f"sale-{stan}",
            "amount_minor": 1250, "currency": "EUR", "rrn": "6005" + stan,
            "approval_code": "123456", "masked_pan": "************1111"}


def host(stan: str, status: str = "approved", kind: str = "sale") -> dict[str, Any]:
    return {"terminal_id": TID, "stan": stan, "type": kind, "status": status,
            "response_code": "00" if status != "declined" else "05",
            "amount_minor": 1250, "currency": "EUR", "rrn": "6005" + stan,
            "approval_code": "123456"}


def codes(evidence: Evidence) -> list[str]:
    return [f.code for f in Reconciler(evidence).findings()]


def test_agreeing_evidence_has_no_findings() -> None:
    evidence = Evidence(
        receipts=[paper(slip_text("000001")), paper(slip_text("000002", "DECLINED"), 2)],
        journal=[journal("000001"), journal("000002", "declined")],
        host=[host("000001"), host("000002", "declined")],
    )
    assert codes(evidence) == []


def test_read_slip_reads_what_the_layout_prints() -> None:
    facts = read_slip(slip_text("000007"))
    assert facts.stan == "000007"
    assert facts.approved
    assert facts.amount_minor == 1250
    assert facts.currency == "EUR"
    assert facts.terminal_id == TID
    assert facts.kind == "sale"


def test_approved_slip_without_record_is_stray() -> None:
    evidence = Evidence(receipts=[paper(slip_text("000001"))], host=[host("000001")])
    assert sorted(codes(evidence)) == ["LOST_RECORD", "STRAY_RECEIPT", "TOTALS_MISMATCH"]
    stray = next(f for f in Reconciler(evidence).findings() if f.code == "STRAY_RECEIPT")
    assert stray.stan == "000001"
    assert stray.evidence["receipt"]["ref"] == "T0000001#1"
    assert "APPROVED" in stray.summary


def test_error_slip_is_stray() -> None:
    text = "SHOP\nTID:  T0000001\n--------\nCARD ERROR:\n--------\nCARD UNREADABLE\nTHANK YOU"
    findings = Reconciler(Evidence(receipts=[paper(text)])).findings()
    assert [f.code for f in findings] == ["STRAY_RECEIPT"]
    assert "CARD UNREADABLE" in findings[0].summary


def test_blank_slip_is_blank_and_stray() -> None:
    assert sorted(codes(Evidence(receipts=[paper("")]))) == ["BLANK_RECEIPT", "STRAY_RECEIPT"]


def test_truncated_receipt() -> None:
    evidence = Evidence(receipts=[paper(slip_text("000001"), truncated=True)],
                        journal=[journal("000001")], host=[host("000001")])
    # cut off mid-print: the only complete proof of the sale is missing too
    assert sorted(codes(evidence)) == ["MISSING_RECEIPT", "TRUNCATED_RECEIPT"]


def test_lost_record() -> None:
    findings = Reconciler(Evidence(host=[host("000003")])).findings()
    assert [f.code for f in findings] == ["LOST_RECORD", "TOTALS_MISMATCH"]
    assert findings[0].evidence["host"]["stan"] == "000003"


def test_voided_or_declined_host_rows_are_not_lost_records() -> None:
    evidence = Evidence(host=[host("000003", "voided"), host("000004", "declined")])
    assert "LOST_RECORD" not in codes(evidence)


def test_orphan_authorization() -> None:
    evidence = Evidence(receipts=[paper(slip_text("000001", "NOT COMPLETED"))],
                        journal=[journal("000001", "failed")], host=[host("000001")])
    assert codes(evidence) == ["ORPHAN_AUTHORIZATION", "TOTALS_MISMATCH"]


def test_duplicate_charge_by_sale_intent() -> None:
    evidence = Evidence(
        receipts=[paper(slip_text("000001", "NOT COMPLETED")), paper(slip_text("000002"), 2)],
        journal=[journal("000001", "failed", sale_id="s9"), journal("000002", sale_id="s9")],
        host=[host("000001"), host("000002")])
    findings = Reconciler(evidence).findings()
    duplicate = next(f for f in findings if f.code == "DUPLICATE_CHARGE")
    assert duplicate.evidence["sale_id"] == "s9"
    assert [r["stan"] for r in duplicate.evidence["host"]] == ["000001", "000002"]


def test_sale_intent_from_the_trace_when_the_journal_lost_it() -> None:
    trace = [{"id": 1, "t": 0, "terminal": TID, "kind": "effect", "name": "send_sale",
              "data": {"stan": "000001", "sale_id": "s9"}}]
    evidence = Evidence(journal=[journal("000002", sale_id="s9")], trace=trace,
                        host=[host("000001"), host("000002")],
                        receipts=[paper(slip_text("000002"))])
    assert "DUPLICATE_CHARGE" in codes(evidence)


def test_totals_mismatch_names_both_totals() -> None:
    evidence = Evidence(journal=[journal("000001"), journal("000002")],
                        host=[host("000001")],
                        receipts=[paper(slip_text("000001")), paper(slip_text("000002"), 2)])
    totals = [f for f in Reconciler(evidence).findings() if f.code == "TOTALS_MISMATCH"]
    assert len(totals) == 1
    assert totals[0].evidence["terminal_total"] == 2500
    assert totals[0].evidence["host_total"] == 1250
    assert totals[0].evidence["stans_on_one_side"] == ["000002"]


def test_voids_balance_the_totals() -> None:
    evidence = Evidence(
        journal=[journal("000001"), journal("000002", kind="void")],
        host=[host("000001", "voided"), host("000002", kind="void")],
        receipts=[paper(slip_text("000001")), paper(slip_text("000002", kind="VOID"), 2)])
    assert codes(evidence) == []


def test_missing_receipt() -> None:
    evidence = Evidence(journal=[journal("000001")], host=[host("000001")])
    assert codes(evidence) == ["MISSING_RECEIPT"]


def test_unsynced_record() -> None:
    evidence = Evidence(receipts=[paper(slip_text("000001"))], journal=[journal("000001")],
                        host=[host("000001")], backoffice=[])
    assert codes(evidence) == ["UNSYNCED_RECORD"]


def test_findings_cite_trace_ids() -> None:
    trace = [
        {"id": 5, "t": 0, "terminal": TID, "kind": "event", "name": "card_read",
         "data": {"sale_id": "s1"}},
        {"id": 7, "t": 1, "terminal": TID, "kind": "effect", "name": "send_sale",
         "data": {"stan": "000003", "sale_id": "s1"}},
        {"id": 8, "t": 2, "terminal": TID, "kind": "effect", "name": "send_sale",
         "data": {"stan": "000004"}},
        {"id": 9, "t": 3, "terminal": TID, "kind": "fault", "name": "power-dip",
         "crash_point": "sale/after:host_reply",
         "data": {"fault": "power-dip", "effect": "power cut", "stan": "000003"}},
    ]
    finding = Reconciler(Evidence(host=[host("000003")], trace=trace)).findings()[0]
    assert finding.trace_ids == [5, 7, 9]  # the STAN's records and its sale's
    assert finding.causes == [{"fault": "power-dip", "effect": "power cut",
                               "crash_point": "sale/after:host_reply", "trace_id": 9, "t": 3}]


def test_evicted_but_synced_record_is_not_lost() -> None:
    evidence = Evidence(receipts=[paper(slip_text("000001"))], journal=[],
                        host=[host("000001")], backoffice=[journal("000001")])
    assert codes(evidence) == []


def test_every_finding_code_has_exactly_one_rule() -> None:
    assert sorted(RULES) == sorted(FINDING_CODES)


def test_each_rule_finds_only_its_own_code() -> None:
    # everything at once: a stray, a blank, a truncated slip, a lost record, an orphan,
    # a duplicate, a missing receipt, an unsynced record and the totals off
    evidence = Evidence(
        receipts=[paper(slip_text("000001")), paper("", 2), paper(slip_text("000003"), 3,
                                                                  truncated=True)],
        journal=[journal("000003"), journal("000004", "failed"),
                 journal("000005", sale_id="twice"), journal("000006", sale_id="twice")],
        host=[host("000002"), host("000004"), host("000005"), host("000006")],
        backoffice=[])
    join = Join.of(evidence)
    for code, rule in RULES.items():
        found = rule(join)
        assert found, code
        assert {f.code for f in found} == {code}


def test_without_a_journal_nothing_is_judged_against_the_books() -> None:
    """A lab session's folder: the application keeps its journal. The same evidence
    with the journal known shows what would be (wrongly) claimed without the flag."""
    out_of_balance = {"id": 9, "t": 100, "terminal": TID, "kind": "event",
                      "name": "totals_reply", "data": {"rc": "95", "stan": "000009"}}
    unreadable = "SHOP\nTID:  T0000001\n--------\nCARD ERROR:\n--------\nCARD UNREADABLE"
    evidence = Evidence(
        receipts=[paper(slip_text("000001")), paper(slip_text("000002", "DECLINED"), 2),
                  paper(unreadable + "\nTHANK YOU", 3), paper("", 4),
                  paper(slip_text("000005"), 5, truncated=True)],
        host=[host("000001"), host("000002", "declined"), host("000003"),
              host("000005")],
        trace=[out_of_balance])
    judged = sorted(codes(evidence))
    assert {"LOST_RECORD", "STRAY_RECEIPT", "TOTALS_MISMATCH"} <= set(judged)
    evidence.journal_known = False
    unknown = Reconciler(evidence).findings()
    # what the paper alone and the host alone say stays: the error slip and the blank
    # slip are stray, the blank one blank, the cut one truncated, the host's 95 stands
    assert sorted((f.code, f.stan) for f in unknown) == [
        ("BLANK_RECEIPT", ""), ("STRAY_RECEIPT", ""), ("STRAY_RECEIPT", ""),
        ("TOTALS_MISMATCH", ""), ("TRUNCATED_RECEIPT", "000005")]
    assert "95" in next(f.summary for f in unknown if f.code == "TOTALS_MISMATCH")
