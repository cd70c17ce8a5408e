"""The node runs each effect by its type; a subclass of an effect type runs as its base,
and an effect no port performs stops the run instead of being skipped."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from terminal_sim.core.effects import CancelTimer, Effect, StartTimer
from terminal_sim.core.lifecycle import HOST_TIMER
from terminal_sim.errors import SimulationError
from terminal_sim.sim.session import Session


@dataclass(frozen=True, slots=True)
class LoudStartTimer(StartTimer):
    """A subclass the runners' table does not list by its exact type."""


@dataclass(frozen=True, slots=True)
class Unknown(Effect):
    @property
    def step(self) -> str:
        return "unknown"


def test_an_effect_subclass_runs_as_its_base() -> None:
    node = Session(profile="naive", seed=1).node()
    node._perform("idle", [LoudStartTimer(HOST_TIMER, 5_000, 1)], None)  # noqa: SLF001
    assert HOST_TIMER in node.timers
    node._perform("idle", [CancelTimer(HOST_TIMER)], None)  # noqa: SLF001
    assert HOST_TIMER not in node.timers
    steps = [r["name"] for r in node.trace.records if r["kind"] == "effect"]
    assert steps[-2:] == ["start_timer", "cancel_timer"]


def test_an_effect_no_port_performs_is_an_error() -> None:
    node = Session(profile="naive", seed=1).node()
    with pytest.raises(SimulationError, match="no port performs Unknown"):
        node._perform("idle", [Unknown()], None)  # noqa: SLF001
