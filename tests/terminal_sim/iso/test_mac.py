"""MACs on the link (fields 64/128): compute, verify, and what the host does with them."""

from __future__ import annotations

import datetime as dt

import pytest

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.base.seeds import SeedTree
from terminal_sim.core.messages import AuthorizationRequest, NetworkCheck
from terminal_sim.iso import codec, mac
from terminal_sim.iso.mapping import read_reply, request_bytes, to_iso
from terminal_sim.iso.messages import HostRequest, OriginalData

WHEN = dt.datetime(2026, 1, 5, 9, 0, 0)


def host() -> MockAcquirer:
    return MockAcquirer(HostLedger(), stream=SeedTree(7).stream("acquirer"), token_key="key")


def sale_fields(stan: str = "000001") -> dict[str, str]:
    return HostRequest("0200", "sale", stan, "T0000001", "M1", 1250, "EUR", WHEN,
                       "4111111111111111", "2912").to_fields()


def reversal_fields() -> dict[str, str]:
    return HostRequest("0400", "sale", "000001", "T0000001", "M1", 1250, "EUR", WHEN,
                       original=OriginalData("0200", "000001", "0105090000"),
                       reason="4021").to_fields()


def test_seal_puts_the_mac_in_64_without_secondary_bitmap_and_it_verifies() -> None:
    sealed = mac.seal(sale_fields())
    fields = codec.decode(sealed)
    assert "64" in fields
    assert "128" not in fields
    assert mac.verify(sealed, fields) is True
    # the MAC is the truncated HMAC of everything before it, under the terminal's key
    assert fields["64"] == mac.compute(sealed[:-16], mac.terminal_key("T0000001"))
    assert len(fields["64"]) == 16


def test_seal_puts_the_mac_in_128_beside_a_secondary_bitmap() -> None:
    sealed = mac.seal(reversal_fields())
    fields = codec.decode(sealed)
    assert "128" in fields
    assert "64" not in fields
    assert mac.verify(sealed, fields) is True


def test_another_terminals_key_does_not_verify() -> None:
    fields = sale_fields()
    sealed = mac.seal(fields)
    body = sealed[:-16]
    forged = body + mac.compute(body, mac.terminal_key("T0000002")).encode()
    assert mac.verify(forged, codec.decode(forged)) is False
    assert mac.terminal_key("T0000001") != mac.terminal_key("T0000002")


def test_a_message_without_mac_is_neither_verified_nor_failed() -> None:
    plain = codec.encode(sale_fields())
    assert mac.verify(plain, codec.decode(plain)) is None


def test_a_mac_in_the_wrong_field_does_not_verify() -> None:
    fields = reversal_fields()
    fields["64"] = "0" * 16  # a MAC in 64 beside a secondary bitmap
    message = codec.encode(fields)
    assert mac.verify(message, codec.decode(message)) is False


@pytest.mark.parametrize("fields", [sale_fields(), reversal_fields()], ids=["0200", "0400"])
def test_tampering_any_byte_of_a_maced_message_books_nothing(fields: dict[str, str]) -> None:
    sealed = mac.seal(fields)
    for position in range(len(sealed)):
        original = sealed[position]
        digit = ord("0") + (original - ord("0") + 1) % 10 if chr(original).isdigit() else None
        for replacement in {original ^ 0x01, ord("A"), digit or ord("7")} - {original}:
            tampered = sealed[:position] + bytes([replacement]) + sealed[position + 1:]
            acquirer = host()
            raw = acquirer.handle(tampered, 0, WHEN)
            assert acquirer.ledger.count() == 0, (position, bytes([replacement]))
            if raw is not None:
                assert codec.decode(raw)["39"] in ("63", "30"), (position, raw)


def test_the_host_answers_63_to_a_failed_mac_and_macs_its_replies() -> None:
    sealed = mac.seal(sale_fields())
    acquirer = host()
    # a corrupted amount digit (field 4): decodes, but the MAC does not verify
    assert sealed.count(b"000000001250") == 1
    tampered = sealed.replace(b"000000001250", b"000000009250")
    raw = acquirer.handle(tampered, 0, WHEN)
    assert raw is not None
    reply = codec.decode(raw)
    assert reply["39"] == "63"
    assert reply["11"] == "000001"  # echoes what it can
    assert mac.verify(raw, reply) is True
    assert acquirer.ledger.count() == 0
    # the intact message is approved, with a MACed reply
    raw = acquirer.handle(sealed, 0, WHEN)
    assert raw is not None
    reply = codec.decode(raw)
    assert reply["39"] == "00"
    assert mac.verify(raw, reply) is True
    assert acquirer.ledger.count() == 1


def test_without_mac_the_host_and_the_wire_are_unchanged() -> None:
    sale = AuthorizationRequest("sale", "000001", "T0000001", "M1", 1250, "EUR", WHEN)
    assert request_bytes(sale) == codec.encode(to_iso(sale))
    raw = host().handle(codec.encode(sale_fields()), 0, WHEN)
    assert raw is not None
    reply = codec.decode(raw)
    assert "64" not in reply
    assert "128" not in reply
    assert read_reply(raw).mac_failed is False


def test_a_terminal_with_mac_distrusts_a_reply_without_or_with_a_bad_mac() -> None:
    check = NetworkCheck("000001", "T0000001", WHEN)
    sealed = request_bytes(check, mac=True)
    assert mac.verify(sealed, codec.decode(sealed)) is True
    raw = host().handle(sealed, 0, WHEN)
    assert raw is not None
    assert read_reply(raw, mac=True).mac_failed is False
    assert read_reply(codec.encode(codec.decode(raw)), mac=True).mac_failed is False
    unsealed = {k: v for k, v in codec.decode(raw).items() if k not in ("1", "64", "128")}
    assert read_reply(codec.encode(unsealed), mac=True).mac_failed is True
    flipped = raw[:-1] + (b"0" if raw[-1:] != b"0" else b"1")
    assert read_reply(flipped, mac=True).mac_failed is True


def test_problem_with_reports_a_failed_mac() -> None:
    sale = AuthorizationRequest("sale", "000001", "T0000001", "M1", 1250, "EUR", WHEN)
    raw = host().handle(codec.encode(sale_fields()), 0, WHEN)
    assert raw is not None
    assert read_reply(raw).problem_with(sale) == ""
    assert "MAC" in read_reply(raw, mac=True).problem_with(sale)
