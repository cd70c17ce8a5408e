"""Issue 13: the reconciler reports an out-of-balance settlement and an abandoned
reversal, from the trace the terminal wrote (both were invisible before)."""

from __future__ import annotations

from terminal_sim.evidence.reconcile import Reconciler
from terminal_sim.evidence.sources import Evidence


def _host_sale(stan: str) -> dict[str, object]:
    return {"terminal_id": "T1", "stan": stan, "type": "sale", "status": "approved",
            "response_code": "00", "amount_minor": 500, "currency": "EUR", "rrn": "1",
            "approval_code": "123456", "original_stan": ""}


def _record(stan: str, state: str) -> dict[str, object]:
    return {"terminal_id": "T1", "stan": stan, "sale_id": f"s{stan}", "type": "sale",
            "state": state, "amount_minor": 500, "currency": "EUR", "rrn": "1",
            "approval_code": "", "masked_pan": "************1111", "receipt": "printed"}


def test_a_settlement_answered_95_is_a_totals_mismatch() -> None:
    reply = {"id": 7, "t": 100, "terminal": "T1", "kind": "event", "name": "totals_reply",
             "state": "idle", "data": {"rc": "95", "balanced": False, "stan": "000009",
                                       "differences": {"88": [500, 1000]}}}
    evidence = Evidence(host=[_host_sale("000001")], journal=[_record("000001", "approved")],
                        trace=[reply])
    found = [f for f in Reconciler(evidence).findings() if f.code == "TOTALS_MISMATCH"]
    assert len(found) == 1
    assert found[0].terminal_id == "T1"
    assert found[0].evidence["response_code"] == "95"
    assert found[0].evidence["terminal_vs_host"] == {"88": [500, 1000]}
    assert 7 in found[0].trace_ids


def test_a_balanced_settlement_is_no_finding() -> None:
    reply = {"id": 7, "t": 100, "terminal": "T1", "kind": "event", "name": "totals_reply",
             "state": "idle", "data": {"rc": "00", "balanced": True, "stan": "000009"}}
    evidence = Evidence(host=[_host_sale("000001")], journal=[_record("000001", "approved")],
                        trace=[reply])
    assert "TOTALS_MISMATCH" not in [f.code for f in Reconciler(evidence).findings()]


def test_an_abandoned_reversal_names_its_cause() -> None:
    note = {"id": 9, "t": 100, "terminal": "T1", "kind": "note", "name": "reversal_given_up",
            "state": "idle", "data": {"stan": "000001", "attempts": 30}}
    evidence = Evidence(host=[_host_sale("000001")], journal=[_record("000001", "failed")],
                        trace=[note])
    orphans = [f for f in Reconciler(evidence).findings() if f.code == "ORPHAN_AUTHORIZATION"]
    assert len(orphans) == 1
    assert "reversal abandoned after 30 attempts" in orphans[0].summary
    assert orphans[0].evidence["reversal"]["state"] == "given-up"
