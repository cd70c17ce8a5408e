"""``pos-sim printer``: a simulated receipt printer on TCP or a serial line, and renderers.

``pos-sim printer serve --tcp 127.0.0.1:9100 --out DIR`` behaves like a network printer's
raw port; ``pos-sim printer serve --serial --out DIR`` like a serial printer on a new
pseudo-terminal. The first line(s) of stdout are the TCP address bound (``HOST:PORT``,
useful with port 0) and/or the serial device path, flushed at once; everything else goes
to stderr. SIGINT and SIGTERM stop the server cleanly (receipts in progress are written,
marked truncated).

``pos-sim printer render FILE.bin --out DIR`` reads a captured byte stream and writes each
receipt as text, PNG and HTML. ``pos-sim printer check FILE...`` checks receipt texts for
card numbers showing more digits than a policy allows.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

import click

from printer.errors import PrinterConfigurationError

__all__ = ["printer"]


@click.group("printer")
def printer() -> None:
    """Simulated receipt printers: serve one on TCP or a serial line, render, check."""


@printer.command("serve")
@click.option("--tcp", "tcp", metavar="HOST:PORT",
              help="Listen on this address (port 0: any free port; printed on stdout).")
@click.option("--serial", "serial", is_flag=True,
              help="Create a pseudo-terminal and serve it; its path is printed on stdout.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for NNNN.bin/.txt/.png and index.jsonl.")
@click.option("--paper", type=click.Choice(["ok", "near-end", "out"]), default="ok",
              show_default=True, help="What the paper sensors report.")
@click.option("--cover", type=click.Choice(["closed", "open"]), default="closed",
              show_default=True, help="An open cover takes the printer offline.")
@click.option("--columns", type=click.IntRange(1, 255), default=48, show_default=True,
              help="Print width in font A characters (48: 80 mm paper, 32: 58 mm).")
@click.option("--chinese/--no-chinese", default=False, show_default=True,
              help="Double-byte (GB18030) text as the power-on mode, as on Chinese models.")
@click.option("--png/--no-png", default=True, show_default=True,
              help="Draw each receipt as NNNN.png.")
@click.option("--roll-length", "roll_length", metavar="LENGTH", default="80m",
              show_default=True,
              help="Paper on the roll (m, cm or mm; 80m: a real 80 mm roll). Past it the "
                   "printer reports paper out; a new roll goes in when that stream ends.")
@click.option("--max-connections", "max_connections", type=click.IntRange(1, 100_000),
              default=None, help="TCP connections served at once; more are refused "
                                 "[default: 64, fewer if the descriptor limit is low].")
@click.option("--idle-timeout", "idle_timeout", type=click.FloatRange(0.01, 86_400),
              default=60.0, show_default=True,
              help="Seconds a connection may send nothing before it is closed.")
def serve(tcp: str | None, serial: bool, out: Path, paper: str, cover: str, columns: int,
          chinese: bool, png: bool, roll_length: str, max_connections: int | None,
          idle_timeout: float) -> None:
    """Serve a simulated ESC/POS printer until SIGINT or SIGTERM.

    Status requests (DLE EOT, GS r) are answered from --paper and --cover, so
    python-escpos's paper_status() and is_online() work against it. Log lines (refused
    connections, paper out, accept errors; throttled) go to stderr.
    """
    from printer.servers import DeviceServer, ReceiptSink, parse_address
    from printer.state import PrinterState

    if not tcp and not serial:
        raise click.UsageError("give --tcp HOST:PORT, --serial, or both")
    try:
        address = parse_address(tcp) if tcp else None
        roll_dots = _roll_dots(roll_length)
        sink = ReceiptSink(out, width_dots=columns * 12, png=png)
    except PrinterConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    _log_to_stderr()
    state = PrinterState(paper=paper, cover_open=cover == "open", roll_length=roll_dots)
    server = DeviceServer(sink, state=state, columns=columns, chinese_mode=chinese,
                          max_connections=max_connections, idle_timeout=idle_timeout)

    def _stop(signum: int, frame: FrameType | None) -> None:
        server.stop()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            lines = []
            if address is not None:
                host, port = server.listen_tcp(*address)
                lines.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
            if serial:
                lines.append(server.open_pty())
        except (PrinterConfigurationError, OSError) as exc:
            server.close()
            raise click.ClickException(str(exc)) from exc
        sink.warm_up()  # before clients are told where to connect
        for line in lines:
            click.echo(line)
        sys.stdout.flush()
        click.echo(f"printer serving ({paper} paper, cover {cover}); receipts to {out}; "
                   "Ctrl-C stops", err=True)
        server.serve()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"stopped; {sink.count} job(s) filed in {out}", err=True)


_UNITS = {"m": 1000.0, "cm": 10.0, "mm": 1.0}


def _roll_dots(text: str) -> int:
    """``"80m"``, ``"250cm"``, ``"500mm"`` (metres without a unit) to dots of paper."""
    from printer.interpreter.paper import DOTS_PER_MM

    value = text.strip().lower()
    unit = next((u for u in ("mm", "cm", "m") if value.endswith(u)), "")
    try:
        length = float(value[: len(value) - len(unit)]) * _UNITS[unit or "m"]
    except ValueError:
        length = -1.0
    if not 1.0 <= length <= 10_000_000.0:
        raise PrinterConfigurationError(
            f"--roll-length is a length from 1mm to 10000m such as 80m or 500mm, "
            f"not {text!r}")
    return round(length * DOTS_PER_MM)


def _log_to_stderr() -> None:
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package_log = logging.getLogger("printer")
    package_log.addHandler(handler)
    package_log.setLevel(logging.INFO)


@printer.command("render")
@click.argument("stream", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for NNNN.txt, NNNN.png and NNNN.html.")
@click.option("--columns", type=click.IntRange(1, 255), default=48, show_default=True,
              help="Print width in font A characters the bytes were meant for.")
@click.option("--chinese/--no-chinese", default=False, show_default=True,
              help="Double-byte (GB18030) text as the power-on mode.")
def render(stream: Path, out: Path, columns: int, chinese: bool) -> None:
    """Read a captured ESC/POS byte stream; write every receipt as text, PNG and HTML."""
    from printer.interpreter import parse
    from printer.render import receipt_to_html, receipt_to_png

    roll = parse(stream.read_bytes(), columns=columns, chinese_mode=chinese)
    out.mkdir(parents=True, exist_ok=True)
    for number, receipt in enumerate(roll.receipts, start=1):
        stem = out / f"{number:04d}"
        stem.with_suffix(".txt").write_text(receipt.text + "\n", encoding="utf-8")
        receipt_to_png(receipt, stem.with_suffix(".png"), width_dots=columns * 12)
        stem.with_suffix(".html").write_text(
            receipt_to_html(receipt, width_dots=columns * 12) + "\n", encoding="utf-8")
    click.echo(f"{len(roll.receipts)} receipt(s), {len(roll.warnings)} warning(s) -> {out}")


@printer.command("check")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--policy", type=click.Choice(["last4", "pci", "facta"]), default="last4",
              show_default=True, help="How many card-number digits a receipt may show.")
def check(files: tuple[Path, ...], policy: str) -> None:
    """Check receipt texts (.txt) for card numbers showing more than the policy allows.

    Exit status 1 when any violation is found.
    """
    from printer.pan_check import check_receipt

    found = 0
    for path in files:
        for violation in check_receipt(path.read_text(encoding="utf-8", errors="replace"),
                                       policy=policy):
            found += 1
            click.echo(f"{path}:{violation.line_number}: {violation.rule}: {violation.reason}")
    if found:
        raise click.exceptions.Exit(1)
    click.echo(f"{len(files)} file(s): no violation of the {policy} policy")


if __name__ == "__main__":  # python -m printer.commands serve ... (before pos-sim has it)
    printer(prog_name="pos-sim printer")
