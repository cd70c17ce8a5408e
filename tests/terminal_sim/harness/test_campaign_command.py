"""``pos-sim campaign``: many seeds in a pool, one aggregate, failing seeds kept."""

from __future__ import annotations

import json
import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from terminal_sim.cli.harness_commands import campaign, replay
from terminal_sim.cli.main import main
from terminal_sim.harness.campaign import load_scenarios, run_campaign, write_campaign
from terminal_sim.scenario.loader import parse_scenario
from tests.support import ROOT

LOST = ROOT / "scenarios" / "power-dip-lost-approval.yaml"

#: a small day whose expectation cannot hold (no fault takes a record): every seed fails
FAILING = """\
name: expects-the-impossible
description: A clean day that expects a lost record.
seed: 5
profile: naive
start: "2026-01-05T09:00:00"
terminals:
  - {id: T0000042, merchant_id: "M00000000000042", merchant_name: TEST SHOP}
workload:
  generate:
    count: 6
    interval_s: [60, 120]
    amount: [500, 3000]
faults:
  - name: link-latency
    delay_ms: 400
    jitter_ms: 100
expect:
  LOST_RECORD: ">= 1"
"""


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "a-lost.yaml").write_text(LOST.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "b-failing.yaml").write_text(FAILING, encoding="utf-8")
    (folder / "notes.txt").write_text("not a scenario", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def two_ways(scenario_dir: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> dict[int, tuple[Path, dict[str, object]]]:
    """The same campaign on 1 worker (in process) and on 2 (a process pool)."""
    scenarios = load_scenarios(scenario_dir)
    found = {}
    for workers in (1, 2):
        out = tmp_path_factory.mktemp(f"campaign{workers}")
        result = run_campaign(scenarios, list(range(1, 7)), seeds_text="1-6",
                              workers=workers, out_dir=out, keep_runs=2)
        write_campaign(result, out)
        found[workers] = (out, result.to_dict())
    return found


def test_one_and_two_workers_give_the_same_campaign(
        two_ways: dict[int, tuple[Path, dict[str, object]]]) -> None:
    (one_dir, one), (two_dir, two) = two_ways[1], two_ways[2]
    assert one["runs"] == 12
    assert one["aggregate"]
    assert one == two
    assert (one_dir / "campaign.json").read_bytes() == (two_dir / "campaign.json").read_bytes()
    aggregate: list[dict[str, Any]] = one["aggregate"]  # type: ignore[assignment]
    rows = {(r["code"], r["fault"], r["crash_point"]): r for r in aggregate}
    lost = rows[("LOST_RECORD", "power-dip", "sale/after:host_reply")]
    assert lost["runs"] == 6
    assert lost["scenarios"] == ["power-dip-lost-approval"]


def test_failing_seeds_become_regressions_with_a_command(
        two_ways: dict[int, tuple[Path, dict[str, object]]]) -> None:
    out, summary = two_ways[2]
    assert summary["failing_seeds"] == {"power-dip-lost-approval": [],
                                        "expects-the-impossible": [1, 2, 3, 4, 5, 6]}
    entries = json.loads((out / "regressions.json").read_text())["regressions"]
    assert [e["seed"] for e in entries] == [1, 2, 3, 4, 5, 6]
    for entry in entries:
        assert entry["why"] == ["expectation LOST_RECORD >= 1 (actual 0) unmet"]
        args = shlex.split(entry["command"])
        assert args[:2] == ["pos-sim", "run"]
        assert args[-2:] == ["--seed", str(entry["seed"])]
        assert entry["swarm"]
        assert entry["swarm"][0]["fault"] == "link-latency"
        assert Path(entry["scenario_file"]).is_file()  # the scaled scenario, written out
    kept = [e for e in entries if "run_dir" in e]
    assert [e["seed"] for e in kept] == [1, 2]  # --keep-runs 2: the first two, in order
    assert all("nondeterminism" not in e for e in kept)


def test_a_regression_command_reproduces_the_failure(
        two_ways: dict[int, tuple[Path, dict[str, object]]], tmp_path: Path) -> None:
    out, _ = two_ways[1]
    entry = json.loads((out / "regressions.json").read_text())["regressions"][3]
    args = [*shlex.split(entry["command"])[1:], "--out", str(tmp_path / "again")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "again" / "report.json").read_text())
    assert report["seed"] == entry["seed"]
    assert report["passed"] is False
    assert report["findings_by_code"] == entry["findings_by_code"]


def test_a_kept_failing_run_replays_byte_for_byte(
        two_ways: dict[int, tuple[Path, dict[str, object]]]) -> None:
    out, _ = two_ways[2]
    entry = json.loads((out / "regressions.json").read_text())["regressions"][0]
    result = CliRunner().invoke(replay, [entry["run_dir"]])
    assert result.exit_code == 0, result.output
    assert shlex.split(entry["replay"]) == ["pos-sim", "replay", entry["run_dir"]]


def test_any_executor_fits_the_seam() -> None:
    scenario = parse_scenario(FAILING, "failing.yaml")
    inline = run_campaign([scenario], [1, 2, 3], workers=1)
    with ThreadPoolExecutor(max_workers=3) as pool:
        pooled = run_campaign([scenario], [1, 2, 3], executor=pool)
    assert pooled.to_dict() == inline.to_dict()
    made: list[int] = []

    def factory(workers: int) -> ThreadPoolExecutor:
        made.append(workers)
        return ThreadPoolExecutor(max_workers=workers)

    assert run_campaign([scenario], [1, 2, 3], workers=2,
                        executor_factory=factory).to_dict() == inline.to_dict()
    assert made == [2]


def test_a_simulator_crash_is_a_failing_seed_not_the_end(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    from terminal_sim.sim import simulation

    original = simulation.Simulation.run

    def flaky(self: simulation.Simulation) -> simulation.RunResult:
        if self.seed == 2:
            raise ZeroDivisionError("planted")
        return original(self)

    monkeypatch.setattr(simulation.Simulation, "run", flaky)
    scenario = parse_scenario(LOST.read_text(encoding="utf-8"), str(LOST))
    result = run_campaign([scenario], [1, 2, 3], workers=1)
    assert [o.seed for o in result.failing] == [2]
    assert result.failing[0].reasons()[0].startswith("SIMULATOR_ERROR: ZeroDivisionError")
    assert result.to_dict()["errors"] == 1
    assert result.to_dict()["runs"] == 3


def test_under_robust_forbidden_findings_fail_a_seed_not_naive_expectations() -> None:
    # the naive scenario's dip after the host reply loses a record, as it expects; under
    # robust nothing is lost: its "LOST_RECORD >= 1" is unmet, and that is no failure
    scenario = parse_scenario(LOST.read_text(encoding="utf-8"), str(LOST))
    naive = run_campaign([scenario], [1, 2], workers=1, swarm=False)
    robust = run_campaign([scenario], [1, 2], workers=1, swarm=False, profile="robust")
    assert not naive.failing
    assert all(not o.unmet for o in naive.outcomes)
    assert all(o.profile == "robust" and o.unmet and not o.forbidden for o in robust.outcomes)
    assert not robust.failing
    # a forbidden finding does fail a robust seed: the same dip with the robust
    # firmware's journal made careless (synchronous=NORMAL loses the intent with power)
    careless = parse_scenario(LOST.read_text(encoding="utf-8").replace(
        "profile: naive", "profile: robust\nprofile_settings: {persist_intent: false}"),
        str(LOST))
    broken = run_campaign([careless], [1, 2, 3], workers=1, swarm=False)
    assert broken.failing
    assert all(o.forbidden for o in broken.failing)
    assert broken.failing[0].reasons()[0].startswith("forbidden LOST_RECORD")


def test_the_command_exit_codes(scenario_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(campaign, [str(LOST), "--seeds", "1-2", "--workers", "1", "--out",
                                  str(tmp_path / "ok")])
    assert ok.exit_code == 0, ok.output
    assert "LOST_RECORD" in ok.output
    assert "failing seeds: 0 of 2" in ok.output
    assert (tmp_path / "ok" / "campaign.json").is_file()
    failing = runner.invoke(campaign, [str(scenario_dir / "b-failing.yaml"), "--seeds", "3",
                                       "--workers", "1", "--out", str(tmp_path / "bad"),
                                       "--keep-runs", "0", "--no-swarm"])
    assert failing.exit_code == 1, failing.output
    assert "pos-sim run" in failing.output
    assert "--seed 3" in failing.output
    entry = json.loads((tmp_path / "bad" / "regressions.json").read_text())["regressions"][0]
    assert entry["swarm"] == []
    assert entry["scenario_file"] == str(scenario_dir / "b-failing.yaml")
    assert runner.invoke(campaign, [str(LOST), "--seeds", "x"]).exit_code == 2
    assert runner.invoke(campaign, [str(LOST), "--seeds", "5-1"]).exit_code == 2
    assert runner.invoke(campaign, [str(tmp_path / "none.yaml"), "--seeds", "1"]).exit_code == 2
    assert runner.invoke(campaign, [str(LOST), "--seeds", "1", "--profile", "x"]).exit_code == 2
    json_out = runner.invoke(campaign, [str(LOST), "--seeds", "1", "--workers", "1", "--json",
                                        "--out", str(tmp_path / "j")])
    assert json.loads(json_out.stdout)["runs"] == 1
    assert "campaign: 1 scenario(s) x 1 seeds" in json_out.stderr  # progress: stderr only


def test_campaign_has_help() -> None:
    result = CliRunner().invoke(campaign, ["--help"])
    assert result.exit_code == 0
    assert "--seeds" in result.output
    assert "--workers" in result.output


def test_pos_sim_lists_the_harness_commands() -> None:
    """cli.py registers them: ``main.add_command(replay)``, ``main.add_command(campaign)``."""
    result = CliRunner().invoke(main, ["--help"])
    assert "replay" in result.output
    assert "campaign" in result.output
