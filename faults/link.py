"""Acquirer-link faults. They wrap one direction of the link (a pipe) and know the
messages: each can target a message type (``message: "0200"``), and the usual trigger
(``nth`` matching message, ``from``/``until``, ``probability``, ``limit``).

=========================  ====================================================
fault                      what happens to a matching message
=========================  ====================================================
``link-latency``           arrives ``delay_ms`` (+ up to ``jitter_ms``) later
``link-drop-request``      the request never reaches the host
``link-drop-reply``        the host committed and answered; the answer is lost
``link-late-reply``        the answer arrives ``delay_ms`` late (after the
                           terminal's timeout, by default)
``link-duplicate-reply``   the answer arrives twice
``link-reset``             the connection is reset: the message and the
                           connection's half-received bytes are gone
``link-slicer``            the frame arrives in ``pieces`` pieces
``link-corrupt``           ``bytes`` bytes of the message are changed
=========================  ====================================================

Faults stack (the last installed meets a message first). A frame another fault cut
into pieces is no message any more: only the byte-level faults (slicer, corrupt) act on
its pieces, and they keep a connection's bytes in order and never change a length
header, so a stream never loses its framing; the link keeps the bytes of a reset
connection from the next one.
"""

from __future__ import annotations

from functools import partial
from itertools import pairwise
from typing import Any, ClassVar

from terminal_sim.errors import ConfigurationError, ProtocolError
from terminal_sim.iso import codec
from terminal_sim.iso.codec import peek_mti
from terminal_sim.iso.framing import HEADER
from terminal_sim.plugins.faults import Fault, Param
from terminal_sim.plugins.host import FaultHost, FaultTerminal
from terminal_sim.plugins.ports import Arrival, Pipe

_MESSAGE = Param(str, None, "MTI to act on (e.g. 0200, 0210); default: every message",
                 vocabulary="mti")


class _LinkFault(Fault):
    """Wraps ``uplink`` (requests) or ``downlink`` (replies) of the acquirer link."""

    direction: ClassVar[str] = "reply"  # request | reply | both
    #: the fault acts on bytes (a piece of a frame too); otherwise on messages only: a
    #: piece another fault cut passes it untouched (TCP loses, repeats or delays no part
    #: of a stream: a message-level fault on a piece would desynchronise the framing)
    acts_on_pieces: ClassVar[bool] = False

    def install(self, host: FaultHost) -> None:
        if not host.has_link_pipes:
            raise ConfigurationError(f"{self.name} needs the in-process link")
        targets = {terminal.terminal_id: terminal for terminal in self.targets(host)}
        direction = self.values.get("direction") or self.direction
        if direction in ("request", "both"):
            host.wrap_uplink(partial(_FaultyPipe, fault=self, terminals=targets, host=host,
                                     direction="request"))
        if direction in ("reply", "both"):
            host.wrap_downlink(partial(_FaultyPipe, fault=self, terminals=targets, host=host,
                                       direction="reply"))

    def act(self, pipe: _FaultyPipe, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        raise NotImplementedError


class _FaultyPipe:
    """Wraps one direction of the link: matching messages meet the fault."""

    def __init__(self, inner: Pipe, *, fault: _LinkFault, terminals: dict[str, FaultTerminal],
                 host: FaultHost, direction: str) -> None:
        self.fault = fault
        self.inner = inner
        self.terminals = terminals
        self.host = host
        self.direction = direction
        self._cursors: dict[str, _FrameCursor] = {}
        self._held: dict[str, int] = {}  # until when this pipe holds bytes back
        self._delayed: dict[str, int] = {}  # until when a message it delays is under way
        #: positions of length-header bytes in the chunk being carried
        self.headers: frozenset[int] = frozenset()

    def carry(self, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        fault = self.fault
        # a chunk may be a whole frame or a piece of one (another fault sliced it)
        self.headers = self._cursors.setdefault(terminal_id, _FrameCursor()).advance(data)
        terminal = self.terminals.get(terminal_id)
        wanted = fault.values.get("message")
        mti = peek_mti(data[2:])
        whole = (self.headers == _WHOLE
                 and int.from_bytes(data[:HEADER], "big") == len(data) - HEADER)
        if terminal is None or (wanted is not None and mti != wanted) or not (
                whole or fault.acts_on_pieces) or not fault.trigger.fires(
                self.host.now(), fault.stream):
            now = self.host.now()
            if self._held.get(terminal_id, -1) >= now or (
                    not whole and self._delayed.get(terminal_id, -1) >= now):
                # behind the bytes held back: a piece never lands inside another message
                self.in_order(terminal_id, 0, data, arrive)
            else:
                self.inner.carry(terminal_id, data, arrive)
            return
        stan = _stan_of(data)
        fault.record(terminal, f"{fault.name} on {self.direction} {mti}",
                     mti=mti, **({"stan": stan} if stan else {}))
        fault.act(self, terminal_id, data, arrive)

    def later(self, terminal_id: str, delay_ms: int, data: bytes, arrive: Arrival) -> None:
        """Carry the message ``data`` on after ``delay_ms``; later messages may overtake
        it, but no piece of one (a piece would land inside it)."""
        now = self.host.now()
        self._delayed[terminal_id] = max(now + delay_ms, self._delayed.get(terminal_id, now))
        self.host.after(delay_ms, partial(self.inner.carry, terminal_id, data, arrive))

    def in_order(self, terminal_id: str, delay_ms: int, data: bytes, arrive: Arrival) -> None:
        """Carry ``data`` on after ``delay_ms``, but never before bytes this pipe already
        holds back: one connection's bytes keep their order (TCP), even in pieces."""
        now = self.host.now()
        at = max(now + delay_ms, self._held.get(terminal_id, now),
                 self._delayed.get(terminal_id, now))
        self._held[terminal_id] = at
        self.host.after(at - now, partial(self.inner.carry, terminal_id, data, arrive))


_WHOLE = frozenset(range(HEADER))


class _FrameCursor:
    """Follows the length frames of one connection's byte stream as one pipe carries it,
    so a fault acting on a piece of a frame knows which of its bytes are header."""

    def __init__(self) -> None:
        self.header = b""
        self.left = 0  # bytes of the current frame's message still to come

    def advance(self, data: bytes) -> frozenset[int]:
        """The positions in ``data`` that are length-header bytes."""
        headers: list[int] = []
        at = 0
        while at < len(data):
            if self.left:
                step = min(self.left, len(data) - at)
                self.left -= step
                at += step
                continue
            headers.append(at)
            self.header += data[at:at + 1]
            at += 1
            if len(self.header) == HEADER:
                self.left = int.from_bytes(self.header, "big")
                self.header = b""
        return frozenset(headers)


def _stan_of(data: bytes) -> str:
    try:
        return codec.decode(data[2:]).get("11", "")
    except ProtocolError:
        return ""


class LinkLatency(_LinkFault):
    """Matching messages take ``delay_ms`` longer, plus a jitter drawn from the fault's
    stream."""

    name = "link-latency"
    summary = "extra latency with jitter on the acquirer link"
    params: ClassVar[dict[str, Param]] = {
        "delay_ms": Param(int, 2_000, "extra delay", low=0, explore=(0, 30_000)),
        "jitter_ms": Param(int, 500, "up to this much more, drawn per message", low=0,
                           explore=(0, 5_000)),
        "direction": Param(str, "both", "request | reply | both", ("request", "reply", "both")),
        "message": _MESSAGE,
    }

    def act(self, pipe: _FaultyPipe, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        extra = self.values["delay_ms"] + self.stream.between(0, self.values["jitter_ms"])
        pipe.later(terminal_id, extra, data, arrive)


class LinkDropRequest(_LinkFault):
    """The request is lost before the host sees it: nothing is charged, the terminal
    times out."""

    name = "link-drop-request"
    summary = "the request is lost on the way to the host"
    direction = "request"
    params: ClassVar[dict[str, Param]] = {"message": _MESSAGE}

    def act(self, pipe: _FaultyPipe, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        return None


class LinkDropReply(_LinkFault):
    """The host approved and committed; its answer is lost. The terminal times out
    while the customer is charged."""

    name = "link-drop-reply"
    summary = "the host's reply is lost after the host committed"
    params: ClassVar[dict[str, Param]] = {"message": _MESSAGE}

    def act(self, pipe: _FaultyPipe, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        return None


class LinkLateReply(_LinkFault):
    """The answer arrives ``delay_ms`` late: by default after the terminal's 15 s
    timeout, when the terminal has already given up on the sale."""

    name = "link-late-reply"
    summary = "the host's reply arrives after the terminal's timeout"
    params: ClassVar[dict[str, Param]] = {
        "delay_ms": Param(int, 20_000, "how late the reply is", low=0, explore=(1_000, 60_000)),
        "message": _MESSAGE,
    }

    def act(self, pipe: _FaultyPipe, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        pipe.later(terminal_id, self.values["delay_ms"], data, arrive)


class LinkDuplicateReply(_LinkFault):
    """The answer arrives twice, ``gap_ms`` apart."""

    name = "link-duplicate-reply"
    summary = "the host's reply arrives twice"
    params: ClassVar[dict[str, Param]] = {
        "gap_ms": Param(int, 300, "time between the two copies", low=0, explore=(0, 5_000)),
        "message": _MESSAGE,
    }

    def act(self, pipe: _FaultyPipe, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        pipe.inner.carry(terminal_id, data, arrive)
        pipe.later(terminal_id, self.values["gap_ms"], data, arrive)


class LinkReset(_LinkFault):
    """The TCP connection is reset while the message is under way: it is lost, and so
    is whatever half of a frame either end had received."""

    name = "link-reset"
    summary = "the connection is reset with a message under way"
    params: ClassVar[dict[str, Param]] = {
        "direction": Param(str, "reply", "request | reply | both", ("request", "reply", "both")),
        "message": _MESSAGE,
    }

    def act(self, pipe: _FaultyPipe, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        pipe.host.drop_connection(terminal_id)


class LinkSlicer(_LinkFault):
    """The frame arrives in ``pieces`` pieces, ``gap_ms`` apart (TCP guarantees order,
    not message boundaries): the receiving side must reassemble it."""

    name = "link-slicer"
    summary = "a frame arrives cut into pieces"
    acts_on_pieces = True
    params: ClassVar[dict[str, Param]] = {
        "pieces": Param(int, 3, "number of pieces", low=2, high=1000, explore=(2, 10)),
        "gap_ms": Param(int, 5, "time between pieces", low=0, explore=(0, 100)),
        "direction": Param(str, "both", "request | reply | both", ("request", "reply", "both")),
        "message": _MESSAGE,
    }

    @classmethod
    def check_values(cls, values: dict[str, Any]) -> None:
        if values["pieces"] < 2:
            raise ConfigurationError("pieces: at least 2")

    def act(self, pipe: _FaultyPipe, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        # as many pieces as the chunk has bytes, at most; a single byte is not cut
        count = min(self.values["pieces"], len(data))
        cuts = sorted({self.stream.between(1, len(data) - 1) for _ in range(count - 1)})
        bounds = [0, *cuts, len(data)]
        for index, (start, end) in enumerate(pairwise(bounds)):
            pipe.in_order(terminal_id, index * self.values["gap_ms"], data[start:end], arrive)


class LinkCorrupt(_LinkFault):
    """``bytes`` bytes of the message (never of its length header) are replaced by
    bytes drawn from the fault's stream: the receiver must reject it, not crash. A
    piece of a frame (another fault sliced it) has its own bytes changed, never a header
    byte; a piece with no such byte passes unchanged.
    """

    name = "link-corrupt"
    summary = "bytes of a message are corrupted on the wire"
    acts_on_pieces = True
    params: ClassVar[dict[str, Param]] = {
        "bytes": Param(int, 1, "how many bytes to change", low=1, high=10_000, explore=(1, 8)),
        "direction": Param(str, "reply", "request | reply | both", ("request", "reply", "both")),
        "message": _MESSAGE,
    }

    def act(self, pipe: _FaultyPipe, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        # never a length header: a frame whose header changed would leave the stream out of
        # step for good; a piece with no other byte passes unchanged
        positions = [at for at in range(len(data)) if at not in pipe.headers]
        mangled = bytearray(data)
        for _ in range(self.values["bytes"] if positions else 0):
            at = self.stream.pick(positions)
            mangled[at] = (mangled[at] + 1 + self.stream.below(255)) % 256
        pipe.inner.carry(terminal_id, bytes(mangled), arrive)
