"""Runs the seed scenarios once per test session, for the report, explain and replay tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal_sim.scenario import load_scenario
from terminal_sim.simulation import RunResult, run_scenario

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


@pytest.fixture(scope="session")
def scenario_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, RunResult]]:
    """Every scenarios/*.yaml, run into its own directory: name -> (run dir, result)."""
    runs = {}
    for path in sorted(SCENARIOS.glob("*.yaml")):
        run_dir = tmp_path_factory.mktemp(f"run-{path.stem}")
        runs[path.stem] = (run_dir, run_scenario(load_scenario(path), out_dir=run_dir))
    return runs


@pytest.fixture(scope="session")
def nightly_run(scenario_runs: dict[str, tuple[Path, RunResult]]) -> Path:
    """The run directory of the blank-receipts-after-the-update scenario."""
    return scenario_runs["nightly-update-blank-receipts"][0]
