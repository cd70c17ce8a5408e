"""A ready Hypothesis state machine of one terminal's transaction lifecycle.

:func:`terminal_machine` returns a :class:`~hypothesis.stateful.RuleBasedStateMachine`
class (the way zarr ships ``zarr.testing.stateful`` for third-party stores): run it
with ``run_state_machine_as_test``, expose its ``TestCase`` to pytest, or subclass it
to add rules and invariants of your own::

    from hypothesis.stateful import run_state_machine_as_test
    from terminal_sim.testing import terminal_machine

    RobustTerminal = terminal_machine(profile="robust")
    TestRobustTerminal = RobustTerminal.TestCase          # collected by pytest

    def test_power_dips_only():
        run_state_machine_as_test(terminal_machine("robust", faults=["power-dip"]))

Rules (each prints in Hypothesis's output as the call that reproduces it):

======================================  ==================================================
rule                                    what happens
======================================  ==================================================
``sale(amount=1250, card='visa-...')``  a customer pays (EUR, a test card); the request
                                        waits its turn if the terminal is busy or off
``void()``                              the cashier voids the last approved sale
``reprint(keyed_amount=None)``          the admin menu's print key
``pull_plug()`` / ``plug_in()``         the power stays off until it is plugged in again
``advance(ms=...)``                     virtual time passes, with all that happens in it
``settle()``                            run until only background work is left; the
                                        invariants are judged after this step
``power_dip(at='sale/after:print')``    ``power-dip`` at the next pass of that crash point
``host_reply_lost()``                   ``link-drop-reply``: the host's next reply is lost
``host_reply_late(delay_ms=...)``       ``link-late-reply``: the next reply comes late
``card_read_fails()``                   ``torn-card``: the next card read fails
``inject_<fault>(params={...})``        any other registered fault named in ``faults``
======================================  ==================================================

Every fault rule arms a one-shot fault (``limit=1``): armed twice, the next two replies
are lost. ``faults`` chooses which fault rules exist.

The invariant ``books_reconcile`` is judged only when the last step was a ``settle()``
that left the terminal powered, idle and with nothing in flight (mid-sale the evidence
disagrees by design). It requires

* no ``LOST_RECORD``, ``ORPHAN_AUTHORIZATION``, ``DUPLICATE_CHARGE``, and no
  ``STRAY_RECEIPT`` of a slip saying APPROVED (:meth:`TerminalMachine.forbidden_problems`),
  nor such a slip for a STAN the books hold as failed, pending or reversed
  (:meth:`TerminalMachine.paper_problems`: the strict reading of ``STRAY_RECEIPT``);
* money conserved: the host ledger and the books agree on what each terminal charged,
  per currency (:meth:`TerminalMachine.money_problems`).

At the end of every run, :meth:`TerminalMachine.teardown` plugs the terminal in and lets
the day run out with the faults armed, then stops them and requires the terminal to be
idle again within ``idle_within_ms`` of virtual time; then it judges ``books_reconcile``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Protocol

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from terminal_sim.core.profiles import PROFILES
from terminal_sim.errors import ConfigurationError
from terminal_sim.testing.invariants import (
    FORBIDDEN,
    EvidenceLike,
    FindingLike,
    describe_finding,
    forbidden_findings,
    money_discrepancies,
    paper_contradictions,
)
from terminal_sim.testing.strategies import card_names, crash_points, fault_params

#: The fault rules a machine has unless told otherwise.
DEFAULT_FAULTS: tuple[str, ...] = ("power-dip", "link-drop-reply", "link-late-reply",
                                   "torn-card")
#: Customers pay up to 500.00 EUR; the host declines by amount ending (..05, ..51 ...).
MAX_AMOUNT_MINOR = 50_000


class SessionLike(Protocol):
    """What the machine drives: :class:`terminal_sim.sim.session.Session` or your own.

    Optional: ``quiet() -> bool`` (nothing but background work pending) and ``close()``.
    Without ``quiet`` the machine looks for ``sim.scheduler.quiet()`` (a ``Session``),
    and failing that trusts ``state() == "idle"`` after ``settle()``.
    """

    def sale(self, amount_minor: int, currency: str = ..., card: str = ...) -> str: ...

    def void(self) -> None: ...

    def reprint(self, keyed_amount: int | None = None) -> None: ...

    def pull_plug(self) -> None: ...

    def plug_in(self) -> None: ...

    def inject(self, name: str, **params: Any) -> Any: ...

    def remove(self, fault: Any) -> None: ...

    def advance(self, ms: int) -> None: ...

    def settle(self, *, limit_ms: int = ...) -> None: ...

    def state(self) -> str: ...

    def findings(self) -> list[Any]: ...

    def evidence(self) -> Any: ...


def _is_settled(machine: TerminalMachine) -> bool:
    return machine.settled


class TerminalMachine(RuleBasedStateMachine):
    """One terminal under customers, an operator, a host and faults.

    Build one with :func:`terminal_machine`; subclass it to add rules (``self.terminal``
    is the session under test, ``self.steps`` the steps run so far, as printed) or
    override :meth:`make_terminal`.
    """

    #: firmware profile (``terminal_machine`` checks it is a known one)
    profile: ClassVar[str] = "robust"
    #: seed of the default session (Hypothesis explores steps and timing, not seeds)
    seed: ClassVar[int] = 0
    #: finding codes the invariant forbids (STRAY_RECEIPT: of a slip saying APPROVED)
    forbidden: ClassVar[frozenset[str]] = FORBIDDEN
    #: ``books_reconcile`` judges money conservation too
    conserve_money: ClassVar[bool] = True
    #: how much virtual time one ``settle()`` step may take
    settle_limit_ms: ClassVar[int] = 3_600_000
    #: after the faults stop, the terminal must be idle again within this virtual time
    idle_within_ms: ClassVar[int] = 30 * 60_000
    #: currency of the ``sale`` rule
    currency: ClassVar[str] = "EUR"
    #: the registered faults this machine has rules for
    fault_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self.terminal: SessionLike = self.make_terminal()
        self.injected: list[Any] = []
        self.plugged = True
        #: True right after a ``settle()`` that left the terminal at rest
        self.settled = False
        #: the steps run so far, written as Hypothesis prints them
        self.steps: list[str] = []

    def make_terminal(self) -> SessionLike:
        """A fresh terminal for one run (``terminal_factory`` replaces this)."""
        from terminal_sim.sim.session import Session  # heavy: only when a run starts

        return Session(profile=self.profile, seed=self.seed)

    # -- helpers for rules (yours too) ---------------------------------------------------

    def record(self, step: str) -> None:
        """Note a step (as printed) and that the world is no longer known to be at rest."""
        self.steps.append(step)
        self.settled = False

    def arm(self, step: str, name: str, **params: Any) -> Any:
        """Inject fault ``name`` for the rest of the run (teardown switches it off)."""
        self.record(step)
        fault = self.terminal.inject(name, **params)
        self.injected.append(fault)
        return fault

    def at_rest(self) -> bool:
        """Powered, idle, and nothing but background work pending."""
        if self.terminal.state() != "idle":
            return False
        quiet = getattr(self.terminal, "quiet", None)
        if callable(quiet):
            return bool(quiet())
        scheduler = getattr(getattr(self.terminal, "sim", None), "scheduler", None)
        return scheduler is None or bool(scheduler.quiet())

    # -- customers and the operator ------------------------------------------------------

    @rule(amount=st.integers(1, MAX_AMOUNT_MINOR), card=card_names())
    def sale(self, amount: int, card: str) -> None:
        self.record(f"sale(amount={amount!r}, card={card!r})")
        self.terminal.sale(amount, self.currency, card)

    @rule()
    def void(self) -> None:
        self.record("void()")
        self.terminal.void()

    @rule(keyed_amount=st.none() | st.integers(1, MAX_AMOUNT_MINOR))
    def reprint(self, keyed_amount: int | None) -> None:
        self.record(f"reprint(keyed_amount={keyed_amount!r})")
        self.terminal.reprint(keyed_amount)

    # No preconditions on any rule, on purpose: a rule whose validity depends on earlier
    # steps changes what the later choices mean when the shrinker deletes a step, and
    # the shrunk example comes out longer. Pulling a pulled plug is simply a no-op.

    @rule()
    def pull_plug(self) -> None:
        self.record("pull_plug()")
        self.terminal.pull_plug()
        self.plugged = False

    @rule()
    def plug_in(self) -> None:
        self.record("plug_in()")
        self.terminal.plug_in()
        self.plugged = True

    # -- time ----------------------------------------------------------------------------

    @rule(ms=st.integers(1, 120_000))
    def advance(self, ms: int) -> None:
        self.record(f"advance(ms={ms!r})")
        self.terminal.advance(ms)

    @rule()
    def settle(self) -> None:
        self.record("settle()")
        self.terminal.settle(limit_ms=self.settle_limit_ms)
        self.settled = self.at_rest()

    # -- the invariant ------------------------------------------------------------------

    @precondition(_is_settled)
    @invariant()
    def books_reconcile(self) -> None:
        """No forbidden finding, paper that tells the truth, money conserved."""
        evidence: EvidenceLike = self.terminal.evidence()
        problems = self.forbidden_problems()
        if "STRAY_RECEIPT" in self.forbidden:
            problems += self.paper_problems(evidence)
        if self.conserve_money:
            problems += self.money_problems(evidence)
        assert not problems, (f"{self.profile} profile, with the terminal at rest:\n"
                              + "\n".join(f"  {line}" for line in problems))

    def forbidden_problems(self) -> list[str]:
        """One line per forbidden finding (override to forbid more, or less)."""
        found: list[FindingLike] = forbidden_findings(self.terminal.findings(), self.forbidden)
        return [describe_finding(f) for f in found]

    def paper_problems(self, evidence: EvidenceLike) -> list[str]:
        """One line per slip saying APPROVED for a STAN the books do not hold approved."""
        return [f"paper contradicts the books: {line}"
                for line in paper_contradictions(evidence)]

    def money_problems(self, evidence: EvidenceLike) -> list[str]:
        """One line per terminal and currency where host and books disagree."""
        return [f"money not conserved: {gap}" for gap in money_discrepancies(evidence)]

    # -- the end of a run ----------------------------------------------------------------

    def teardown(self) -> None:
        """Stop the faults, plug in, require idle within ``idle_within_ms``, judge."""
        try:
            # Hypothesis calls teardown in a ``finally``: when a step already failed, its
            # error is the one to report, not a second one about the wreck it left
            if sys.exc_info()[0] is None:
                self.after_faults_stop()
        finally:
            close = getattr(self.terminal, "close", None)
            if callable(close) and not getattr(self.terminal, "closed", False):
                close()

    def after_faults_stop(self) -> None:
        """The final judgement (called by :meth:`teardown`).

        The plug goes back in and the day runs out with the faults still armed (a fault
        armed in the last steps still meets the sale it was aimed at); then the faults
        stop and the terminal has ``idle_within_ms`` to be at rest again.
        """
        if not self.plugged:
            self.terminal.plug_in()
            self.plugged = True
        self.terminal.settle(limit_ms=self.settle_limit_ms)
        for fault in self.injected:
            self.terminal.remove(fault)
        self.terminal.settle(limit_ms=self.idle_within_ms)
        state = self.terminal.state()
        assert self.at_rest(), (
            f"{self.profile} profile: not idle {self.idle_within_ms // 1000} s of virtual "
            f"time after the faults stopped (state {state!r}"
            f"{', work still pending' if state == 'idle' else ''})")
        self.settled = True
        self.books_reconcile()


# -- fault rules, made per machine -------------------------------------------------------


def _power_dip(profile: str) -> Callable[..., None]:
    @rule(at=crash_points(profile))
    def power_dip(self: TerminalMachine, at: str) -> None:
        self.arm(f"power_dip(at={at!r})", "power-dip", at=at, limit=1)

    return power_dip


def _host_reply_lost() -> Callable[..., None]:
    @rule()
    def host_reply_lost(self: TerminalMachine) -> None:
        self.arm("host_reply_lost()", "link-drop-reply", limit=1)

    return host_reply_lost


def _host_reply_late() -> Callable[..., None]:
    @rule(delay_ms=st.integers(0, 90_000))
    def host_reply_late(self: TerminalMachine, delay_ms: int) -> None:
        self.arm(f"host_reply_late(delay_ms={delay_ms!r})", "link-late-reply",
                 delay_ms=delay_ms, limit=1)

    return host_reply_late


def _card_read_fails() -> Callable[..., None]:
    @rule()
    def card_read_fails(self: TerminalMachine) -> None:
        self.arm("card_read_fails()", "torn-card", limit=1)

    return card_read_fails


def _registry_fault(name: str) -> Callable[..., None]:
    rule_name = "inject_" + "".join(c if c.isalnum() else "_" for c in name)

    def inject_fault(self: TerminalMachine, params: dict[str, Any]) -> None:
        self.arm(f"{rule_name}(params={params!r})", name, **params)

    # Hypothesis prints a step by its function's name: make it say which fault
    inject_fault.__name__ = inject_fault.__qualname__ = rule_name
    return rule(params=fault_params(name))(inject_fault)


_DEDICATED: dict[str, Callable[[str], Callable[..., None]]] = {
    "power-dip": _power_dip,
    "link-drop-reply": lambda profile: _host_reply_lost(),
    "link-late-reply": lambda profile: _host_reply_late(),
    "torn-card": lambda profile: _card_read_fails(),
}


def _check_fault_names(faults: Iterable[str] | None) -> tuple[str, ...]:
    from terminal_sim.plugins.registry import known_fault_names

    if faults is None:
        return DEFAULT_FAULTS
    if isinstance(faults, str):
        raise ConfigurationError(
            f"terminal_machine(faults={faults!r}): give a list of fault names, "
            f"e.g. faults=[{faults!r}]")
    chosen = tuple(dict.fromkeys(faults))
    known = known_fault_names()
    for name in chosen:
        if name not in known:
            raise ConfigurationError(
                f"terminal_machine(faults=...): unknown fault {name!r}; known: "
                f"{', '.join(known)} (`pos-sim faults list` describes them)")
    return chosen


def terminal_machine(profile: str = "robust", faults: Iterable[str] | None = None,
                     terminal_factory: Callable[[], SessionLike] | None = None, *,
                     seed: int = 0, forbidden: Iterable[str] | None = None,
                     conserve_money: bool = True) -> type[TerminalMachine]:
    """A :class:`TerminalMachine` subclass for ``profile``, with fault rules for ``faults``.

    ``faults``: registered fault names (default :data:`DEFAULT_FAULTS`; ``()`` for none).
    ``terminal_factory``: a zero-argument callable returning a fresh ``Session``-like
    object per run (default ``Session(profile=profile, seed=seed)``); ``profile`` still
    names the firmware whose crash points ``power_dip`` draws from.
    ``forbidden``: finding codes the invariant forbids (default :data:`FORBIDDEN`).
    ``conserve_money``: ``books_reconcile`` also requires money conserved (default True).

    Misuse fails here, with a :class:`~terminal_sim.errors.ConfigurationError` that says
    what would be accepted.
    """
    from terminal_sim.scenario.schema import FINDING_CODES

    if not isinstance(profile, str) or profile not in PROFILES:
        raise ConfigurationError(
            f"terminal_machine(profile={profile!r}): unknown profile; choose one of: "
            f"{', '.join(PROFILES)}")
    chosen = _check_fault_names(faults)
    if terminal_factory is not None and not callable(terminal_factory):
        raise ConfigurationError(
            f"terminal_machine(terminal_factory={terminal_factory!r}): give a callable that "
            "returns a fresh Session-like object, e.g. lambda: Session(profile='robust')")
    codes = FORBIDDEN if forbidden is None else frozenset(
        [forbidden] if isinstance(forbidden, str) else forbidden)
    unknown = sorted(codes - set(FINDING_CODES))
    if unknown:
        raise ConfigurationError(
            f"terminal_machine(forbidden=...): unknown finding code {unknown[0]!r}; "
            f"known: {', '.join(FINDING_CODES)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigurationError(f"terminal_machine(seed={seed!r}): a non-negative integer")

    namespace: dict[str, Any] = {
        "__doc__": f"{TerminalMachine.__doc__}\n\n    Profile {profile!r}, fault rules for: "
                   f"{', '.join(chosen) or 'none'}.",
        "__module__": __name__,
        "profile": profile,
        "seed": seed,
        "forbidden": codes,
        "conserve_money": bool(conserve_money),
        "fault_names": chosen,
    }
    for name in chosen:
        made = _DEDICATED[name](profile) if name in _DEDICATED else _registry_fault(name)
        namespace[getattr(made, "__name__", name)] = made
    if terminal_factory is not None:
        factory = terminal_factory

        def make_terminal(self: TerminalMachine) -> SessionLike:
            return factory()

        namespace["make_terminal"] = make_terminal
    class_name = f"{profile.title()}TerminalMachine"
    machine = type(class_name, (TerminalMachine,), namespace)
    machine.__qualname__ = class_name
    return machine


__all__ = [
    "DEFAULT_FAULTS",
    "SessionLike",
    "TerminalMachine",
    "terminal_machine",
]
