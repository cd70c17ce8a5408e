"""The recovery messages: reversals, advices, repeats, refunds, reconciliation, balances."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import REVERSALS_OF_SQL, HostLedger
from terminal_sim.acquirer.rules import NO_REPLY, OutcomeRules
from terminal_sim.base.cards import token_for
from terminal_sim.errors import JournalError
from terminal_sim.iso import codec
from terminal_sim.iso.messages import (
    HostReply,
    HostRequest,
    NetworkRequest,
    OriginalData,
    Totals,
    TotalsRequest,
    advice_of,
    repeat_of,
    reversal_of,
)

WHEN = dt.datetime(2026, 1, 5, 9, 0, 0)
PAN = "4111111111111111"
Send = Callable[..., HostReply | None]


def sale(stan: str, amount: int = 1250, *, kind: str = "sale", mti: str = "0200",
         terminal_id: str = "T0000001", pan: str = PAN, when: dt.datetime = WHEN) -> HostRequest:
    return HostRequest(mti, kind, stan, terminal_id, "M1", amount, "EUR", when, pan, "2912")


@pytest.fixture
def host(host_factory: Callable[..., MockAcquirer]) -> MockAcquirer:
    return host_factory()


def send(host: MockAcquirer, request: HostRequest | TotalsRequest | NetworkRequest,
         now: int = 0) -> HostReply | None:
    raw = host.handle(codec.encode(request.to_fields()), now, WHEN)
    return HostReply.from_fields(codec.decode(raw)) if raw is not None else None


def answer(host: MockAcquirer, request: HostRequest | TotalsRequest | NetworkRequest,
           now: int = 0) -> HostReply:
    reply = send(host, request, now)
    assert reply is not None
    return reply


def rows(host: MockAcquirer) -> dict[tuple[str, str], str]:
    return {(t["stan"], t["type"]): t["status"] for t in host.ledger.transactions()}


# -- reversals -------------------------------------------------------------------------


def test_reversal_of_an_approved_sale(host: MockAcquirer) -> None:
    original = sale("000001")
    approved = answer(host, original)
    reversal = reversal_of(original, stan="000002", transmitted=WHEN)
    reply = answer(host, reversal)
    assert (reply.mti, reply.response_code, reply.stan, reply.rrn) == (
        "0410", "00", "000002", approved.rrn)
    assert rows(host) == {("000001", "sale"): "reversed", ("000002", "reversal"): "applied"}
    row = host.ledger.find("T0000001", "000002", "04")
    assert row is not None
    assert row["reason"] == "4021"
    assert row["original_stan"] == "000001"
    assert row["masked_pan"] == "************1111"
    assert host.ledger.balances() == []


def test_reversal_without_field_90_reverses_its_own_stan(host: MockAcquirer) -> None:
    answer(host, sale("000001"))
    same_stan = replace(sale("000001"), mti="0400", pan="", reason="4021")
    assert answer(host, same_stan).response_code == "00"
    assert rows(host) == {("000001", "sale"): "reversed", ("000001", "reversal"): "applied"}


def test_reversal_retransmitted_and_reversal_repeated_have_one_effect(host: MockAcquirer) -> None:
    original = sale("000001")
    answer(host, original)
    reversal = reversal_of(original, stan="000002", transmitted=WHEN)
    first = answer(host, reversal)
    assert answer(host, reversal) == first  # same STAN: the stored answer
    another = answer(host, reversal_of(original, stan="000003", transmitted=WHEN))
    assert another.response_code == "00"
    assert rows(host) == {("000001", "sale"): "reversed", ("000002", "reversal"): "applied",
                          ("000003", "reversal"): "no-effect"}


def test_reversal_of_unknown_is_answered_and_declines_the_late_original(
        host: MockAcquirer) -> None:
    original = sale("000001")
    reversal = reversal_of(original, stan="000002", transmitted=WHEN)
    assert answer(host, reversal, now=100).response_code == "00"
    assert rows(host) == {("000002", "reversal"): "unknown-original"}
    late = answer(host, original, now=900)  # the original overtook by its reversal
    assert late.response_code == "12"
    assert late.approval_code == ""
    assert answer(host, original, now=950) == late  # and its retransmission too
    assert rows(host) == {("000001", "sale"): "declined",
                          ("000002", "reversal"): "late-original-declined"}
    notes = [m["detail"] for m in host.ledger.messages() if m["direction"] == "out"]
    assert "late original: reversal 000002 came first" in notes


def test_a_remembered_reversal_names_its_original_by_time(host: MockAcquirer) -> None:
    """A STAN reused days later is not the reversed original; a second's skew is."""
    reversed_one = sale("000001")
    answer(host, reversal_of(reversed_one, stan="000002", transmitted=WHEN))
    reused = sale("000001", when=WHEN + dt.timedelta(days=3))
    assert answer(host, reused).response_code == "00"
    # field 90 named the sale's start; its field 7 says when it was sent, 0.8 s later
    answer(host, reversal_of(sale("000003"), stan="000004", transmitted=WHEN))
    assert answer(host, sale("000003", when=WHEN + dt.timedelta(seconds=1))
                  ).response_code == "12"


def test_a_remembered_reversal_across_new_year(host: MockAcquirer) -> None:
    eve = dt.datetime(2025, 12, 31, 23, 59, 59)
    answer(host, reversal_of(sale("000001", when=eve), stan="000002", transmitted=eve))
    # sent two seconds after field 90's time, in the new year: the same message
    late = sale("000001", when=dt.datetime(2026, 1, 1, 0, 0, 1))
    assert answer(host, late).response_code == "12"


def test_a_reversal_without_original_time_waits_only_so_long(
        host_factory: Callable[..., MockAcquirer]) -> None:
    host = host_factory(tombstone_ttl_ms=1000)
    blind = replace(sale("000001"), mti="0400", stan="000002", pan="", reason="4021",
                    original=OriginalData("0200", "000001", "0000000000"))
    answer(host, blind, now=0)
    assert answer(host, sale("000001"), now=5000).response_code == "00"
    host2 = host_factory(tombstone_ttl_ms=1000)
    answer(host2, blind, now=0)
    assert answer(host2, sale("000001"), now=500).response_code == "12"


def test_reversal_of_a_declined_sale_has_no_effect(host: MockAcquirer) -> None:
    original = sale("000001", amount=1205)
    assert answer(host, original).response_code == "05"
    assert answer(host, reversal_of(original, stan="000002", transmitted=WHEN)).approved
    assert rows(host) == {("000001", "sale"): "declined", ("000002", "reversal"): "no-effect"}


def test_reversal_of_an_approved_void_reinstates_the_sale(host: MockAcquirer) -> None:
    original = sale("000001")
    approved = answer(host, original)
    void = replace(original, kind="void", stan="000002", pan="", rrn=approved.rrn,
                   original=OriginalData("0200", "000001", "0105090000"))
    assert answer(host, void).approved
    assert answer(host, reversal_of(void, stan="000003", transmitted=WHEN)).approved
    assert rows(host) == {("000001", "sale"): "approved", ("000002", "void"): "reversed",
                          ("000003", "reversal"): "applied"}


def test_reversal_advice_and_its_repeat_are_one_reversal(host: MockAcquirer) -> None:
    original = sale("000001")
    answer(host, original)
    advice = reversal_of(original, stan="000002", transmitted=WHEN, mti="0420")
    first = answer(host, advice)
    repeated = answer(host, repeat_of(advice))
    assert (first.mti, repeated.mti) == ("0430", "0430")
    assert repeated == first
    assert rows(host) == {("000001", "sale"): "reversed", ("000002", "reversal"): "applied"}


def test_a_swallowed_0400_is_completed_by_its_0420(
        host_factory: Callable[..., MockAcquirer]) -> None:
    host = host_factory(rules=OutcomeRules(message_overrides={"0400": NO_REPLY}))
    original = sale("000001")
    answer(host, original)
    reversal = reversal_of(original, stan="000002", transmitted=WHEN)
    assert send(host, reversal) is None
    assert send(host, reversal) is None
    assert rows(host) == {("000001", "sale"): "approved", ("000002", "reversal"): "unanswered"}
    advice = replace(reversal, mti="0420")  # store-and-forward: same STAN, as an advice
    reply = answer(host, advice)
    assert (reply.mti, reply.response_code) == ("0430", "00")
    assert answer(host, repeat_of(advice)) == reply
    assert rows(host) == {("000001", "sale"): "reversed", ("000002", "reversal"): "applied"}
    assert len(host.ledger.transactions()) == 2


def test_a_reversed_unanswered_sale_is_never_approved(
        host_factory: Callable[..., MockAcquirer]) -> None:
    host = host_factory(rules=OutcomeRules(terminal_overrides={"T0000001": NO_REPLY}))
    original = sale("000001")
    assert send(host, original) is None
    assert answer(host, reversal_of(original, stan="000002", transmitted=WHEN)).approved
    host.rules = OutcomeRules()  # the host recovers; the sale is retransmitted
    assert answer(host, original).response_code == "12"
    assert rows(host)[("000001", "sale")] == "reversed"


def test_an_unanswered_request_is_processed_afresh_on_retransmission(
        host_factory: Callable[..., MockAcquirer]) -> None:
    host = host_factory(rules=OutcomeRules(terminal_overrides={"T0000001": NO_REPLY}))
    assert send(host, sale("000001")) is None
    rrn = host.ledger.find("T0000001", "000001", "02")["rrn"]  # type: ignore[index]
    host.rules = OutcomeRules()
    reply = answer(host, sale("000001"))
    assert reply.approved
    assert reply.rrn == rrn
    assert rows(host) == {("000001", "sale"): "approved"}


# -- advices, authorizations, refunds ----------------------------------------------------


def test_advice_records_the_offline_sale_once(host: MockAcquirer) -> None:
    advice = advice_of(sale("000001", amount=1205), approval_code="Y1OFFL")
    first = answer(host, advice)  # amount ending 05 would decline online: not an advice
    assert (first.mti, first.response_code, first.approval_code) == ("0230", "00", "Y1OFFL")
    assert answer(host, repeat_of(advice)) == first
    row = host.ledger.find("T0000001", "000001", "02")
    assert row is not None
    assert row["status"] == "approved"
    assert row["approval_code"] == "Y1OFFL"
    assert len(host.ledger.transactions()) == 1


def test_authorization_is_its_own_class(host: MockAcquirer) -> None:
    auth = answer(host, sale("000001", mti="0100"))
    assert auth.mti == "0110"
    assert auth.approved
    assert answer(host, sale("000001", mti="0100")) == auth
    assert answer(host, sale("000001")).mti == "0210"  # same STAN, other class
    assert len(host.ledger.transactions()) == 2
    assert host.ledger.totals("T0000001", 1)["sales_count"] == 1  # 0100s do not settle


def test_refund_is_approved_and_credits_the_card(host: MockAcquirer) -> None:
    answer(host, sale("000001", 1250))
    answer(host, sale("000002", 500))
    refund = answer(host, sale("000003", 300, kind="refund"))
    assert refund.approved
    assert refund.mti == "0210"
    reversed_sale = sale("000004", 9900)
    answer(host, reversed_sale)
    answer(host, reversal_of(reversed_sale, stan="000005", transmitted=WHEN))
    token = token_for(PAN, "key")
    assert host.ledger.balances() == [{
        "card_token": token, "masked_pan": "************1111", "currency": "EUR",
        "sales_count": 2, "sales_minor": 1750, "refunds_count": 1, "refunds_minor": 300,
        "net_minor": 1450}]
    assert host.ledger.balance(token, "EUR") == 1450
    assert host.ledger.balance("tok_unknown", "EUR") == 0


def test_void_via_0100_is_invalid(host: MockAcquirer) -> None:
    assert answer(host, sale("000001", kind="void", mti="0100")).response_code == "12"


# -- reconciliation ----------------------------------------------------------------------


def totals_request(stan: str, totals: Totals) -> TotalsRequest:
    return TotalsRequest(stan, "T0000001", "M1", WHEN, totals)


def test_reconciliation_in_balance_closes_the_batch(host: MockAcquirer) -> None:
    answer(host, sale("000001", 1000))
    answer(host, sale("000002", 250, kind="refund"))
    answer(host, sale("000003", 1205))  # declined: not counted
    voided = sale("000004", 700)
    answer(host, voided)
    answer(host, reversal_of(voided, stan="000005", transmitted=WHEN))
    ours = Totals(sales_count=1, sales_minor=1000, refunds_count=1, refunds_minor=250)
    reply = answer(host, totals_request("000006", ours))
    assert (reply.mti, reply.response_code) == ("0510", "00")
    assert reply.totals == replace(ours, sales_reversed_count=1, sales_reversed_minor=700)
    answer(host, sale("000007", 400))  # the next batch
    assert answer(host, totals_request("000008", Totals(1, 400))).response_code == "00"
    assert host.ledger.open_batch("T0000001") == 3


def test_reconciliation_out_of_balance_is_95_and_keeps_the_batch(host: MockAcquirer) -> None:
    answer(host, sale("000001", 1000))
    answer(host, sale("000002", 2000))
    claimed = Totals(sales_count=1, sales_minor=1000)  # the terminal lost a record
    reply = answer(host, totals_request("000003", claimed))
    assert reply.response_code == "95"
    assert reply.totals is not None
    assert reply.totals.sales_count == 2
    assert reply.totals.sales_minor == 3000
    assert answer(host, totals_request("000003", claimed)) == reply  # retransmission
    assert answer(host, totals_request("000004", Totals(2, 3000))).response_code == "00"
    notes = [m["detail"] for m in host.ledger.messages() if m["mti"] == "0510"]
    assert notes[0] == "batch 1 76: terminal 1 host 2, 88: terminal 1000 host 3000"


def test_reconciliation_survives_a_reopened_ledger(tmp_path: Path,
                                                   host_factory: Callable[..., MockAcquirer]
                                                   ) -> None:
    path = tmp_path / "host.sqlite"
    first = host_factory(HostLedger(path))
    answer(first, sale("000001", 1000))
    assert answer(first, totals_request("000002", Totals(1, 1000))).approved
    first_rrn = first.ledger.find("T0000001", "000001", "02")["rrn"]  # type: ignore[index]
    first.ledger.close()
    second = host_factory(HostLedger(path))
    reply = answer(second, sale("000003", 500))
    assert reply.rrn != first_rrn
    assert answer(second, totals_request("000004", Totals(1, 500))).approved
    second.ledger.close()


# -- network management ------------------------------------------------------------------


@pytest.mark.parametrize(("code", "expected"), [("001", "00"), ("002", "00"), ("301", "00"),
                                                ("999", "12")])
def test_network_management(host: MockAcquirer, code: str, expected: str) -> None:
    reply = answer(host, NetworkRequest("000001", "T0000001", WHEN, code))
    assert (reply.mti, reply.response_code, reply.network_code) == ("0810", expected, code)


def test_network_without_field_70_is_a_format_error(host: MockAcquirer) -> None:
    fields = NetworkRequest("000001", "T0000001", WHEN).to_fields()
    del fields["70"]
    raw = host.handle(codec.encode(fields), 0, WHEN)
    assert raw is not None
    reply = codec.decode(raw)
    assert (reply["t"], reply["39"], reply["11"]) == ("0810", "30", "000001")
    assert "field 70" in host.ledger.messages()[-2]["detail"]


# -- the ledger --------------------------------------------------------------------------


def _log_then_fail(ledger: HostLedger, stan: str) -> None:
    with ledger.atomic():
        ledger.log(0, "in", "0800", "T0000001", stan)
        raise RuntimeError("a bug while processing the message")


def test_a_message_is_one_commit_and_a_failing_savepoint_rolls_back_alone(
        tmp_path: Path) -> None:
    ledger = HostLedger(tmp_path / "host.sqlite")
    with ledger.atomic():
        ledger.log(0, "in", "0800", "T0000001", "000001")
        with pytest.raises(RuntimeError, match="a bug while processing"):
            _log_then_fail(ledger, "000002")
        ledger.log(0, "in", "0800", "T0000001", "000003")
    assert [m["stan"] for m in ledger.messages()] == ["000001", "000003"]
    ledger.close()


#: The transactions table of the first ledgers.
OLD_TRANSACTIONS = (
    "CREATE TABLE transactions (terminal_id TEXT, stan TEXT, mti_class TEXT, "
    "type TEXT, status TEXT, response_code TEXT, rrn TEXT, approval_code TEXT, "
    "masked_pan TEXT, card_token TEXT, amount_minor INTEGER, currency TEXT, "
    "original_stan TEXT, reply BLOB, received_vt INTEGER, updated_vt INTEGER, "
    "PRIMARY KEY (terminal_id, stan, mti_class))")


def test_an_old_ledger_file_gets_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute(OLD_TRANSACTIONS)
        db.commit()
    HostLedger(path).close()
    with closing(sqlite3.connect(path)) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(transactions)")}
    assert {"original_data", "reason", "batch"} <= columns


def test_reversals_are_looked_up_through_an_index_sales_do_not_write(
        tmp_path: Path) -> None:
    """The (terminal, original STAN) index holds reversals only (a sale would add a
    page to every group commit); a ledger from before loses its full index on open."""
    path = tmp_path / "host.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute(OLD_TRANSACTIONS)
        db.execute("CREATE INDEX transactions_original ON transactions "
                   "(terminal_id, original_stan)")
        db.commit()
    ledger = HostLedger(path)
    ledger.close()
    with closing(sqlite3.connect(path)) as db:
        indexes = {row[0]: row[1] for row in db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
        plan = " ".join(str(row[3]) for row in db.execute(
            "EXPLAIN QUERY PLAN " + REVERSALS_OF_SQL, ("T0000001", "000001")))
    assert "transactions_original" not in indexes
    assert "WHERE type = 'reversal'" in indexes["transactions_reversals"]
    assert "USING INDEX transactions_reversals" in plan


def test_an_unopenable_ledger_is_a_journal_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError):
        HostLedger(tmp_path / "missing-dir" / "host.sqlite")


def test_no_full_pan_anywhere_in_the_ledger(tmp_path: Path,
                                            host_factory: Callable[..., MockAcquirer]) -> None:
    path = tmp_path / "host.sqlite"
    host = host_factory(HostLedger(path))
    original = sale("000001")
    answer(host, original)
    answer(host, reversal_of(original, stan="000002", transmitted=WHEN))
    answer(host, advice_of(sale("000003"), approval_code="Y1OFFL"))
    answer(host, sale("000004", kind="refund"))
    host.handle(codec.encode(original.to_fields())[:40], 0, WHEN)  # a format error
    host.ledger.close()
    assert PAN.encode() not in path.read_bytes()
