"""Pipelined group commit: a reply leaves only after the sync that followed its commit."""

from __future__ import annotations

import os
import select
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from terminal_sim.acquirer import durable, wal_sync
from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.server import ServerThread
from terminal_sim.acquirer.wal_sync import WalSyncProcess
from terminal_sim.errors import JournalError
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


class GatedSyncProcess(WalSyncProcess):
    """The real helper, except that it syncs and answers only once ``gate`` exists."""

    gate: Path

    def __init__(self, wal_path: str) -> None:
        program = wal_sync.HELPER.replace(
            "while os.read(0, 1):\n",
            "import time\n"
            "while os.read(0, 1):\n"
            f"    while not os.path.exists({str(self.gate)!r}):\n"
            "        time.sleep(0.01)\n")
        if program == wal_sync.HELPER:
            raise AssertionError("the helper program changed: update this test")
        super().__init__(wal_path, program=program)


def _alive(pid: int) -> bool:
    """The process runs (a zombie waiting for its new parent counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_for_a_commit(path: Path) -> None:
    deadline = time.monotonic() + EXIT_WAIT_S
    while _committed_sales(path) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)


def _committed_sales(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT COUNT(*) FROM transactions").fetchone()[0])


def test_no_reply_leaves_before_the_sync_helper_answers(
        tmp_path: Path, wire: Wire, host_factory: Callable[..., MockAcquirer],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A sale is committed at once; its reply waits for the helper's fsync."""
    GatedSyncProcess.gate = tmp_path / "disk-answers"
    monkeypatch.setattr(durable, "WalSyncProcess", GatedSyncProcess)
    path = tmp_path / "host.sqlite"
    ledger = HostLedger(path)
    with ServerThread(host_factory(ledger)) as running, wire.connect(running.address) as sock:
        sock.sendall(wire.frame(wire.sale(stan="000001")))
        _wait_for_a_commit(path)
        assert _committed_sales(path) == 1  # committed (in the WAL), not yet synced
        readable, _, _ = select.select([sock], [], [], 0.3)
        assert not readable  # no reply while the sync is outstanding
        GatedSyncProcess.gate.touch()
        assert wire.read(sock)["39"] == "00"
    ledger.close()


def test_a_dead_sync_helper_costs_its_group_the_replies_then_a_thread_syncs(
        tmp_path: Path, wire: Wire, host_factory: Callable[..., MockAcquirer],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper dies with a sync outstanding: that sale gets no reply (its durability
    is unknown), the server logs it and syncs on a thread from then on."""
    GatedSyncProcess.gate = tmp_path / "never"
    helpers: list[GatedSyncProcess] = []

    def watched(wal_path: str) -> GatedSyncProcess:
        helpers.append(GatedSyncProcess(wal_path))
        return helpers[-1]

    monkeypatch.setattr(durable, "WalSyncProcess", watched)
    path = tmp_path / "host.sqlite"
    ledger = WatchedLedger(path)
    with ServerThread(host_factory(ledger)) as running, wire.connect(running.address) as sock:
        ledger.terminal = sock
        sock.sendall(wire.frame(wire.sale(stan="000001")))
        _wait_for_a_commit(path)
        os.kill(helpers[0].pid, signal.SIGKILL)
        sock.sendall(wire.frame(wire.sale(stan="000002")))
        reply = wire.read(sock)
        assert (reply["11"], reply["39"]) == ("000002", "00")  # 000001 got none
        assert running.server.stats.failures == 1
    ledger.close()
    # the thread synced the second sale, before its reply left
    assert ledger.received_before_sync
    assert not any(ledger.received_before_sync)
    assert len(helpers) == 1


def test_without_the_helper_a_thread_syncs_before_any_reply(
        tmp_path: Path, wire: Wire, host_factory: Callable[..., MockAcquirer],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def cannot_start(wal_path: str) -> WalSyncProcess:
        raise JournalError(f"cannot start the WAL sync helper for {wal_path}")

    monkeypatch.setattr(durable, "WalSyncProcess", cannot_start)
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
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        helpers = [int(pid) for pid in children.read_text().split()]
        process.send_signal(signal.SIGKILL)
        process.wait(EXIT_WAIT_S)
        # the WAL sync helper reads the end of its stdin and ends too: no orphan
        deadline = time.monotonic() + EXIT_WAIT_S
        while any(_alive(pid) for pid in helpers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert helpers
        assert not any(_alive(pid) for pid in helpers)
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
