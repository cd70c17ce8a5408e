"""Beyond one machine: a Dask distributed cluster behind the executor seam.

Any command that runs work through a :class:`concurrent.futures.Executor` (the campaign's
``executor`` seam) can run it on a cluster with one call::

    with open_cluster("local:2") as cluster:      # or "tcp://10.0.0.5:8786"
        run_campaign(..., executor=cluster.executor, workers=cluster.workers)

``--cluster`` takes two forms (:func:`parse_cluster`):

* ``local`` or ``local:N``: a Dask ``LocalCluster`` of N worker processes (one thread
  each) on the loopback interface; N defaults to the CPUs this process may use. The
  dashboard gets a free port (never a clash with another cluster on the machine), and
  only when Dask can serve one (``bokeh`` installed).
* ``tcp://HOST:PORT``: an existing scheduler (``dask scheduler``), with its workers
  (``dask worker tcp://HOST:PORT``) started wherever the team runs them.

Dask is an optional extra (``pip install terminal-sim[dask]``) and is imported only here,
only when a cluster is opened. The scheduler retries a task whose worker died (Dask's
``distributed.scheduler.allowed-failures``); a lost or unreachable scheduler, and a task
that killed every worker it was tried on, become one :class:`ClusterError` (a
:class:`~terminal_sim.errors.ConfigurationError`: the CLI exits 2 with one line).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
from collections.abc import Iterator
from concurrent.futures import CancelledError, Executor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from terminal_sim.errors import ConfigurationError

__all__ = ["Cluster", "ClusterError", "ClusterSpec", "open_cluster", "parse_cluster"]

#: How long to wait for a scheduler (and, for a new local cluster, its workers).
CONNECT_TIMEOUT_S = 30
_LOCAL = re.compile(r"^local(?::(\d+))?$")
_TCP = re.compile(r"^tcp://([^:/\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})/?$")
_INSTALL = "install the extra: pip install 'terminal-sim[dask]'"


class ClusterError(ConfigurationError):
    """The cluster named by ``--cluster`` cannot be reached, was lost, or lost a task on
    every worker it tried (exit 2, like any option that does not work out)."""


@dataclass(frozen=True)
class ClusterSpec:
    """A parsed ``--cluster`` value: ``local`` with a worker count, or a scheduler address."""

    text: str
    local_workers: int | None = None  # local:N
    address: str | None = None  # tcp://HOST:PORT

    @property
    def is_local(self) -> bool:
        return self.address is None


def parse_cluster(text: str) -> ClusterSpec:
    """``local``, ``local:N`` or ``tcp://HOST:PORT``; anything else is refused with the forms."""
    value = str(text).strip()
    local = _LOCAL.match(value)
    if local is not None:
        # imported here: parsing --cluster (every command line) must not load the campaign
        from terminal_sim.harness.campaign import default_workers

        count = int(local.group(1)) if local.group(1) is not None else default_workers()
        if count < 1:
            raise ConfigurationError(f"--cluster {value}: at least 1 worker")
        return ClusterSpec(value, local_workers=count)
    tcp = _TCP.match(value)
    if tcp is not None:
        port = int(tcp.group(2))
        if not 0 < port < 65536:
            raise ConfigurationError(f"--cluster {value}: port {port} is not 1-65535")
        return ClusterSpec(value, address=value.rstrip("/"))
    raise ConfigurationError(f"--cluster {value!r}: expected local, local:N (N worker "
                             "processes on this machine) or tcp://HOST:PORT (a running "
                             "dask scheduler)")


@dataclass
class Cluster:
    """An open cluster: the executor to submit to, how many workers, the dashboard."""

    spec: ClusterSpec
    executor: Executor
    workers: int  # worker threads when opened (a window size, not a promise)
    dashboard: str | None
    client: Any

    def describe(self) -> str:
        kind = "a local Dask cluster" if self.spec.is_local else f"Dask at {self.spec.address}"
        return f"{kind} ({self.workers} worker thread(s))"


@contextmanager
def open_cluster(spec: ClusterSpec | str) -> Iterator[Cluster]:
    """Open the cluster, yield it, close it; Dask's errors inside become :class:`ClusterError`.

    A local cluster is started and torn down here; an existing scheduler is only
    connected to (its workers keep running for the next command).
    """
    parsed = parse_cluster(spec) if isinstance(spec, str) else spec
    if importlib.util.find_spec("distributed") is None:
        raise ConfigurationError(f"--cluster {parsed.text}: Dask distributed is not "
                                 f"installed; {_INSTALL}")
    dask: Any = importlib.import_module("distributed")  # typed loosely: Dask is untyped
    local: Any = None
    client: Any = None
    # the client logs each failed reconnect with a traceback; our error says it in a line
    quiet = logging.getLogger("distributed.client")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        try:
            if parsed.is_local:
                # a free port: never a clash with another cluster (or test) on the machine
                # Dask's statistical profiler samples the task thread every 10 ms: on a
                # CPU-bound campaign that costs about a tenth of the throughput
                # (bench/bench_cluster.py speed); the workers we start go without it
                config: Any = importlib.import_module("dask.config")
                with config.set({"distributed.worker.profile.enabled": False}):
                    local = dask.LocalCluster(n_workers=parsed.local_workers,
                                              threads_per_worker=1, processes=True,
                                              host="127.0.0.1", dashboard_address=":0")
                client = dask.Client(local, timeout=CONNECT_TIMEOUT_S)
            else:
                client = dask.Client(parsed.address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"--cluster {parsed.text}: cannot reach the scheduler "
                               f"({exc})") from exc
        info = client.scheduler_info()
        threads = sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values())
        # the scheduler always lists its HTTP server; it is a dashboard only with bokeh
        served = ("dashboard" in info.get("services", {})
                  and importlib.util.find_spec("bokeh") is not None)
        cluster = Cluster(parsed, client.get_executor(pure=False), max(1, threads),
                          client.dashboard_link if served else None, client)
        try:
            yield cluster
        except ClusterError:
            raise
        except (CancelledError, OSError, TimeoutError) as exc:
            raise ClusterError(_lost(parsed, exc)) from exc
        except Exception as exc:
            if _is_dask_error(exc):
                raise ClusterError(_lost(parsed, exc)) from exc
            raise
    finally:
        _close(client, local)
        quiet.setLevel(level)


def _lost(spec: ClusterSpec, exc: BaseException) -> str:
    what = type(exc).__name__
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if what == "KilledWorker":
        return (f"--cluster {spec.text}: a task killed every worker it ran on "
                f"({detail or what})")
    return (f"--cluster {spec.text}: lost the Dask scheduler "
            f"({what}{': ' + detail if detail else ''})")


def _is_dask_error(exc: BaseException) -> bool:
    """An error raised by Dask itself (KilledWorker, CommClosedError ...), not by our code."""
    module = type(exc).__module__ or ""
    return module.split(".")[0] in ("distributed", "dask", "tornado")


def _close(client: Any, local: Any) -> None:
    # closing a client whose scheduler is gone raises or times out: the campaign's own
    # error is the one to report, so Dask's complaints while closing are set aside
    for thing in (client, local):
        if thing is None:
            continue
        try:
            thing.close(timeout=5) if thing is client else thing.close()
        except (OSError, TimeoutError, RuntimeError, CancelledError):
            continue
