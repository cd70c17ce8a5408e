"""End of day: the terminal sends its batch totals (0500) and the host compares (0510).

The totals come from the journal: approved sales and refunds that stand (not voided
or reversed). The host answers ``00`` when they balance and ``95`` when they do not,
with its own totals; the trace keeps both, so an out-of-balance day is visible even
before reconciliation looks at the evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from terminal_sim.core.messages import BatchTotals, HostReply, SettlementRequest
from terminal_sim.errors import PowerLost
from terminal_sim.iso.mapping import to_wire, wire_totals

if TYPE_CHECKING:
    from terminal_sim.sim.node import TerminalNode


def journal_totals(node: TerminalNode) -> BatchTotals:
    """The terminal's view of its batch."""
    journal = node.ports.journal
    voided = {e.original_stan for e in journal.entries(state="approved", kind="void")}
    sales = [e for e in journal.entries(state="approved", kind="sale")
             if e.stan not in voided]
    refunds = journal.entries(state="approved", kind="refund")
    gone = [e for e in journal.entries(kind="sale")
            if e.stan in voided or e.state == "reversed"]
    return BatchTotals(
        sales_count=len(sales), sales_minor=sum(e.amount_minor for e in sales),
        refunds_count=len(refunds), refunds_minor=sum(e.amount_minor for e in refunds),
        sales_reversed_count=len(gone), sales_reversed_minor=sum(e.amount_minor for e in gone))


class Settlement:
    """Sends one terminal's 0500 and records the 0510."""

    def __init__(self, node: TerminalNode) -> None:
        self.node = node
        self.sent: BatchTotals | None = None
        self.answer: HostReply | None = None

    def start(self) -> None:
        node = self.node
        if not node.powered:
            node.note("settlement_skipped", reason="terminal is off")
            return
        if node.saf is not None:  # the settlement forces a last try of queued reversals
            node.saf.final_attempt()
            if not node.powered:  # a power cut at the reversal's crash point
                return
        totals = journal_totals(node)
        self.sent = totals
        request = SettlementRequest(node.core.next_stan(), node.terminal_id,
                                    node.core.merchant_id,
                                    node.clock.wall().replace(microsecond=0), totals)
        node.trace.write(node.clock.now(), node.terminal_id, node.core.state, "effect",
                         "send_totals", flow="settlement",
                         crash_point="settlement/after:send_totals",
                         data=to_wire(request).trace_data())  # totals by field number
        node.ports.link.send(node.terminal_id, request, node.on_reply)
        try:
            node.crash_point("settlement/after:send_totals")
        except PowerLost as cut:
            node.power_cut(cut.crash_point, reboot_after_ms=cut.reboot_after_ms or 30_000,
                           keeps_unsynced=cut.keeps_unsynced)

    def on_reply(self, reply: HostReply) -> None:
        node = self.node
        self.answer = reply
        balanced = reply.response_code == "00"
        if balanced:  # the batch is closed: its records may be evicted now
            node.batch_opened_vt = node.clock.now()
        data = {"rc": reply.response_code, "balanced": balanced, "stan": reply.stan}
        if not balanced and reply.totals is not None and self.sent is not None:
            differences = wire_totals(self.sent).differences(wire_totals(reply.totals))
            data["differences"] = {k: list(v) for k, v in differences.items()}
        node.trace.write(node.clock.now(), node.terminal_id, node.core.state, "event",
                         "totals_reply", flow="settlement",
                         crash_point="settlement/after:totals_reply", data=data)
        try:
            node.crash_point("settlement/after:totals_reply")
        except PowerLost as cut:
            node.power_cut(cut.crash_point, reboot_after_ms=cut.reboot_after_ms or 30_000,
                           keeps_unsynced=cut.keeps_unsynced)
