"""``--cluster`` values, and how the workers of a local Dask cluster are configured."""

from __future__ import annotations

import importlib.util

import pytest

from terminal_sim.errors import ConfigurationError
from terminal_sim.harness.cluster import open_cluster, parse_cluster


@pytest.mark.parametrize(("text", "workers", "address"), [
    ("local:3", 3, None),
    ("tcp://127.0.0.1:8786", None, "tcp://127.0.0.1:8786"),
    ("tcp://[::1]:8786/", None, "tcp://[::1]:8786"),
])
def test_the_two_forms_are_understood(text: str, workers: int | None,
                                      address: str | None) -> None:
    spec = parse_cluster(text)
    assert (spec.local_workers, spec.address) == (workers, address)


@pytest.mark.parametrize("text", ["local:0", "tcp://host:99999", "udp://h:1", "dask", ""])
def test_anything_else_names_the_value(text: str) -> None:
    with pytest.raises(ConfigurationError, match="--cluster"):
        parse_cluster(text)


def _profiling() -> bool:
    import dask.config
    return bool(dask.config.get("distributed.worker.profile.enabled"))


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                    reason="the [dask] extra is not installed")
def test_local_workers_run_without_the_statistical_profiler() -> None:
    # the profiler samples the task thread every 10 ms: about a tenth of a CPU-bound
    # campaign's throughput (bench/bench_cluster.py speed)
    with open_cluster("local:1") as cluster:
        answers = cluster.client.run(_profiling)
    assert list(answers.values()) == [False]
