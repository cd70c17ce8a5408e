"""Campaigns stream into OUT/campaign.sqlite, resume, and hold a bounded window of work."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from terminal_sim.cli.harness_commands import campaign
from terminal_sim.errors import ConfigurationError
from terminal_sim.harness.campaign import IN_FLIGHT_PER_WORKER, load_scenarios, run_campaign
from terminal_sim.harness.campaign_job import Job, run_job
from terminal_sim.harness.campaign_store import outcome_from_json, outcome_to_json
from terminal_sim.harness.cluster import parse_cluster
from terminal_sim.reporting.progress import Progress
from tests.support import ROOT, SMALL

FAILING = ROOT / "scenarios" / "rogue-reprint.yaml"


def _run(args: list[str]) -> Any:
    return CliRunner().invoke(campaign, args)


def test_the_store_holds_one_row_per_run_and_campaign_json_is_read_back_from_it(
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run([str(SMALL), "--seeds", "1-6", "--workers", "1", "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    with sqlite3.connect(out / "campaign.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = db.execute("SELECT ord, seed, outcome FROM outcomes ORDER BY seed").fetchall()
    assert [(o, s) for o, s, _ in rows] == [(0, seed) for seed in range(1, 7)]
    summary = json.loads((out / "campaign.json").read_text())
    assert summary["runs"] == 6
    assert json.loads(rows[0][2])["seed"] == 1


def test_resume_runs_only_the_unfinished_seeds_and_gives_the_same_campaign(
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [str(SMALL), "--seeds", "1-6", "--workers", "1", "--out", str(out)]
    first = _run(args)
    whole = (out / "campaign.json").read_bytes()
    with sqlite3.connect(out / "campaign.sqlite") as db:  # as if interrupted after 4
        db.execute("DELETE FROM outcomes WHERE seed IN (2, 5)")
    (out / "campaign.json").unlink()
    resumed = _run([*args, "--resume"])
    assert resumed.exit_code == first.exit_code, resumed.output
    assert "resumed: 4 finished runs skipped, 2 run now" in resumed.output
    assert (out / "campaign.json").read_bytes() == whole
    again = _run(args)  # without --resume a campaign starts afresh
    assert "resumed" not in again.output
    assert "6 runs in" in again.output


def test_resume_refuses_the_store_of_another_campaign(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run([str(SMALL), "--seeds", "1-2", "--workers", "1", "--out", str(out)])
    for other in (["--seeds", "1-3"], ["--seeds", "1-2", "--profile", "robust"],
                  ["--seeds", "1-2", "--swarm"]):  # swarm is opt-in
        result = _run([str(SMALL), *other, "--workers", "1", "--out", str(out), "--resume"])
        assert result.exit_code == 2, result.output
        assert "holds another campaign" in result.output
    with sqlite3.connect(out / "campaign.sqlite") as db:  # refused, and left as it was
        assert db.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0] == 2


def test_an_outcome_survives_its_json() -> None:
    source = FAILING.read_text(encoding="utf-8")
    outcome = run_job(Job(3, str(FAILING), source, 4))
    assert outcome.failed
    assert outcome.intensities
    assert outcome.keys
    assert outcome_from_json(outcome_to_json(outcome)) == outcome


class _Counting(ThreadPoolExecutor):
    """A pool that records how many tasks were in flight at most, and what they carried."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.in_flight = 0
        self.most = 0
        self.jobs: list[Job] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.jobs.extend(args[0])
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        self.in_flight -= 1


def test_a_campaign_keeps_a_bounded_window_in_flight_and_keeps_runs_locally(
        tmp_path: Path) -> None:
    scenarios = load_scenarios(FAILING)
    with _Counting() as pool:
        result = run_campaign(scenarios, list(range(1, 41)), workers=1, executor=pool,
                              out_dir=tmp_path, keep_runs=2)
        try:
            assert result.to_dict()["runs"] == 40
            kept = [e for e in result.regressions(tmp_path) if "run_dir" in e]
        finally:
            result.close()
    assert pool.most <= IN_FLIGHT_PER_WORKER
    assert len(pool.jobs) == 40
    # the kept failing runs (with artifacts) ran here, not on the given executor
    assert all(job.out_dir is None for job in pool.jobs)
    assert len(kept) == 2
    assert all((Path(e["run_dir"]) / "report.json").is_file() for e in kept)


def test_without_cluster_dask_is_never_imported(tmp_path: Path) -> None:
    code = ("import sys\n"
            "from click.testing import CliRunner\n"
            "from terminal_sim.cli.main import main\n"
            f"r = CliRunner().invoke(main, ['campaign', {str(SMALL)!r}, '--seeds', '1-2', "
            f"'--workers', '2', '--out', {str(tmp_path)!r}])\n"
            "assert r.exit_code in (0, 1), r.output\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed')))\n")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, check=True)
    assert found.stdout.strip() == "[]", found.stdout
    assert (tmp_path / "campaign.json").is_file()


@pytest.mark.parametrize(("text", "workers", "address"), [
    ("local:3", 3, None), ("local:1", 1, None), ("tcp://127.0.0.1:8786", None,
                                                 "tcp://127.0.0.1:8786"),
    ("tcp://scheduler.lan:9000/", None, "tcp://scheduler.lan:9000")])
def test_cluster_forms(text: str, workers: int | None, address: str | None) -> None:
    spec = parse_cluster(text)
    assert (spec.local_workers, spec.address) == (workers, address)
    assert parse_cluster("local").local_workers  # the CPUs here


@pytest.mark.parametrize("text", ["local:0", "local:x", "tcp://host", "http://h:1",
                                  "tcp://h:99999", "kubernetes"])
def test_bad_cluster_forms_are_refused_with_the_forms(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"local|at least 1|port"):
        parse_cluster(text)
    result = _run([str(SMALL), "--seeds", "1", "--cluster", text])
    assert result.exit_code == 2, result.output
    assert "--cluster" in result.output


def test_progress_counts_failing_units() -> None:
    lines: list[str] = []

    class Sink:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    ticks = iter(range(100))
    meter = Progress(10, "campaign", stream=Sink(), interactive=False,  # type: ignore[arg-type]
                     step_percent=50, count_failed=True, clock=lambda: float(next(ticks)))
    meter.advance(5, failed=2)
    meter.advance(5, failed=1)
    meter.close()
    text = "".join(lines)
    assert "5/10 (50%)" in text
    assert "2 failing" in text
    assert "3 failing" in text
    with pytest.raises(ConfigurationError, match="failed between"):
        meter.advance(1, failed=2)
