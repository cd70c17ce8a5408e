"""``pos-sim``: a thin command line over the library.

Exit codes: 0 the run's expectations hold, 1 they do not, 2 bad input (a malformed
scenario, an unknown option value); errors are one readable line, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from terminal_sim import __version__
from terminal_sim.cli.exit_codes import EXIT_FAILED, EXIT_OK
from terminal_sim.cli.exit_codes import friendly_errors as _friendly_errors


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pos-sim")
@click.pass_context
def main(ctx: click.Context) -> None:
    """terminal-sim: reproduce stray receipts and lost records of a card terminal."""
    from printer.commands import RUN_READER

    ctx.meta[RUN_READER] = _read_run_printers  # 'pos-sim printer render RUN_DIR'


def _read_run_printers(path: Path) -> Any:
    from printer.errors import PrinterConfigurationError
    from terminal_sim.errors import TerminalSimError
    from terminal_sim.reporting.run_capture import run_captures

    try:
        return run_captures(path)
    except TerminalSimError as exc:
        raise PrinterConfigurationError(str(exc)) from exc


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", type=click.IntRange(min=0), help="Override the scenario's seed.")
@click.option("--profile", type=str, help="Firmware profile: naive or robust.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the run's artifacts (default: out/<scenario name>).")
@click.option("--acquirer", help="Live mode: a TCP acquirer, tcp://HOST:PORT "
              "(see 'pos-sim acquirer serve'); default: the in-process host, virtual time.")
@click.option("--speed", type=click.FloatRange(min=0.001), default=1.0, show_default=True,
              help="Live mode: how many times faster than real time the clock runs.")
@click.option("--host-ledger", type=click.Path(dir_okay=False, path_type=Path),
              help="Live mode: the acquirer's ledger file, to reconcile against.")
@_friendly_errors
def run(scenario: Path, seed: int | None, profile: str | None, out_dir: Path | None,
        acquirer: str | None, speed: float, host_ledger: Path | None) -> None:
    """Run SCENARIO and write trace, journal, host ledger, receipts and report."""
    from terminal_sim.harness.run import run_scenario
    from terminal_sim.scenario.loader import load_scenario

    loaded = load_scenario(scenario)
    target = out_dir or Path("out") / loaded.name
    if acquirer is not None:
        import dataclasses

        from terminal_sim.harness.live import LiveOptions, LiveSimulation, parse_acquirer_url

        if seed is not None:
            loaded = dataclasses.replace(loaded, seed=seed)
        options = LiveOptions(parse_acquirer_url(acquirer), speed=speed,
                              host_ledger=host_ledger)
        result = LiveSimulation(loaded, target, options, profile=profile).run()
    else:
        result = run_scenario(loaded, seed=seed, profile=profile, out_dir=target)
    _summary(result.report, target)
    sys.exit(EXIT_OK if result.passed else EXIT_FAILED)


@main.command("live-terminal", hidden=True)
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--acquirer", required=True)
@click.option("--profile", default="robust")
@click.option("--speed", type=float, default=100.0)
@click.option("--boot", type=click.IntRange(min=1), default=1)
@click.option("--handshake", is_flag=True)
@click.option("--no-sales", is_flag=True)
@click.option("--fork-server", is_flag=True,
              help="Load once, fork one terminal per 'boot N' line on stdin.")
@_friendly_errors
def live_terminal(scenario: Path, out_dir: Path, acquirer: str, profile: str, speed: float,
                  boot: int, handshake: bool, no_sales: bool, fork_server: bool) -> None:
    """One boot of a live terminal process (the crash loop starts and kills these)."""
    from terminal_sim.harness.live import LiveOptions, LiveSimulation, parse_acquirer_url
    from terminal_sim.scenario.loader import load_scenario

    loaded = load_scenario(scenario)
    url = parse_acquirer_url(acquirer)

    def run(number: int, last: bool) -> object:
        options = LiveOptions(url, speed=speed, boot=number, handshake=handshake,
                              sales=not last)
        return LiveSimulation(loaded, out_dir, options, profile=profile).run()

    if fork_server:
        from terminal_sim.harness.crashloop import fork_server as serve

        serve(run, sys.stdin, sys.stdout)
    else:
        run(boot, no_sales)


def _summary(report: dict[str, Any], target: Path) -> None:
    counts = report["counts"]
    click.echo(f"scenario {report['scenario']}  seed {report['seed']}  "
               f"profile {report['profile']}  terminals {len(report['terminals'])}")
    journal = ", ".join(f"{k} {v}" for k, v in counts["journal"].items()) or "empty"
    host = ", ".join(f"{k} {v}" for k, v in counts["host"].items()) or "empty"
    click.echo(f"  paper    {counts['receipts']} receipts")
    click.echo(f"  journal  {counts['journal_records']} records ({journal})")
    click.echo(f"  host     {counts['host_transactions']} transactions ({host})")
    if counts["power_cuts"]:
        click.echo(f"  power    {counts['power_cuts']} cuts")
    findings = report["findings"]
    if findings:
        click.echo(f"findings: {len(findings)}")
        for code, number in report["findings_by_code"].items():
            click.echo(f"  {code:<22} {number}")
        for finding in findings[:5]:
            click.echo(f"  - {finding['code']}: {finding['summary']}")
        if len(findings) > 5:
            click.echo(f"  ... {len(findings) - 5} more in report.json")
    else:
        click.echo("findings: none (paper, journal and host ledger agree)")
    for problem in report.get("liveness", []):  # work the terminal left unfinished
        click.echo(f"  liveness: {problem}")
    for expectation in report["expectations"]:
        mark = "ok  " if expectation["passed"] else "FAIL"
        click.echo(f"  {mark} expect {expectation['code']} {expectation['expect']} "
                   f"(actual {expectation['actual']})")
    verdict = "PASSED" if report["passed"] else "FAILED"
    click.echo(f"{verdict}: artifacts in {target}")


@main.group()
def faults() -> None:
    """The fault catalogue: what can go wrong, and its parameters."""


@faults.command("list")
def faults_list() -> None:
    """Every fault, with its parameters and a one-line description."""
    from terminal_sim.plugins.registry import fault_class, known_fault_names

    for name in known_fault_names():
        cls = fault_class(name)
        own = ", ".join(cls.params) or "-"
        click.echo(f"{name:<20} {cls.summary}")
        click.echo(f"{'':<20}   parameters: {own}")
    click.echo("every fault also takes: terminals, from, until, nth, probability, limit")


@faults.command("show")
@click.argument("name")
@_friendly_errors
def faults_show(name: str) -> None:
    """Details of fault NAME: what it does and every parameter."""
    import inspect

    from terminal_sim.plugins.registry import fault_class

    cls = fault_class(name)
    click.echo(f"{cls.name}: {cls.summary}\n")
    click.echo(inspect.cleandoc(cls.__doc__ or ""))
    click.echo("\nparameters:")
    for key, param in cls.all_params().items():
        kinds = param.kind if isinstance(param.kind, tuple) else (param.kind,)
        kind = " or ".join(k.__name__ for k in kinds)
        default = "" if param.default is None else f" (default {param.default!r})"
        click.echo(f"  {key:<18} {kind:<12} {param.help}{default}")


@main.command()
@click.option("--profile", default="robust", show_default=True, help="Firmware profile.")
@click.option("--synchronous", type=click.Choice(["FULL", "NORMAL"]),
              help="Override the journal's SQLite synchronous setting.")
@_friendly_errors
def crashpoints(profile: str, synchronous: str | None) -> None:
    """List every crash point of each lifecycle, in the order a clean run passes them."""
    from terminal_sim.harness.sweep import crash_points

    settings = {"journal_synchronous": synchronous} if synchronous else {}
    found = crash_points(profile, settings)
    total = {p for points in found.values() for p in points}
    for lifecycle, points in found.items():
        click.echo(f"{lifecycle}:")
        for point in points:
            click.echo(f"  {point}")
    click.echo(f"{len(total)} distinct crash points ({profile})")


@main.command()
@click.option("--profile", default="robust", show_default=True, help="Firmware profile.")
@click.option("--cut", type=click.Choice(["power", "kill"]), default="power",
              show_default=True,
              help="power: the terminal loses power; kill: only the process dies.")
@click.option("--synchronous", type=click.Choice(["FULL", "NORMAL"]),
              help="Override the journal's SQLite synchronous setting.")
@click.option("--singles-only", is_flag=True, help="Skip second dips during recovery.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_friendly_errors
def sweep(profile: str, cut: str, synchronous: str | None, singles_only: bool,
          as_json: bool) -> None:
    """Power-dip every crash point of every lifecycle and reconcile each run.

    Exit 1 when the profile is robust and a forbidden finding (LOST_RECORD,
    ORPHAN_AUTHORIZATION, DUPLICATE_CHARGE, STRAY_RECEIPT of an approved sale) or a
    liveness failure shows up.
    """
    from terminal_sim.harness.sweep import sweep as run_sweep

    result = run_sweep(profile, cut=cut, synchronous=synchronous, pairs=not singles_only)
    report = result.to_dict()
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        _sweep_table(report)
    failed = profile == "robust" and (report["forbidden"] or report["liveness_failures"])
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


def _sweep_table(report: dict[str, Any]) -> None:
    codes = sorted({c for row in report["by_crash_point"].values() for c in row})
    click.echo(f"profile {report['profile']}  cut {report['cut']}  synchronous "
               f"{report['synchronous']}  crash points {report['crash_points']}  "
               f"runs {report['runs']}")
    width = max((len(k) for k in report["by_crash_point"]), default=10)
    header = "".join(f" {c[:14]:>14}" for c in codes)
    click.echo(f"{'dips at':<{width}}{header}")
    for point, row in report["by_crash_point"].items():
        cells = "".join(f" {row.get(c, 0) or '.':>14}" for c in codes)
        click.echo(f"{point:<{width}}{cells}")
    click.echo(f"findings: {report['findings'] or 'none'}")
    click.echo(f"forbidden: {report['forbidden']}  liveness failures: "
               f"{len(report['liveness_failures'])}")
    for example in report["forbidden_examples"][:5]:
        click.echo(f"  - {example['dips']}: {example['code']}: {example['summary']}")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@_friendly_errors
def recover(run_dir: Path) -> None:
    """Rebuild lost journal records of RUN_DIR from the host ledger, paper and trace.

    Writes RUN_DIR/recovery.json. Exit 1 when a LOST_RECORD or ORPHAN_AUTHORIZATION
    remains after recovery.
    """
    from terminal_sim.harness.recover import recover as run_recovery

    result = run_recovery(run_dir)
    for item in result.recovered:
        click.echo(f"{item['action']:<9} {item['terminal_id']} STAN {item['stan']} "
                   f"({item['amount_minor']} {item['currency']}) from "
                   f"{', '.join(item['sources'])}")
    if not result.recovered:
        click.echo("nothing to recover")
    click.echo(f"findings before: {result.before or 'none'}")
    click.echo(f"findings after:  {result.after or 'none'}")
    click.echo(f"written: {run_dir / 'recovery.json'}")
    left = [r for r in result.remaining if r["code"] in ("LOST_RECORD", "ORPHAN_AUTHORIZATION")]
    sys.exit(EXIT_FAILED if left else EXIT_OK)


@main.command()
@click.option("--cycles", type=click.IntRange(min=1), default=300, show_default=True,
              help="How many times the live terminal is killed and restarted.")
@click.option("--profile", default="robust", show_default=True, help="Firmware profile.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="Seeds the kill delays and the workload.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the server ledger and the terminal's run directory go.")
@click.option("--speed", type=click.FloatRange(min=1), default=300.0, show_default=True,
              help="How many times faster than real time the terminal's clock runs.")
@_friendly_errors
def crashloop(cycles: int, profile: str, seed: int, workdir: Path | None,
              speed: float) -> None:
    """SIGKILL a live terminal (real TCP acquirer, SQLite journal) at random moments.

    After each restart and recovery: no approved sale lost, no receipt of an approved
    sale without a record, no double charge. Prints the tally; exit 1 on a violation.
    """
    import tempfile

    from terminal_sim.harness.crashloop import crash_loop

    target = workdir or Path(tempfile.mkdtemp(prefix="pos-sim-crashloop-"))
    step = max(1, cycles // 10)

    def progress(cycle: int, tally: Any) -> None:
        if cycle % step == 0 or cycle == cycles:
            click.echo(f"  cycle {cycle}/{cycles}: {len(tally.violations)} violations",
                       err=True)

    tally = crash_loop(cycles, target, seed=seed, profile=profile, speed=speed,
                       on_cycle=progress)
    report = tally.to_dict()
    click.echo(f"crash loop ({profile}): {report['cycles']} cycles, {report['kills']} kills, "
               f"{report['seconds']} s")
    click.echo(f"  host: {report['approved_at_host']} approved, "
               f"{report['reversed_at_host']} reversed")
    click.echo(f"  paper: {report['receipts']} receipts; journal: "
               f"{report['journal_records']} records")
    click.echo(f"  violations: {report['violation_count']}")
    for item in report["violations"][:10]:
        click.echo(f"    cycle {item['cycle']}: {item['code']}: {item['summary']}")
    click.echo(f"  run directory: {target}")
    sys.exit(EXIT_FAILED if report["violation_count"] else EXIT_OK)


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files."""
    from terminal_sim.scenario.schema import SCHEMA

    click.echo(json.dumps(SCHEMA, indent=2, sort_keys=True))


def _register_extensions() -> None:
    """Command groups that live beside the modules they drive."""
    from printer.commands import printer
    from terminal_sim.cli.acquirer_commands import acquirer
    from terminal_sim.cli.audit_commands import audit
    from terminal_sim.cli.explore_commands import explore
    from terminal_sim.cli.harness_commands import campaign, replay
    from terminal_sim.cli.reporting_commands import explain, report, studio

    for command in (acquirer, audit, campaign, explain, explore, printer, replay, report,
                    studio):
        main.add_command(command)


_register_extensions()
