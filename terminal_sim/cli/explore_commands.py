"""``pos-sim explore``: the fault-space explorer (:mod:`terminal_sim.explore`).

Exit codes as in the rest of ``pos-sim``: 0 no failing world, 1 failing worlds (or the
oracles disagreed), 2 bad input. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from terminal_sim.cli.cluster_option import announce_cluster, cluster_option, maybe_cluster
from terminal_sim.cli.exit_codes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from terminal_sim.cli.exit_codes import cli_errors as _errors

if TYPE_CHECKING:
    from terminal_sim.harness.cluster import ClusterSpec

__all__ = ["explore", "parse_budget"]

#: ``terminal_sim.explore.shrink.SHRINK_BUDGET`` (not imported: ``--help`` stays light)
_SHRINK_RUNS = 150
_BUDGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


def parse_budget(text: str) -> float:
    """``"60s"``, ``"5m"``, ``"1h"`` or ``"90"`` (seconds) as seconds."""
    match = _BUDGET.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise click.BadParameter(f"expected a duration like 60s, 5m or 1h, got {text!r}",
                                 param_hint="--time")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]


@click.command("explore")
@click.option("--profile", type=click.Choice(["naive", "robust"]), required=True,
              help="Firmware profile every world runs under.")
@click.option("--runs", type=click.IntRange(min=1), help="How many worlds to explore.")
@click.option("--time", "budget", help="Explore for this long instead (60s, 5m, 1h).")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="The seed every world is drawn from.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for explore.json and the failures (default: out/explore-SEED).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes (1: in this process).")
@cluster_option
@click.option("--shrink-runs", type=click.IntRange(min=0),
              help="Runs spent at most shrinking one failure (default: 150).")
@click.option("--json", "as_json", is_flag=True, help="Print explore.json instead of a table.")
def explore(profile: str, runs: int | None, budget: str | None, seed: int,
            out_dir: Path | None, workers: int, cluster: ClusterSpec | None,
            shrink_runs: int | None, as_json: bool) -> None:
    """Generate worlds from SEED (terminals, workloads, a random mix of every registered
    fault), run and judge each, and shrink each failure to a minimal scenario.

    A world fails when the simulator raises, a forbidden finding shows (LOST_RECORD,
    ORPHAN_AUTHORIZATION, DUPLICATE_CHARGE, STRAY_RECEIPT of an approved slip), under
    robust work is left unfinished (liveness), or the auditor disagrees with the
    reconciler (an oracle disagreement). OUT/explore.json sums it up; each failure gets
    OUT/failures/<reason>-<world>/ with scenario.yaml and reproduce.sh, the first two of
    each reason a minimal.yaml (the others name it). Without --runs or --time, 100
    worlds. Exit 1 when any world fails. --cluster runs the worlds on Dask distributed
    (the same explore.json as with --workers).
    """
    from terminal_sim.explore.output import write_exploration
    from terminal_sim.explore.runner import explore as run_explore
    from terminal_sim.harness.out_dir import check_out_dir

    if runs is not None and budget is not None:
        click.echo("error: give --runs or --time, not both", err=True)
        sys.exit(EXIT_BAD_INPUT)
    seconds = parse_budget(budget) if budget is not None else None
    if seconds is None and runs is None:
        runs = 100
    out = out_dir or Path("out") / f"explore-{seed}"
    with _errors():
        check_out_dir(out)  # before exploring: an unusable --out is exit 2 at once
    # the mock host logs each corrupted message it drops: in hundreds of generated worlds
    # that is noise, and the worlds' own reports keep what matters (the level is put back
    # afterwards: a caller's process, e.g. a test runner, keeps its own logging)
    host_log = logging.getLogger("terminal_sim.acquirer")
    level = host_log.level
    host_log.setLevel(logging.ERROR)
    with _restored(host_log, level), _errors(), maybe_cluster(cluster) as pool:
        announce_cluster(pool)
        started = time.monotonic()  # the console's figures only, never explore.json
        found = run_explore(profile, seed, runs=runs, time_budget_s=seconds,
                            workers=pool.workers if pool is not None else workers,
                            executor=pool.executor if pool is not None else None,
                            shrink_budget=_SHRINK_RUNS if shrink_runs is None else shrink_runs,
                            progress=sys.stderr)
        data = write_exploration(found, out)
        elapsed = time.monotonic() - started
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        _table(data, out, elapsed)
    echo = click.echo if not as_json else _to_stderr
    echo(f"failures: {data['failures']}")
    echo(f"oracle_disagreements: {data['oracle_disagreements']}")
    sys.exit(EXIT_FAILED if data["failing"] else EXIT_OK)


@contextmanager
def _restored(logger: logging.Logger, level: int) -> Iterator[None]:
    try:
        yield
    finally:
        logger.setLevel(level)


def _to_stderr(text: str) -> None:
    click.echo(text, err=True)


def _table(data: dict[str, Any], out: Path, elapsed: float) -> None:
    runs = data["runs"]
    click.echo(f"explore: {runs} worlds, profile {data['profile']}, seed {data['seed']} "
               f"({elapsed:.1f} s, {runs / max(elapsed, 1e-9):.2f} worlds/s)")
    covered = data["faults_covered"]
    click.echo(f"faults covered: {sum(1 for n in covered.values() if n)}/{len(covered)}, "
               f"each in at least {min(covered.values(), default=0)} worlds")
    minimals: dict[str, list[str]] = {}
    for failure in data["failing"]:
        if failure["minimal"] and failure["minimal"] not in minimals.setdefault(
                failure["reason"], []):
            minimals[failure["reason"]].append(failure["minimal"])
    if data["by_reason"]:
        click.echo(f"  {'reason':<40} {'worlds':>6}  minimal scenarios")
    for reason, count in data["by_reason"].items():
        shown = ", ".join(str(out / path) for path in minimals.get(reason, []))
        click.echo(f"  {reason:<40} {count:>6}  {shown}")
    click.echo(f"written: {out / 'explore.json'}")
