"""Campaigns beyond one machine: Dask's speed against the process pool, the client's memory.

    python bench/bench_cluster.py speed [--seeds 200] [--rounds 3]
    python bench/bench_cluster.py memory --seeds 2000,20000,100000

``speed``: seeds/s of ``scenarios/happy-day.yaml`` on ``--cluster local:2`` (a Dask
LocalCluster of 2 worker processes) against the 2-worker process pool, the same seeds,
the campaign alone (wall time of ``run_campaign``; the cluster's start is shown apart).
Target: Dask at least 0.85x the pool.

``memory``: the peak RSS of the *client* (the process running ``pos-sim campaign``; its
pool workers are other processes) for campaigns of ``bench/one-sale.yaml`` over growing
seed counts, each in a fresh process (``ru_maxrss`` of that process alone). Target:
under 300 MB at 100,000 seeds, and no growth with the seed count.

Wall-clock time is read here and only here; the campaigns' results never depend on it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HAPPY = ROOT / "scenarios" / "happy-day.yaml"
ONE_SALE = ROOT / "bench" / "one-sale.yaml"

_CLIENT = """
import resource, sys, time
from terminal_sim.cli.main import main
started = time.monotonic()
try:
    main(sys.argv[1:])
except SystemExit as done:
    code = done.code
print("RESULT", code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
      time.monotonic() - started, file=sys.stderr)
"""


def speed(seeds: int, rounds: int) -> None:
    """Pool and cluster take turns, ``rounds`` times each, on the same seeds: on a shared
    machine the load drifts, and alternating spreads the drift over both sides; the
    ratio reported is that of the median times."""
    found = measure_speed(seeds, rounds)
    pool_s, dask_s = found["pool_s"], found["dask_s"]
    ratio = pool_s / dask_s
    print(f"happy-day, {seeds} seeds, {rounds} alternating rounds: process pool (2 workers) "
          f"{seeds / pool_s:.2f} seeds/s (median {pool_s:.1f} s of "
          f"{', '.join(f'{t:.1f}' for t in found['pool_times'])}); --cluster local:2 "
          f"{seeds / dask_s:.2f} seeds/s (median {dask_s:.1f} s of "
          f"{', '.join(f'{t:.1f}' for t in found['dask_times'])}; cluster start "
          f"{found['opened_s']:.1f} s apart); ratio {ratio:.2f}x (target >= 0.85x: "
          f"{'met' if ratio >= 0.85 else 'NOT met'}); campaigns {found['same']}")


def measure_speed(seeds: int, rounds: int, scenario: Path = HAPPY) -> dict[str, Any]:
    """What :func:`speed` prints, as figures (``bench/run.py``'s campaign rows use it):
    ``pool_s`` and ``dask_s`` (median wall seconds), their ``*_times``, ``opened_s``
    (the cluster's start) and ``same`` ("identical" when every campaign agreed)."""
    from terminal_sim.harness.campaign import load_scenarios, run_campaign
    from terminal_sim.harness.cluster import open_cluster

    scenarios = load_scenarios(scenario)
    numbers = list(range(1, seeds + 1))
    pool_times: list[float] = []
    dask_times: list[float] = []
    results: list[dict[str, object]] = []
    opening = time.monotonic()
    with open_cluster("local:2") as cluster:
        opened_s = time.monotonic() - opening
        for _ in range(rounds):
            started = time.monotonic()
            result = run_campaign(scenarios, numbers, workers=2)  # a new pool, as a user's
            pool_times.append(time.monotonic() - started)
            results.append(result.to_dict())
            result.close()
            started = time.monotonic()
            result = run_campaign(scenarios, numbers, workers=cluster.workers,
                                  executor=cluster.executor)
            dask_times.append(time.monotonic() - started)
            results.append(result.to_dict())
            result.close()
    same = "identical" if all(r == results[0] for r in results) else "DIFFERENT"
    return {"pool_s": statistics.median(pool_times), "dask_s": statistics.median(dask_times),
            "pool_times": pool_times, "dask_times": dask_times, "opened_s": opened_s,
            "same": same}


def memory(counts: list[int], extra: list[str]) -> None:
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="bench-cluster-") as out:
            args = [sys.executable, "-c", _CLIENT, "campaign", str(ONE_SALE), "--seeds",
                    f"1-{count}", "--out", out, *extra]
            done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
            line = [x for x in done.stderr.splitlines() if x.startswith("RESULT")]
            if not line:
                print(f"{count} seeds: failed\n{done.stderr[-2000:]}")
                continue
            _, code, rss_kb, wall = line[-1].split()
            print(f"{count:>7,} seeds: client peak RSS {int(rss_kb) / 1024:.0f} MB, "
                  f"{float(wall):.0f} s ({count / float(wall):.0f} seeds/s), exit {code}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["speed", "memory"])
    parser.add_argument("--seeds", default=None)
    parser.add_argument("--rounds", type=int, default=3, help="speed: turns of each")
    parser.add_argument("extra", nargs="*", help="more pos-sim campaign options (memory)")
    options = parser.parse_args()
    if options.what == "speed":
        speed(int(options.seeds or 200), options.rounds)
    else:
        memory([int(n) for n in (options.seeds or "2000,20000").split(",")],
               options.extra or ["--workers", "2"])


if __name__ == "__main__":
    main()
