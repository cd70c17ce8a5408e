"""The mock acquirer's message processing: bytes in, bytes out, ledger in between.

:meth:`MockAcquirer.handle` is transport-free: the in-process link of the simulator
and the TCP server call the same method. It never raises on input: a message that
does not decode gets a format-error reply (field 39 = ``30``) when its MTI and
enough of it parsed, else no reply and a logged reason.

Idempotency: a request is keyed by (terminal id, STAN, message class). A
retransmission gets the stored original reply and no second ledger entry.
"""

from __future__ import annotations

import datetime as dt
import logging

from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.rules import NO_REPLY, OutcomeRules
from terminal_sim.cards import mask_pan, token_for
from terminal_sim.errors import Iso8583Error
from terminal_sim.iso import codec
from terminal_sim.iso.messages import HostReply, HostRequest, reply_mti
from terminal_sim.iso.spec import RC_FORMAT_ERROR
from terminal_sim.seeds import Stream

log = logging.getLogger(__name__)


class MockAcquirer:
    """An acquirer host that behaves by documented rules."""

    def __init__(
        self,
        ledger: HostLedger,
        *,
        rules: OutcomeRules | None = None,
        stream: Stream,
        token_key: str,
    ) -> None:
        self.ledger = ledger
        self.rules = rules or OutcomeRules()
        self.stream = stream
        self.token_key = token_key
        self._rrn_seq = 0
        self.rejected = 0

    def handle(self, message: bytes, now: int, wall: dt.datetime) -> bytes | None:
        """Process one unframed ISO 8583 message; the reply bytes, or None for no reply."""
        try:
            fields = codec.decode(message)
            mti = fields["t"]
            if mti == "0800":
                return self._network(fields, now)
            if mti == "0200":
                request = HostRequest.from_fields(fields, year=wall.year)
                reply = self._financial(request, now, wall)
                return codec.encode(reply.to_fields()) if reply is not None else None
            raise Iso8583Error(f"message type {mti} is not supported", 0, "t", fields)
        except Iso8583Error as exc:
            return self._format_error(message, exc, now)

    # -- message classes -----------------------------------------------------------------

    def _network(self, fields: dict[str, str], now: int) -> bytes:
        terminal_id, stan = fields.get("41", ""), fields.get("11", "")
        self.ledger.log(now, "in", "0800", terminal_id, stan, detail=fields.get("70", ""))
        reply = {"t": "0810", "39": "00"}
        for echo in ("7", "11", "41", "70"):
            if echo in fields:
                reply[echo] = fields[echo]
        self.ledger.log(now, "out", "0810", terminal_id, stan, "00")
        return codec.encode(reply)

    def _financial(self, request: HostRequest, now: int, wall: dt.datetime) -> HostReply | None:
        ledger = self.ledger
        ledger.log(now, "in", request.mti, request.terminal_id, request.stan,
                   detail=f"{request.kind} {request.amount_minor} {request.currency}")
        seen = ledger.find(request.terminal_id, request.stan, request.mti[:2])
        if seen is not None:
            ledger.log(now, "out", reply_mti(request.mti), request.terminal_id, request.stan,
                       seen["response_code"], "retransmission: original reply repeated")
            stored = seen["reply"]
            return HostReply.from_fields(codec.decode(stored)) if stored else None
        if request.kind == "void":
            reply = self._void(request, now, wall)
        else:
            reply = self._purchase(request, now, wall)
        if reply is not None:
            ledger.log(now, "out", reply.mti, reply.terminal_id, reply.stan, reply.response_code)
        return reply

    def _purchase(self, request: HostRequest, now: int, wall: dt.datetime) -> HostReply | None:
        code = self.rules.decide(
            terminal_id=request.terminal_id, pan=request.pan, amount_minor=request.amount_minor
        )
        rrn = self._next_rrn(wall)
        if code == NO_REPLY:
            self._record(request, "unanswered", "", rrn, "", now, None)
            return None
        approval = self.stream.token("0123456789", 6) if code == "00" else ""
        reply = HostReply(
            mti=reply_mti(request.mti),
            stan=request.stan,
            terminal_id=request.terminal_id,
            response_code=code,
            rrn=rrn,
            approval_code=approval,
            amount_minor=request.amount_minor,
            currency=request.currency,
        )
        self._record(request, "approved" if code == "00" else "declined", code, rrn, approval,
                     now, reply)
        return reply

    def _void(self, request: HostRequest, now: int, wall: dt.datetime) -> HostReply:
        original_stan = request.original.stan if request.original else ""
        original = self.ledger.find(request.terminal_id, original_stan, "02")
        if original is None:
            code = "25"  # unable to locate the original
        elif original["status"] != "approved" or original["type"] != "sale":
            code = "12"  # already voided/reversed or never approved: invalid transaction
        else:
            code = "00"
        approval = self.stream.token("0123456789", 6) if code == "00" else ""
        rrn = original["rrn"] if original is not None else self._next_rrn(wall)
        reply = HostReply(
            mti=reply_mti(request.mti),
            stan=request.stan,
            terminal_id=request.terminal_id,
            response_code=code,
            rrn=rrn,
            approval_code=approval,
            amount_minor=request.amount_minor,
            currency=request.currency,
        )
        if code == "00":
            self.ledger.set_status(request.terminal_id, original_stan, "02", "voided", now)
        self._record(request, "approved" if code == "00" else "declined", code, rrn, approval,
                     now, reply, masked=original["masked_pan"] if original else "",
                     token=original["card_token"] if original else "")
        return reply

    # -- helpers -------------------------------------------------------------------------

    def _next_rrn(self, wall: dt.datetime) -> str:
        self._rrn_seq += 1
        day = wall.timetuple().tm_yday
        return f"{wall.year % 10}{day:03d}{wall.hour:02d}{self._rrn_seq % 1_000_000:06d}"

    def _record(self, request: HostRequest, status: str, code: str, rrn: str, approval: str,
                now: int, reply: HostReply | None, *, masked: str = "", token: str = "") -> None:
        self.ledger.record({
            "terminal_id": request.terminal_id,
            "stan": request.stan,
            "mti_class": request.mti[:2],
            "type": request.kind,
            "status": status,
            "response_code": code,
            "rrn": rrn,
            "approval_code": approval,
            "masked_pan": mask_pan(request.pan) if request.pan else masked,
            "card_token": token_for(request.pan, self.token_key) if request.pan else token,
            "amount_minor": request.amount_minor,
            "currency": request.currency,
            "original_stan": request.original.stan if request.original else "",
            "reply": codec.encode(reply.to_fields()) if reply is not None else None,
            "received_vt": now,
            "updated_vt": now,
        })

    def _format_error(self, message: bytes, exc: Iso8583Error, now: int) -> bytes | None:
        self.rejected += 1
        partial = exc.partial
        mti = partial.get("t") or codec.peek_mti(message)
        terminal_id, stan = partial.get("41", ""), partial.get("11", "")
        self.ledger.log(now, "in", mti or "????", terminal_id, stan, RC_FORMAT_ERROR, str(exc))
        if mti is None or not mti.isdigit() or mti[2] not in "02468":
            log.warning("dropped undecodable message: %s", exc)
            return None
        reply = {"t": reply_mti(mti), "39": RC_FORMAT_ERROR}
        if stan.isdigit() and len(stan) == 6:
            reply["11"] = stan
        if len(terminal_id) == 8:
            reply["41"] = terminal_id
        try:
            encoded = codec.encode(reply)
        except Iso8583Error:
            log.warning("cannot answer undecodable message: %s", exc)
            return None
        self.ledger.log(now, "out", reply["t"], terminal_id, stan, RC_FORMAT_ERROR)
        return encoded
