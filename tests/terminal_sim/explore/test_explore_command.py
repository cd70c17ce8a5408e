"""``pos-sim explore``: help, usage errors, the JSON, determinism, and the CI runs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from terminal_sim.cli.main import main
from terminal_sim.plugins.registry import known_fault_names
from tests.support import ROOT

_KEYS = {"profile", "seed", "runs", "failures", "oracle_disagreements", "faults_covered",
         "by_reason", "failing"}


def _explore(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["explore", *args])
    return result.exit_code, result.stdout, result.stderr


def test_help_names_every_option() -> None:
    code, out, _ = _explore("--help")
    assert code == 0
    for option in ("--profile", "--runs", "--time", "--seed", "--out", "--workers", "--json",
                   "--shrink-runs"):
        assert option in out


@pytest.mark.parametrize("args", [
    ["--profile", "robust", "--runs", "2", "--time", "5s"],
    ["--profile", "sturdy", "--runs", "2"],
    ["--profile", "robust", "--time", "soon"],
    ["--profile", "robust", "--runs", "0"],
    ["--runs", "2"],
])
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    code, _, _ = _explore(*args, "--out", str(tmp_path / "x"))
    assert code == 2
    assert not (tmp_path / "x").exists()


def test_json_shape_and_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        code, out, err = _explore("--profile", "naive", "--runs", "3", "--seed", "4",
                                  "--shrink-runs", "2", "--out", str(tmp_path / name),
                                  "--json")
        data = json.loads(out)
        assert code == (1 if data["failing"] else 0)
        assert err.splitlines()[-2:] == [f"failures: {data['failures']}",
                                         f"oracle_disagreements: {data['oracle_disagreements']}"]
        runs.append((tmp_path / name / "explore.json").read_bytes())
    assert runs[0] == runs[1]
    data = json.loads(runs[0])
    assert set(data) == _KEYS
    assert data["runs"] == 3
    assert data["profile"] == "naive"
    assert data["seed"] == 4
    assert list(data["faults_covered"]) == known_fault_names()
    for failure in data["failing"]:
        folder = tmp_path / "a" / failure["dir"]
        assert {p.name for p in folder.iterdir()} >= {"scenario.yaml", "reproduce.sh"}
        assert failure["minimal"]
        assert (tmp_path / "a" / failure["minimal"]).is_file()


def test_a_time_budget_runs_a_prefix_of_the_worlds(tmp_path: Path) -> None:
    code, out, _ = _explore("--profile", "naive", "--time", "0.001s", "--seed", "4",
                            "--shrink-runs", "0", "--out", str(tmp_path), "--json")
    data = json.loads(out)
    assert data["runs"] >= 1
    assert code == (1 if data["failing"] else 0)
    assert all(f["world"] < data["runs"] for f in data["failing"])


def _run_explore(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "explore"
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "pos-sim"), "explore", *args,
                             "--out", str(out), "--json", "--workers", "2"],
                            capture_output=True, text=True, cwd=tmp_path, check=False)
    return result.returncode, json.loads(result.stdout)


@pytest.mark.slow
def test_robust_survives_300_explored_worlds(tmp_path: Path) -> None:
    """The issue's CI gate. It fails until the robust profile survives every mix."""
    code, data = _run_explore(tmp_path, "--profile", "robust", "--runs", "300", "--seed", "1")
    assert (data["failures"], data["oracle_disagreements"], data["by_reason"]) == (0, 0, {})
    assert code == 0


@pytest.mark.slow
def test_naive_fails_and_each_minimal_scenario_reproduces(tmp_path: Path) -> None:
    """The issue's naive gate; and the same worlds on a Dask cluster give the same file."""
    code, data = _run_explore(tmp_path, "--profile", "naive", "--runs", "200", "--seed", "1")
    assert code == 1
    assert data["failures"] >= 1
    minimals = {str(f["minimal"]): str(f["reason"]) for f in data["failing"]}
    assert all(minimals)
    for minimal, reason in minimals.items():
        path = tmp_path / "explore" / minimal
        scenario = path.read_text(encoding="utf-8")
        workload = scenario.split("\nworkload:\n", 1)[1].split("\nfaults:", 1)[0]
        assert workload.count("- at:") <= 5, minimal
        assert scenario.split("\nfaults:\n", 1)[1].count("- name:") <= 2, minimal
        run = subprocess.run([str(ROOT / ".venv" / "bin" / "pos-sim"), "run", str(path),
                              "--profile", "naive", "--out", str(tmp_path / "run")],
                             capture_output=True, text=True, check=False)
        if reason.startswith("oracle-disagreement:"):  # the run passes, the oracles differ
            audit = subprocess.run([str(ROOT / ".venv" / "bin" / "pos-sim"), "audit",
                                    str(tmp_path / "run"), "--json"],
                                   capture_output=True, text=True, check=False)
            assert not json.loads(audit.stdout)["agrees_with_report"], minimal
        elif reason.startswith("simulator-error:"):  # the run stops with the error (1 or 2)
            assert run.returncode in (1, 2), (minimal, run.stderr)
            assert run.stderr.startswith("error: "), (minimal, run.stderr)
        else:  # the expectation the minimal scenario carries is unmet
            assert run.returncode == 1, (minimal, run.stdout)
            assert f"FAIL expect {reason} == 0" in run.stdout, (minimal, run.stdout)
    # issue 14: the same worlds on a Dask LocalCluster give the same explore.json
    written = (tmp_path / "explore" / "explore.json").read_bytes()
    cluster = tmp_path / "cluster"
    again = subprocess.run([str(ROOT / ".venv" / "bin" / "pos-sim"), "explore", "--profile",
                            "naive", "--runs", "200", "--seed", "1", "--cluster", "local:2",
                            "--out", str(cluster)],
                           capture_output=True, text=True, cwd=tmp_path, check=False)
    assert again.returncode == 1, again.stderr
    assert (cluster / "explore.json").read_bytes() == written


def test_the_command_s_shrink_default_is_the_shrinker_s() -> None:
    from terminal_sim.cli.explore_commands import _SHRINK_RUNS
    from terminal_sim.explore.shrink import SHRINK_BUDGET

    assert _SHRINK_RUNS == SHRINK_BUDGET


def test_the_command_leaves_the_host_logger_as_it_found_it(tmp_path: Path) -> None:
    """It quiets the mock host while it runs; a caller's logging (a test runner's
    capture) must not stay quiet afterwards."""
    import logging

    host_log = logging.getLogger("terminal_sim.acquirer")
    before = host_log.level
    _explore("--profile", "naive", "--runs", "1", "--seed", "4", "--shrink-runs", "0",
             "--out", str(tmp_path))
    assert host_log.level == before
