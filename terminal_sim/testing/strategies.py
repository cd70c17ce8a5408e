"""Hypothesis strategies for the terminal's world: cards, money, customer steps, faults.

=============================  ==========================================================
strategy                       draws
=============================  ==========================================================
:func:`card_names`             a test-card name (``visa-approve``, ``visa-decline`` ...)
:func:`catalog_cards`          a :class:`~terminal_sim.base.cards.Card` from the test-card table
:func:`malformed_pans`         a card number no issuer would emit: Luhn check broken, too
                               short or long, not digits, empty
:func:`cards`                  test cards and (``malformed=True``) malformed ones
:func:`currencies`             an ISO 4217 alpha code the simulator knows
:func:`amounts`                :class:`~terminal_sim.base.money.Money` in minor units; choose
                               ``outcome="approve"`` or ``"decline"`` by the host's
                               amount-ending rules
:func:`sales`, :func:`voids`,  a customer or cashier step (:class:`Sale`, :class:`Void`,
:func:`refunds`                :class:`Refund`) with ``apply(terminal)``
:func:`crash_points`           a crash point of a profile (``sale/after:print``)
:func:`fault_names`            a fault name from the registry (third-party ones included)
:func:`fault_specs`            a :class:`~terminal_sim.scenario.loader.FaultSpec` whose parameters
                               the fault's own ``validate`` accepts
:func:`fault_schedules`        several fault specs, each switched on for a window of time
=============================  ==========================================================

Fault parameters are drawn from each fault's ``params`` table; the built-in faults whose
parameters need more than their table says (a power dip's crash point, a clock jump's
time) have hand-written strategies. A third-party fault with required parameters gets
one with :func:`register_fault_params` (and forgets it with :func:`unregister_fault_params`).

Crash points are not listed by hand: :func:`known_crash_points` plays one reference day
of the profile (sale, void, a lost host reply, an unreadable card, a reprint, a pulled
plug) and collects the crash points its trace announces, so new effects show up here
without anyone editing this module.

The strategies live in :mod:`~terminal_sim.testing.customer_strategies` (cards, money,
steps) and :mod:`~terminal_sim.testing.fault_strategies` (crash points, faults); this
module is where to import them from.
"""

from __future__ import annotations

from terminal_sim.testing.customer_strategies import (
    DEFAULT_HORIZON_S,
    MAX_AMOUNT_MINOR,
    Refund,
    Sale,
    TerminalLike,
    Void,
    amounts,
    card_names,
    cards,
    catalog_cards,
    currencies,
    malformed_cards,
    malformed_pans,
    refunds,
    sales,
    voids,
)
from terminal_sim.testing.fault_strategies import (
    ParamStrategy,
    crash_points,
    fault_names,
    fault_params,
    fault_schedules,
    fault_specs,
    known_crash_points,
    register_fault_params,
    unregister_fault_params,
)

__all__ = [
    "DEFAULT_HORIZON_S",
    "MAX_AMOUNT_MINOR",
    "ParamStrategy",
    "Refund",
    "Sale",
    "TerminalLike",
    "Void",
    "amounts",
    "card_names",
    "cards",
    "catalog_cards",
    "crash_points",
    "currencies",
    "fault_names",
    "fault_params",
    "fault_schedules",
    "fault_specs",
    "known_crash_points",
    "malformed_cards",
    "malformed_pans",
    "refunds",
    "register_fault_params",
    "sales",
    "unregister_fault_params",
    "voids",
]
