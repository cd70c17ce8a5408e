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

A link fault acts on messages: a piece of a frame that an outer ``link-slicer`` cut
(a :class:`~terminal_sim.plugins.ports.Piece`) passes through the other link faults
untouched (TCP loses, repeats or delays a connection's bytes only by resetting it or as
a whole stream, never one piece of a message), and while a sliced frame is being handed
on piece by piece, the connection keeps whatever else comes behind it: a byte stream
never mixes two frames.
"""

from __future__ import annotations

from functools import partial
from itertools import pairwise
from typing import Any, ClassVar

from terminal_sim.errors import ConfigurationError, ProtocolError
from terminal_sim.iso import codec
from terminal_sim.iso.codec import peek_mti
from terminal_sim.plugins.faults import Fault, Param
from terminal_sim.plugins.host import FaultHost, FaultTerminal
from terminal_sim.plugins.ports import Arrival, Piece, Pipe

_MESSAGE = Param(str, None, "MTI to act on (e.g. 0200, 0210); default: every message",
                 vocabulary="mti")


class _LinkFault(Fault):
    """Wraps ``uplink`` (requests) or ``downlink`` (replies) of the acquirer link."""

    direction: ClassVar[str] = "reply"  # request | reply | both

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

    def carry(self, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        fault = self.fault
        terminal = self.terminals.get(terminal_id)
        wanted = fault.values.get("message")
        prefix = self.host.link_prefix
        mti = peek_mti(data[prefix:])
        if terminal is None or isinstance(data, Piece) or (
                wanted is not None and mti != wanted) or not fault.trigger.fires(
                self.host.now(), fault.stream):
            self.inner.carry(terminal_id, data, arrive)
            return
        stan = _stan_of(data[prefix:])
        fault.record(terminal, f"{fault.name} on {self.direction} {mti}",
                     mti=mti, **({"stan": stan} if stan else {}))
        fault.act(self, terminal_id, data, arrive)


def _stan_of(data: bytes) -> str:
    try:
        return codec.decode(data).get("11", "")
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
        pipe.host.after(extra, lambda: pipe.inner.carry(terminal_id, data, arrive))


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
        pipe.host.after(self.values["delay_ms"],
                             lambda: pipe.inner.carry(terminal_id, data, arrive))


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
        pipe.host.after(self.values["gap_ms"],
                             lambda: pipe.inner.carry(terminal_id, data, arrive))


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
        count = min(self.values["pieces"], len(data))
        cuts = sorted({self.stream.between(1, len(data) - 1) for _ in range(count - 1)})
        bounds = [0, *cuts, len(data)]
        whole = object()  # what the pieces of this frame share
        for index, (start, end) in enumerate(pairwise(bounds)):
            piece = Piece(data[start:end], frame=whole, last=end == len(data))
            pipe.host.after(index * self.values["gap_ms"],
                            partial(pipe.inner.carry, terminal_id, piece, arrive))


class LinkCorrupt(_LinkFault):
    """``bytes`` bytes of the message (never of its length header) are replaced by
    bytes drawn from the fault's stream: the receiver must reject it, not crash."""

    name = "link-corrupt"
    summary = "bytes of a message are corrupted on the wire"
    params: ClassVar[dict[str, Param]] = {
        "bytes": Param(int, 1, "how many bytes to change", low=1, high=10_000, explore=(1, 8)),
        "direction": Param(str, "reply", "request | reply | both", ("request", "reply", "both")),
        "message": _MESSAGE,
    }

    def act(self, pipe: _FaultyPipe, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        mangled = bytearray(data)
        for _ in range(self.values["bytes"]):
            at = self.stream.between(pipe.host.link_prefix, len(data) - 1)
            mangled[at] = (mangled[at] + 1 + self.stream.below(255)) % 256
        pipe.inner.carry(terminal_id, bytes(mangled), arrive)
