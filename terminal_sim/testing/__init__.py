"""terminal-sim as a testing library: strategies, a ready state machine, invariants.

Needs Hypothesis (``pip install 'terminal-sim[test]'``). The pytest fixtures and the
collection of scenario files live in :mod:`terminal_sim.testing.pytest_plugin`, which does not
need Hypothesis.

==========================================  =============================================
module                                      what
==========================================  =============================================
:mod:`terminal_sim.testing.strategies`      cards (test and malformed), money, sales,
                                            voids, refunds, crash points, fault specs
                                            and schedules from the fault registry
:mod:`terminal_sim.testing.stateful`        :func:`terminal_machine`: a
                                            ``RuleBasedStateMachine`` class to run,
                                            subclass, or point at your own terminal
:mod:`terminal_sim.testing.invariants`      the reconciliation rules as functions
:mod:`terminal_sim.testing.settings`        the ``ci``, ``dev`` and ``nightly`` profiles
==========================================  =============================================

Importing this package runs nothing: the simulator starts when a machine runs or a
crash-point strategy is first drawn from.
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # say how to get it, not just that it is missing
    raise ImportError(
        "terminal_sim.testing needs Hypothesis: pip install 'terminal-sim[test]'") from exc

from terminal_sim.testing import strategies
from terminal_sim.testing.invariants import (
    FORBIDDEN,
    describe_finding,
    forbidden_findings,
    money_discrepancies,
    paper_contradictions,
)
from terminal_sim.testing.settings import load_profile, register_profiles
from terminal_sim.testing.stateful import (
    DEFAULT_FAULTS,
    SessionLike,
    TerminalMachine,
    terminal_machine,
)

__all__ = [
    "DEFAULT_FAULTS",
    "FORBIDDEN",
    "SessionLike",
    "TerminalMachine",
    "describe_finding",
    "forbidden_findings",
    "load_profile",
    "money_discrepancies",
    "paper_contradictions",
    "register_profiles",
    "strategies",
    "terminal_machine",
]
