"""Voids and refunds count like sales: each rule on hand-made evidence about them."""

from __future__ import annotations

from terminal_sim.evidence.reconcile import Finding, Reconciler
from terminal_sim.evidence.sources import Evidence
from tests.terminal_sim.evidence.test_reconcile import host, journal, paper, slip_text


def _findings(evidence: Evidence, code: str) -> list[Finding]:
    return [f for f in Reconciler(evidence).findings() if f.code == code]


def test_a_refund_the_journal_never_heard_of_is_a_lost_record() -> None:
    evidence = Evidence(journal=[journal("000001")], host=[host("000001"),
                                                           host("000002", kind="refund")],
                        receipts=[paper(slip_text("000001"))])
    lost = _findings(evidence, "LOST_RECORD")
    assert [f.stan for f in lost] == ["000002"]
    assert "refund STAN 000002" in lost[0].summary
    assert "credited" in lost[0].summary


def test_a_void_the_journal_never_heard_of_is_a_lost_record() -> None:
    void = {**host("000002", kind="void"), "original_stan": "000001"}
    evidence = Evidence(journal=[journal("000001")], host=[host("000001", "voided"), void],
                        receipts=[paper(slip_text("000001"))])
    lost = _findings(evidence, "LOST_RECORD")
    assert [f.stan for f in lost] == ["000002"]
    assert "void STAN 000002 of sale STAN 000001" in lost[0].summary
    assert "still show the sale as charged" in lost[0].summary


def test_a_reversal_the_books_never_learnt_is_a_lost_record() -> None:
    evidence = Evidence(journal=[journal("000001")], host=[host("000001", "reversed")],
                        receipts=[paper(slip_text("000001"))])
    lost = _findings(evidence, "LOST_RECORD")
    assert [f.stan for f in lost] == ["000001"]
    assert lost[0].summary.startswith("the host reversed STAN 000001")
    assert lost[0].evidence["journal"]["state"] == "approved"


def test_a_reversed_transaction_the_books_call_failed_is_no_finding() -> None:
    evidence = Evidence(journal=[journal("000001", "failed")],
                        host=[host("000001", "reversed")],
                        receipts=[paper(slip_text("000001", "NOT COMPLETED"))])
    assert Reconciler(evidence).findings() == []


def test_a_refund_the_terminal_calls_failed_is_an_orphan_wronging_the_merchant() -> None:
    evidence = Evidence(journal=[journal("000002", "failed", kind="refund")],
                        host=[host("000002", kind="refund")],
                        receipts=[paper(slip_text("000002", "NOT COMPLETED", kind="REFUND"))])
    orphans = _findings(evidence, "ORPHAN_AUTHORIZATION")
    assert len(orphans) == 1
    assert "refund STAN 000002" in orphans[0].summary
    assert "merchant's books say no refund" in orphans[0].summary


def test_a_void_the_terminal_calls_failed_is_an_orphan() -> None:
    evidence = Evidence(journal=[journal("000001"), journal("000002", "failed", kind="void")],
                        host=[host("000001", "voided"), host("000002", kind="void")],
                        receipts=[paper(slip_text("000001")),
                                  paper(slip_text("000002", "NOT COMPLETED", kind="VOID"), 2)])
    orphans = _findings(evidence, "ORPHAN_AUTHORIZATION")
    assert [f.stan for f in orphans] == ["000002"]
    assert "void STAN 000002" in orphans[0].summary


def test_an_approved_refund_or_void_without_paper_is_a_missing_receipt() -> None:
    evidence = Evidence(
        journal=[journal("000001"), journal("000002", kind="void"),
                 journal("000003", kind="refund")],
        host=[host("000001", "voided"), host("000002", kind="void"),
              host("000003", kind="refund")],
        receipts=[paper(slip_text("000001"))])
    missing = _findings(evidence, "MISSING_RECEIPT")
    assert [f.stan for f in missing] == ["000002", "000003"]
    assert "approved void STAN 000002" in missing[0].summary
    assert "approved refund STAN 000003" in missing[1].summary


def test_a_refund_credited_twice_is_a_duplicate_and_not_mixed_with_its_sale() -> None:
    evidence = Evidence(
        journal=[journal("000001", sale_id="s1"),
                 journal("000002", "failed", kind="refund", sale_id="r1"),
                 journal("000003", kind="refund", sale_id="r1")],
        host=[host("000001"), host("000002", kind="refund"), host("000003", kind="refund")],
        receipts=[paper(slip_text("000001")),
                  paper(slip_text("000002", "NOT COMPLETED", kind="REFUND"), 2),
                  paper(slip_text("000003", kind="REFUND"), 3)])
    duplicates = _findings(evidence, "DUPLICATE_CHARGE")
    assert len(duplicates) == 1
    assert duplicates[0].summary == "refund r1 was credited 2 times by the host (STANs 000002, " \
                                    "000003)"


def test_a_void_shares_its_sale_id_and_is_no_duplicate_charge() -> None:
    evidence = Evidence(
        journal=[journal("000001", sale_id="s1"), journal("000002", kind="void", sale_id="s1")],
        host=[host("000001", "voided"), host("000002", kind="void")],
        receipts=[paper(slip_text("000001")), paper(slip_text("000002", kind="VOID"), 2)])
    assert Reconciler(evidence).findings() == []


def test_summaries_name_a_stray_refund_slip_and_an_unsynced_refund() -> None:
    evidence = Evidence(receipts=[paper(slip_text("000005", kind="REFUND"))])
    stray = _findings(evidence, "STRAY_RECEIPT")
    assert "an APPROVED refund STAN 000005" in stray[0].summary
    evidence = Evidence(journal=[journal("000006", kind="refund")],
                        host=[host("000006", kind="refund")],
                        receipts=[paper(slip_text("000006", kind="REFUND"))], backoffice=[])
    unsynced = _findings(evidence, "UNSYNCED_RECORD")
    assert unsynced[0].summary.startswith("the journal has refund STAN 000006 (approved)")


def test_sale_summaries_keep_their_words() -> None:
    evidence = Evidence(host=[host("000003")])
    lost = _findings(evidence, "LOST_RECORD")
    assert lost[0].summary == ("the host approved STAN 000003 (12.50 EUR) and neither the "
                               "journal nor the back office has a record of it")
