"""The mock acquirer's message processing: bytes in, bytes out, ledger in between.

:meth:`MockAcquirer.handle` is transport-free: the in-process link of the simulator
and the TCP server call the same method. It never raises on input: a message that
does not decode gets a format-error reply (field 39 = ``30``) when its MTI and
enough of it parsed, else no reply and a logged reason. The processing of one
message is one ledger commit, made before the reply is returned: a reply lost on the
way back is lost *after* the host committed, as on a real link.

Semantics (field use in :mod:`terminal_sim.iso.spec`):

* **Idempotency**: every transaction message is keyed by (terminal id, STAN, message
  class = MTI digits 1-2). A retransmission gets the stored answer under its own reply
  MTI (an 0421 gets the 0430 of the 0420; an 0420 after an unanswered 0400 with the same
  STAN is the same reversal), no second entry; a reused STAN gets ``94`` or is a new
  transaction (:mod:`terminal_sim.acquirer.checks`). A request recorded ``unanswered``
  is processed afresh, in place. 0800s are answered on their merits every time.
* **Echo**: every reply carries fields 3, 7, 11, 41, 42 of its request as far as they
  are well-formed, format errors (``30``) and ``63`` included.
* **0100/0200 sale and refund**: decided by :class:`~terminal_sim.acquirer.rules.OutcomeRules`.
  0100 authorizations are recorded in class ``01`` and left out of the batch totals.
* **0200 void**: ``25`` when the original sale is unknown, ``12`` when it is not an
  approved sale any more, else ``00`` and the sale becomes ``voided``.
* **0220/0221 advice**: the terminal approved offline; the host records the sale (or
  refund) as approved with the terminal's approval code (field 38) and answers ``00``.
* **0400/0420/0421 reversal**: the original is the message named by field 90 (MTI and
  STAN), or without field 90 the 0200 with the reversal's own STAN. The answer is
  always ``00``; the reversal's ledger row says what happened:

  ======================  ========================================================
  status                  what the host did
  ======================  ========================================================
  applied                 the original (approved or unanswered) is now ``reversed``;
                          reversing an approved void reinstates its sale
  no-effect               the original was already reversed, voided or declined
  unknown-original        nothing arrived to reverse: the reversal is remembered,
                          and an original that arrives later with that STAN (and a
                          field 7 within ``tombstone_ttl_ms``, default 24 h, of the
                          time field 90 named; without a time in field 90, within
                          that long of the reversal in host time) is **declined with
                          12** and recorded ``declined``, never approved
  late-original-declined  an unknown-original reversal whose late original came
  ======================  ========================================================

  The amount of a reversal is recorded, not compared: every reversal is a full one.
* **0500 reconciliation**: the terminal's totals (fields 74/76/86/88: refunds and
  sales that stand in its open batch) against the host's, computed from the ledger
  (0200/0220 rows of that batch). Equal: ``00`` and the batch closes (the next
  transactions go to the next batch). Different: ``95`` and the batch stays open.
  The 0510 carries the host's totals in fields 74-77/86-89 either way.
* **MAC** (field 64, or 128 beside a secondary bitmap; :mod:`terminal_sim.iso.mac`): a
  message that carries one has it verified first; one that does not verify books
  nothing and is answered ``63`` (security violation), MACed, echoing its MTI, STAN and
  terminal id when well-formed. The reply to a MACed message is MACed. A message
  without MAC is processed as it is (terminals without MAC, plain ISO 8583 clients).
* **0800 network**: ``001`` sign-on, ``002`` sign-off, ``301`` echo get ``00``; another
  code ``12``; no field 70 is a format error.

RRNs are ``YDDDhh`` + a 6-digit sequence that continues from the ledger's size when a
ledger is reopened; approval codes come from the host's seeded stream.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from terminal_sim.acquirer import checks, settlement
from terminal_sim.acquirer.ledger import UNKNOWN_ORIGINAL, HostLedger
from terminal_sim.acquirer.rules import NO_REPLY, OutcomeRules
from terminal_sim.acquirer.tombstones import find_tombstone
from terminal_sim.base.cards import mask_pan, token_for
from terminal_sim.base.guards import printable
from terminal_sim.base.seeds import Stream
from terminal_sim.core.messages import (
    MTI_ADVICE,
    MTI_ADVICE_REPEAT,
    MTI_FINANCIAL,
    MTI_NETWORK,
    MTI_RECONCILIATION,
    MTI_REVERSAL,
    MTI_REVERSAL_ADVICE,
    MTI_REVERSAL_ADVICE_REPEAT,
)
from terminal_sim.errors import Iso8583Error
from terminal_sim.iso import codec
from terminal_sim.iso.mac import seal as mac_seal
from terminal_sim.iso.mac import verify
from terminal_sim.iso.messages import (
    MTI_AUTHORIZATION,
    HostReply,
    HostRequest,
    TotalsRequest,
    message_class,
    reply_mti,
)
from terminal_sim.iso.spec import (
    NETWORK_CODES,
    RC_APPROVED,
    RC_DUPLICATE,
    RC_FORMAT_ERROR,
    RC_INVALID_TRANSACTION,
    RC_SECURITY_VIOLATION,
    RC_UNABLE_TO_LOCATE,
    echo_of,
)

log = logging.getLogger(__name__)

#: How long (host milliseconds) a reversal of an unknown original waits for it.
DEFAULT_TOMBSTONE_TTL_MS = 24 * 3600 * 1000

_TRANSACTION_MTIS = (MTI_AUTHORIZATION, MTI_FINANCIAL, MTI_ADVICE, MTI_ADVICE_REPEAT,
                     MTI_REVERSAL, MTI_REVERSAL_ADVICE, MTI_REVERSAL_ADVICE_REPEAT)


class MockAcquirer:
    """An acquirer host that behaves by documented rules."""

    def __init__(
        self,
        ledger: HostLedger,
        *,
        rules: OutcomeRules | None = None,
        stream: Stream,
        token_key: str,
        tombstone_ttl_ms: int = DEFAULT_TOMBSTONE_TTL_MS,
        duplicate_window_ms: int = checks.DEFAULT_DUPLICATE_WINDOW_MS,
    ) -> None:
        self.ledger = ledger
        self.rules = rules or OutcomeRules()
        self.stream = stream
        self.token_key = token_key
        self.tombstone_ttl_ms = tombstone_ttl_ms
        self.duplicate_window_ms = duplicate_window_ms
        self._fields: dict[str, str] = {}  # the message being handled, once it decoded
        # every ledger row took at most one new RRN: continuing from the row count keeps
        # RRNs unique across a restart on the same ledger
        self._rrn_seq = ledger.count()
        self.batches: dict[str, int] = {}
        self._note = ""  # why the reply is what it is, for the ledger's message log
        self._last_encoded: tuple[HostReply, bytes] | None = None
        self._seal = False  # the message being handled carried a MAC: MAC the reply
        self.rejected = 0

    def handle(self, message: bytes, now: int, wall: dt.datetime) -> bytes | None:
        """Process one unframed ISO 8583 message; the reply bytes, or None for no reply.

        Inside a transaction the caller opened (a server's group), the message gets its
        own savepoint unless the caller turned them off
        (:attr:`HostLedger.nested_savepoints`): it then rolls back the whole transaction
        if this raises, and calls :meth:`forget_caches`.
        """
        with self.ledger.atomic():
            self._fields = {}
            try:
                return self._dispatch(message, now, wall)
            except Iso8583Error as exc:
                return self._format_error(message, exc, now)

    def _dispatch(self, message: bytes, now: int, wall: dt.datetime) -> bytes | None:
        fields = self._fields = codec.decode(message)
        mac_ok = verify(message, fields)
        self._seal = mac_ok is not None
        if mac_ok is False:
            return self._security_violation(fields, now)
        mti = fields["t"]
        reply: HostReply | None
        if mti == MTI_NETWORK:
            return self._network(fields, now)
        if mti == MTI_RECONCILIATION:
            reply = self._reconcile(TotalsRequest.from_fields(fields, year=wall.year), now)
        elif mti in _TRANSACTION_MTIS:
            reply = self._transaction(HostRequest.from_fields(fields, year=wall.year), now,
                                      wall)
        else:
            raise Iso8583Error(f"message type {mti} is not supported", 0, "t", fields)
        return self.encode_reply(reply) if reply is not None else None

    # -- the idempotent front of every transaction class ---------------------------------

    def _transaction(self, request: HostRequest, now: int, wall: dt.datetime) -> HostReply | None:
        detail = f"{request.kind} {request.amount_minor} {request.currency}"
        if request.original is not None:
            detail += f" original {request.original.mti}/{request.original.stan}"
        if request.reason:
            detail += f" reason {request.reason}"
        self.ledger.log(now, "in", request.mti, request.terminal_id, request.stan, detail=detail)
        seen = self.ledger.find(request.terminal_id, request.stan, message_class(request.mti))
        self._note = ""
        if seen is not None and seen["status"] != "unanswered":
            verdict = checks.classify(seen, request, now, self.duplicate_window_ms,
                                      self.token_key)
            if verdict == checks.CONFLICT:
                return self._duplicate(request, seen, now)
            if verdict == checks.RETRANSMISSION:
                return self._repeat(request, seen, now, wall)
            self.ledger.supersede(request.terminal_id, request.stan, seen["mti_class"])
            self._note = "STAN reused outside the duplicate window: new transaction"
            seen = None
        mti = request.mti
        if mti in (MTI_REVERSAL, MTI_REVERSAL_ADVICE, MTI_REVERSAL_ADVICE_REPEAT):
            reply = self._reversal(request, now, wall, seen)
        elif mti in (MTI_ADVICE, MTI_ADVICE_REPEAT):
            reply = self._advice(request, now, wall, seen)
        elif request.kind == "void" and mti == MTI_FINANCIAL:
            reply = self._void(request, now, wall, seen)
        elif request.kind == "void":  # an 0100 cannot void: that is an 0200's job
            reply = self._decline(request, RC_INVALID_TRANSACTION, now, wall, seen)
        else:
            reply = self._authorize(request, now, wall, seen)
        if reply is not None:
            self.ledger.log(now, "out", reply.mti, reply.terminal_id, reply.stan,
                            reply.response_code, self._note)
        return reply

    def _repeat(self, request: HostRequest, seen: dict[str, Any], now: int,
                wall: dt.datetime) -> HostReply | None:
        answer_mti = reply_mti(request.mti)
        stored = seen["reply"]
        if stored and checks.withdrawn_approval(seen):
            # the approval it repeated is no longer in the books: never claim it (checks)
            reply = HostReply(answer_mti, request.stan, request.terminal_id,
                              RC_INVALID_TRANSACTION, seen["rrn"], "", request.amount_minor,
                              request.currency, echo=checks.echo(request))
            note = f"retransmission of an approval now {seen['status']}: declined"
        elif stored:
            reply = HostReply.from_fields(codec.decode(stored)).with_mti(
                answer_mti, request.to_fields())
            note = "retransmission: original reply repeated"
        else:
            # recorded without an answer, then reversed: it will never be approved now
            reply = HostReply(answer_mti, request.stan, request.terminal_id,
                              RC_INVALID_TRANSACTION, seen["rrn"], "", request.amount_minor,
                              request.currency, echo=checks.echo(request))
            self.ledger.update(request.terminal_id, request.stan, seen["mti_class"], now,
                               reply=self.encode_reply(reply),
                               response_code=RC_INVALID_TRANSACTION)
            note = f"retransmission of a {seen['status']} request: declined"
        self.ledger.log(now, "out", answer_mti, request.terminal_id, request.stan,
                        reply.response_code, note)
        return reply

    def _duplicate(self, request: HostRequest, seen: dict[str, Any], now: int) -> HostReply:
        """A STAN reused inside the duplicate window for other content: 94, nothing booked."""
        reply = HostReply(reply_mti(request.mti), request.stan, request.terminal_id,
                          RC_DUPLICATE, amount_minor=request.amount_minor,
                          currency=request.currency, echo=checks.echo(request))
        self.ledger.log(now, "out", reply.mti, request.terminal_id, request.stan, RC_DUPLICATE,
                        f"STAN in use, {checks.difference(seen, request, self.token_key)} "
                        "differs: nothing booked")
        return reply

    # -- message classes -----------------------------------------------------------------

    def _network(self, fields: dict[str, str], now: int) -> bytes | None:
        terminal_id, stan = fields.get("41", ""), fields.get("11", "")
        code = fields.get("70")
        if code is None:
            raise Iso8583Error("mandatory field missing", None, "70", fields)
        self.ledger.log(now, "in", MTI_NETWORK, terminal_id, stan,
                        detail=f"{code} {NETWORK_CODES.get(code, 'unknown')}")
        forced = self.rules.override_for(MTI_NETWORK)
        if forced == NO_REPLY:
            return None
        answer = forced or (RC_APPROVED if code in NETWORK_CODES else RC_INVALID_TRANSACTION)
        reply = {"t": "0810", "39": answer, **echo_of(fields)}
        if "70" in fields:
            reply["70"] = fields["70"]
        self.ledger.log(now, "out", "0810", terminal_id, stan, answer)
        return self._encode_fields(reply)

    def _security_violation(self, fields: dict[str, str], now: int) -> bytes | None:
        """A message whose MAC does not verify: nothing is booked, the answer is ``63``
        (MACed under the key of the terminal it names), echoing the MTI, STAN and terminal
        id when they are well-formed; no answer when its MTI is no request's."""
        mti = fields["t"]
        terminal_id, stan = fields.get("41", ""), fields.get("11", "")
        self.ledger.log(now, "in", mti, terminal_id, stan, RC_SECURITY_VIOLATION,
                        "MAC does not verify: nothing booked")
        if not (mti.isascii() and mti.isdigit()) or mti[2] not in "02468":
            return None
        reply = {"t": reply_mti(mti), "39": RC_SECURITY_VIOLATION, **echo_of(fields)}
        self.ledger.log(now, "out", reply["t"], terminal_id, stan, RC_SECURITY_VIOLATION)
        return self._encode_fields(reply)

    def _encode_fields(self, fields: dict[str, str]) -> bytes:
        """The wire bytes of a reply: MACed when the request carried a (valid) MAC."""
        return mac_seal(fields) if self._seal else codec.encode(fields)

    def _authorize(self, request: HostRequest, now: int, wall: dt.datetime,
                   seen: dict[str, Any] | None) -> HostReply | None:
        """0100 and 0200 sale or refund."""
        tombstone = find_tombstone(self.ledger, request, now, self.tombstone_ttl_ms)
        if tombstone is not None:
            self.ledger.update(request.terminal_id, tombstone["stan"], "04", now,
                               status="late-original-declined")
            self._note = f"late original: reversal {tombstone['stan']} came first"
            return self._decline(request, RC_INVALID_TRANSACTION, now, wall, seen)
        code = self.rules.decide(terminal_id=request.terminal_id, pan=request.pan,
                                 amount_minor=request.amount_minor, mti=request.mti)
        rrn = seen["rrn"] if seen is not None else self._next_rrn(wall)
        if code == NO_REPLY:
            self._record(request, "unanswered", "", rrn, "", now, None, seen)
            return None
        approval = self.stream.token("0123456789", 6) if code == RC_APPROVED else ""
        reply = self._reply(request, code, rrn, approval)
        self._record(request, "approved" if code == RC_APPROVED else "declined", code, rrn,
                     approval, now, reply, seen)
        return reply

    def _decline(self, request: HostRequest, code: str, now: int, wall: dt.datetime,
                 seen: dict[str, Any] | None) -> HostReply:
        rrn = seen["rrn"] if seen is not None else self._next_rrn(wall)
        reply = self._reply(request, code, rrn, "")
        self._record(request, "declined", code, rrn, "", now, reply, seen)
        return reply

    def _void(self, request: HostRequest, now: int, wall: dt.datetime,
              seen: dict[str, Any] | None) -> HostReply:
        original_stan = request.original.stan if request.original else ""
        original = self.ledger.find(request.terminal_id, original_stan, "02")
        if original is None:
            code = RC_UNABLE_TO_LOCATE
        elif original["status"] != "approved" or original["type"] != "sale":
            code = RC_INVALID_TRANSACTION  # already voided/reversed or never approved
        else:
            code = RC_APPROVED
        approval = self.stream.token("0123456789", 6) if code == RC_APPROVED else ""
        if original is not None:
            rrn = original["rrn"]
        else:
            rrn = seen["rrn"] if seen is not None else self._next_rrn(wall)
        reply = self._reply(request, code, rrn, approval)
        if code == RC_APPROVED:
            self.ledger.update(request.terminal_id, original_stan, "02", now, status="voided")
        self._record(request, "approved" if code == RC_APPROVED else "declined", code, rrn,
                     approval, now, reply, seen,
                     masked=original["masked_pan"] if original else "",
                     token=original["card_token"] if original else "")
        return reply

    def _advice(self, request: HostRequest, now: int, wall: dt.datetime,
                seen: dict[str, Any] | None) -> HostReply | None:
        forced = self.rules.override_for(request.mti)
        if forced is not None:
            return self._forced(request, forced, now, wall, seen)
        if request.kind == "void":
            return self._void(request, now, wall, seen)
        rrn = seen["rrn"] if seen is not None else self._next_rrn(wall)
        reply = self._reply(request, RC_APPROVED, rrn, request.approval_code)
        self._record(request, "approved", RC_APPROVED, rrn, request.approval_code, now, reply,
                     seen)
        return reply

    def _reversal(self, request: HostRequest, now: int, wall: dt.datetime,
                  seen: dict[str, Any] | None) -> HostReply | None:
        forced = self.rules.override_for(request.mti)
        if forced is not None:
            return self._forced(request, forced, now, wall, seen, kind="reversal")
        terminal_id = request.terminal_id
        if request.original is not None:
            target_stan = request.original.stan
            target_class = message_class(request.original.mti)
        else:  # the same-STAN convention: reverse the 0200 that carried this STAN
            target_stan, target_class = request.stan, message_class(MTI_FINANCIAL)
        original = self.ledger.find(terminal_id, target_stan, target_class)
        if original is None:
            status = UNKNOWN_ORIGINAL
            self._note = f"original {target_stan} unknown: remembered"
        elif original["type"] in ("sale", "void", "refund") and original["status"] in (
                "approved", "unanswered"):
            status = "applied"
            self.ledger.update(terminal_id, target_stan, target_class, now, status="reversed")
            if original["type"] == "void" and original["status"] == "approved":
                # reversing a void puts its sale back: the void never happened
                sale = self.ledger.find(terminal_id, original["original_stan"], "02")
                if sale is not None and sale["status"] == "voided":
                    self.ledger.update(terminal_id, sale["stan"], "02", now, status="approved")
        else:
            status = "no-effect"
            self._note = f"original {target_stan} is {original['status']}: no effect"
        if original is not None:
            rrn = original["rrn"]
        else:
            rrn = request.rrn or (seen["rrn"] if seen is not None else self._next_rrn(wall))
        reply = self._reply(request, RC_APPROVED, rrn, "")
        self._record(request, status, RC_APPROVED, rrn, "", now, reply, seen, kind="reversal",
                     original_stan=target_stan,
                     masked=original["masked_pan"] if original else "",
                     token=original["card_token"] if original else "")
        return reply

    def _forced(self, request: HostRequest, forced: str, now: int, wall: dt.datetime,
                seen: dict[str, Any] | None, *, kind: str | None = None) -> HostReply | None:
        """A ``message_overrides`` answer: no effect, just the code (or silence)."""
        rrn = seen["rrn"] if seen is not None else self._next_rrn(wall)
        original_stan = request.original.stan if request.original else ""
        if forced == NO_REPLY:
            self._record(request, "unanswered", "", rrn, "", now, None, seen, kind=kind,
                         original_stan=original_stan)
            return None
        reply = self._reply(request, forced, rrn, "")
        self._record(request, "declined", forced, rrn, "", now, reply, seen, kind=kind,
                     original_stan=original_stan)
        return reply

    def _reconcile(self, request: TotalsRequest, now: int) -> HostReply | None:
        return settlement.reconcile(self, request, now)

    # -- helpers -------------------------------------------------------------------------

    def forget_caches(self) -> None:
        """Drop what is remembered of the ledger (open batches): after a rollback."""
        self.batches.clear()

    def open_batch_of(self, terminal_id: str) -> int:
        batch = self.batches.get(terminal_id)
        if batch is None:
            batch = self.batches[terminal_id] = self.ledger.open_batch(terminal_id)
        return batch

    def encode_reply(self, reply: HostReply) -> bytes:
        """The wire bytes of ``reply``; the ledger stores the very bytes that are sent."""
        last = self._last_encoded
        if last is not None and last[0] is reply:  # stored, then returned: encode once
            return last[1]
        encoded = self._encode_fields(reply.to_fields())
        self._last_encoded = (reply, encoded)
        return encoded

    def _next_rrn(self, wall: dt.datetime) -> str:
        self._rrn_seq += 1
        day = wall.toordinal() - dt.date(wall.year, 1, 1).toordinal() + 1  # tm_yday
        parts = (wall.year % 10, day, wall.hour, self._rrn_seq % 1_000_000)
        return "%d%03d%02d%06d" % parts  # noqa: UP031 - an f-string costs twice as much

    @staticmethod
    def _reply(request: HostRequest, code: str, rrn: str, approval: str) -> HostReply:
        return HostReply(
            mti=reply_mti(request.mti),
            stan=request.stan,
            terminal_id=request.terminal_id,
            response_code=code,
            rrn=rrn,
            approval_code=approval,
            amount_minor=request.amount_minor,
            currency=request.currency,
            echo=checks.echo(request),
        )

    def _record(self, request: HostRequest, status: str, code: str, rrn: str, approval: str,
                now: int, reply: HostReply | None, seen: dict[str, Any] | None, *,
                kind: str | None = None, original_stan: str | None = None, masked: str = "",
                token: str = "") -> None:
        original = request.original
        self.ledger.record({
            "terminal_id": request.terminal_id,
            "stan": request.stan,
            "mti_class": message_class(request.mti),
            "type": kind or request.kind,
            "status": status,
            "response_code": code,
            "rrn": rrn,
            "approval_code": approval,
            "masked_pan": mask_pan(request.pan) if request.pan else masked,
            "card_token": token_for(request.pan, self.token_key) if request.pan else token,
            "amount_minor": request.amount_minor,
            "currency": request.currency,
            "original_stan": original_stan if original_stan is not None else (
                original.stan if original else ""),
            "reply": self.encode_reply(reply) if reply is not None else None,
            "received_vt": seen["received_vt"] if seen is not None else now,
            "updated_vt": now,
            "original_data": (f"{original.mti}{original.stan}{original.transmitted}"
                              if original else ""),
            "reason": request.reason,
            "batch": self.open_batch_of(request.terminal_id),
        }, replace=seen is not None)

    def _format_error(self, message: bytes, exc: Iso8583Error, now: int) -> bytes | None:
        self.rejected += 1
        partial = exc.partial or self._fields
        mti = partial.get("t") or codec.peek_mti(message)
        terminal_id, stan = partial.get("41", ""), partial.get("11", "")
        self.ledger.log(now, "in", mti or "????", terminal_id, stan, RC_FORMAT_ERROR, str(exc))
        if mti is None or not (mti.isascii() and mti.isdigit()) or mti[2] not in "02468":
            log.warning("dropped undecodable message: %s", printable(str(exc)))
            return None
        reply = {"t": reply_mti(mti), "39": RC_FORMAT_ERROR, **echo_of(partial)}
        try:
            encoded = codec.encode(reply)
        except Iso8583Error:
            log.warning("cannot answer undecodable message: %s", printable(str(exc)))
            return None
        self.ledger.log(now, "out", reply["t"], terminal_id, stan, RC_FORMAT_ERROR)
        return encoded
