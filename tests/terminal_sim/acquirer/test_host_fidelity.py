"""Issue 16: the acquirer answers like a host.

Hand-built frames (pyiso8583 + struct, see ``wire.py``) over TCP to the server: format
errors echo what a client matches on, a reused STAN gets 94, a resent sale after its
reversal is not approved, a Luhn failure gets 14, every 0210/0410 echoes 3, 7, 11, 41.
"""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest

from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.server import ServerThread
from terminal_sim.iso.framing import FRAMINGS, get_framing
from tests.terminal_sim.acquirer.conftest import make_host
from tests.terminal_sim.acquirer.wire import Wire

ECHOED = ("3", "7", "11", "41")


def _reversal(sale: dict[str, str], stan: str) -> dict[str, str]:
    fields = {k: v for k, v in sale.items() if k not in ("2", "14")}
    fields.update({"t": "0400", "11": stan, "60": "4021",
                   "90": "0200" + sale["11"] + sale["7"] + "0" * 22})
    return fields


def _echoes(request: dict[str, str], reply: dict[str, str], names: tuple[str, ...] = ECHOED
            ) -> None:
    for name in names:
        assert reply.get(name) == request[name], (name, request, reply)


def _booked(ledger_path: Path) -> list[dict[str, object]]:
    books = HostLedger(ledger_path)
    try:
        return books.transactions()
    finally:
        books.close()


def test_letters_in_field_4_get_30_echoing_stan_and_terminal(server: ServerThread,
                                                               wire: Wire) -> None:
    bad = {**wire.sale(stan="000101"), "4": "00000000AB12"}
    reply = wire.exchange(server.address, bad)
    assert reply["t"] == "0210"
    assert reply["39"] == "30"
    _echoes(bad, reply, ("3", "7", "11", "41", "42"))


def test_letters_in_field_11_still_echo_the_terminal(server: ServerThread, wire: Wire) -> None:
    bad = {**wire.sale(), "11": "00A001"}
    reply = wire.exchange(server.address, bad)
    assert reply["39"] == "30"
    assert "11" not in reply  # not well-formed: not echoed
    assert reply["41"] == bad["41"]


def test_reused_stan_with_another_amount_gets_94_and_books_nothing(
        server: ServerThread, wire: Wire, ledger_path: Path) -> None:
    first = wire.sale(stan="000200", amount=1250)
    assert wire.exchange(server.address, first)["39"] == "00"
    second = wire.sale(stan="000200", amount=9900)
    reply = wire.exchange(server.address, second)
    assert reply["39"] == "94"
    assert "38" not in reply  # not the old approval's code
    assert "37" not in reply  # nor its RRN
    _echoes(second, reply)
    server.stop()
    rows = _booked(ledger_path)
    assert [(row["stan"], row["amount_minor"]) for row in rows] == [("000200", 1250)]


def test_resent_sale_after_its_reversal_is_not_approved(server: ServerThread,
                                                        wire: Wire) -> None:
    sale = wire.sale(stan="000300")
    approved = wire.exchange(server.address, sale)
    assert approved["39"] == "00"
    reversal = _reversal(sale, "000301")
    reversed_ = wire.exchange(server.address, reversal)
    assert reversed_["t"] == "0410"
    _echoes(reversal, reversed_)
    again = wire.exchange(server.address, sale)
    assert again["39"] == "12"
    assert "38" not in again
    _echoes(sale, again)


def test_luhn_failure_gets_14(server: ServerThread, wire: Wire) -> None:
    sale = wire.sale(stan="000400", pan="4111111111111112")
    reply = wire.exchange(server.address, sale)
    assert reply["39"] == "14"
    _echoes(sale, reply)


def test_every_0210_and_0410_echoes_3_7_11_41(server: ServerThread, wire: Wire) -> None:
    requests = [wire.sale(stan="000501"), wire.sale(stan="000502", amount=1205),
                wire.sale(stan="000501")]  # approve, decline, retransmission
    requests.append(_reversal(requests[0], "000503"))
    requests.append({**requests[3], "t": "0420", "11": "000504"})
    for request in requests:
        reply = wire.exchange(server.address, request)
        _echoes(request, reply)


def test_stan_reused_outside_the_window_is_a_new_transaction(wire: Wire) -> None:
    acquirer = make_host(duplicate_window_ms=1000)
    when = dt.datetime(2026, 1, 5, 9, 0)
    first = Wire.frame(wire.sale(stan="000600", amount=1250))[2:]
    later = Wire.frame({**wire.sale(stan="000600", amount=3300), "7": "0205090000"})[2:]
    assert acquirer.handle(first, 0, when) is not None
    assert acquirer.handle(later, 5000, when) is not None
    rows = acquirer.ledger.transactions()
    assert [(row["amount_minor"], row["status"]) for row in rows] == [(3300, "approved")]


@pytest.mark.parametrize("name", FRAMINGS)
def test_each_framing_answers_hand_built_frames(name: str, tmp_path: Path,
                                                wire: Wire) -> None:
    """The frames are built here by hand, not with the framing module."""
    ledger = HostLedger(tmp_path / "host.sqlite")
    running = ServerThread(make_host(ledger), framing=get_framing(name))
    running.start()
    try:
        message = Wire.frame(wire.sale(stan="000700"))[2:]
        if name == "ascii":
            wire_bytes = b"%04d" % len(message) + message
        elif name == "tpdu":
            wire_bytes = (len(message) + 5).to_bytes(2, "big") + b"\x60\x00\x07\x00\x03" + message
        else:
            wire_bytes = len(message).to_bytes(2, "big") + message
        with socket.create_connection(running.address, timeout=60) as sock:
            sock.sendall(wire_bytes)
            head = Wire.recv_exact(sock, 4 if name == "ascii" else 2)
            size = int(head) if name == "ascii" else int.from_bytes(head, "big")
            body = Wire.recv_exact(sock, size)
        if name == "tpdu":
            assert body[:5] == b"\x60\x00\x03\x00\x07"  # source and destination swapped
            body = body[5:]
        assert body[:4] == b"0210"
    finally:
        running.stop()
        ledger.close()
