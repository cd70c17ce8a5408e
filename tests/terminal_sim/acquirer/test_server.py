"""The acquirer over real TCP, talked to by an independent pyiso8583 client.

In-process (a server thread on an ephemeral port) for most cases; once as a
subprocess through the click group, stopped by a signal.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest

from terminal_sim.acquirer.host import MockAcquirer
from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.acquirer.rules import OutcomeRules
from terminal_sim.acquirer.server import ServerThread
from tests.terminal_sim.acquirer.wire import Wire


def count_transactions(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT COUNT(*) FROM transactions").fetchone()[0])


def test_echo_and_sale(server: ServerThread, wire: Wire) -> None:
    echo = wire.exchange(server.address, wire.echo(stan="000101", terminal_id="T0000042"))
    assert echo["t"] == "0810"
    assert echo["39"] == "00"
    assert echo["11"] == "000101"
    assert echo["41"] == "T0000042"
    assert echo["70"] == "301"
    sale = wire.exchange(server.address, wire.sale(stan="000102", terminal_id="T0000042"))
    assert sale["t"] == "0210"
    assert sale["39"] == "00"
    assert sale["11"] == "000102"
    assert sale["41"] == "T0000042"
    assert len(sale["37"]) == 12
    assert len(sale["38"]) == 6
    assert sale["38"].isdigit()
    declined = wire.exchange(server.address, wire.sale(stan="000103", amount=1251))
    assert declined["39"] == "51"
    assert "38" not in declined


def test_retransmitted_sale_gets_the_same_answer_and_one_entry(
        server: ServerThread, wire: Wire, ledger_path: Path) -> None:
    first = wire.exchange(server.address, wire.sale(stan="000007"))
    again = wire.exchange(server.address, wire.sale(stan="000007"))  # a new connection
    assert (again["37"], again["38"], again["39"]) == (first["37"], first["38"], "00")
    server.stop()
    assert count_transactions(ledger_path) == 1


def test_pipelined_messages_are_answered_in_order(server: ServerThread, wire: Wire) -> None:
    stans = [f"{n:06d}" for n in range(200, 206)]
    with wire.connect(server.address) as sock:
        sock.sendall(b"".join(wire.frame(wire.sale(stan=s)) for s in stans))
        assert [wire.read(sock)["11"] for _ in stans] == stans


@pytest.mark.parametrize(("name", "junk", "closes", "answer", "logged"), [
    ("garbage frame", b"\x00\x05\xff\xfe\x00ab", False, None, "dropped undecodable"),
    # answered with 30, so nothing is logged: the reason is in the host's message log
    ("format error", b"\x00\x0c0200ZZZZZZZZ", False, "30",
     "field p: Field data is 8 bytes, expecting 16 at byte 4"),
    ("truncated then close", b"\x00\x40" + b"0200", True, None, "closed mid-frame"),
    ("oversize length header", b"\xff\xff" + b"0" * 64, True, None,
     "length header announces 65535 bytes"),
    ("zero length header", b"\x00\x00", True, None, "length header announces 0 bytes"),
])
def test_hostile_input_does_not_stop_the_server(
        server: ServerThread, wire: Wire, ledger_path: Path, caplog: pytest.LogCaptureFixture,
        name: str, junk: bytes, closes: bool, answer: str | None, logged: str) -> None:
    caplog.set_level(logging.INFO, logger="terminal_sim")
    with wire.connect(server.address) as sock:
        sock.sendall(junk)
        if name == "truncated then close":
            sock.shutdown(socket.SHUT_WR)  # the client gives up mid-frame
            assert wire.closed_by_peer(sock)
        elif closes:
            assert wire.closed_by_peer(sock), f"{name}: the server should close"
        elif answer is not None:
            reply = wire.read(sock)
            assert reply["t"] == "0210"
            assert reply["39"] == answer
        else:  # no reply, connection kept: the same connection still works
            sock.sendall(wire.frame(wire.echo(stan="000009")))
            assert wire.read(sock)["11"] == "000009"
    reply = wire.exchange(server.address, wire.echo(stan="000010"))
    assert reply["t"] == "0810"
    assert reply["39"] == "00"
    assert reply["11"] == "000010"
    assert server.server.stats.failures == 0
    if answer is None:
        assert logged in caplog.text  # the reason is in the log
    else:
        with closing(sqlite3.connect(ledger_path)) as db:
            details = [row[0] for row in db.execute(
                "SELECT detail FROM messages WHERE direction = 'in' AND response_code = ?",
                (answer,))]
        assert details == [logged]


def test_messages_before_a_bad_header_are_answered(server: ServerThread, wire: Wire) -> None:
    with wire.connect(server.address) as sock:
        sock.sendall(wire.frame(wire.echo(stan="000011")) + b"\x00\x00")
        assert wire.read(sock)["11"] == "000011"
        assert wire.closed_by_peer(sock)
    assert server.server.stats.frame_errors == 1


def test_100_concurrent_connections_all_get_answers(
        server: ServerThread, wire: Wire, ledger_path: Path) -> None:
    socks = [wire.connect(server.address) for _ in range(100)]  # all open at once

    def one(index: int) -> dict[str, str]:
        sock = socks[index]
        sock.sendall(wire.frame(wire.sale(stan=f"{index + 1:06d}",
                                          terminal_id=f"T{index:07d}")))
        return wire.read(sock)

    try:
        with ThreadPoolExecutor(max_workers=100) as pool:
            replies = list(pool.map(one, range(100)))
    finally:
        for sock in socks:
            sock.close()
    assert [(r["11"], r["41"], r["39"]) for r in replies] == [
        (f"{i + 1:06d}", f"T{i:07d}", "00") for i in range(100)]
    assert len({r["37"] for r in replies}) == 100  # every RRN unique
    server.stop()
    assert count_transactions(ledger_path) == 100


def test_shutdown_closes_idle_and_half_sent_connections(
        server: ServerThread, wire: Wire, ledger_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="terminal_sim.acquirer.server")
    idle = wire.connect(server.address)
    half = wire.connect(server.address)
    half.sendall(wire.frame(wire.sale(stan="000500"))[:30])
    wire.exchange(server.address, wire.echo())  # both are accepted by now
    server.stop()
    said = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("acquirer stopped") for line in said)  # its log reaches us
    # the grace is for messages already read: these two connections end at once, none
    # is left to run out the grace and be aborted
    assert not [line for line in said if "still busy" in line]
    assert wire.closed_by_peer(idle)
    assert wire.closed_by_peer(half)
    idle.close()
    half.close()
    assert count_transactions(ledger_path) == 0  # the half message never happened


def test_shutdown_answers_everything_it_processed(
        server: ServerThread, wire: Wire, ledger_path: Path) -> None:
    """Stopped amid traffic: every sale in the ledger got its reply, and only those."""
    socks = [wire.connect(server.address) for _ in range(20)]
    for index, sock in enumerate(socks):
        sock.sendall(b"".join(wire.frame(wire.sale(stan=f"{n:06d}", terminal_id=f"S{index:07d}"))
                              for n in range(1, 6)))
    server.stop()
    answered = set()
    for sock in socks:
        with sock:
            try:
                while True:
                    reply = wire.read(sock)
                    answered.add((reply["41"], reply["11"]))
            except ConnectionError:  # EOF or reset: closed after the last reply it was owed
                pass  # (a TimeoutError would be a connection left open: it fails the test)
    with closing(sqlite3.connect(ledger_path)) as db:
        recorded = set(db.execute("SELECT terminal_id, stan FROM transactions").fetchall())
    assert answered == recorded


def test_a_busy_port_is_an_os_error(host_factory: Callable[..., MockAcquirer]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        running = ServerThread(host_factory(HostLedger()), port=taken.getsockname()[1])
        with pytest.raises(OSError, match=r"(?i)address already in use"):
            running.start()


# -- as a separate process, through the click group ------------------------------------

SERVE = [sys.executable, "-c",
         "from terminal_sim.cli.acquirer_commands import acquirer; acquirer()", "serve"]


MODULE = [sys.executable, "-m", "terminal_sim", "acquirer", "serve"]
#: how long to wait for a server process to end: a guard against a hang, not a time limit
#: (a shared machine can be slow)
EXIT_WAIT_S = 60


def start_process(ledger: Path, *extra: str, command: list[str] = SERVE
                  ) -> tuple[subprocess.Popen[str], tuple[str, int]]:
    process = subprocess.Popen(
        [*command, "--port", "0", "--ledger", str(ledger), "--seed", "3", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if process.stdout is None:
        raise RuntimeError("no stdout pipe")
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        _, err = process.communicate(timeout=EXIT_WAIT_S)
        raise AssertionError(f"server did not start: {line!r} {err}")
    host, _, port = line.removeprefix("listening on ").rpartition(":")
    return process, (host, int(port))


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_subprocess_server_answers_and_stops_cleanly(
        tmp_path: Path, wire: Wire, stop_with: signal.Signals) -> None:
    ledger = tmp_path / "host.sqlite"
    process, address = start_process(ledger)
    try:
        assert address[0] == "127.0.0.1"
        echo = wire.exchange(address, wire.echo(stan="000001", terminal_id="T0000077"))
        assert (echo["t"], echo["39"], echo["11"], echo["41"]) == (
            "0810", "00", "000001", "T0000077")
        with wire.connect(address) as sock:  # a terminal still connected at shutdown
            for n in range(2, 7):
                sock.sendall(wire.frame(wire.sale(stan=f"{n:06d}", terminal_id="T0000077")))
                reply = wire.read(sock)
                assert (reply["t"], reply["39"], reply["11"], reply["41"]) == (
                    "0210", "00", f"{n:06d}", "T0000077")
            process.send_signal(stop_with)
            assert process.wait(timeout=EXIT_WAIT_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
        _, err = process.communicate(timeout=EXIT_WAIT_S)
    assert "Traceback" not in err
    assert "acquirer stopped" in err
    assert not Path(f"{ledger}-wal").exists()  # checkpointed into the file
    with closing(sqlite3.connect(ledger)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT stan, status FROM transactions ORDER BY stan").fetchall()
    assert rows == [(f"{n:06d}", "approved") for n in range(2, 7)]


def test_subprocess_ledger_is_continued_after_a_restart(tmp_path: Path, wire: Wire) -> None:
    ledger = tmp_path / "host.sqlite"
    rrns = []
    for run, stan in enumerate(("000001", "000002")):
        process, address = start_process(ledger, command=MODULE)
        try:
            rrns.append(wire.exchange(address, wire.sale(stan=stan))["37"])
            if run == 1:  # the sale of the first run is still known: same answer
                assert wire.exchange(address, wire.sale(stan="000001"))["37"] == rrns[0]
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=EXIT_WAIT_S) == 0
            process.communicate(timeout=EXIT_WAIT_S)
    assert rrns[0] != rrns[1]
    assert count_transactions(ledger) == 2


class _PoisonRules(OutcomeRules):
    """Raises on an amount ending in 66: a bug hit after the message was logged."""

    def decide(self, *, terminal_id: str, pan: str, amount_minor: int,
               mti: str = "0200") -> str:
        if amount_minor % 100 == 66:
            raise RuntimeError("a bug in the rules")
        return super().decide(terminal_id=terminal_id, pan=pan, amount_minor=amount_minor,
                              mti=mti)


def test_a_message_that_fails_costs_its_reply_only(
        tmp_path: Path, wire: Wire, host_factory: Callable[..., MockAcquirer]) -> None:
    """Messages of one group around a failing one are booked and answered; nothing of
    the failing one is left in the ledger, and the message log has no hole."""
    ledger = HostLedger(tmp_path / "host.sqlite")
    with ServerThread(host_factory(ledger, rules=_PoisonRules())) as running, \
            wire.connect(running.address) as sock:
        sales = [wire.sale(stan="000001"), wire.sale(stan="000002", amount=1266),
                 wire.sale(stan="000003"), wire.sale(stan="000004", amount=2266),
                 wire.sale(stan="000005")]
        sock.sendall(b"".join(wire.frame(sale) for sale in sales))  # one group, likely
        replies = [wire.read(sock) for _ in range(3)]
        assert [(r["11"], r["39"]) for r in replies] == [
            ("000001", "00"), ("000003", "00"), ("000005", "00")]
        assert len({r["38"] for r in replies}) == 3
    assert running.server.stats.failures == 2
    assert running.server.stats.replies == 3
    stans = [row["stan"] for row in ledger.transactions()]
    seqs = [row["seq"] for row in ledger.messages()]
    ledger.close()
    assert sorted(stans) == ["000001", "000003", "000005"]
    assert seqs == list(range(1, 7))  # in and out of three sales
