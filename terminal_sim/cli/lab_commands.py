"""``pos-sim lab``: printers and an acquirer for a real POS application, faults at run time.

``lab --out DIR [--printer URL]... [--acquirer HOST:PORT] [--control HOST:PORT]``
    serve until SIGINT/SIGTERM, the evidence written to DIR
``lab fault add NAME [KEY=VALUE]...`` / ``lab fault list`` / ``lab fault remove ID``
``lab state``                                 sensors, connections, active faults
``lab reconcile --journal EXPORT --run DIR``  the application's journal against the
                                              lab's paper and host ledger
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from terminal_sim.cli.acquirer_commands import FRAMINGS
from terminal_sim.cli.exit_codes import EXIT_BAD_INPUT, EXIT_FAILED, cli_errors

DEFAULT_CONTROL = "127.0.0.1:8474"
_control = click.option("--control", default=DEFAULT_CONTROL, show_default=True,
                        envvar="POS_SIM_LAB_CONTROL",
                        help="HOST:PORT of the lab's control API.")
_token = click.option("--token", default=None, envvar="POS_SIM_LAB_TOKEN",
                      help="Token of the control API (needed from another machine).")


def _address(text: str, option: str) -> tuple[str, int]:
    from terminal_sim.lab.client import parse_control

    try:
        return parse_control(text)
    except ValueError as exc:  # pragma: no cover - parse_control raises our own error
        raise click.BadParameter(str(exc), param_hint=option) from exc


@click.group("lab", invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--printer", "printers", multiple=True, metavar="URL",
              help="A virtual printer: tcp://HOST:PORT or serial (a pseudo-terminal); "
                   "repeat for more ('none': no printer). Default: tcp://127.0.0.1:9100.")
@click.option("--acquirer", default="127.0.0.1:8583", show_default=True,
              help="HOST:PORT the acquirer listens on ('none': no acquirer).")
@click.option("--framing", type=click.Choice(FRAMINGS), default=FRAMINGS[0],
              show_default=True,
              help="How the acquirer cuts ISO 8583 messages (as 'acquirer serve'): binary: "
                   "2-byte length; tpdu: 2-byte length + 5-byte TPDU (answered with source "
                   "and destination swapped); ascii: 4-digit ASCII length. Link faults act "
                   "on whole frames of it.")
@click.option("--control", default=DEFAULT_CONTROL, show_default=True,
              help="HOST:PORT of the control API (loopback unless --token).")
@click.option("--token", default=None, envvar="POS_SIM_LAB_TOKEN",
              help="Let non-loopback clients in with 'Authorization: Bearer TOKEN'.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Run directory for the evidence (new or empty).")
@click.option("--script", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML timeline of fault changes, played in real time.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the acquirer's streams and the faults' draws.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML file of the acquirer's outcome rules.")
@click.pass_context
def lab(ctx: click.Context, printers: tuple[str, ...], acquirer: str, framing: str,
        control: str,
        token: str | None, out: Path | None, script: Path | None, seed: int,
        rules_path: Path | None) -> None:
    """Virtual printers and a mock acquirer for a real POS application, with faults
    added and removed at run time through an HTTP + JSON control API."""
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise click.UsageError("--out DIR is required to run a lab")
    with cli_errors():
        _serve(printers or ("tcp://127.0.0.1:9100",), acquirer, framing, control, token, out,
               script, seed, rules_path)


def _serve(printers: tuple[str, ...], acquirer: str, framing: str, control: str,
           token: str | None, out: Path, script: Path | None, seed: int,
           rules_path: Path | None) -> None:
    from terminal_sim.acquirer.rules import load_rules
    from terminal_sim.iso.framing import get_framing
    from terminal_sim.lab.lab import LabConfig
    from terminal_sim.lab.session import LabSession

    rules = load_rules(rules_path) if rules_path is not None else None
    config = LabConfig(out=out, printers=tuple(p for p in printers if p != "none"),
                       acquirer=None if acquirer == "none" else _address(acquirer,
                                                                          "--acquirer"),
                       seed=seed, rules=rules, framing=get_framing(framing))
    session = LabSession(config, control=_address(control, "--control"), token=token,
                         script=script)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        session.start()
        try:
            about = session.lab.describe()
            for name, endpoint in about["printers"].items():
                click.echo(f"printer {name}: {endpoint}")
            if about["acquirer"]:
                click.echo(f"acquirer: {about['acquirer']} ({about['framing']} framing)")
            click.echo(f"control: {session.control.url if session.control else ''}")
            click.echo(f"evidence: {out}")
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
        finally:
            session.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"lab stopped; evidence in {out}")


def _client(control: str, token: str | None) -> Any:
    from terminal_sim.lab.client import LabClient

    return LabClient(_address(control, "--control"), token=token)


def _value(text: str) -> Any:
    """A command-line value: JSON where it parses (60, 0.5, true, [1, 2]), else text
    ("0200" stays a string: JSON numbers have no leading zero)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _call(work: Any) -> Any:
    from terminal_sim.lab.client import LabRequestError

    try:
        return work()
    except LabRequestError as exc:
        field = f" (field: {exc.field})" if exc.field else ""
        click.echo(f"error: {exc.message}{field}", err=True)
        sys.exit(EXIT_BAD_INPUT if 400 <= exc.status < 500 else EXIT_FAILED)


@lab.group("fault")
def fault() -> None:
    """Add, list and remove faults of a running lab."""


@fault.command("add")
@click.argument("name")
@click.argument("params", nargs=-1, metavar="[KEY=VALUE]...")
@_control
@_token
def fault_add(name: str, params: tuple[str, ...], control: str, token: str | None) -> None:
    """Add fault NAME (the scenario files' names and parameters); prints its id."""
    values: dict[str, Any] = {}
    for item in params:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="PARAMS")
        values[key] = _value(raw)
    with cli_errors():
        added = _call(lambda: _client(control, token).add_fault(name, **values))
    click.echo(added["id"])


@fault.command("list")
@_control
@_token
@click.option("--json", "as_json", is_flag=True, help="Print the faults as JSON.")
def fault_list(control: str, token: str | None, as_json: bool) -> None:
    """List the active faults with their ids."""
    with cli_errors():
        faults = _call(lambda: _client(control, token).faults())
    if as_json:
        click.echo(json.dumps(faults, indent=2, sort_keys=True))
        return
    for item in faults:
        params = " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(item.items())
                          if k not in ("id", "name", "device", "fired", "seen"))
        click.echo(f"{item['id']}\t{item['name']}\tfired {item['fired']}\t{params}".rstrip())


@fault.command("remove")
@click.argument("fault_id")
@_control
@_token
def fault_remove(fault_id: str, control: str, token: str | None) -> None:
    """Remove fault FAULT_ID (the device heals)."""
    with cli_errors():
        _call(lambda: _client(control, token).remove_fault(fault_id))
    click.echo(f"removed {fault_id}")


@lab.command("state")
@_control
@_token
def state(control: str, token: str | None) -> None:
    """Print the lab's state: printers' sensors, connections, active faults (JSON)."""
    with cli_errors():
        now = _call(lambda: _client(control, token).state())
    click.echo(json.dumps(now, indent=2, sort_keys=True))


@lab.command("reconcile")
@click.option("--journal", "journal", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The application's journal export: CSV or JSON lines.")
@click.option("--run", "run_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="The lab's run directory (its --out).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Where report.json and report.html go (default: RUN/reconciled).")
def reconcile(journal: Path, run_dir: Path, out: Path | None) -> None:
    """Join the application's journal with the lab's paper and host ledger through the
    project's reconciler: report.json and report.html with the usual finding codes."""
    from terminal_sim.harness.out_dir import output_dir
    from terminal_sim.harness.run import RUN_OUTPUT
    from terminal_sim.lab.journal import reconcile_lab

    target = out or run_dir / "reconciled"
    # a run directory like pos-sim run's --out: a previous one is replaced whole, any
    # other non-empty directory refused, nothing left half-written
    with cli_errors(), output_dir(target, RUN_OUTPUT) as staging:
        report = reconcile_lab(run_dir, journal, target, into=staging)
    for finding in report["findings"]:
        click.echo(f"{finding['code']}\t{finding['terminal_id']}\t{finding['stan']}\t"
                   f"{finding['summary']}")
    counts = report["findings_by_code"]
    click.echo("findings: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "none"))
