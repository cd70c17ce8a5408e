"""Customer and operator actions of a scenario, placed on the virtual timeline.

Explicit sales and voids come as written. ``generate`` adds ``count`` sales *at each
terminal*, spaced by intervals drawn from that terminal's own stream
(``workload/<terminal id>``), so adding a terminal does not change the others' days.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal_sim.base.cards import Card, catalog_card
from terminal_sim.base.money import Money
from terminal_sim.base.seeds import SeedTree
from terminal_sim.core.events import RefundRequested, SaleRequested, VoidRequested
from terminal_sim.scenario.loader import Scenario

#: A generated void follows its sale after this long (the customer changed their mind).
VOID_AFTER_MS = 45_000


@dataclass(frozen=True, slots=True)
class Action:
    at_ms: int
    terminal: str
    event: SaleRequested | RefundRequested | VoidRequested


def plan(scenario: Scenario, seeds: SeedTree) -> list[Action]:
    """Every action of the run, in time order (ties keep scenario order)."""
    actions: list[Action] = []
    counters = {t.id: 0 for t in scenario.terminals}

    def sale_id(terminal: str) -> str:
        counters[terminal] += 1
        return f"{terminal}-{counters[terminal]:06d}"

    for sale in scenario.sales:
        request = RefundRequested if sale.kind == "refund" else SaleRequested
        actions.append(Action(sale.at_ms, sale.terminal, request(
            sale_id(sale.terminal), Money(sale.amount_minor, sale.currency), sale.card)))
    for void in scenario.voids:
        actions.append(Action(void.at_ms, void.terminal, VoidRequested()))

    gen = scenario.generate
    if gen is not None:
        names = [name for name, _ in gen.cards]
        weights = [weight for _, weight in gen.cards]
        cards = {name: Card(catalog_card(name).pan, label=name) for name in names}
        for terminal in scenario.terminals:
            stream = seeds.stream(f"workload/{terminal.id}")
            at = gen.start_ms
            for _ in range(gen.count):
                at += stream.between(*gen.interval_s) * 1000
                amount = stream.between(*gen.amount)
                card = cards[stream.weighted(names, weights)]
                actions.append(Action(at, terminal.id, SaleRequested(
                    sale_id(terminal.id), Money(amount, gen.currency), card)))
                if gen.void_rate and stream.chance(gen.void_rate):
                    actions.append(Action(at + VOID_AFTER_MS, terminal.id, VoidRequested()))
    actions.sort(key=lambda a: a.at_ms)  # stable: ties keep the order above
    return actions
