"""The in-process link keeps each connection's bytes to that connection (TCP): bytes of a
reset connection that arrive late never reach the decoder of the next one."""

from __future__ import annotations

import datetime as dt

from terminal_sim.base.clock import VirtualClock
from terminal_sim.base.seeds import Stream
from terminal_sim.core.messages import NetworkCheck
from terminal_sim.iso import codec
from terminal_sim.iso.framing import frame
from terminal_sim.iso.mapping import to_iso
from terminal_sim.plugins.ports import Arrival
from terminal_sim.sim.ports import InProcessLink
from terminal_sim.sim.scheduler import Scheduler
from terminal_sim.sim.trace import Trace


class _Host:
    """Answers every message it can decode with an 0810 echoing its STAN."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def handle(self, message: bytes, now: int, wall: dt.datetime) -> bytes:
        fields = codec.decode(message)
        self.seen.append(fields["11"])
        return codec.encode({"t": "0810", "11": fields["11"], "39": "00", "41": fields["41"]})


class _Held:
    """An uplink that keeps what it is given, to let it arrive when the test says."""

    def __init__(self) -> None:
        self.held: list[tuple[bytes, Arrival]] = []

    def carry(self, terminal_id: str, data: bytes, arrive: Arrival) -> None:
        self.held.append((data, arrive))


def _check(stan: str) -> NetworkCheck:
    return NetworkCheck(stan, "T0000001", dt.datetime(2026, 2, 2, 9, 0))


def test_a_reset_connections_late_piece_does_not_break_the_next_connection() -> None:
    clock = VirtualClock()
    scheduler = Scheduler(clock)
    host = _Host()
    link = InProcessLink(host, scheduler, clock, Stream(1, "link"),  # type: ignore[arg-type]
                         Trace(None))
    uplink = _Held()
    link.wrap_uplink(lambda _inner: uplink)
    replies: list[str] = []
    link.send("T0000001", _check("000001"), lambda reply: replies.append(reply.stan))
    old, old_arrive = uplink.held.pop()
    old_arrive(old[:5])  # half a frame, then the connection is reset
    link.drop_connection("T0000001")
    link.send("T0000001", _check("000002"), lambda reply: replies.append(reply.stan))
    old_arrive(old[5:])  # the old connection's rest arrives late
    new, new_arrive = uplink.held.pop()
    new_arrive(new)
    scheduler.run()
    assert frame(codec.encode(to_iso(_check("000002")))) == new
    assert host.seen == ["000002"]  # the late half frame went nowhere
    assert replies == ["000002"]
