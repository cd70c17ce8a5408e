"""``pos-sim acquirer``: run the mock acquirer as a live ISO 8583 host over TCP.

``pos-sim acquirer serve --port 0 --ledger host.sqlite`` prints one line,
``listening on 127.0.0.1:PORT``, once it accepts connections (port 0 picks a free
port), logs to stderr, and stops cleanly on SIGINT/SIGTERM: in-flight messages are
answered and the ledger is checkpointed and closed, exit code 0. Exit code 2 for a bad
option or rules file, 1 when the address cannot be bound or the ledger not opened.

The group is attached to the main command by ``main.add_command(acquirer)``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from terminal_sim.errors import ConfigurationError, JournalError

LOG_LEVELS = ("debug", "info", "warning", "error")
#: the names of terminal_sim.iso.framing.FRAMINGS (the CLI imports no library at start-up)
FRAMINGS = ("binary", "tpdu", "ascii")
#: terminal_sim.acquirer.loops.LOOPS
LOOPS = ("auto", "asyncio", "uvloop")

acquirer = click.Group(
    "acquirer",
    help="The mock acquirer as a live ISO 8583 host over TCP.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@acquirer.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind (loopback unless you mean to expose the host).")
@click.option("--port", type=click.IntRange(0, 65535), required=True,
              help="TCP port; 0 picks a free one (printed on the 'listening on' line).")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="SQLite file of the host ledger (created, or continued if it exists).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the approval-code stream and of the card tokens.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML file of outcome rules (see terminal_sim.acquirer.rules).")
@click.option("--max-frame", type=click.IntRange(1, 65535), default=8192, show_default=True,
              help="Largest message accepted; a bigger length header closes the connection.")
@click.option("--max-connections", type=click.IntRange(min=1), default=1000,
              show_default=True,
              help="Connections served at once (fewer when the descriptor limit is lower); "
                   "more are accepted and closed.")
@click.option("--idle-timeout", type=click.FloatRange(min=0, min_open=True), default=300.0,
              show_default=True,
              help="Seconds a connection may stay silent, leave a frame unfinished or "
                   "leave its replies unread before it is closed.")
@click.option("--framing", type=click.Choice(FRAMINGS), default=FRAMINGS[0],
              show_default=True,
              help="binary: 2-byte length; tpdu: 2-byte length + 5-byte TPDU (answered "
                   "with source and destination swapped); ascii: 4-digit ASCII length.")
@click.option("--loop", "loop_name", type=click.Choice(LOOPS), default="auto",
              show_default=True,
              help="Event loop: uvloop when installed (auto; pip install 'terminal-sim[fast]'), "
                   "or asyncio's own.")
@click.option("--log-level", type=click.Choice(LOG_LEVELS), default="info", show_default=True)
def serve(host: str, port: int, ledger: Path, seed: int, rules_path: Path | None,
          max_frame: int, max_connections: int, idle_timeout: float, framing: str,
          loop_name: str, log_level: str) -> None:
    """Serve ISO 8583 in length frames until SIGINT or SIGTERM."""
    import asyncio

    from terminal_sim.acquirer.host import MockAcquirer
    from terminal_sim.acquirer.ledger import HostLedger
    from terminal_sim.acquirer.loops import loop_factory
    from terminal_sim.acquirer.rules import OutcomeRules, load_rules
    from terminal_sim.acquirer.server import AcquirerServer
    from terminal_sim.acquirer.server import serve as serve_forever
    from terminal_sim.base.seeds import SeedTree, derive_seed
    from terminal_sim.iso.framing import get_framing

    try:
        rules = load_rules(rules_path) if rules_path is not None else OutcomeRules()
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--rules") from exc
    try:
        loop_used, factory = loop_factory(loop_name)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--loop") from exc
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package_log = logging.getLogger("terminal_sim")
    package_log.addHandler(handler)
    previous = package_log.level, package_log.propagate
    package_log.setLevel(log_level.upper())
    package_log.propagate = False  # a root handler (python-escpos installs one) would echo
    try:
        try:
            books = HostLedger(ledger)
        except JournalError as exc:
            raise click.ClickException(str(exc)) from exc
        try:
            seeds = SeedTree(seed)
            mock = MockAcquirer(books, rules=rules, stream=seeds.stream("acquirer"),
                                 # the simulation's derivation: the same seed gives the
                                 # same card tokens on terminal and host
                                 token_key=f"{derive_seed(seed, 'tokenization'):016x}")
            server = AcquirerServer(mock, host=host, port=port, max_frame=max_frame,
                                    max_connections=max_connections,
                                    idle_timeout=idle_timeout,
                                    framing=get_framing(framing))

            def ready(bound_host: str, bound_port: int) -> None:
                click.echo(f"listening on {bound_host}:{bound_port}")
                sys.stdout.flush()

            logging.getLogger("terminal_sim.acquirer").info("event loop: %s", loop_used)
            try:
                with asyncio.Runner(loop_factory=factory) as runner:
                    runner.run(serve_forever(server, ready=ready))
            except OSError as exc:
                raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
        finally:
            books.close()
    finally:
        package_log.removeHandler(handler)
        package_log.setLevel(previous[0])
        package_log.propagate = previous[1]


@acquirer.command("spec")
def spec() -> None:
    """Print the host's rules: fields per message type, echoes, decisions, framings."""
    from terminal_sim.acquirer import checks, rules
    from terminal_sim.iso import framing
    from terminal_sim.iso.spec import ECHOED, MESSAGE_FIELDS

    click.echo("Fields per message type (* mandatory, ? when it applies)\n")
    click.echo(f"{'request':10} {'fields of the request':60} reply")
    for mti, (request, reply) in MESSAGE_FIELDS.items():
        click.echo(f"{mti:10} {request:60} {reply}")
    click.echo("\nEvery reply echoes these fields of its request when well-formed:")
    for name, (_, shape) in ECHOED.items():
        click.echo(f"  field {name:>3}: {shape}")
    for title, module in (("Decision rules", rules), ("Reused STANs and retransmissions",
                                                      checks), ("Framings", framing)):
        click.echo(f"\n{title} ({module.__name__})\n")
        click.echo(_doc(module.__doc__))


def _doc(text: str | None) -> str:
    """A module docstring without its first line, for the terminal (no reST markup)."""
    from terminal_sim.cli.plain_doc import plain

    lines = plain(text).splitlines()
    return "\n".join(lines[2:] if len(lines) > 2 else lines)
