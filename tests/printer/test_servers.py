"""printer.servers and ``printer serve``: python-escpos's own printers against the server.

The server runs as a real subprocess (``python -m printer.commands serve``, the command
``pos-sim printer serve`` runs), on TCP port 0 or on a real pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from printer.errors import PrinterConfigurationError
from printer.escpos_loader import escpos_module
from printer.interpreter import parse
from printer.servers import DeviceServer, ReceiptSink, parse_address
from tests.support import ROOT


class Server:
    def __init__(self, out: Path, *args: str) -> None:
        self.out = out
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "printer.commands", "serve", "--out", str(out), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline().strip()
        assert self.first_line, self.process.stderr.read() if self.process.stderr else ""

    def receipts(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        index = self.out / "index.jsonl"
        while time.monotonic() < deadline:
            if index.exists():
                entries = _index(self.out)
                if len(entries) >= count:
                    return list(entries)
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} receipts in {self.out} after {timeout} s")

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return self.process.returncode, err


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def _start(*args: str) -> Server:
        server = Server(tmp_path / f"out{len(servers)}", *args)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


def _index(out: Path) -> list[dict[str, Any]]:
    lines = (out / "index.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


def _network(address: str) -> Any:
    escpos_module()
    from escpos.printer import Network

    host, port = address.rsplit(":", 1)
    return Network(host, int(port), timeout=5)


def _print_receipt(p: Any, text: str) -> None:
    p.text(text + "\n")
    p.qr("TSIM:T0000001:000123", native=True, size=4)
    p.cut()


def _check_receipt_files(out: Path, entry: dict[str, Any], text: str) -> None:
    assert (out / entry["txt"]).read_text(encoding="utf-8").strip() == text
    receipt = parse((out / entry["bin"]).read_bytes()).receipts[0]
    assert receipt.cut == "full"
    assert not receipt.truncated
    assert [qr.text for qr in receipt.qr_codes] == ["TSIM:T0000001:000123"]
    assert (out / entry["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert entry["cut"] == "full"
    assert entry["truncated"] is False


def test_network_printer_prints_to_the_tcp_server(start: Any) -> None:
    server = start("--tcp", "127.0.0.1:0")
    host, port = parse_address(server.first_line)
    assert host == "127.0.0.1"
    assert port > 0
    p = _network(server.first_line)
    assert p.is_online() is True
    _print_receipt(p, "HELLO OVER TCP")
    p.text("never cut\n")
    p.close()
    first, second = server.receipts(2)
    _check_receipt_files(server.out, first, "HELLO OVER TCP")
    assert second["truncated"] is True
    assert second["cut"] is None
    assert (server.out / second["txt"]).read_text().strip() == "never cut"
    code, err = server.stop()
    assert code == 0, err
    assert "stopped; 2 job(s) filed" in err


@pytest.mark.parametrize(("paper", "status"), [("ok", 2), ("near-end", 1), ("out", 0)])
def test_paper_status_over_tcp(start: Any, paper: str, status: int) -> None:
    server = start("--tcp", "127.0.0.1:0", "--paper", paper, "--no-png")
    p = _network(server.first_line)
    assert p.paper_status() == status
    p.close()


def test_cover_open_is_offline_over_tcp(start: Any) -> None:
    server = start("--tcp", "127.0.0.1:0", "--cover", "open", "--no-png")
    p = _network(server.first_line)
    assert p.is_online() is False
    p.close()


def test_receive_buffer_option_bounds_what_an_offline_printer_keeps(start: Any) -> None:
    server = start("--tcp", "127.0.0.1:0", "--cover", "open", "--no-png",
                   "--receive-buffer", "64")
    host, port = server.first_line.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"A" * 200 + b"\n\x1dV\x00")
        server.receipts(1)  # held
        code, _ = server.stop()  # what the buffer held is filed unprinted
    assert code == 0
    lost = _index(server.out)[-1]
    assert (lost["printed"], lost["bytes"]) == (False, 64)


@pytest.mark.parametrize("size", ["0", "1048577", "many"])
def test_receive_buffer_option_is_checked(tmp_path: Path, size: str) -> None:
    from click.testing import CliRunner

    from printer.commands import printer

    result = CliRunner().invoke(printer, ["serve", "--out", str(tmp_path), "--tcp",
                                          "127.0.0.1:0", "--receive-buffer", size])
    assert result.exit_code == 2
    assert "--receive-buffer" in result.output


def test_serial_printer_on_the_pty(start: Any) -> None:
    escpos_module()
    from escpos.printer import Serial

    server = start("--serial", "--paper", "near-end")
    path = server.first_line
    assert path.startswith("/dev/")
    assert os.path.exists(path)
    p = Serial(devfile=path, baudrate=19200, timeout=0.3)
    assert p.paper_status() == 1
    assert p.is_online() is True
    _print_receipt(p, "HELLO OVER SERIAL")
    p.text("in progress\n")
    p.close()
    (entry,) = server.receipts(1)
    _check_receipt_files(server.out, entry, "HELLO OVER SERIAL")
    code, err = server.stop()  # SIGTERM: the receipt in progress is written, truncated
    assert code == 0, err
    entries = _index(server.out)
    assert [e["truncated"] for e in entries] == [False, True]
    assert entries[1]["source"] == f"serial {path}"


def test_serve_needs_an_endpoint(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from printer.commands import printer

    result = CliRunner().invoke(printer, ["serve", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--tcp HOST:PORT, --serial" in result.output
    result = CliRunner().invoke(printer, ["serve", "--out", str(tmp_path), "--tcp", "x:y"])
    assert result.exit_code == 2
    assert "HOST:PORT" in result.output


@pytest.mark.parametrize("length", ["80km", "0", "-5m", "nan", "1e9m", "m"])
def test_a_roll_length_is_a_length(tmp_path: Path, length: str) -> None:
    from click.testing import CliRunner

    from printer.commands import printer

    result = CliRunner().invoke(printer, ["serve", "--out", str(tmp_path), "--tcp",
                                          "127.0.0.1:0", "--roll-length", length])
    assert result.exit_code == 2
    assert "--roll-length is a length" in result.output


@pytest.mark.parametrize("command", [[], ["serve"], ["render"], ["check"]])
def test_help(command: list[str]) -> None:
    from click.testing import CliRunner

    from printer.commands import printer

    result = CliRunner().invoke(printer, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


# -- in process ---------------------------------------------------------------------------------


def test_bytes_in_any_chunks_and_numbering_goes_on(tmp_path: Path) -> None:
    import datetime as dt
    import socket

    from terminal_sim.core.slips import Slip
    from terminal_sim.receipts.layout import render_job

    slip = Slip("sale", "APPROVED", "CORNER CAFE", "M00000000000001", "T0000001",
                dt.datetime(2026, 1, 5, 8, 5), 1250, "EUR", "************1111", "VISA",
                "000123", "600508000123", "A1B2C3", "00")
    data = render_job(slip) * 2
    for run in range(2):
        server = DeviceServer(ReceiptSink(tmp_path, png=run == 0))
        host, port = server.listen_tcp("127.0.0.1", 0)
        thread = threading.Thread(target=server.serve)
        thread.start()
        with socket.create_connection((host, port)) as conn:
            for i in range(0, len(data), 7):  # commands split anywhere
                conn.sendall(data[i : i + 7])
        deadline = time.monotonic() + 5
        while len(server.sink.entries) < 2 * (run + 1) and time.monotonic() < deadline:
            time.sleep(0.02)
        server.stop()
        thread.join(5)
    entries = _index(tmp_path)
    assert [e["number"] for e in entries] == [1, 2, 3, 4]
    assert b"".join((tmp_path / e["bin"]).read_bytes() for e in entries[:2]) == data
    assert all("APPROVED" in (tmp_path / e["txt"]).read_text() for e in entries)
    assert entries[2]["png"] is None
    assert (tmp_path / "0001.png").exists()


def test_a_folder_with_a_foreign_index_is_refused(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text("[1, 2]")
    with pytest.raises(PrinterConfigurationError, match="not an index this server wrote"):
        ReceiptSink(tmp_path)


def test_parse_address() -> None:
    assert parse_address("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_address("[::1]:9100") == ("::1", 9100)
    assert parse_address(":9100") == ("127.0.0.1", 9100)
    with pytest.raises(PrinterConfigurationError):
        parse_address("host:70000")
