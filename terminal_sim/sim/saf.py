"""Store and forward of reversals: the terminal's background task that cancels, at the
host, every transaction it gave up on.

A queued reversal is a row in the journal's ``saf`` table, written under the journal's
durability model (so it survives a power cut when the journal does). The agent sends
it as an 0400; unanswered, it repeats it as an 0420 reversal advice and then 0421
repeats, with exponential backoff (capped), until an 0410/0430 acknowledges it; then
the record's state becomes ``reversed``.

* The queue row carries everything the message needs (kind, amount, currency, RRN,
  card token, the original's own transmission time for field 90): eviction or an
  update's migration of the ``records`` table cannot make a queued reversal unbuildable.
* The profile's ``reversal_max_attempts`` caps the attempts (0: no cap). Without a cap
  the agent retries until the day's end (``until_ms``) and the settlement forces one
  last attempt (:meth:`final_attempt`); a reversal still queued then is a liveness
  failure. With a cap it gives up (``given-up``, ``reversal_given_up`` in the trace):
  a liveness failure, and an ORPHAN_AUTHORIZATION when the host holds the approval.
* One retry path per reversal: a reversal queued at boot (the core's recovery) is
  already scheduled when :meth:`resume` runs, and a power cut cancels every retry
  timer, so no two messages of one STAN leave at one instant.

The reversal carries the original STAN (the host's idempotency key for class 04) and
field 90, so a repeat is never a second reversal. Only an answer that took the reversal
acknowledges it: response code 00, and the echo of this terminal's id the request
carried. Any other answer (30 to a request corrupted beyond reading, an
echo naming another terminal because the request's field 41 was damaged on the way) is
noted as ``reversal_not_acknowledged`` and the reversal goes again at its next retry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from terminal_sim.core.effects import JournalEntry
from terminal_sim.core.messages import RC_APPROVED, HostReply, OriginalRef, ReversalRequest
from terminal_sim.errors import PowerLost

if TYPE_CHECKING:
    from terminal_sim.sim.node import TerminalNode

#: Attempts before giving up when the profile sets no cap and nothing bounds the run (a
#: live run has no end of day to settle at).
UNBOUNDED_RUN_MAX_ATTEMPTS = 30

REVERSAL_REPLIES = ("0410", "0430")
#: How the n-th attempt travels: online first, then as an advice, then its repeats.
DELIVERY_BY_ATTEMPT = ("online", "advice", "repeat")


class ReversalAgent:
    """Drains one terminal's reversal queue."""

    def __init__(self, node: TerminalNode, *, first_retry_ms: int = 5_000,
                 max_retry_ms: int = 300_000, max_attempts: int | None = None) -> None:
        self.node = node
        self.first_retry_ms = first_retry_ms
        self.max_retry_ms = max_retry_ms
        #: None: the profile's ``reversal_max_attempts``
        self._max_attempts = max_attempts
        #: no retry is scheduled after this virtual time (the settlement tries once more)
        self.until_ms: int | None = None
        self._timers: dict[str, Any] = {}

    @property
    def max_attempts(self) -> int:
        """The cap on attempts; 0 means none (retry until the settlement)."""
        cap = (self._max_attempts if self._max_attempts is not None
               else self.node.core.profile.reversal_max_attempts)
        if cap == 0 and self.until_ms is None:
            return UNBOUNDED_RUN_MAX_ATTEMPTS
        return cap

    # -- the queue -----------------------------------------------------------------------

    def enqueue(self, stan: str, reason: str, original: JournalEntry | None = None) -> None:
        """Persist a reversal of ``stan`` (once: a second request for it changes nothing).

        The row copies what the message needs from ``original`` (else from the journal's
        record of ``stan``)."""
        journal = self.node.ports.journal
        now = self.node.clock.now()
        if any(row["stan"] == stan for row in journal.saf_rows()):
            return
        source = original if original is not None else journal.entry(stan)
        journal.saf_put({"stan": stan, "reason": reason, "state": "pending", "attempts": 0,
                         "response_code": "", "created_vt": now, "updated_vt": now,
                         **_message_columns(source)}, now)
        self._schedule(stan, 0)

    def resume(self) -> None:
        """Boot: send again everything still pending that is not scheduled yet (a
        reversal the core's recovery queued at this boot already is)."""
        for row in self.node.ports.journal.saf_rows("pending"):
            if row["stan"] not in self._timers:
                self._schedule(row["stan"], 0)

    def power_lost(self) -> None:
        """Power is gone: no retry timer survives it (the boot resumes the queue)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def final_attempt(self) -> None:
        """The settlement: one last attempt for every reversal still pending, now."""
        for stan in self.pending():
            timer = self._timers.pop(stan, None)
            if timer is not None:
                timer.cancel()
            self._attempt(stan, final=True)

    def pending(self) -> list[str]:
        return [row["stan"] for row in self.node.ports.journal.saf_rows("pending")]

    def _schedule(self, stan: str, delay_ms: int) -> None:
        self._timers[stan] = self.node.scheduler.after(delay_ms, partial(self._attempt, stan))

    # -- sending -------------------------------------------------------------------------

    def _row(self, stan: str) -> dict[str, Any] | None:
        for row in self.node.ports.journal.saf_rows():
            if row["stan"] == stan:
                return row
        return None

    def _attempt(self, stan: str, *, final: bool = False) -> None:
        node = self.node
        self._timers.pop(stan, None)
        row = self._row(stan)
        if not node.powered or row is None or row["state"] != "pending":
            return
        now = node.clock.now()
        attempts = int(row["attempts"])
        if self.max_attempts and attempts >= self.max_attempts:
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
        if guard.cut or final:
            return
        delay = min(self.max_retry_ms, self.first_retry_ms * (2 ** min(attempts, 32)))
        if self.until_ms is not None and now + delay > self.until_ms:
            if now >= self.until_ms:
                return  # the day is over: the settlement makes the last attempt
            delay = self.until_ms - now
        self._schedule(stan, delay)

    def _request(self, stan: str, row: dict[str, Any], attempts: int) -> ReversalRequest | None:
        node = self.node
        if not row.get("kind"):  # a row queued without its message: the record must say
            entry = node.ports.journal.entry(stan)
            if entry is None:
                return None
            row = {**row, **_message_columns(entry)}
        delivery = DELIVERY_BY_ATTEMPT[min(attempts, len(DELIVERY_BY_ATTEMPT) - 1)]
        sent = row["original_sent"]
        # field 90 repeats the original's own field 7; unknown, it says so with zeros
        started = dt.datetime.fromisoformat(sent) if sent else None
        return ReversalRequest(
            kind=row["kind"], stan=stan, terminal_id=node.terminal_id,
            merchant_id=node.core.merchant_id, amount_minor=int(row["amount_minor"]),
            currency=row["currency"], sent_at=node.clock.wall().replace(microsecond=0),
            original=OriginalRef(stan, started), reason=row["reason"], rrn=row["rrn"],
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
        refused = _not_taken(reply, node.terminal_id)
        if refused:  # the retry timer stays: the reversal goes again
            node.note("reversal_not_acknowledged", stan=reply.stan, rc=reply.response_code,
                      reason=refused)
            return
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


def abandoned_reversals(node: TerminalNode) -> list[str]:
    """Liveness problems: every reversal this terminal gave up on (``given-up``)."""
    return [f"{node.terminal_id} abandoned the reversal of STAN {row['stan']} after "
            f"{row['attempts']} attempts" for row in node.ports.journal.saf_rows("given-up")]


def _not_taken(reply: HostReply, terminal_id: str) -> str:
    """Why ``reply`` does not acknowledge the reversal in ``row`` ("" when it does)."""
    if reply.response_code != RC_APPROVED:
        return f"response code {reply.response_code}: the host did not take the reversal"
    if reply.terminal_id != terminal_id:
        return f"the answer names terminal {reply.terminal_id}, not {terminal_id}"
    # the amount is not compared: every reversal is a full one, and the host's answer to
    # a repeat echoes the first copy it took, whose amount the wire may have damaged
    return ""


def _message_columns(entry: JournalEntry | None) -> dict[str, Any]:
    """What a queued reversal's message needs, copied from the record it reverses."""
    if entry is None:
        return {}
    return {"kind": entry.type, "sale_id": entry.sale_id, "amount_minor": entry.amount_minor,
            "currency": entry.currency, "rrn": entry.rrn, "masked_pan": entry.masked_pan,
            "card_token": entry.card_token, "original_sent": entry.sent_at}


__all__ = ["REVERSAL_REPLIES", "UNBOUNDED_RUN_MAX_ATTEMPTS", "ReversalAgent",
           "abandoned_reversals"]
