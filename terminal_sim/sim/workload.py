"""Customer and operator actions of a scenario, placed on the virtual timeline.

Explicit sales and voids come as written. ``generate`` adds ``count`` sales *at each
terminal*, spaced by intervals drawn from that terminal's own stream
(``workload/<terminal id>``), so adding a terminal does not change the others' days.
:class:`Cashier` (``workload.cashier``, off by default) presents a purchase again as a
new sale after a power cut or an unknown outcome, as cashiers do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from terminal_sim.base.cards import Card, catalog_card
from terminal_sim.base.money import Money
from terminal_sim.base.seeds import SeedTree
from terminal_sim.core.events import RefundRequested, SaleRequested, VoidRequested
from terminal_sim.receipts.layout import read_slip
from terminal_sim.scenario.loader import CashierSpec, Scenario

if TYPE_CHECKING:
    from terminal_sim.sim.node import TerminalNode

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


#: Response codes a cashier reads as "the system failed", not "the card was refused":
#: 30 (format error: the request was damaged on the way), 91 (issuer unavailable),
#: 96 (system malfunction). A real decline (05, 51, 54, ...) is not retried.
TECHNICAL_DECLINES = frozenset({"30", "91", "96"})
#: A cashier waiting for a dark or busy terminal looks at it again this often...
RECHECK_MS = 5_000
#: ...and gives up on the purchase after waiting this long.
GIVE_UP_MS = 30 * 60_000


@dataclass(slots=True)
class _Attempt:
    request: SaleRequested
    root: str  # the sale id of the purchase's first attempt
    number: int  # 0 for the first attempt, n for the n-th retry


class Cashier:
    """The cashier who presents a purchase again, as cashiers do (``workload.cashier``).

    A sale the cashier keyed is in *trouble* when

    * the terminal ends it without an approval it could print: its journal commit says
      ``failed`` (``NOT COMPLETED - NO HOST REPLY``: an unknown outcome, the host may
      have approved) or ``declined`` with a technical code (:data:`TECHNICAL_DECLINES`);
    * or the power goes (cut or process kill) while the sale is in flight, whatever
      step it had reached.

    ``retry_after_s`` later (drawn from the stream ``cashier/<terminal id>``, used only
    by retries, so switching retries on does not move any other stream) the cashier
    looks again. While the terminal is dark, busy or about to reprint, the cashier waits
    (every :data:`RECHECK_MS`, at most :data:`GIVE_UP_MS`). Then the cashier reads the
    paper: if a complete slip reading APPROVED with the sale's STAN came out after all
    (printed before the cut, or reprinted at boot), the customer has paid and nothing
    happens. Otherwise the same purchase (amount, currency, card) is presented as a new
    sale: a new sale id ``<first sale id>-R<n>`` and so a new STAN, marked by a trace
    note ``cashier_retry`` with ``retry_of`` (the first attempt's sale id), ``attempt``
    and ``why``. At most ``max_retries`` retries per purchase. The retry replaces the
    terminal's own "customer pays again" re-presentation of a failed sale; an unread
    card is still re-presented as before.
    """

    def __init__(self, spec: CashierSpec, seeds: SeedTree) -> None:
        self.spec = spec
        self.seeds = seeds
        self.attempts: dict[tuple[str, str], _Attempt] = {}  # (terminal, sale id) -> attempt
        self.handled: set[tuple[str, str]] = set()

    def sale_ended(self, node: TerminalNode, sale_id: str, state: str, response_code: str,
                   stan: str) -> None:
        """The terminal committed the sale's final state."""
        if state == "failed":
            self._trouble(node, sale_id, stan, "not completed")
        elif state == "declined" and response_code in TECHNICAL_DECLINES:
            self._trouble(node, sale_id, stan, f"declined {response_code}")

    def power_cut(self, node: TerminalNode, sale_id: str, stan: str) -> None:
        """The power went with this sale in flight."""
        self._trouble(node, sale_id, stan, "power cut")

    def _trouble(self, node: TerminalNode, sale_id: str, stan: str, why: str) -> None:
        key = (node.terminal_id, sale_id)
        attempt = self.attempts.get(key)
        if attempt is None:  # a first attempt: the terminal knows what was keyed
            known = node.sales.get(sale_id)
            if known is None or type(known[0]) is not SaleRequested:
                return
            attempt = _Attempt(known[0], sale_id, 0)
        if key in self.handled:
            return
        self.handled.add(key)
        if attempt.number >= self.spec.max_retries:
            return
        stream = self.seeds.stream(f"cashier/{node.terminal_id}")
        delay = stream.between(*self.spec.retry_after_s) * 1000
        deadline = node.clock.now() + GIVE_UP_MS
        node.scheduler.after(delay, lambda: self._look(node, attempt, stan, why, deadline))

    def _look(self, node: TerminalNode, attempt: _Attempt, stan: str, why: str,
              deadline: int) -> None:
        core = node.core
        if not node.powered or core.state != "idle" or core.reprints:
            if node.clock.now() + RECHECK_MS <= deadline:
                node.scheduler.after(RECHECK_MS,
                                     lambda: self._look(node, attempt, stan, why, deadline))
            else:
                node.note("cashier_gave_up", sale_id=attempt.request.sale_id, why=why)
            return
        if stan and _approved_on_paper(node, stan):
            return
        number = attempt.number + 1
        first = attempt.request
        retry = SaleRequested(f"{attempt.root}-R{number}", first.amount, first.card)
        self.attempts[(node.terminal_id, retry.sale_id)] = _Attempt(retry, attempt.root, number)
        node.note("cashier_retry", sale_id=retry.sale_id, retry_of=attempt.root,
                  attempt=number, why=why)
        node.request(retry)


def _approved_on_paper(node: TerminalNode, stan: str) -> bool:
    """A complete slip reading APPROVED with ``stan`` is on this terminal's roll.

    The roll is read as text where the device gives it (no receipt objects built on every
    retry), and only a slip whose text holds ``stan`` is parsed: a slip whose STAN line
    reads ``stan`` holds it.
    """
    device = node.ports.printer.device
    each = getattr(device, "iter_receipt_texts", None)
    roll = each() if each is not None else getattr(device, "receipts", [])
    for receipt in roll:
        if receipt.truncated or stan not in receipt.text:
            continue
        facts = read_slip(receipt.text)
        if facts.stan == stan and facts.approved:
            return True
    return False


def install_cashier(spec: CashierSpec, nodes: dict[str, TerminalNode], seeds: SeedTree
                    ) -> Cashier | None:
    """Put a retrying cashier at every terminal (``None`` when the spec does not retry)."""
    if not spec.retry:
        return None
    cashier = Cashier(spec, seeds)
    for node in nodes.values():
        node.cashier = cashier
    return cashier
