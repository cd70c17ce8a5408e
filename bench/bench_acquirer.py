"""Round trips per second of the acquirer over loopback, against a bare echo server.

    python bench/bench_acquirer.py [--duration 0.5] [--rounds 3] [--connections 1,100]

Each server runs in its own process (so the client does not share its GIL); the same
asyncio client drives each one with 0200 sales in 2-byte length frames, one request
in flight per connection, a new STAN every time (no idempotent short cuts). Each cell
is measured ``--rounds`` times for ``--duration`` seconds after a short warm-up, the
rounds interleaved across the servers so a noisy moment hits all of them alike, and
the median is shown. Servers:

* ``echo``: ``asyncio.start_server`` cutting frames with ``FrameDecoder`` and sending
  each one straight back: the cost of the transport and the client alone;
* ``acquirer (memory)``: our server with an in-memory ledger: protocol and host logic;
* ``acquirer (disk)``: our server with its real ledger file (WAL, synchronous=FULL, one
  group commit per batch of waiting messages) in a temporary directory.

The table gives round trips per second, the ratio to ``echo`` in the same run, and how
many messages the acquirer committed per ledger commit (its group commit at work).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing as mp
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from terminal_sim.iso import codec
from terminal_sim.iso.framing import FrameDecoder, frame
from terminal_sim.iso.messages import HostRequest

WHEN = dt.datetime(2026, 1, 5, 9, 0, 0)
SERVERS = ("echo", "acquirer (memory)", "acquirer (disk)")


# -- the servers, each in a child process -------------------------------------------------


async def _echo_main(ready: Connection) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = FrameDecoder()
        try:
            while data := await reader.read(65536):
                out = b"".join(frame(message) for message in decoder.feed(data))
                if out:
                    writer.write(out)
                    await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
    ready.send(server.sockets[0].getsockname()[1])
    while await asyncio.get_running_loop().run_in_executor(None, ready.recv) != "stop":
        ready.send((0, 0))  # an echo server has no statistics
    server.close()


async def _acquirer_main(ready: Connection, ledger_path: str) -> None:
    import logging

    from terminal_sim.acquirer.host import MockAcquirer
    from terminal_sim.acquirer.ledger import HostLedger
    from terminal_sim.acquirer.server import AcquirerServer
    from terminal_sim.base.seeds import SeedTree

    logging.disable(logging.INFO)
    ledger = HostLedger(ledger_path)
    host = MockAcquirer(ledger, stream=SeedTree(1).stream("acquirer"), token_key="bench")
    server = AcquirerServer(host)
    _, port = await server.start()
    ready.send(port)
    while await asyncio.get_running_loop().run_in_executor(None, ready.recv) != "stop":
        ready.send((server.stats.messages, server.stats.commits))
    await server.shutdown()
    ledger.close()


def _server_process(kind: str, ready: Connection, ledger_path: str) -> None:
    if kind == "echo":
        asyncio.run(_echo_main(ready))
    else:
        asyncio.run(_acquirer_main(ready, ledger_path))


@dataclass
class RunningServer:
    kind: str
    process: mp.process.BaseProcess
    control: Connection
    port: int

    def stats(self) -> tuple[int, int]:
        """(messages, commits) processed so far."""
        self.control.send("stats")
        messages, commits = self.control.recv()
        return int(messages), int(commits)

    def stop(self) -> None:
        self.control.send("stop")
        self.process.join(10)


def start_server(kind: str, workdir: Path) -> RunningServer:
    context = mp.get_context("spawn")
    ours, theirs = context.Pipe()
    ledger = ":memory:" if kind == "acquirer (memory)" else str(workdir / "host.sqlite")
    process = context.Process(target=_server_process, args=(kind, theirs, ledger), daemon=True)
    process.start()
    deadline = time.monotonic() + 20
    while not ours.poll(0.05):
        if not process.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{kind} server did not start")
    return RunningServer(kind, process, ours, int(ours.recv()))


# -- the client, the same for every server -------------------------------------------------


def template(terminal_id: str) -> tuple[bytes, int]:
    """A framed 0200 for ``terminal_id`` and the offset of its STAN in the frame."""
    def wire(stan: str) -> bytes:
        return frame(codec.encode(HostRequest(
            "0200", "sale", stan, terminal_id, "M00000000000001", 1250, "EUR", WHEN,
            "4111111111111111", "2912").to_fields()))

    low, high = wire("000000"), wire("999999")
    offset = next(i for i, (a, b) in enumerate(zip(low, high, strict=True)) if a != b)
    return low, offset


async def _connection(port: int, terminal_id: str, warmup: int, stop_at: list[float],
                      counts: list[int], index: int, last: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    base, offset = template(terminal_id)
    message = bytearray(base)
    stan = 0
    try:
        while True:
            stan += 1
            message[offset:offset + 6] = b"%06d" % stan
            writer.write(message)
            header = await reader.readexactly(2)
            last[index] = await reader.readexactly(int.from_bytes(header, "big"))
            if stan > warmup:
                counts[index] += 1
                if time.perf_counter() >= stop_at[0]:
                    break
    finally:
        writer.close()


async def drive(port: int, connections: int, duration: float, run: str) -> tuple[float, bytes]:
    """Round trips per second of ``connections`` clients for ``duration`` seconds."""
    counts = [0] * connections
    last = [b""] * connections
    warmup_s = 0.2
    stop_at = [time.perf_counter() + warmup_s + duration]
    tasks = [asyncio.create_task(_connection(port, f"B{run}{i:06d}"[:8], 10, stop_at, counts,
                                             i, last))
             for i in range(connections)]
    await asyncio.sleep(warmup_s)
    started, before = time.perf_counter(), sum(counts)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return (sum(counts) - before) / elapsed, last[0]


def commit_cost_us(directory: Path, name: str, commits: int = 200) -> float:
    """Microseconds per one-row commit in WAL + synchronous=FULL here: the disk's sync cost."""
    path = directory / f"probe-{name}.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE probe (n INTEGER)")
        started = time.perf_counter()
        for n in range(commits):
            db.execute("INSERT INTO probe VALUES (?)", (n,))
        return (time.perf_counter() - started) / commits * 1e6
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=0.5,
                        help="seconds per measurement (default 0.5)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements per cell, interleaved across servers; the median "
                             "is shown (default 3)")
    parser.add_argument("--connections", default="1,100", help="comma-separated counts")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.connections.split(",")]
    samples: dict[tuple[str, int], list[float]] = {}
    per_commit: dict[tuple[str, int], list[float]] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-acquirer-") as tmp:
        sync_before = commit_cost_us(Path(tmp), "before")
        servers = [start_server(kind, Path(tmp)) for kind in SERVERS]
        try:
            # rounds interleave the servers, so a noisy moment of the machine hits all
            for round_no in range(args.rounds):
                for connections in levels:
                    for index, server in enumerate(servers):
                        before = server.stats()
                        rate, sample = asyncio.run(drive(
                            server.port, connections, args.duration,
                            f"{index}{round_no}{levels.index(connections)}"))
                        after = server.stats()
                        samples.setdefault((server.kind, connections), []).append(rate)
                        if server.kind != "echo":
                            reply = codec.decode(sample)
                            if (reply["t"], reply["39"]) != ("0210", "00"):
                                raise RuntimeError(f"{server.kind}: unexpected reply {reply}")
                            commits = max(after[1] - before[1], 1)
                            per_commit.setdefault((server.kind, connections), []).append(
                                (after[0] - before[0]) / commits)
        finally:
            for server in servers:
                server.stop()
        sync_after = commit_cost_us(Path(tmp), "after")
    results = {cell: statistics.median(rates) for cell, rates in samples.items()}
    width = max(len(kind) for kind in SERVERS)
    head = "  ".join(f"{n:>4} conn rt/s  ratio  msg/commit" for n in levels)
    print(f"{'server':<{width}}  {head}")
    for kind in SERVERS:
        cells = []
        for n in levels:
            rate, echo = results[(kind, n)], results[("echo", n)]
            batch = per_commit.get((kind, n))
            grouped = f"{statistics.median(batch):>10.1f}" if batch else f"{'-':>10}"
            cells.append(f"{rate:>14,.0f}  {rate / echo:>5.2f}  {grouped}")
        print(f"{kind:<{width}}  {'  '.join(cells)}")
    print(f"median of {args.rounds} x {args.duration:g} s per cell, loopback, one request in "
          f"flight per connection; python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"{time.perf_counter() - started:.1f} s in all")
    print(f"disk: one WAL synchronous=FULL commit took {sync_before:,.0f} us before the run, "
          f"{sync_after:,.0f} us after (the disk row is bound by it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
