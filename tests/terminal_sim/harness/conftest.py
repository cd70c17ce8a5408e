"""Fixtures of the harness tests: one small recorded run, shared read-only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from terminal_sim.replay import write_scenario_copy
from terminal_sim.scenario import load_scenario
from terminal_sim.simulation import run_scenario

ROOT = Path(__file__).resolve().parents[3]
#: 20 sales, a power dip after a print: findings of two codes, a power cut in the trace
SMALL = ROOT / "scenarios" / "power-dip-print-before-save.yaml"


@pytest.fixture(scope="session")
def recorded_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory made the way ``pos-sim run`` makes one (do not modify it)."""
    target = tmp_path_factory.mktemp("recorded") / "run"
    scenario = load_scenario(SMALL)
    run_scenario(scenario, out_dir=target)
    if not (target / "scenario.yaml").exists():  # until Simulation writes it itself
        write_scenario_copy(scenario, target)
    return target


@pytest.fixture
def run_copy(recorded_run: Path, tmp_path: Path) -> Path:
    """A copy of the recorded run, free to tamper with."""
    target = tmp_path / "run"
    shutil.copytree(recorded_run, target)
    return target
