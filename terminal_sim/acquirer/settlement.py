"""The host's 0500 reconciliation: terminal totals against the ledger's, batch by batch.

See "0500 reconciliation" in :mod:`terminal_sim.acquirer.host`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from terminal_sim.acquirer import checks
from terminal_sim.acquirer.rules import NO_REPLY
from terminal_sim.iso import codec
from terminal_sim.iso.messages import HostReply, Totals, TotalsRequest, message_class, reply_mti
from terminal_sim.iso.spec import RC_APPROVED, RC_OUT_OF_BALANCE

if TYPE_CHECKING:
    from terminal_sim.acquirer.host import MockAcquirer


def reconcile(host: MockAcquirer, request: TotalsRequest, now: int) -> HostReply | None:
    """An 0500: the terminal's totals against the host's (see the host's docstring)."""
    terminal_id, stan = request.terminal_id, request.stan
    host.ledger.log(now, "in", request.mti, terminal_id, stan,
                    detail=" ".join(f"{k}={v}" for k, v in request.trace_data().items()
                                    if k.isdigit()))
    seen = host.ledger.find(terminal_id, stan, message_class(request.mti))
    answer_mti = reply_mti(request.mti)
    if seen is not None and seen["status"] != "unanswered" and seen["reply"]:
        stored = HostReply.from_fields(codec.decode(seen["reply"])).with_mti(
            answer_mti, request.to_fields())
        host.ledger.log(now, "out", answer_mti, terminal_id, stan, stored.response_code,
                        "retransmission: original reply repeated")
        return stored
    batch = host.open_batch_of(terminal_id)
    host_totals = Totals(**host.ledger.totals(terminal_id, batch))
    forced = host.rules.override_for(request.mti)
    if forced == NO_REPLY:
        status, code = "unanswered", ""
    elif forced is not None:
        status, code = "declined", forced
    elif request.totals.balances_with(host_totals):
        status, code = "balanced", RC_APPROVED
    else:
        status, code = "out-of-balance", RC_OUT_OF_BALANCE
    reply = None if forced == NO_REPLY else HostReply(answer_mti, stan, terminal_id, code,
                                                      totals=host_totals,
                                                      echo=checks.echo(request))
    host.ledger.record({
        "terminal_id": terminal_id, "stan": stan, "mti_class": message_class(request.mti),
        "type": "settlement", "status": status, "response_code": code, "rrn": "",
        "approval_code": "", "masked_pan": "", "card_token": "",
        "amount_minor": host_totals.sales_minor - host_totals.refunds_minor,
        "currency": "", "original_stan": "",
        "reply": host.encode_reply(reply) if reply is not None else None,
        "received_vt": seen["received_vt"] if seen is not None else now,
        "updated_vt": now, "batch": batch,
    }, replace=seen is not None)
    if status == "balanced":
        host.batches[terminal_id] = batch + 1
    if reply is None:
        return None
    differences = request.totals.differences(host_totals)
    host.ledger.log(now, "out", answer_mti, terminal_id, stan, code,
                    f"batch {batch} " + (", ".join(
                        f"{name}: terminal {ours} host {theirs}"
                        for name, (ours, theirs) in differences.items()) or "in balance"))
    return reply
