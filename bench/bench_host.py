"""Our TCP host side by side with the peer ISO 8583 host simulator ``iso8583sim serve``.

    python bench/bench_host.py [--duration 10] [--rounds 3] [--connections 1,20]
                               [--loop auto|asyncio|uvloop]

Hosts, each its own process started the way a user starts it:

* ``iso8583sim``: ``iso8583sim serve --format ascii-hex --header 2b`` (its default rules:
  approve everything, stateless). The package is AGPL-licensed: it is a benchmark peer
  only, installed by this script into its own virtual environment (``bench/.peer-venv``,
  git-ignored, ``--peer-venv`` to put it elsewhere) and run as a separate program; terminal
  -sim neither depends on it nor imports it.
* ``ours (disk)``: ``pos-sim acquirer serve --ledger <tmp>/host.sqlite``: the ledger file
  in WAL mode with ``synchronous=FULL``, every reply sent only after its group commit.
* ``ours (memory)``: the same with ``--ledger :memory:`` (SQLite in memory, no file).

Ours run with ``--loop`` as given here (default ``auto``: uvloop when it is installed in
this environment, the ``fast`` extra; the footer says which loop served).

The same wire on both: our 0200 sale (ASCII fields, hex bitmap: iso8583sim's
``ascii-hex`` wire format) behind a 2-byte big-endian length (ours: ``binary`` framing,
iso8583sim: ``2b`` header). One load client of ours (this process, asyncio) drives every
host: one request in flight per connection, a unique terminal id per connection and run
and a new STAN per request (no idempotent short cut), ``--duration`` seconds after a
short warm-up. Every cell is measured ``--rounds`` times, the hosts alternating within
each round (a noisy moment of a shared machine hits them alike); the median is shown,
with the ratio of ours to iso8583sim in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass
from pathlib import Path

from terminal_sim.iso import codec
from terminal_sim.iso.framing import frame
from terminal_sim.iso.messages import HostRequest

BENCH = Path(__file__).resolve().parent
PEER = "iso8583sim"
PEER_VERSION = "1.6.0"
WHEN = dt.datetime(2026, 1, 5, 9, 0, 0)
HOSTS = (PEER, "ours (disk)", "ours (memory)")


def peer_program(venv_dir: Path) -> Path:
    """The ``iso8583sim`` program, installed into ``venv_dir`` on first use."""
    program = venv_dir / "bin" / PEER
    if not program.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
        subprocess.run([str(venv_dir / "bin" / "python"), "-m", "pip", "install", "-q",
                        f"{PEER}=={PEER_VERSION}"], check=True)
    return program


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Host:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_host(name: str, peer: Path, workdir: Path, loop: str = "auto") -> Host:
    port = free_port()
    if name == PEER:
        argv = [str(peer), "serve", "--port", str(port), "--format", "ascii-hex",
                "--header", "2b"]
    else:
        ledger = ":memory:" if name.endswith("(memory)") else str(workdir / "host.sqlite")
        pos_sim = shutil.which("pos-sim", path=str(Path(sys.executable).parent)) or "pos-sim"
        argv = [pos_sim, "acquirer", "serve", "--port", str(port), "--ledger", ledger,
                "--framing", "binary", "--log-level", "warning", "--loop", loop]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return Host(name, process, port)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{name} did not start: {' '.join(argv)}") from None
            time.sleep(0.1)


# -- the load client, the same for every host ----------------------------------------------


def template(terminal_id: str) -> tuple[bytes, int]:
    """A framed 0200 for ``terminal_id`` and the offset of its STAN in the frame."""
    def wire(stan: str) -> bytes:
        return frame(codec.encode(HostRequest(
            "0200", "sale", stan, terminal_id, "M00000000000001", 1250, "EUR", WHEN,
            "4111111111111111", "2912").to_fields()))

    low, high = wire("000000"), wire("999999")
    offset = next(i for i, (a, b) in enumerate(zip(low, high, strict=True)) if a != b)
    return low, offset


async def _connection(port: int, terminal_id: str, stop_at: float, counts: list[int],
                      index: int, last: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    base, offset = template(terminal_id)
    message = bytearray(base)
    stan = 0
    try:
        while stan < 999_999:
            stan += 1
            message[offset:offset + 6] = b"%06d" % stan
            writer.write(message)
            header = await reader.readexactly(2)
            last[index] = await reader.readexactly(int.from_bytes(header, "big"))
            counts[index] += 1
            if time.perf_counter() >= stop_at:
                break
    finally:
        writer.close()


async def drive(port: int, connections: int, duration: float, run: str) -> tuple[float, bytes]:
    """Round trips per second of ``connections`` clients for ``duration`` seconds."""
    counts = [0] * connections
    last = [b""] * connections
    warmup_s = 0.5
    stop_at = time.perf_counter() + warmup_s + duration
    tasks = [asyncio.create_task(_connection(port, f"{run}{i:04d}"[-8:].rjust(8, "T"),
                                             stop_at, counts, i, last))
             for i in range(connections)]
    await asyncio.sleep(warmup_s)
    started, before = time.perf_counter(), sum(counts)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return (sum(counts) - before) / elapsed, last[0]


def served_loop(choice: str) -> str:
    """The event loop ``pos-sim acquirer serve --loop choice`` runs on here."""
    from terminal_sim.acquirer.loops import loop_factory

    return loop_factory(choice)[0]


def check_reply(name: str, sample: bytes) -> None:
    reply = codec.decode(sample)
    if (reply["t"], reply["39"]) != ("0210", "00"):
        raise RuntimeError(f"{name}: unexpected reply {reply}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds per measurement (default 10)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements per cell, hosts alternating; median shown")
    parser.add_argument("--connections", default="1,20", help="comma-separated counts")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                        help="event loop of our host (pos-sim acquirer serve --loop)")
    parser.add_argument("--peer-venv", type=Path, default=BENCH / ".peer-venv",
                        help="virtual environment for iso8583sim (created on first use)")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.connections.split(",")]
    peer = peer_program(args.peer_venv)
    samples: dict[tuple[str, int], list[float]] = {}
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-host-", dir=BENCH.parent) as tmp:
        hosts = [start_host(name, peer, Path(tmp), args.loop) for name in HOSTS]
        try:
            for round_no in range(args.rounds):
                for level_no, connections in enumerate(levels):
                    # alternate the order too, so no host always runs right after another
                    order = hosts if round_no % 2 == 0 else hosts[::-1]
                    for host in order:
                        run = f"{HOSTS.index(host.name)}{round_no}{level_no}"
                        rate, sample = asyncio.run(drive(host.port, connections,
                                                         args.duration, run))
                        check_reply(host.name, sample)
                        samples.setdefault((host.name, connections), []).append(rate)
        finally:
            for host in hosts:
                host.stop()
    load_after = os.getloadavg()
    results = {cell: statistics.median(rates) for cell, rates in samples.items()}
    width = max(len(name) for name in HOSTS)
    print(f"{'host':<{width}}  " + "  ".join(f"{n:>4} conn rt/s  ratio" for n in levels))
    for name in HOSTS:
        cells = []
        for n in levels:
            rate = results[(name, n)]
            cells.append(f"{rate:>14,.0f}  {rate / results[(PEER, n)]:>5.2f}")
        print(f"{name:<{width}}  {'  '.join(cells)}")
    print(f"median of {args.rounds} x {args.duration:g} s per cell, hosts alternating, "
          f"loopback, one request in flight per connection; {PEER} {PEER_VERSION}; "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; "
          f"{time.perf_counter() - started:.0f} s in all")
    print("ours (disk): ledger file in a temporary directory under the repository, WAL, "
          "synchronous=FULL; ours (memory): --ledger :memory:; our event loop: "
          f"{served_loop(args.loop)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
