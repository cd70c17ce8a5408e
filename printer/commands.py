"""``pos-sim printer``: a simulated receipt printer on TCP or a serial line, and renderers.

``pos-sim printer serve --tcp 127.0.0.1:9100 --out DIR`` behaves like a network printer's
raw port; ``pos-sim printer serve --serial --out DIR`` like a serial printer on a new
pseudo-terminal. The first line(s) of stdout are the TCP address bound (``HOST:PORT``,
useful with port 0) and/or the serial device path, flushed at once; everything else goes
to stderr. SIGINT and SIGTERM stop the server cleanly (receipts in progress are written,
marked truncated).

``pos-sim printer render FILE.bin --out DIR`` reads a captured byte stream and writes each
receipt as text, PNG and HTML. Given a run directory (or the ``receipts.bin`` inside one),
it renders the receipts the run printed, at the run's width: the application embedding
this group reads the run (``ctx.meta[RUN_READER]``, see :mod:`printer.capture`).
``pos-sim printer check FILE...`` checks receipt texts for
card numbers showing more digits than a policy allows.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from printer.control import MAX_RECEIVE_BUFFER, RECEIVE_BUFFER
from printer.errors import PrinterConfigurationError

if TYPE_CHECKING:
    from printer.capture import Capture
    from printer.roll import Receipt

__all__ = ["RUN_READER", "RunReader", "printer"]

#: The key in click's ``Context.meta`` under which an application embedding this group puts
#: a :data:`RunReader`: how ``render`` reads a run directory (or a stream inside one).
RUN_READER = "printer.run_reader"
#: ``(path) -> captures``, or None when ``path`` is a plain captured stream; raises
#: PrinterConfigurationError when ``path`` is a damaged run (exit status 2)
RunReader = Callable[[Path], "list[Capture] | None"]


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
@click.option("--receive-buffer", "receive_buffer",
              type=click.IntRange(1, MAX_RECEIVE_BUFFER), default=RECEIVE_BUFFER,
              show_default=True,
              help="Bytes the printer keeps while offline (cover open, paper out), printed "
                   "when it is back; beyond them it stops reading (TCP backpressure). "
                   f"4096: Epson TM printers; at most {MAX_RECEIVE_BUFFER}.")
def serve(tcp: str | None, serial: bool, out: Path, paper: str, cover: str, columns: int,
          chinese: bool, png: bool, roll_length: str, max_connections: int | None,
          idle_timeout: float, receive_buffer: int) -> None:
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
                          max_connections=max_connections, idle_timeout=idle_timeout,
                          receive_buffer=receive_buffer)

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
@click.argument("stream", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for NNNN.txt, NNNN.png and NNNN.html.")
@click.option("--columns", type=click.IntRange(1, 255), default=None,
              help="Print width in font A characters the bytes were meant for "
                   "[default: the run's width for a run, else 48].")
@click.option("--chinese/--no-chinese", default=None,
              help="Double-byte (GB18030) text as the power-on mode [default: the run's, "
                   "else off].")
@click.pass_context
def render(ctx: click.Context, stream: Path, out: Path, columns: int | None,
           chinese: bool | None) -> None:
    """Read a captured ESC/POS byte stream; write every receipt as text, PNG and HTML.

    STREAM is a captured .bin file, or a run directory (or the receipts.bin in one): then
    the receipts are those the run printed (bytes sent to a printer without power or
    paper are not receipts), at the run's width.
    """
    from printer.capture import Capture, replay

    reader: RunReader | None = ctx.meta.get(RUN_READER)
    try:
        captures = reader(stream) if reader is not None else None
        if captures is None and stream.is_dir():
            raise click.UsageError(f"{stream} is a directory: give a captured .bin file"
                                   + ("" if reader else " (pos-sim printer render reads "
                                      "run directories)"))
        if captures is None:
            captures = [Capture(stream.name, stream.read_bytes(), columns=columns or 48,
                                chinese=bool(chinese))]
        rolls = [(replay(_chosen(capture, chinese), columns=columns),
                  columns or capture.columns) for capture in captures]
    except (PrinterConfigurationError, OSError) as exc:  # a damaged run: bad input (exit 2)
        raise click.BadParameter(str(exc), param_hint="STREAM") from exc
    drawn = [(receipt, width) for roll, width in rolls for receipt in roll.receipts]
    out.mkdir(parents=True, exist_ok=True)
    for number, (receipt, width) in enumerate(drawn, start=1):
        _write_receipt(out / f"{number:04d}", receipt, width)
    warnings = sum(len(roll.warnings) for roll, _ in rolls)
    widths = "/".join(str(w) for w in sorted({w for _, w in drawn})) or str(columns or 48)
    click.echo(f"{len(drawn)} receipt(s), {warnings} warning(s) -> {out} ({widths} columns)")


def _chosen(capture: Capture, chinese: bool | None) -> Capture:
    if chinese is None or chinese == capture.chinese:
        return capture
    return Capture(capture.name, capture.data, capture.changes, capture.columns, chinese)


def _write_receipt(stem: Path, receipt: Receipt, columns: int) -> None:
    from printer.render import receipt_to_html, receipt_to_png

    stem.with_suffix(".txt").write_text(receipt.text + "\n", encoding="utf-8")
    receipt_to_png(receipt, stem.with_suffix(".png"), width_dots=columns * 12)
    stem.with_suffix(".html").write_text(
        receipt_to_html(receipt, width_dots=columns * 12) + "\n", encoding="utf-8")


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
