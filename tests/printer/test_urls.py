"""printer.urls: printers by URL, each scheme validating its own options."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from printer.errors import PrinterConfigurationError
from printer.interpreter import parse
from printer.state import PaperLevel
from printer.urls import PrinterUnavailable, open_printer, serial_port_printer_class, split_url
from printer.virtual import VirtualPrinter


def test_virtual_with_options() -> None:
    p = open_printer("virtual://counter-1?paper=near-end&columns=32&cover=closed")
    assert isinstance(p, VirtualPrinter)
    assert p.state.paper is PaperLevel.NEAR_END
    assert p.interpreter.columns == 32
    assert p.paper_status() == 1
    assert p.is_online()
    assert open_printer("virtual://?cover=open").is_online() is False
    assert open_printer("virtual://").paper_status() == 2


@pytest.mark.parametrize(("url", "message"), [
    ("virtual://?paper=low", "paper must be one of ok, near-end, out"),
    ("virtual://?columns=0", "columns must be an integer from 1 to 255"),
    ("virtual://?chinese=maybe", "chinese must be yes or no"),
    ("virtual://?colour=red", "unknown option"),
    ("virtual://?profile=NOPE", "unknown python-escpos profile"),
    ("tcp://", "needs a host"),
    ("tcp://printer:99999", "port must be 1..65535"),
    ("tcp://printer?timeout=-1", "timeout must be a number"),
    ("serial://", "needs a device or a pyserial URL"),
    ("serial:///dev/ttyS0?baudrate=fast", "baudrate must be an integer"),
    ("serial:///dev/ttyS0?parity=Q", "parity must be one of N, E, O, M, S"),
    ("serial:///dev/ttyS0?logging=debug", "unknown option"),
    ("usb://printer", "VID:PID in hex"),
    ("usb://0000:0000", "non-zero vendor and product id"),
    ("usb://04b8:0000", "non-zero vendor and product id"),
    ("usb://0:0e15", "non-zero vendor and product id"),
    ("usb://04b8:0e15:1", "VID:PID in hex"),
    ("usb://04b8:+e15", "VID:PID in hex"),
    ("usb://04b8:0e15?in_ep=0x01", "in_ep must be an integer from 129 to 143"),
    ("usb://04b8:0e15?out_ep=0x82", "out_ep must be an integer from 1 to 15"),
    ("usb://04b8:0e15?out_ep=0", "out_ep must be an integer from 1 to 15"),
    ("file://", "needs a path"),
    ("lpt://1", "unknown printer URL scheme 'lpt'"),
    ("just-a-path", "SCHEME://"),
])
def test_errors_show_the_expected_form(url: str, message: str) -> None:
    with pytest.raises(PrinterConfigurationError, match=message) as info:
        open_printer(url)
    scheme = url.split("://")[0] if "://" in url else ""
    if scheme in ("virtual", "tcp", "serial", "usb", "file"):
        assert f"expected {scheme}://" in str(info.value)


def test_split_url_keeps_the_inner_url() -> None:
    assert split_url("serial://socket://127.0.0.1:7000?baudrate=19200") == (
        "serial", "socket://127.0.0.1:7000", {"baudrate": "19200"})
    with pytest.raises(PrinterConfigurationError, match="given twice"):
        split_url("virtual://?paper=ok&paper=out")


def test_file_writes_raw_bytes(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    p = open_printer(f"file://{target}")
    p.text("TO A FILE\n")
    p.cut()
    p.close()
    assert parse(target.read_bytes()).receipts[0].text == "TO A FILE"


def test_file_that_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(PrinterUnavailable, match="cannot open printer file://"):
        open_printer(f"file://{tmp_path}/missing/dir/out.bin")
    assert open_printer(f"file://{tmp_path}/missing/out.bin", connect=False) is not None


def test_tcp_printer_sends_and_reads_status() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = bytearray()

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(4096):
                received.extend(data)
                if b"\x10\x04\x04" in data:
                    conn.sendall(b"\x1e")  # paper near its end

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    p = open_printer(f"tcp://127.0.0.1:{port}?timeout=5")
    assert p.paper_status() == 1
    p.text("OVER TCP\n")
    p.cut()
    p.close()
    thread.join(5)
    server.close()
    assert "OVER TCP" in parse(bytes(received)).text


def test_tcp_refused_is_printer_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PrinterUnavailable) as info:
        open_printer(f"tcp://127.0.0.1:{port}?timeout=2")
    assert isinstance(info.value, OSError)
    assert info.value.__cause__ is not None


def test_serial_loop_url_reads_back_what_it_wrote() -> None:
    p = open_printer("serial://loop://?baudrate=19200&timeout=0.2")
    assert isinstance(p, serial_port_printer_class())
    assert p.port.baudrate == 19200
    p._raw(b"\x12")  # noqa: SLF001 (a loopback port answers with what it was sent)
    assert p._read() == b"\x12"  # noqa: SLF001
    p.close()


def test_serial_passes_pyserial_url_options_on() -> None:
    p = open_printer("serial://loop://?logging=warning&timeout=0.1")
    p.close()
    with pytest.raises(PrinterUnavailable, match="cannot open serial port"):
        open_printer("serial://loop://?logging=loud")


def test_serial_missing_device() -> None:
    with pytest.raises(PrinterUnavailable, match="/dev/ttyDOES-NOT-EXIST"):
        open_printer("serial:///dev/ttyDOES-NOT-EXIST")


def test_usb_without_pyusb_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "usb" else real(name, *a))
    with pytest.raises(PrinterConfigurationError, match=r"pip install 'terminal-sim\[usb\]'"):
        open_printer("usb://04b8:0e15")
