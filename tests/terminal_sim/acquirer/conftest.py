"""Fixtures of the acquirer tests: a host, a server in a thread, an independent client.

The independent client (``wire.py``) speaks ISO 8583 with pyiso8583 and ``struct``
directly, not with our codec or framing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.loops import loop_factory
from terminal_sim.acquirer.rules import OutcomeRules
from terminal_sim.acquirer.server import ServerThread
from terminal_sim.base.seeds import SeedTree
from tests.terminal_sim.acquirer.wire import Wire
from tests.terminal_sim.hostile import Records


@pytest.fixture
def records() -> Iterator[Records]:
    """Every record the acquirer's loggers emit during the test (DEBUG and up)."""
    handler = Records()
    logger = logging.getLogger("terminal_sim.acquirer")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.setLevel(previous)
        logger.removeHandler(handler)


@pytest.fixture
def wire() -> Wire:
    return Wire()


def make_host(ledger: HostLedger | None = None, rules: OutcomeRules | None = None,
              **options: int) -> MockAcquirer:
    return MockAcquirer(ledger or HostLedger(), rules=rules,
                        stream=SeedTree(7).stream("acquirer"), token_key="key", **options)


@pytest.fixture
def host_factory() -> Callable[..., MockAcquirer]:
    return make_host


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "host.sqlite"


@pytest.fixture(params=["asyncio", "uvloop"])
def server(ledger_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    """A server on an ephemeral loopback port, with a file ledger, in a thread; once on
    asyncio's event loop, once on uvloop's (``pos-sim acquirer serve``'s when installed)."""
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    _, factory = loop_factory(request.param)
    ledger = HostLedger(ledger_path)
    running = ServerThread(make_host(ledger), grace_s=5.0, loop_factory=factory)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        ledger.close()
