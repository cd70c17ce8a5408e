"""Store and forward of reversals: the terminal's background task that cancels, at the
host, every transaction it gave up on.

A queued reversal is a row in the journal's ``saf`` table, written under the journal's
durability model (so it survives a power cut when the journal does). The agent sends
it as an 0400; unanswered, it repeats it as an 0420 reversal advice and then 0421
repeats, with exponential backoff, until an 0410/0430 acknowledges it; then the
record's state becomes ``reversed``. After ``max_attempts`` it gives up and says so
in the trace (a liveness failure the sweep reports). At boot it resumes what is left.

The reversal carries the original STAN (the host's idempotency key for class 04) and
field 90, so a repeat is never a second reversal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from terminal_sim.core.messages import HostReply, OriginalRef, ReversalRequest
from terminal_sim.errors import PowerLost

if TYPE_CHECKING:
    from terminal_sim.sim.node import TerminalNode

REVERSAL_REPLIES = ("0410", "0430")
#: How the n-th attempt travels: online first, then as an advice, then its repeats.
DELIVERY_BY_ATTEMPT = ("online", "advice", "repeat")


class ReversalAgent:
    """Drains one terminal's reversal queue."""

    def __init__(self, node: TerminalNode, *, first_retry_ms: int = 5_000,
                 max_retry_ms: int = 300_000, max_attempts: int = 30) -> None:
        self.node = node
        self.first_retry_ms = first_retry_ms
        self.max_retry_ms = max_retry_ms
        self.max_attempts = max_attempts
        self._timers: dict[str, Any] = {}

    # -- the queue -----------------------------------------------------------------------

    def enqueue(self, stan: str, reason: str) -> None:
        """Persist a reversal of ``stan`` (once: a second request for it changes nothing)."""
        journal = self.node.ports.journal
        now = self.node.clock.now()
        if any(row["stan"] == stan for row in journal.saf_rows()):
            return
        journal.saf_put({"stan": stan, "reason": reason, "state": "pending", "attempts": 0,
                         "response_code": "", "created_vt": now, "updated_vt": now}, now)
        self.node.scheduler.after(0, lambda: self._attempt(stan))

    def resume(self) -> None:
        """Boot: send again everything still pending."""
        for row in self.node.ports.journal.saf_rows("pending"):
            self.node.scheduler.after(0, partial(self._attempt, row["stan"]))

    def pending(self) -> list[str]:
        return [row["stan"] for row in self.node.ports.journal.saf_rows("pending")]

    # -- sending -------------------------------------------------------------------------

    def _row(self, stan: str) -> dict[str, Any] | None:
        for row in self.node.ports.journal.saf_rows():
            if row["stan"] == stan:
                return row
        return None

    def _attempt(self, stan: str) -> None:
        node = self.node
        self._timers.pop(stan, None)
        row = self._row(stan)
        if not node.powered or row is None or row["state"] != "pending":
            return
        now = node.clock.now()
        attempts = int(row["attempts"])
        if attempts >= self.max_attempts:
            node.ports.journal.saf_put({**row, "state": "given-up", "updated_vt": now}, now)
            node.note("reversal_given_up", stan=stan, attempts=attempts)
            return
        request = self._request(stan, row, attempts)
        if request is None:
            node.note("reversal_unbuildable", stan=stan)
            return
        guard = self._guard("reversal")
        with guard:
            node.ports.journal.saf_put({**row, "attempts": attempts + 1, "updated_vt": now},
                                       now)
            node.trace.write(now, node.terminal_id, node.core.state, "effect",
                             f"send_{request.message_type}", flow="reversal",
                             crash_point="reversal/after:send_reversal",
                             data=request.trace_data())
            node.ports.link.send(node.terminal_id, request, node.on_reply)
            node.crash_point("reversal/after:send_reversal")
        if guard.cut:
            return
        delay = min(self.max_retry_ms, self.first_retry_ms * (2 ** attempts))
        self._timers[stan] = node.scheduler.after(delay, lambda: self._attempt(stan))

    def _request(self, stan: str, row: dict[str, Any], attempts: int) -> ReversalRequest | None:
        node = self.node
        entry = node.ports.journal.entry(stan)
        if entry is None:
            return None
        delivery = DELIVERY_BY_ATTEMPT[min(attempts, len(DELIVERY_BY_ATTEMPT) - 1)]
        started = node.clock_epoch() + dt.timedelta(milliseconds=entry.created_vt)
        return ReversalRequest(
            kind=entry.type, stan=stan, terminal_id=node.terminal_id,
            merchant_id=node.core.merchant_id, amount_minor=entry.amount_minor,
            currency=entry.currency, sent_at=node.clock.wall().replace(microsecond=0),
            original=OriginalRef(stan, started), reason=row["reason"], rrn=entry.rrn,
            delivery=delivery)

    # -- acknowledgement -----------------------------------------------------------------

    def on_reply(self, reply: HostReply) -> None:
        node = self.node
        row = self._row(reply.stan)
        now = node.clock.now()
        node.trace.write(now, node.terminal_id, node.core.state, "event", "reversal_reply",
                         flow="reversal", crash_point="reversal/after:reversal_reply",
                         data=reply.trace_data())
        if row is None or row["state"] != "pending":
            return  # a repeat's answer after the first one was taken
        guard = self._guard("reversal")
        with guard:
            node.crash_point("reversal/after:reversal_reply")
            node.ports.journal.saf_put({**row, "state": "acked", "updated_vt": now,
                                        "response_code": reply.response_code}, now)
            node.crash_point("reversal/after:saf_acked")
            entry = node.ports.journal.entry(reply.stan)
            if entry is not None and entry.state != "reversed":
                node.ports.journal.commit(replace(entry, state="reversed", updated_vt=now), now)
                node.crash_point("reversal/after:journal_reversed")
        timer = self._timers.pop(reply.stan, None)
        if timer is not None:
            timer.cancel()

    def _guard(self, flow: str) -> _PowerGuard:
        return _PowerGuard(self.node)


class _PowerGuard:
    """Turns a power cut at one of the agent's crash points into the node's power cut."""

    def __init__(self, node: TerminalNode) -> None:
        self.node = node
        self.cut = False

    def __enter__(self) -> _PowerGuard:
        return self

    def __exit__(self, kind: Any, error: Any, tb: Any) -> bool:
        if isinstance(error, PowerLost):
            self.cut = True
            self.node.power_cut(error.crash_point, reboot_after_ms=error.reboot_after_ms
                                if error.reboot_after_ms is not None else 30_000,
                                keeps_unsynced=error.keeps_unsynced)
            return True
        return False


__all__ = ["REVERSAL_REPLIES", "ReversalAgent"]
