"""Pipelined group commit: a reply leaves only after the sync that followed its commit."""

from __future__ import annotations

import select
import signal
import socket
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.server import ServerThread
from tests.terminal_sim.acquirer.test_server import EXIT_WAIT_S, start_process
from tests.terminal_sim.acquirer.wire import Wire


class WatchedLedger(HostLedger):
    """Records, at each sync, whether the terminal had already received bytes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.terminal: socket.socket | None = None
        self.received_before_sync: list[bool] = []

    def sync(self) -> None:
        if self.terminal is not None:
            readable, _, _ = select.select([self.terminal], [], [], 0)
            self.received_before_sync.append(bool(readable))
        super().sync()


def test_no_reply_before_its_commit_is_synced(
        tmp_path: Path, wire: Wire, host_factory: Callable[..., MockAcquirer]) -> None:
    ledger = WatchedLedger(tmp_path / "host.sqlite")
    with ServerThread(host_factory(ledger)) as running, wire.connect(running.address) as sock:
        ledger.terminal = sock
        for n in range(1, 4):
            sock.sendall(wire.frame(wire.sale(stan=f"{n:06d}")))
            assert wire.read(sock)["39"] == "00"
    ledger.close()
    # one sync per sale at least, and each before the terminal had any reply
    assert len(ledger.received_before_sync) >= 3
    assert not any(ledger.received_before_sync)


def test_an_in_memory_ledger_has_nothing_to_sync() -> None:
    ledger = HostLedger()
    assert ledger.defer_sync() is False
    ledger.sync()  # nothing to do, no error
    ledger.close()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_kill_9_loses_no_answered_sale(tmp_path: Path, wire: Wire, loop: str) -> None:
    """SIGKILL amid traffic from 8 terminals: every sale answered is in the ledger."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    ledger = tmp_path / "host.sqlite"
    process, address = start_process(ledger, "--loop", loop)
    answered: list[tuple[str, str]] = []
    enough = threading.Event()

    def terminal(index: int) -> None:
        try:
            with wire.connect(address) as sock:
                for n in range(1, 100_000):
                    sock.sendall(wire.frame(wire.sale(stan=f"{n:06d}",
                                                      terminal_id=f"K{index:07d}")))
                    reply = wire.read(sock)
                    answered.append((reply["41"], reply["11"]))
                    if len(answered) >= 400:
                        enough.set()
        except OSError:  # the host died: the sale in flight may or may not be booked
            pass

    threads = [threading.Thread(target=terminal, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    try:
        enough.wait(EXIT_WAIT_S)
        process.send_signal(signal.SIGKILL)
        process.wait(EXIT_WAIT_S)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=EXIT_WAIT_S)
        for thread in threads:
            thread.join(EXIT_WAIT_S)
    assert len(answered) >= 400
    with closing(sqlite3.connect(ledger)) as db:
        recorded = set(db.execute("SELECT terminal_id, stan FROM transactions").fetchall())
    assert set(answered) <= recorded
