"""The robust terminal and the host's new answers (issue 16): 94 for a reused STAN, 14
for a Luhn failure, 12 for a sale resent after its reversal.

The request is the core's own, encoded as the link encodes it; the answer is the real
host's, read back as the link reads it. Each answer is a decline the terminal takes as
it reads (the host booked nothing to reverse), never an approval.
"""

from __future__ import annotations

import datetime as dt

import pytest

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.base.cards import Card
from terminal_sim.base.money import Money
from terminal_sim.core import (
    CardRead,
    HostReplied,
    PowerOn,
    QueueReversal,
    SaleRequested,
    SendToHost,
    TerminalCore,
    TerminalFleet,
    WriteJournal,
    get_profile,
)
from terminal_sim.core.messages import AuthorizationRequest
from terminal_sim.iso import codec
from terminal_sim.iso.mapping import read_reply, request_bytes, to_wire
from terminal_sim.iso.messages import HostRequest, reversal_of
from tests.terminal_sim.acquirer.conftest import make_host

WALL = dt.datetime(2026, 1, 5, 8, 0, 0)


def _authorizing(card: Card, amount: int = 1250) -> tuple[TerminalCore, AuthorizationRequest]:
    core = TerminalCore("T0000001", merchant_id="M1", merchant_name="SHOP",
                        profile=get_profile("robust"), token_key="k")
    TerminalFleet().add([core])
    core.handle(PowerOn(), 0, WALL)
    core.handle(SaleRequested("s1", Money(amount, "EUR"), card), 0, WALL)
    effects = core.handle(CardRead("s1", card), 0, WALL)
    send = next(e for e in effects if isinstance(e, SendToHost))
    return core, send.request


def _answer(core: TerminalCore, host: MockAcquirer, message: bytes) -> tuple[str, list[str]]:
    """The host's response code and what the core did with it."""
    answer = host.handle(message, 1000, WALL)
    assert answer is not None
    effects = core.handle(HostReplied(read_reply(answer)), 1000, WALL)
    journal = [e.entry.state for e in effects if isinstance(e, WriteJournal)]
    assert not any(isinstance(e, QueueReversal) for e in effects)
    return codec.decode(answer)["39"], journal


def test_luhn_failure_is_declined_14() -> None:
    core, request = _authorizing(Card("4111111111111112"))
    assert _answer(core, make_host(), request_bytes(request)) == ("14", ["declined"])


def test_reused_stan_is_declined_94_and_booked_nowhere() -> None:
    host = make_host()
    _, old = _authorizing(Card("4111111111111111"), amount=9900)
    assert codec.decode(host.handle(request_bytes(old), 0, WALL) or b"")["39"] == "00"
    core, request = _authorizing(Card("4111111111111111"))  # its STAN counter began anew
    assert request.stan == old.stan
    assert _answer(core, host, request_bytes(request)) == ("94", ["declined"])
    assert [row["amount_minor"] for row in host.ledger.transactions()] == [9900]


@pytest.mark.parametrize("reverse", [True, False])
def test_sale_resent_after_its_reversal_is_declined_12(reverse: bool) -> None:
    host = make_host()
    core, request = _authorizing(Card("4111111111111111"))
    message = request_bytes(request)
    assert codec.decode(host.handle(message, 0, WALL) or b"")["39"] == "00"
    if reverse:
        sale = to_wire(request)
        assert isinstance(sale, HostRequest)
        reversal = reversal_of(sale, stan="000777", transmitted=WALL)
        host.handle(codec.encode(reversal.to_fields()), 500, WALL)
    code, journal = _answer(core, host, message)  # the same bytes again
    assert (code, journal) == (("12", ["declined"]) if reverse else ("00", ["approved"]))
