"""The conditions of the lifecycle table: which transition an event takes.

Each receives the ``transitions`` EventData (the machine runs with ``send_event=True``)
and decides from the terminal's state and the event, without changing either.
"""

from __future__ import annotations

from transitions import EventData

from terminal_sim.core.events import CardRead, HostReplied, SendFailed, TimerExpired
from terminal_sim.core.terminal import HOST_TIMER, REPRINT_TIMER, core_of, payload_of


def card_was_read(ev: EventData) -> bool:
    return payload_of(ev, CardRead).ok


def prints_error_slips(ev: EventData) -> bool:
    return core_of(ev).profile.print_error_slips


def reply_is_pending(ev: EventData) -> bool:
    core, reply = core_of(ev), payload_of(ev, HostReplied).reply
    flight = core.current
    return (
        flight is not None
        and flight.request is not None
        and reply.stan == flight.stan
        and reply.terminal_id == core.terminal_id
    )


def timer_is_live(ev: EventData) -> bool:
    core, payload = core_of(ev), payload_of(ev, TimerExpired)
    flight = core.current
    return (
        flight is not None
        and payload.timer == HOST_TIMER
        and payload.token == flight.timer_token
    )


def send_is_pending(ev: EventData) -> bool:
    core, payload = core_of(ev), payload_of(ev, SendFailed)
    flight = core.current
    return flight is not None and flight.request is not None and payload.stan == flight.stan


def can_reprint(ev: EventData) -> bool:
    core = core_of(ev)
    return core.last_slip is not None or core.profile.reprint_without_sale


def reprint_timer_is_live(ev: EventData) -> bool:
    core, payload = core_of(ev), payload_of(ev, TimerExpired)
    return (payload.timer == REPRINT_TIMER and payload.token == core.reprint_token
            and bool(core.reprints))


def has_sale_to_void(ev: EventData) -> bool:
    last = core_of(ev).last_approved
    return last is not None and last.type == "sale" and last.state == "approved"
