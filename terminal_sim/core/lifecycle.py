"""The sale lifecycle as a table handed to ``transitions``; the core performs no I/O.

A :class:`~terminal_sim.core.terminal.TerminalCore` is a ``transitions`` model.
:meth:`TerminalCore.handle` fires the event's trigger and returns the effects the
callbacks queued, in order; the runtime executes them and feeds the results back as
events. Many terminals share one ``Machine`` (:class:`TerminalFleet`): a Machine per
terminal costs ~92 KiB and ~1.4 ms, a shared one ~10-16 KiB per model.

The conditions are in :mod:`terminal_sim.core.conditions`, the actions in
:mod:`terminal_sim.core.actions`; this module holds the table, as data, and the machine.

Callback order is the one ``transitions`` publishes (``Transition.execute``): conditions,
then ``before``, the state change, then ``after``. Every callback here is an ``after``:
a transition's effects are queued once the state has changed, so a crash point traced
during them already shows the new state.

The table (``TRANSITIONS``), source -> trigger [condition] -> dest:

===============  ===============  ================================  ============
source           trigger          condition                         dest
===============  ===============  ================================  ============
idle             sale_requested                                     reading
idle             refund_requested                                   reading
reading          card_read        card was read                     authorizing
reading          card_read        profile prints error slips        completing
reading          card_read        (otherwise)                       idle
authorizing      host_reply       reply is for the pending request  completing
                                  (robust: no valid answer to it is
                                  an unknown outcome, reversed)
authorizing      timer_expired    the live host timer               completing
authorizing      send_failed      the request in flight never left  completing
idle             void_requested   a sale is there to void           voiding
idle             reprint_requested a slip to reprint, or the        completing
                                  profile prints without a sale
voiding          host_reply       reply is for the pending request  completing
voiding          timer_expired    the live host timer               completing
voiding          send_failed      the request in flight never left  completing
idle             timer_expired    the live reprint timer            completing
busy states      timer_expired    the live reprint timer            (stays, re-armed)
completing       print_done                                         idle
any but off      host_reply       (a late or stray reply)           (stays)
any but off      power_lost                                         off
off              power_on                                           idle
===============  ===============  ================================  ============
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from transitions import Machine

from terminal_sim.core.actions import (
    abandon_read,
    begin_sale,
    begin_void,
    boot,
    complete_host_reply,
    fail_on_timeout,
    fail_unsent,
    finish_transaction,
    lose_volatile_state,
    note_stray_reply,
    print_read_error,
    rearm_reprint,
    reprint,
    reprint_missing,
    send_authorization,
)
from terminal_sim.core.conditions import (
    can_reprint,
    card_was_read,
    has_sale_to_void,
    prints_error_slips,
    reply_is_pending,
    reprint_timer_is_live,
    send_is_pending,
    timer_is_live,
)
from terminal_sim.core.terminal import HOST_TIMER, REPRINT_TIMER, InFlight, TerminalCore

STATES = ["off", "idle", "reading", "authorizing", "voiding", "completing"]

_LIVE = ["idle", "reading", "authorizing", "voiding", "completing"]

#: The lifecycle, as data for ``transitions``. Order matters: for one trigger and source
#: the first transition whose conditions hold is taken.
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "sale_requested", "source": "idle", "dest": "reading", "after": [begin_sale]},
    {"trigger": "refund_requested", "source": "idle", "dest": "reading",
     "after": [begin_sale]},
    {"trigger": "card_read", "source": "reading", "dest": "authorizing",
     "conditions": [card_was_read], "after": [send_authorization]},
    {"trigger": "card_read", "source": "reading", "dest": "completing",
     "conditions": [prints_error_slips], "after": [print_read_error]},
    {"trigger": "card_read", "source": "reading", "dest": "idle", "after": [abandon_read]},
    {"trigger": "host_reply", "source": ["authorizing", "voiding"], "dest": "completing",
     "conditions": [reply_is_pending], "after": [complete_host_reply]},
    {"trigger": "timer_expired", "source": ["authorizing", "voiding"], "dest": "completing",
     "conditions": [timer_is_live], "after": [fail_on_timeout]},
    {"trigger": "send_failed", "source": ["authorizing", "voiding"], "dest": "completing",
     "conditions": [send_is_pending], "after": [fail_unsent]},
    {"trigger": "timer_expired", "source": "idle", "dest": "completing",
     "conditions": [reprint_timer_is_live], "after": [reprint_missing]},
    {"trigger": "timer_expired", "source": ["reading", "authorizing", "voiding", "completing"],
     "dest": None, "conditions": [reprint_timer_is_live], "after": [rearm_reprint]},
    {"trigger": "void_requested", "source": "idle", "dest": "voiding",
     "conditions": [has_sale_to_void], "after": [begin_void]},
    {"trigger": "reprint_requested", "source": "idle", "dest": "completing",
     "conditions": [can_reprint], "after": [reprint]},
    {"trigger": "print_done", "source": "completing", "dest": "idle",
     "after": [finish_transaction]},
    {"trigger": "host_reply", "source": _LIVE, "dest": None, "after": [note_stray_reply]},
    {"trigger": "power_lost", "source": _LIVE, "dest": "off", "after": [lose_volatile_state]},
    {"trigger": "power_on", "source": "off", "dest": "idle", "after": [boot]},
]


class _FleetMachine(Machine):
    """``transitions``' Machine, less the log record it makes for every callback it runs.

    ``Machine.callbacks`` logs each callback at INFO, the costliest of the ~11 log calls
    per transition (the others are DEBUG calls a disabled level returns from early). Our
    callbacks are callables and events are sent (``send_event=True``), so each is called
    with the event data, as ``Machine.callback`` does for a callable.
    """

    def callbacks(self, funcs: Iterable[Any], event_data: Any) -> None:
        for func in funcs:
            if callable(func):
                func(event_data)
            else:  # a name or a dotted path: the library resolves it
                self.callback(func, event_data)


class TerminalFleet:
    """One ``transitions`` Machine shared by many terminal cores."""

    def __init__(self) -> None:
        self.machine = _FleetMachine(
            model=None,
            states=STATES,
            transitions=TRANSITIONS,
            initial="off",
            auto_transitions=False,
            send_event=True,
        )

    def add(self, cores: Iterable[TerminalCore]) -> None:
        """Attach cores in one call: ``add_model`` scans a list, so batch it."""
        batch = list(cores)
        if batch:
            self.machine.add_model(batch, initial="off")

    def remove(self, cores: Iterable[TerminalCore]) -> None:
        self.machine.remove_model(list(cores))


__all__ = ["HOST_TIMER", "REPRINT_TIMER", "STATES", "TRANSITIONS", "InFlight", "TerminalCore",
           "TerminalFleet"]
