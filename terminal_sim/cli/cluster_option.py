"""``--cluster``: one option any ``pos-sim`` command that runs many jobs can take.

::

    @click.command()
    @cluster_option
    def explore(..., cluster: ClusterSpec | None) -> None:
        with maybe_cluster(cluster) as found:  # None: the local process pool as before
            run(..., executor=found.executor if found else None)

The value is parsed when the command line is (a malformed one exits 2 before any
work); Dask is imported only when a cluster is opened
(:func:`terminal_sim.harness.cluster.open_cluster`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from terminal_sim.errors import ConfigurationError
from terminal_sim.harness.cluster import Cluster, ClusterSpec, open_cluster, parse_cluster

__all__ = ["announce_cluster", "cluster_option", "maybe_cluster"]

F = TypeVar("F", bound=Callable[..., Any])


def _parse(ctx: click.Context, param: click.Parameter, value: str | None) -> ClusterSpec | None:
    if value is None:
        return None
    try:
        return parse_cluster(value)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc).removeprefix(f"--cluster {value}: "),
                                 ctx=ctx, param=param) from exc


def cluster_option(func: F) -> F:
    """The ``--cluster`` option; the command gets a ``cluster`` argument
    (:class:`ClusterSpec` or None)."""
    return click.option(
        "--cluster", "cluster", metavar="local[:N]|tcp://HOST:PORT", callback=_parse,
        help="Run on Dask distributed: 'local:N' starts N worker processes on this "
             "machine, 'tcp://HOST:PORT' uses a running 'dask scheduler' and its workers "
             "(needs: pip install 'terminal-sim[dask]'). Results are the same as without.",
    )(func)


@contextmanager
def maybe_cluster(spec: ClusterSpec | None) -> Iterator[Cluster | None]:
    """The open cluster for ``spec``, or None when no ``--cluster`` was given."""
    if spec is None:
        yield None
        return
    with open_cluster(spec) as cluster:
        yield cluster


def announce_cluster(cluster: Cluster | None) -> None:
    """Say on stderr where the work runs and where its dashboard is."""
    if cluster is None:
        return
    click.echo(f"cluster: {cluster.describe()}", err=True)
    if cluster.dashboard:
        click.echo(f"dashboard: {cluster.dashboard}", err=True)
