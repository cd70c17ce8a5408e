"""``pos-sim``: a thin command line over the library.

Exit codes: 0 the run's expectations hold, 1 they do not, 2 bad input (a malformed
scenario, an unknown option value); errors are one readable line, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from terminal_sim import __version__
from terminal_sim.cli.exit_codes import EXIT_FAILED, EXIT_OK
from terminal_sim.cli.exit_codes import friendly_errors as _friendly_errors
from terminal_sim.cli.lang_option import lang_option

if TYPE_CHECKING:
    from terminal_sim.iso.framing import Framing


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
              help="Live mode: the acquirer's ledger file, to reconcile against; this "
                   "run's rows of it are copied into the run folder's host.sqlite.")
@click.option("--terminal-state", "state_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Live mode: where the terminal keeps its STAN counter between runs "
                   "(default: beside --host-ledger, host.sqlite -> host.terminals/).")
@click.option("--quiet", "-q", is_flag=True,
              help="Live mode: no progress lines on stderr while the run goes.")
@click.option("--force", is_flag=True,
              help="Write into --out even when it holds files that are not a previous run "
                   "(a previous run is always replaced as a whole).")
@lang_option("report.html and this summary")
@_friendly_errors
def run(scenario: Path, seed: int | None, profile: str | None, out_dir: Path | None,
        acquirer: str | None, speed: float, host_ledger: Path | None,
        state_dir: Path | None, quiet: bool, force: bool, lang: str) -> None:
    """Run SCENARIO and write trace, journal, host ledger, receipts and report.

    --out (default out/<scenario name>) must be missing, empty or a previous run
    directory, which is replaced as a whole (the run is written beside it and renamed
    into place when complete); any other non-empty directory is refused, exit 2, unless
    --force.

    Live mode (--acquirer) runs in real time scaled by --speed, against a real TCP
    acquirer, and prints its progress on stderr (virtual time, sales, findings so far).
    """
    from terminal_sim.harness.out_dir import check_out_dir, output_dir
    from terminal_sim.harness.run import RUN_OUTPUT, run_scenario
    from terminal_sim.scenario.loader import load_scenario

    loaded = load_scenario(scenario)
    target = out_dir or Path("out") / loaded.name
    check_out_dir(target)
    with output_dir(target, RUN_OUTPUT, force=force) as staging:
        if acquirer is not None:
            import dataclasses

            from terminal_sim.harness.live import LiveOptions, LiveSimulation, parse_acquirer_url
            from terminal_sim.harness.live_state import default_state_dir

            if seed is not None:
                loaded = dataclasses.replace(loaded, seed=seed)
            if state_dir is None and host_ledger is not None:
                state_dir = default_state_dir(host_ledger)
            options = LiveOptions(parse_acquirer_url(acquirer), speed=speed,
                                  host_ledger=host_ledger, state_dir=state_dir,
                                  progress=None if quiet else sys.stderr,
                                  framing=_url_framing(acquirer))
            result = LiveSimulation(loaded, staging, options, profile=profile).run()
        else:
            result = run_scenario(loaded, seed=seed, profile=profile, out_dir=staging,
                                  lang=lang)
    if acquirer is not None and lang != "en":
        # the live run wrote its page in English: again, from its artifacts
        from terminal_sim.reporting.report_html import write_report_html

        write_report_html(target, lang=lang)
    _summary(result.report, target, _finding_titles(result, target, lang), lang)
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
                              sales=not last,
                              framing=_url_framing(acquirer))
        return LiveSimulation(loaded, out_dir, options, profile=profile).run()

    if fork_server:
        from terminal_sim.harness.crashloop import fork_server as serve

        serve(run, sys.stdin, sys.stdout)
    else:
        run(boot, no_sales)


def _url_framing(url: str) -> Framing | None:
    """The framing the acquirer URL names (``?framing=tpdu``); None when it names none."""
    from terminal_sim.acquirer.client import framing_of_url

    return framing_of_url(url)


def _finding_titles(result: Any, target: Path, lang: str) -> list[str]:
    """The first findings in words of ``lang`` (English: the reconciler's own summaries)."""
    findings = result.report["findings"][:5]
    if lang == "en" or not findings:
        return [f"{finding['code']}: {finding['summary']}" for finding in findings]
    from terminal_sim.reporting.explain import Narrator
    from terminal_sim.reporting.run_view import load_run_dir

    narrator = Narrator(load_run_dir(target), lang)
    return [narrator.story(number).title for number in range(1, len(findings) + 1)]


def _count_key(_: Any, key: str) -> str:
    """``sale:approved`` in words (``kind:state``, each translated)."""
    kind, _sep, state = key.rpartition(":")
    return (f"{_.in_context('kind', kind)}:" if kind else "") + str(_.in_context("state", state))


def _summary(report: dict[str, Any], target: Path, titles: list[str], lang: str = "en") -> None:
    from terminal_sim.reporting.i18n import Catalogue

    _ = Catalogue(lang)
    counts = report["counts"]
    click.echo(_("scenario {scenario}  seed {seed}  profile {profile}  terminals {terminals}",
                 scenario=report["scenario"], seed=report["seed"], profile=report["profile"],
                 terminals=len(report["terminals"])))
    journal = _(", ").join(f"{_count_key(_, k)} {v}"
                           for k, v in counts["journal"].items()) or _("empty")
    host = _(", ").join(f"{_count_key(_, k)} {v}" for k, v in counts["host"].items()) or _("empty")
    click.echo(_("  paper    {count} receipts", count=counts["receipts"]))
    click.echo(_("  journal  {count} records ({states})", count=counts["journal_records"],
                 states=journal))
    click.echo(_("  host     {count} transactions ({states})",
                 count=counts["host_transactions"], states=host))
    if counts["power_cuts"]:
        click.echo(_("  power    {count} cuts", count=counts["power_cuts"]))
    findings = report["findings"]
    if findings:
        click.echo(_("findings: {count}", count=len(findings)))
        for code, number in report["findings_by_code"].items():
            click.echo(f"  {code:<22} {number}")
        for title in titles:
            click.echo(f"  - {title}")
        if len(findings) > 5:
            click.echo(_("  ... {count} more in report.json", count=len(findings) - 5))
    else:
        click.echo(_("findings: none (paper, journal and host ledger agree)"))
    for problem in report.get("liveness", []):  # work the terminal left unfinished
        click.echo(_("  liveness: {problem}", problem=problem))
    for expectation in report["expectations"]:
        mark = _("ok  ") if expectation["passed"] else _("FAIL")
        click.echo(_("  {mark} expect {code} {expect} (actual {actual})", mark=mark,
                     code=expectation["code"], expect=expectation["expect"],
                     actual=expectation["actual"]))
    verdict = _("PASSED") if report["passed"] else _("FAILED")
    click.echo(_("{verdict}: artifacts in {target}", verdict=verdict, target=target))


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
    from terminal_sim.cli.plain_doc import plain
    from terminal_sim.plugins.registry import fault_class

    cls = fault_class(name)
    click.echo(f"{cls.name}: {cls.summary}\n")
    click.echo(plain(cls.__doc__))
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
    header = "".join(f" {c:>{len(c)}}" for c in codes)  # a column as wide as its code
    click.echo(f"{'dips at':<{width}}{header}")
    for point, row in report["by_crash_point"].items():
        cells = "".join(f" {row.get(c, 0) or '.':>{len(c)}}" for c in codes)
        click.echo(f"{point:<{width}}{cells}")
    click.echo(f"findings: {report['findings'] or 'none'}")
    click.echo(f"forbidden: {report['forbidden']}  liveness failures: "
               f"{len(report['liveness_failures'])}")
    for example in report["forbidden_examples"][:5]:
        click.echo(f"  - {example['dips']}: {example['code']}: {example['summary']}")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the recovered journal and recovery.json "
                   "(default: RUN_DIR/recovered; a previous recovery there is replaced).")
@_friendly_errors
def recover(run_dir: Path, out_dir: Path | None) -> None:
    """Rebuild lost journal records of RUN_DIR from the host ledger, paper and trace.

    The run's evidence is never changed: the corrected copy of the journal and
    recovery.json go to RUN_DIR/recovered/ (or --out). Exit 1 when a LOST_RECORD or
    ORPHAN_AUTHORIZATION remains after recovery, 2 when RUN_DIR is damaged or
    incomplete (a source missing or unreadable: nothing is written then).
    """
    from terminal_sim.base.money import format_amount
    from terminal_sim.harness.recover import recover as run_recovery

    result = run_recovery(run_dir, out_dir)
    for item in result.recovered:
        click.echo(f"{item['action']:<9} {item['terminal_id']} STAN {item['stan']} "
                   f"({format_amount(item['amount_minor'], item['currency'])}) from "
                   f"{', '.join(item['sources'])}")
    if not result.recovered:
        click.echo("nothing to recover")
    click.echo(f"findings before: {result.before or 'none'}")
    click.echo(f"findings after:  {result.after or 'none'}")
    click.echo(f"written: {result.out_dir / 'recovery.json'}, "
               f"{result.out_dir / 'journal.sqlite'}")
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
    from terminal_sim.cli.demo_commands import demo
    from terminal_sim.cli.explore_commands import explore
    from terminal_sim.cli.harness_commands import campaign, replay
    from terminal_sim.cli.lab_commands import lab
    from terminal_sim.cli.reporting_commands import explain, report, studio

    for command in (acquirer, audit, campaign, demo, explain, explore, lab, printer, replay,
                    report, studio):
        main.add_command(command)


_register_extensions()
