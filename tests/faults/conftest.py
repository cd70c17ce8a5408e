"""Helpers for fault tests: a small day at one terminal, with given faults.

The ``day`` fixture is a :data:`Day`: ``day(faults_yaml, count=, profile=, seed=)``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from terminal_sim.harness.run import run_scenario
from terminal_sim.scenario.loader import parse_scenario
from terminal_sim.sim.simulation import RunResult

DAY = """\
name: fault-test
seed: {seed}
profile: {profile}
start: "2026-02-02T09:00:00"
terminals:
  - {{id: T0000001}}
workload:
  generate:
    count: {count}
    interval_s: [60, 120]
    amount: [1000, 5000]
    cards: {{visa-approve: 1}}
faults:
{faults}
"""


@pytest.fixture
def day() -> Callable[..., RunResult]:
    def run(faults: str = "", *, count: int = 6, profile: str = "naive", seed: int = 5,
            **kwargs: Any) -> RunResult:
        block = textwrap.indent(textwrap.dedent(faults).strip(), "  ") if faults else "  []"
        text = DAY.format(seed=seed, profile=profile, count=count, faults=block)
        return run_scenario(parse_scenario(text, "fault-test.yaml"), **kwargs)

    return run
