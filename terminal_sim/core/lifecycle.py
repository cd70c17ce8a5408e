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

from collections.abc import Callable, Iterable
from typing import Any

from transitions import EventData, Machine, State, Transition

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
from terminal_sim.core.events import Event
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

    def _add_trigger_to_model(self, trigger: str, model: Any) -> None:
        # The library binds two partials per event to every model (``core.<event>()``
        # and ``core.may_<event>()``): 22 events, ~5.7 KiB a terminal, 57 MB for a fleet
        # of 10,000. Cores are driven by name only (``core.trigger(name, ...)``, bound
        # by ``add_model`` itself, or ``TerminalFleet.fire``), so none is bound.
        return


#: One transition as :meth:`TerminalFleet.fire` takes it: the library's ``Transition``,
#: its conditions as (callable, target), its destination's name and State (None: an
#: internal transition), its ``after`` callables.
_Callback = Callable[[EventData], Any]
_Step = tuple[Transition, tuple[tuple[_Callback, bool], ...], "tuple[str, State] | None",
              tuple[_Callback, ...]]
#: (trigger, source state) -> the transitions to try in order; ``()``: the trigger is not
#: valid in that state (the library raises ``MachineError``, which :meth:`handle` takes
#: as "not accepted").
_Routes = dict[tuple[str, str], tuple[_Step, ...]]


def _plain_machine(machine: Machine) -> bool:
    """Nothing runs around a transition but its conditions and ``after`` callables."""
    hooks = (machine.prepare_event, machine.before_state_change, machine.after_state_change,
             machine.finalize_event, machine.on_exception, machine.on_final)
    states_plain = all(not (state.on_enter or state.on_exit or state.final)
                       for state in machine.states.values())
    return (not machine.has_queue and machine.send_event and states_plain
            and machine.model_attribute == "state" and not any(hooks))


def _step(machine: Machine, transition: Transition) -> _Step | None:
    """``transition`` as a fast step, or None when it needs the library (a callback given
    by name, ``prepare`` or ``before`` callbacks)."""
    if transition.prepare or transition.before:
        return None
    conditions: list[tuple[_Callback, bool]] = []
    for cond in transition.conditions:
        if not callable(cond.func):
            return None
        conditions.append((cond.func, cond.target))
    after: list[_Callback] = []
    for func in transition.after:
        if not callable(func):
            return None
        after.append(func)
    dest = transition.dest
    change = (dest, machine.get_state(dest)) if dest is not None else None
    return (transition, tuple(conditions), change, tuple(after))


def plain_routes(machine: Machine) -> _Routes:
    """What :meth:`TerminalFleet.fire` needs to run ``machine``'s table without the
    library's per-step machinery; an empty dict when the machine is not plain (a hook,
    a state callback, a queue), and no key for a (trigger, state) one of whose
    transitions needs the library."""
    routes: _Routes = {}
    if not _plain_machine(machine):
        return routes
    for name, event in machine.events.items():
        for state in machine.states:
            steps = [_step(machine, t) for t in event.transitions.get(state, [])]
            if all(step is not None for step in steps):
                routes[name, state] = tuple(step for step in steps if step is not None)
    return routes


class TerminalFleet:
    """One ``transitions`` Machine shared by many terminal cores.

    :meth:`fire` runs an event through the Machine's own table (its ``Event`` and
    ``Transition`` objects, their conditions and callbacks, in the library's published
    order: conditions, state change, ``after``), without what the library does around
    each step that this table never uses: a ``partial`` and a queue check per trigger,
    the machine-wide and per-state callback lists (all empty here, checked once), and
    ~11 log calls (DEBUG and INFO) per transition. A trigger the fast routes do not
    cover goes through the library's own ``trigger``. ``fast=False`` always does (the
    reference, for tests). The Machine is built here and not reconfigured afterwards:
    the routes are taken once, from the finished table.
    """

    def __init__(self, *, fast: bool = True) -> None:
        self.machine = _FleetMachine(
            model=None,
            states=STATES,
            transitions=TRANSITIONS,
            initial="off",
            auto_transitions=False,
            send_event=True,
        )
        self.fast = fast
        self._routes = plain_routes(self.machine) if fast else {}
        self._states = dict(self.machine.states)
        self._events = dict(self.machine.events)

    def add(self, cores: Iterable[TerminalCore]) -> None:
        """Attach cores in one call: ``add_model`` scans a list, so batch it."""
        batch = list(cores)
        if batch:
            self.machine.add_model(batch, initial="off")
            if self._routes:
                for core in batch:
                    core.fire = self.fire

    def remove(self, cores: Iterable[TerminalCore]) -> None:
        batch = list(cores)
        self.machine.remove_model(batch)
        for core in batch:
            core.fire = None

    def fire(self, core: TerminalCore, event: Event) -> bool:
        """Fire ``event`` at ``core``: True when a transition was taken."""
        trigger = event.trigger
        source = core.state
        steps = self._routes.get((trigger, source))
        if steps is None:  # not a fast route: the library decides (and raises)
            return core.trigger(trigger, event=event)
        ev = EventData(self._states[source], self._events[trigger], self.machine, core, (),
                       {"event": event})
        for transition, conditions, change, after in steps:
            ev.transition = transition
            for check, target in conditions:  # in order, up to the first that fails
                if check(ev) != target:
                    break
            else:
                if change is not None:
                    core.state, ev.state = change
                for callback in after:
                    callback(ev)
                ev.result = True
                return True
        return False


__all__ = ["HOST_TIMER", "REPRINT_TIMER", "STATES", "TRANSITIONS", "InFlight", "TerminalCore",
           "TerminalFleet", "plain_routes"]
