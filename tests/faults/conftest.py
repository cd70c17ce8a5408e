"""Helpers for fault tests: a small day at one terminal, with given faults."""

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


class Views:
    """The host's view, the terminal's view and the findings of a run."""

    @staticmethod
    def host(result: RunResult) -> dict[str, str]:
        return {r["stan"]: r["status"] for r in result.evidence.host}

    @staticmethod
    def journal(result: RunResult) -> dict[str, str]:
        return {r["stan"]: r["state"] for r in result.evidence.journal}

    @staticmethod
    def codes(result: RunResult) -> list[str]:
        return sorted(f.code for f in result.findings)


@pytest.fixture
def views() -> type[Views]:
    return Views
