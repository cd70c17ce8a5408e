"""A simulation you drive one step at a time.

:class:`Session` is the same world as a scenario run (same ports, faults, evidence and
reconciliation) with nothing scheduled in advance: you present cards, pull the plug,
switch faults on and off, and look at the four evidence sources whenever you like.
The trainer's page, the Hypothesis state machine and interactive exploration use it::

    session = Session(profile="naive", seed=1)
    session.inject("power-dip", at="sale/after:print")
    session.sale(1250)
    session.settle()
    [f.code for f in session.findings()]     # ['LOST_RECORD', 'STRAY_RECEIPT', ...]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from terminal_sim.base.cards import Card, catalog_card
from terminal_sim.base.clock import DEFAULT_EPOCH
from terminal_sim.base.money import Money
from terminal_sim.core.events import (
    RefundRequested,
    ReprintRequested,
    SaleRequested,
    VoidRequested,
)
from terminal_sim.errors import ConfigurationError
from terminal_sim.evidence.reconcile import Finding, Reconciler
from terminal_sim.evidence.sources import Evidence, PaperReceipt
from terminal_sim.plugins.faults import Fault
from terminal_sim.plugins.registry import fault_class
from terminal_sim.scenario.loader import CashierSpec, FaultSpec, Scenario, TerminalSpec
from terminal_sim.sim.fault_host import SimulationFaultHost
from terminal_sim.sim.node import TerminalNode
from terminal_sim.sim.simulation import RunResult, Simulation

#: How far ahead the sync agent of a session is allowed to run (it is background work).
FOREVER_MS = 10 * 365 * 86_400_000


class Session:
    """One terminal (or a few) under your hands. Time moves when you say so."""

    def __init__(self, *, profile: str = "naive", seed: int = 0,
                 terminals: tuple[str, ...] = ("T0000001",),
                 merchant_name: str = "TERMINAL-SIM DEMO SHOP",
                 start: dt.datetime = DEFAULT_EPOCH,
                 profile_settings: dict[str, Any] | None = None,
                 out_dir: str | Path | None = None,
                 cashier: CashierSpec | None = None) -> None:
        """``cashier``: a retrying cashier (:class:`~terminal_sim.sim.workload.Cashier`)
        re-presents the sales you make when they end in trouble; default: none."""
        scenario = Scenario(
            path="<session>", name="session", description="", seed=seed, profile=profile,
            profile_settings=dict(profile_settings or {}), start=start,
            terminals=tuple(TerminalSpec(t, f"M{i + 1:014d}", merchant_name)
                            for i, t in enumerate(terminals)),
            sales=(), voids=(), generate=None, faults=(), expect=(),
            cashier=cashier or CashierSpec())
        self.sim = Simulation(scenario, out_dir=out_dir)
        self.sim.build()
        self._sale_seq = 0
        self._fault_seq = 0
        self.closed = False
        self.sim.power_on(sync_until_ms=FOREVER_MS)

    # -- looking ---------------------------------------------------------------------------

    def node(self, terminal: str | None = None) -> TerminalNode:
        if terminal is None:
            return next(iter(self.sim.nodes.values()))
        try:
            return self.sim.nodes[terminal]
        except KeyError:
            raise ConfigurationError(f"no terminal {terminal!r} in this session") from None

    @property
    def now(self) -> int:
        return self.sim.clock.now()

    def state(self, terminal: str | None = None) -> str:
        return self.node(terminal).core.state

    def receipts(self) -> list[PaperReceipt]:
        out = []
        for terminal_id, node in sorted(self.sim.nodes.items()):
            for index, receipt in enumerate(node.ports.printer.device.receipts, start=1):
                out.append(PaperReceipt.from_receipt(terminal_id, index, receipt))
        return out

    def evidence(self) -> Evidence:
        return Evidence(receipts=self.receipts(), journal=self.sim.journal.rows(),
                        host=self.sim.ledger.transactions(),
                        backoffice=self.sim.backoffice.rows(), trace=self.sim.trace.records)

    def findings(self) -> list[Finding]:
        """Reconcile what is there now."""
        return Reconciler(self.evidence()).findings()

    def trace_since(self, after_id: int = 0) -> Iterator[dict[str, Any]]:
        """Trace records with an id above ``after_id``."""
        for record in self.sim.trace.records:
            if record["id"] > after_id:
                yield record

    # -- customers and operators ---------------------------------------------------------

    def sale(self, amount_minor: int, currency: str = "EUR", card: str = "visa-approve",
             *, terminal: str | None = None) -> str:
        """A customer buys for ``amount_minor``; returns the sale id."""
        return self._present(SaleRequested, "S", amount_minor, currency, card, terminal)

    def refund(self, amount_minor: int, currency: str = "EUR", card: str = "visa-approve",
               *, terminal: str | None = None) -> str:
        """The cashier refunds ``amount_minor`` to the card; returns the refund's id."""
        return self._present(RefundRequested, "R", amount_minor, currency, card, terminal)

    def _present(self, request: type[SaleRequested], prefix: str, amount_minor: int,
                 currency: str, card: str, terminal: str | None) -> str:
        node = self.node(terminal)
        known = catalog_card(card)
        self._sale_seq += 1
        sale_id = f"{node.terminal_id}-{prefix}{self._sale_seq:05d}"
        node.request(request(sale_id, Money(amount_minor, currency),
                             Card(known.pan, label=known.name)))
        return sale_id

    def void(self, *, terminal: str | None = None) -> None:
        self.node(terminal).request(VoidRequested())

    def reprint(self, keyed_amount: int | None = None, currency: str = "EUR", *,
                terminal: str | None = None) -> None:
        amount = Money(keyed_amount, currency) if keyed_amount is not None else None
        self.node(terminal).request(ReprintRequested(amount))

    def pull_plug(self, *, terminal: str | None = None) -> None:
        """Power off now; it stays off until :meth:`plug_in`."""
        node = self.node(terminal)
        if node.powered:
            node.power_cut(f"operator:{node.core.state}", reboot_after_ms=None)

    def plug_in(self, *, terminal: str | None = None) -> None:
        self.node(terminal).restore_power()

    # -- faults ----------------------------------------------------------------------------

    def inject(self, name: str, **params: Any) -> Fault:
        """Install fault ``name`` now; returns it (``remove`` switches it off)."""
        cls = fault_class(name)
        values = dict(params)
        spec = FaultSpec(name, values, None)
        stream = self.sim.seeds.stream(f"session-fault/{self._fault_seq}/{name}")
        self._fault_seq += 1
        fault: Fault = cls.from_spec(spec, stream, start_offset_ms=self.sim.start_of_day_ms)
        fault.install(SimulationFaultHost(self.sim))
        self.sim.faults.append(fault)
        return fault

    @staticmethod
    def remove(fault: Fault) -> None:
        """Switch a fault off: it sees no more opportunities."""
        fault.trigger.enabled = False

    # -- time ------------------------------------------------------------------------------

    def advance(self, ms: int) -> None:
        """Let ``ms`` of virtual time pass, with everything that happens in it."""
        target = self.now + ms
        self.sim.step(until=target)
        self.sim.clock.advance_to(target)

    def quiet(self) -> bool:
        """Nothing but background housekeeping is pending."""
        return self.sim.scheduler.quiet()

    def settle(self, *, limit_ms: int = 3_600_000) -> None:
        """Run until only background work is left (or ``limit_ms`` passed)."""
        self.sim.step(until=self.now + limit_ms, until_quiet=True)

    def close(self) -> RunResult:
        """Finish: a last sync round, reconcile, write the simulation's artifacts when an
        out_dir was given (``report.html`` is the reporting layer's: the studio adds it)."""
        if self.closed:
            raise ConfigurationError("this session is closed")
        self.closed = True
        for node in self.sim.nodes.values():
            if node.sync is not None and node.powered:
                node.sync.sync_once()
        return self.sim.finish()
