"""The mock acquirer: rules, idempotency, voids, format errors, ledger without PANs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.rules import NO_REPLY, OutcomeRules
from terminal_sim.base.seeds import SeedTree
from terminal_sim.iso import codec
from terminal_sim.iso.messages import HostReply, HostRequest, OriginalData

WHEN = dt.datetime(2026, 1, 5, 9, 0, 0)


def host(rules: OutcomeRules | None = None) -> MockAcquirer:
    return MockAcquirer(HostLedger(), rules=rules, stream=SeedTree(7).stream("acquirer"),
                        token_key="key")


def request(stan: str = "000001", amount: int = 1250, pan: str = "4111111111111111",
            **changes: Any) -> bytes:
    fields = HostRequest("0200", "sale", stan, "T0000001", "M1", amount, "EUR", WHEN, pan,
                         "2912", **changes).to_fields()
    return codec.encode(fields)


def answer(acquirer: MockAcquirer, message: bytes) -> HostReply:
    raw = acquirer.handle(message, 0, WHEN)
    assert raw is not None
    return HostReply.from_fields(codec.decode(raw))


@pytest.mark.parametrize(("pan", "amount", "code"), [
    ("4111111111111111", 1250, "00"),
    ("4000000000000002", 1250, "05"),
    ("4000000000009995", 1250, "51"),
    ("4111111111111111", 1251, "51"),
    ("4111111111111111", 1254, "54"),
    ("4111111111111111", 1296, "96"),
])
def test_outcome_rules(pan: str, amount: int, code: str) -> None:
    reply = answer(host(), request(pan=pan, amount=amount))
    assert reply.response_code == code
    assert reply.stan == "000001"
    assert reply.terminal_id == "T0000001"
    assert bool(reply.approval_code) == (code == "00")
    assert len(reply.rrn) == 12


def test_terminal_override_wins() -> None:
    reply = answer(host(OutcomeRules(terminal_overrides={"T0000001": "91"})), request())
    assert reply.response_code == "91"


def test_retransmission_gets_the_original_answer_and_one_ledger_entry() -> None:
    acquirer = host()
    first = answer(acquirer, request())
    second = answer(acquirer, request())
    assert first == second
    assert len(acquirer.ledger.transactions()) == 1
    assert [m["direction"] for m in acquirer.ledger.messages()] == ["in", "out", "in", "out"]


def test_no_reply_rule_records_and_answers_nothing() -> None:
    acquirer = host(OutcomeRules(terminal_overrides={"T0000001": NO_REPLY}))
    assert acquirer.handle(request(), 0, WHEN) is None
    assert acquirer.ledger.transactions()[0]["status"] == "unanswered"


def test_void_marks_the_sale_voided_and_refuses_a_second_void() -> None:
    acquirer = host()
    sale = answer(acquirer, request())
    void = request(stan="000002", pan="", rrn=sale.rrn,
                   original=OriginalData("0200", "000001", "0105090000"))
    void = codec.encode({**codec.decode(void), "3": "020000"})
    assert answer(acquirer, void).response_code == "00"
    statuses = {(t["stan"], t["type"]): t["status"] for t in acquirer.ledger.transactions()}
    assert statuses == {("000001", "sale"): "voided", ("000002", "void"): "approved"}
    again = codec.encode({**codec.decode(void), "11": "000003"})
    assert answer(acquirer, again).response_code == "12"


def test_void_of_unknown_sale_is_unable_to_locate() -> None:
    void = codec.encode({**codec.decode(request(
        stan="000009", pan="", original=OriginalData("0200", "000777", "0105090000"))),
        "3": "020000"})
    assert answer(host(), void).response_code == "25"


def test_format_error_reply_when_mti_parses() -> None:
    acquirer = host()
    wire = request()
    raw = acquirer.handle(wire[:25], 0, WHEN)
    assert raw is not None
    reply = codec.decode(raw)
    assert reply["t"] == "0210"
    assert reply["39"] == "30"


def test_garbage_gets_no_reply_and_no_exception() -> None:
    acquirer = host()
    assert acquirer.handle(b"\xff\xfe garbage", 0, WHEN) is None
    assert acquirer.rejected == 1


def test_unsupported_mti_is_a_format_error() -> None:
    raw = host().handle(codec.encode({"t": "0300", "11": "000001", "41": "T0000001"}), 0, WHEN)
    assert raw is not None
    reply = codec.decode(raw)
    assert (reply["t"], reply["39"], reply["11"], reply["41"]) == (
        "0310", "30", "000001", "T0000001")


def test_supported_mti_missing_fields_is_a_format_error() -> None:
    raw = host().handle(codec.encode({"t": "0100", "11": "000001", "41": "T0000001"}), 0, WHEN)
    assert raw is not None
    assert codec.decode(raw)["39"] == "30"


def test_network_echo() -> None:
    raw = host().handle(codec.encode({"t": "0800", "11": "000001", "41": "T0000001",
                                      "70": "301"}), 0, WHEN)
    assert raw is not None
    reply = codec.decode(raw)
    assert reply["t"] == "0810"
    assert reply["39"] == "00"
    assert reply["11"] == "000001"


def test_ledger_keeps_masked_pan_and_token_only() -> None:
    acquirer = host()
    answer(acquirer, request())
    row = acquirer.ledger.transactions()[0]
    assert row["masked_pan"] == "************1111"
    assert row["card_token"].startswith("tok_")
    assert "4111111111111111" not in repr(acquirer.ledger.transactions())
    assert "4111111111111111" not in repr(acquirer.ledger.messages())
