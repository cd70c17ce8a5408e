"""What the printer keeps between streams: its modes across connections, and the bytes it
received while offline (its receive buffer), printed when it is back.

The server runs in a thread of the test; its state is changed from the test's thread
through ``DeviceServer.update_state`` (the API the lab's control builds on).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from printer.errors import PrinterConfigurationError
from printer.escpos_loader import escpos_module
from printer.roll import Receipt, TextLine
from printer.servers import DeviceServer, ReceiptSink
from printer.state import PrinterState

RECEIPT = b"\x1b@HELD RECEIPT\nSECOND LINE\n\x1dV\x00"


class KeepingSink(ReceiptSink):
    """Keeps the receipts it files, to look at their lines' alignment and style."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, png=False)
        self.receipts: list[Receipt] = []

    def add(self, receipt: Receipt, data: Any, **options: Any) -> dict[str, Any]:
        self.receipts.append(receipt)
        return super().add(receipt, data, **options)


class Running:
    def __init__(self, folder: Path, **options: Any) -> None:
        state = options.pop("state", None)
        self.sink = KeepingSink(folder)
        self.server = DeviceServer(self.sink, state=state, **options)
        self.host, self.port = self.server.listen_tcp("127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve, daemon=True)
        self.thread.start()

    def entries(self) -> list[dict[str, Any]]:
        return self.sink.entries

    def wait(self, check: Any, what: str) -> list[dict[str, Any]]:
        for _ in range(500):
            entries = self.entries()
            if check(entries) is True:
                return entries
            time.sleep(0.02)
        raise AssertionError(f"{what}: {self.entries()}")

    def connect(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=10)

    def network(self) -> Any:
        escpos_module()
        from escpos.printer import Network

        printer = Network(self.host, self.port, timeout=5)
        printer.open()
        return printer

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=20)


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Any]:
    running: list[Running] = []

    def _run(**options: Any) -> Running:
        each = Running(tmp_path / f"out{len(running)}", **options)
        running.append(each)
        return each

    yield _run
    for each in running:
        each.stop()


def _jobs(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if "event" not in entry]


def test_alignment_and_code_page_set_on_one_connection_apply_on_the_next(run: Any) -> None:
    printer = run()
    first = printer.network()
    first.set(align="center", bold=True)
    first.charcode("CP1252")  # ESC t 16
    first.close()  # python-escpos's Network never sends ESC @
    second = printer.network()
    second._raw(b"caf\xe9\n")  # noqa: SLF001 - 0xE9: e acute in CP1252 (Theta in the power-on CP437)
    second.cut()
    second.close()
    (job,) = printer.wait(lambda e: len(_jobs(e)) == 1, "no receipt")
    text = (printer.server.sink.folder / job["txt"]).read_text(encoding="utf-8")
    assert text.strip() == "café"
    (line,) = [e for e in printer.sink.receipts[0].elements if isinstance(e, TextLine)]
    assert line.align == "center"
    assert line.runs[0].style.bold is True
    from printer.interpreter import parse

    # the second connection's bytes alone, read by a printer fresh from power-on: left
    alone = parse((printer.server.sink.folder / job["bin"]).read_bytes())
    assert alone.receipts[0].text.strip() != "café"


def test_esc_at_and_a_power_cycle_still_reset_the_modes(run: Any) -> None:
    printer = run()
    with printer.connect() as sock:
        sock.sendall(b"\x1bt\x10")
    with printer.connect() as sock:
        sock.sendall(b"\x1b@caf\xe9\n\x1dV\x00")
    printer.wait(lambda e: len(_jobs(e)) == 1, "no receipt")
    with printer.connect() as sock:
        sock.sendall(b"\x1bt\x10")
    for _ in range(500):
        if printer.server.received == 3 + 10 + 3:
            break
        time.sleep(0.02)
    printer.server.update_state(powered=False)
    printer.server.update_state(powered=True)
    with printer.connect() as sock:
        sock.sendall(b"caf\xe9\n\x1dV\x00")
    jobs = _jobs(printer.wait(lambda e: len(_jobs(e)) == 2, "no second receipt"))
    folder = printer.server.sink.folder
    assert [(folder / job["txt"]).read_text(encoding="utf-8").strip() for job in jobs] == [
        "cafΘ", "cafΘ"]


def test_a_job_sent_with_the_cover_open_is_held_and_prints_when_it_closes(run: Any) -> None:
    printer = run(state=PrinterState(cover_open=True))
    with printer.connect() as sock:
        sock.sendall(RECEIPT + b"\x10\x04\x02")  # DLE EOT 2: answered at once, held or not
        assert sock.recv(1) == b"\x16"  # offline cause: cover open
    printer.wait(lambda e: any(entry.get("event") == "held" for entry in e), "not held")
    assert printer.server.held == len(RECEIPT) + 3
    assert _jobs(printer.entries()) == []
    state = printer.server.update_state(cover_open=False)  # from another thread
    assert state["cover_open"] is False
    held, job = printer.wait(lambda e: len(e) == 2, "not printed after the cover closed")
    assert held["event"] == "held"
    assert held["reason"] == "cover open"
    assert job["printed"] is True
    assert job["held"] == "cover open"
    assert job["cut"] == "full"
    text = (printer.server.sink.folder / job["txt"]).read_text(encoding="utf-8")
    assert text.split() == ["HELD", "RECEIPT", "SECOND", "LINE"]
    assert printer.server.held == 0


def test_beyond_the_receive_buffer_the_client_waits_tcp_backpressure(run: Any) -> None:
    printer = run(state=PrinterState(paper="out"), receive_buffer=1024)
    line = b"A LINE OF A LONG RECEIPT THAT WAITS FOR PAPER ...........\n"
    data = b"\x1b@" + line * 40000 + b"\x1dV\x00"  # 2.3 MB
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    sock.connect((printer.host, printer.port))
    sock.setblocking(False)
    sent = 0
    quiet = 0
    while quiet < 25 and sent < len(data):
        try:
            sent += sock.send(data[sent : sent + 65536])
            quiet = 0
        except BlockingIOError:
            quiet += 1
            time.sleep(0.02)
    assert sent < len(data)  # the server stopped reading
    assert printer.server.held <= 1024
    printer.server.update_state(paper="ok")
    sock.setblocking(True)
    sock.sendall(data[sent:])
    sock.close()
    job = printer.wait(lambda e: len(_jobs(e)) == 1, "not printed after the paper came")[-1]
    assert job["printed"] is True
    assert job["held"] == "paper out"
    assert job["bytes"] == len(data)
    assert job["cut"] == "full"


def test_a_state_change_scheduled_at_byte_n_holds_what_comes_after(run: Any) -> None:
    printer = run()
    printer.server.schedule_state(len(RECEIPT), cover_open=True)
    with printer.connect() as sock:
        sock.sendall(RECEIPT + RECEIPT)
    entries = printer.wait(lambda e: len(e) == 2, "first printed, second held")
    assert entries[0]["printed"] is True
    assert entries[0]["held"] is None
    assert entries[1]["event"] == "held"
    assert printer.server.held == len(RECEIPT)
    printer.server.update_state(cover_open=False)
    assert printer.wait(lambda e: len(e) == 3, "second printed")[2]["held"] == "cover open"


def test_a_cancelled_scheduled_change_never_applies(run: Any) -> None:
    printer = run()
    first = printer.server.schedule_state(len(RECEIPT), cover_open=True)
    kept = printer.server.schedule_state(2 * len(RECEIPT), paper="near-end")
    assert printer.server.cancel_scheduled(first) is True
    assert printer.server.cancel_scheduled(first) is False  # withdrawn once only
    with printer.connect() as sock:
        sock.sendall(RECEIPT + RECEIPT)
    entries = printer.wait(lambda e: len(e) == 2, "both printed")
    assert [entry["held"] for entry in entries] == [None, None]
    assert printer.server.state.cover_open is False
    assert printer.server.state.paper == "near-end"  # the other ticket still applied
    assert printer.server.cancel_scheduled(kept) is False  # applied: too late


def test_power_lost_while_held_loses_the_receive_buffer_and_files_why(run: Any) -> None:
    printer = run(state=PrinterState(cover_open=True))
    with printer.connect() as sock:
        sock.sendall(RECEIPT)
        printer.wait(lambda e: len(e) == 1, "not held")
        printer.server.update_state(powered=False)
    lost = printer.wait(lambda e: len(e) == 2, "lost job not filed")[1]
    assert lost["printed"] is False
    assert lost["reason"] == "cover open; power lost while held: never printed"
    assert lost["held"] == "cover open"
    assert (printer.server.sink.folder / lost["bin"]).read_bytes() == RECEIPT


def test_update_state_refuses_unknown_fields(run: Any) -> None:
    printer = run()
    with pytest.raises(PrinterConfigurationError, match="cover_closed"):
        printer.server.update_state(cover_closed=True)
    with pytest.raises(PrinterConfigurationError, match="paper must be one of"):
        printer.server.update_state(paper="low")
    with pytest.raises(PrinterConfigurationError, match="at_byte must be >= 0"):
        printer.server.schedule_state(-1, cover_open=True)
    assert printer.server.update_state(paper="near-end")["paper"] == "near-end"


def test_modes_survive_reopening_the_serial_line(run: Any) -> None:
    printer = run()
    path = printer.server.open_pty()
    sent = 0
    for data in (b"\x1ba\x01\x1bt\x10", b"caf\xe9\n\x1dV\x00"):
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
        os.write(fd, data)
        sent += len(data)
        for _ in range(500):  # the server reads it before the line closes again
            if printer.server.received == sent:
                break
            time.sleep(0.01)
        os.close(fd)
    printer.wait(lambda e: len(e) == 1, "no receipt")
    (line,) = [e for e in printer.sink.receipts[0].elements if isinstance(e, TextLine)]
    assert (line.text, line.align) == ("café", "center")
