"""Recorded runs shared by the harness, reporting, CLI and studio tests (read-only)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from terminal_sim.harness.run import run_scenario
from terminal_sim.scenario.loader import load_scenario
from terminal_sim.sim.simulation import RunResult
from tests.support import SCENARIOS, SMALL


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


@pytest.fixture(scope="session")
def recorded_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory made the way ``pos-sim run`` makes one (do not modify it)."""
    target = tmp_path_factory.mktemp("recorded") / "run"
    run_scenario(load_scenario(SMALL), out_dir=target)
    return target


@pytest.fixture
def run_copy(recorded_run: Path, tmp_path: Path) -> Path:
    """A copy of the recorded run, free to tamper with."""
    target = tmp_path / "run"
    shutil.copytree(recorded_run, target)
    return target
