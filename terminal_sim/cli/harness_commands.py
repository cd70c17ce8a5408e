"""``pos-sim replay`` and ``pos-sim campaign``: the promises, measured.

==================================================  ==========================================
command                                             what it does
==================================================  ==========================================
``replay RUN_DIR [--scenario FILE] [--keep DIR]``   run the recorded scenario, seed and profile
                                                    again and compare every artifact byte for
                                                    byte (SQLite by its SQL dump)
``campaign SCENARIO_OR_DIR --seeds 1-1000``         many seeds (``--swarm``: scaled faults), in a
``[--workers N | --cluster local:N|tcp://H:P]``     process pool or on Dask distributed;
``[--out DIR] [--resume] [--profile P]``            findings by code x fault x crash point;
``[--swarm] [--keep-runs K] [--json]``              failing seeds kept as regressions with
                                                    the command that reproduces each;
                                                    resumable from OUT/campaign.sqlite
==================================================  ==========================================

Exit codes as in the rest of ``pos-sim``: ``replay`` 0 identical, 1 a difference (the
first one of each artifact is printed, the trace's first), 2 not a run directory;
``campaign`` 0 no failing seed, 1 failing seeds (listed in ``regressions.json``), 2 bad
input or a lost cluster (what was finished stays in ``campaign.sqlite`` for ``--resume``).
Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from terminal_sim.cli.cluster_option import announce_cluster, cluster_option, maybe_cluster
from terminal_sim.cli.exit_codes import EXIT_FAILED, EXIT_OK
from terminal_sim.cli.exit_codes import cli_errors as _errors
from terminal_sim.harness.cluster import ClusterError, ClusterSpec

__all__ = ["campaign", "replay"]


@click.command("replay")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The scenario file, for a run directory without scenario.yaml.")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the replayed artifacts in this directory (default: a temporary "
                   "one, deleted).")
def replay(run_dir: Path, scenario_path: Path | None, keep: Path | None) -> None:
    """Run RUN_DIR's scenario and seed again and compare every artifact byte for byte.

    Exit 0 when every artifact is identical, 1 when one differs (the first difference
    of each is printed, the trace's first: where a divergence begins), 2 when RUN_DIR
    is not a run. A live run (pos-sim run --acquirer) cannot be replayed byte for byte:
    its replay says so and checks instead that the folder is consistent (its findings
    reconcile again from its artifacts, its host rows are its own, its sales are the
    scenario's).
    """
    from terminal_sim.harness.replay import replay as run_replay

    with _errors():
        result = run_replay(run_dir, scenario_path=scenario_path, keep=keep)
    click.echo(f"replayed {result.scenario}  seed {result.seed}  profile {result.profile}"
               f"  from {run_dir}")
    if result.replay_dir is not None:
        click.echo(f"  replayed artifacts in {result.replay_dir}")
    if result.live:
        _live_replay_summary(result)
    if result.identical:
        click.echo(f"identical: {len(result.compared)} artifacts byte for byte "
                   f"({', '.join(result.compared)}; SQLite by SQL dump)")
        sys.exit(EXIT_OK)
    click.echo(f"DIFFERENT: {len(result.differences)} of {len(result.compared)} artifacts")
    for difference in result.differences:
        for line in difference.lines():
            click.echo(line)
    sys.exit(EXIT_FAILED)


def _live_replay_summary(result: Any) -> None:
    """A live run: what was checked instead of the bytes; exits 0 or 1."""
    from terminal_sim.harness.live_replay import LIVE_CHECKS, NOT_BYTE_FOR_BYTE

    click.echo(f"  not byte for byte: {NOT_BYTE_FOR_BYTE}; checked instead:")
    failed = {d.artifact for d in result.differences}
    for check, meaning in LIVE_CHECKS.items():
        click.echo(f"  {'FAIL' if check in failed else 'ok  '} {check}: {meaning}")
    for difference in result.differences:
        for line in difference.lines():
            click.echo(line)
    sys.exit(EXIT_FAILED if result.differences else EXIT_OK)


@click.command("campaign")
@click.argument("target", metavar="SCENARIO_OR_DIR", type=click.Path(path_type=Path))
@click.option("--seeds", "seeds_text", required=True,
              help="Seeds to run: N, N-M, or a comma-separated list of both (1-1000,2024).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Processes in the pool (default: the CPUs this process may use).")
@cluster_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for campaign.json, regressions.json, campaign.sqlite and the "
                   "kept failing runs (default: out/campaign-<scenario or directory name>).")
@click.option("--resume", is_flag=True,
              help="Continue the interrupted campaign in OUT/campaign.sqlite: run only the "
                   "seeds it has not finished (same arguments needed).")
@click.option("--profile", type=str, help="Run every scenario under this firmware profile.")
@click.option("--swarm/--no-swarm", default=False, show_default=True,
              help="Scale each fault's intensities per seed (see terminal_sim.harness.swarm): "
                   "a search for weaker and stronger faults, so exact expectations may fail.")
@click.option("--keep-runs", type=click.IntRange(min=0), default=20, show_default=True,
              help="Write artifacts for this many failing seeds (replayable run dirs).")
@click.option("--json", "as_json", is_flag=True, help="Print campaign.json instead of a table.")
def campaign(target: Path, seeds_text: str, workers: int | None, cluster: ClusterSpec | None,
             out_dir: Path | None, resume: bool, profile: str | None, swarm: bool,
             keep_runs: int, as_json: bool) -> None:
    """Run SCENARIO_OR_DIR (a file, or every *.yaml of a directory) for many seeds.

    Findings are aggregated by code x fault x crash point; seeds whose expectations
    fail (or, under the robust profile, that show a forbidden finding or unfinished
    work) are kept in OUT/regressions.json with the command that reproduces each.
    With --profile naming another profile than a scenario's own, its expectations are
    reported but fail no seed. Results stream into OUT/campaign.sqlite; --resume
    continues an interrupted campaign. --cluster runs it on Dask distributed (the
    results do not change). Exit 1 when any seed fails, 2 on bad input or a lost
    cluster.
    """
    from terminal_sim.harness.campaign import (
        default_workers,
        load_scenarios,
        parse_seeds,
        run_campaign,
        write_campaign,
    )
    from terminal_sim.harness.out_dir import check_out_dir

    with _errors():
        seeds = parse_seeds(seeds_text)
        scenarios = load_scenarios(target)
        name = scenarios[0].name if target.is_file() else target.resolve().name
        out = out_dir or Path("out") / f"campaign-{name}"
        check_out_dir(out)  # before any run: an unusable --out is exit 2, not a lost campaign
        running = False
        try:
            with maybe_cluster(cluster) as found:
                count = found.workers if found is not None else workers or default_workers()
                where = found.describe() if found is not None else f"{count} worker(s)"
                click.echo(f"campaign: {len(scenarios)} scenario(s) x {len(seeds)} seeds = "
                           f"{len(scenarios) * len(seeds)} runs on {where}, swarm "
                           f"{'on' if swarm else 'off'}", err=True)
                announce_cluster(found)
                started = time.monotonic()  # progress and the summary only, never results
                running = True
                result = run_campaign(
                    scenarios, seeds, seeds_text=seeds_text, profile=profile, swarm=swarm,
                    workers=count, executor=found.executor if found is not None else None,
                    out_dir=out, keep_runs=keep_runs, progress=sys.stderr, resume=resume)
        except ClusterError as exc:  # lost mid-campaign (Dask's errors surface on leaving)
            if not running:
                raise
            raise ClusterError(f"{exc}; finished runs are kept in {out / 'campaign.sqlite'}: "
                               "run the same command with --resume to continue") from exc
        try:
            summary_path, regressions_path = write_campaign(result, out)
            elapsed = time.monotonic() - started
            data = result.to_dict()
            regressions = [] if as_json else result.regressions(out)
        finally:
            result.close()
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        _table(data, regressions)
        if resume:
            click.echo(f"resumed: {result.skipped} finished runs skipped, {result.ran} run now")
        click.echo(f"{result.ran} runs in {elapsed:.1f} s "
                   f"({result.ran / max(elapsed, 1e-9):.1f} runs/s, {where})")
        click.echo(f"written: {summary_path}, {regressions_path}")
    sys.exit(EXIT_FAILED if data["failing"] else EXIT_OK)


def _table(data: dict[str, Any], regressions: list[dict[str, Any]]) -> None:
    for name, row in data["per_scenario"].items():
        codes = ", ".join(f"{c} in {n}" for c, n in row["runs_with_finding"].items()) or "none"
        click.echo(f"{name}: {row['runs']} runs, {row['failing']} failing; runs with "
                   f"findings: {codes}")
    rows = data["aggregate"]
    if rows:
        width_code = max(len("code"), *(len(r["code"]) for r in rows))
        width_fault = max(len("fault"), *(len(r["fault"] or "-") for r in rows))
        width_point = max(len("crash point"), *(len(r["crash_point"] or "-") for r in rows))
        click.echo(f"{'code':<{width_code}}  {'fault':<{width_fault}}  "
                   f"{'crash point':<{width_point}}  {'findings':>8}  {'runs':>6}  first")
        for r in rows:
            click.echo(f"{r['code']:<{width_code}}  {r['fault'] or '-':<{width_fault}}  "
                       f"{r['crash_point'] or '-':<{width_point}}  {r['findings']:>8}  "
                       f"{r['runs']:>6}  {r['first']['scenario']} seed {r['first']['seed']}")
    else:
        click.echo("findings: none in any run")
    if data["nondeterministic"]:
        click.echo("NONDETERMINISTIC (a run with artifacts found something else than in "
                   "memory):")
        for line in data["nondeterministic"]:
            click.echo(f"  {line}")
    click.echo(f"failing seeds: {data['failing']} of {data['runs']}"
               + (f" ({data['errors']} simulator errors)" if data["errors"] else ""))
    for entry in regressions[:10]:  # whole reasons: a finding code is never cut short
        why = list(entry["why"])
        more = f"; ... {len(why) - 3} more" if len(why) > 3 else ""
        click.echo(f"  {entry['command']}    # {'; '.join(why[:3])}{more}")
    if len(regressions) > 10:
        click.echo(f"  ... {len(regressions) - 10} more in regressions.json")
