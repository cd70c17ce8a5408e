"""``pos-sim demo``: the first thing a new user sees, a failure and its fix.

One seed scenario (by default ``scenarios/power-dip-print-before-save.yaml``: a power dip
between print and save; looked up in the current directory, else beside the package's
source tree, and the file used is named) runs twice with the same seed, once under the firmware that
reproduces the field failure (``naive``) and once under the firmware that prevents it
(``robust``); the findings of both are shown side by side, and the last lines name the
files and the commands to look further. Artifacts go to ``OUT/naive`` and ``OUT/robust``.

Exit 0 when the story holds (the naive run shows a finding, the robust run none of the
forbidden ones: LOST_RECORD, ORPHAN_AUTHORIZATION, DUPLICATE_CHARGE, STRAY_RECEIPT of an
approved sale), 1 when it does not, 2 on bad input.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

from terminal_sim.cli.exit_codes import EXIT_FAILED, EXIT_OK
from terminal_sim.cli.exit_codes import friendly_errors as _friendly_errors

__all__ = ["demo"]

#: The demo's story: relative to the current directory, else beside the package's source
#: tree (the checkout pos-sim was installed from).
DEFAULT_SCENARIO = Path("scenarios") / "power-dip-print-before-save.yaml"
#: The command a user of the clone runs, relative to the current directory.
CLONE_BIN = Path(".venv") / "bin" / "pos-sim"
PROFILES = ("naive", "robust")


@click.command("demo")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help=f"The scenario to tell [default: {DEFAULT_SCENARIO}, "
              "else the one beside the installed package]")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out") / "demo", show_default=True,
              help="Directory for the two runs (OUT/naive, OUT/robust).")
@_friendly_errors
def demo(scenario_path: Path | None, out_dir: Path) -> None:
    """Run a field failure under the naive firmware, then under robust, and compare."""
    from terminal_sim.harness.campaign_job import forbidden_findings
    from terminal_sim.harness.run import run_scenario
    from terminal_sim.scenario.loader import load_scenario
    from terminal_sim.scenario.schema import FINDING_CODES

    if scenario_path is None:
        scenario_path = default_scenario()
    scenario = load_scenario(scenario_path)
    click.echo(f"scenario: {scenario_path}")
    click.echo(f"{scenario.name} (seed {scenario.seed})")
    for line in _wrap(" ".join(scenario.description.split())):
        click.echo(f"  {line}")
    reports: dict[str, dict[str, Any]] = {}
    for profile in PROFILES:
        target = out_dir / profile
        click.echo(f"running it under the {profile} firmware -> {target} ...")
        reports[profile] = run_scenario(scenario, profile=profile, out_dir=target).report
    naive, robust = (reports[p].get("findings_by_code", {}) for p in PROFILES)
    codes = [c for c in FINDING_CODES if naive.get(c) or robust.get(c)]
    codes += sorted(c for c in {*naive, *robust} if c not in codes)
    width = max([len("finding"), *(len(c) for c in codes)])
    click.echo("")
    click.echo(f"  {'finding':<{width}}  {'naive':>6}  {'robust':>6}")
    for code in codes:
        click.echo(f"  {code:<{width}}  {naive.get(code, 0):>6}  {robust.get(code, 0):>6}")
    if not codes:
        click.echo(f"  {'(none)':<{width}}  {0:>6}  {0:>6}")
    for finding in reports["naive"]["findings"][:3]:
        click.echo(f"  naive: {finding['code']}: {finding['summary']}")
    forbidden = forbidden_findings(reports["robust"]["findings"])
    told = bool(naive) and not forbidden
    click.echo("")
    if told:
        click.echo("the same seed and faults under robust (journal before print, reversal and "
                   "recovery at power-on): no stray receipt of a sale, no lost record.")
    elif not naive:
        click.echo("the story does not hold: the naive run shows no finding, so there is no "
                   "failure for robust to prevent (pick a scenario with faults)")
    else:
        click.echo(f"the story does not hold: naive findings {sum(naive.values())}, "
                   f"robust forbidden findings {len(forbidden)}")
    _look_further(out_dir, naive_found=bool(reports["naive"]["findings"]),
                  robust_found=bool(forbidden))
    sys.exit(EXIT_OK if told else EXIT_FAILED)


def default_scenario() -> Path:
    """:data:`DEFAULT_SCENARIO` in the current directory, else beside the package's source."""
    if DEFAULT_SCENARIO.is_file():
        return DEFAULT_SCENARIO
    import terminal_sim

    installed = Path(terminal_sim.__file__).resolve().parents[1] / DEFAULT_SCENARIO
    return installed if installed.is_file() else DEFAULT_SCENARIO


def _look_further(out_dir: Path, *, naive_found: bool, robust_found: bool) -> None:
    """The files and the commands that work for what the two runs found."""
    pos_sim = str(CLONE_BIN) if CLONE_BIN.is_file() else "pos-sim"
    click.echo("look further:")
    click.echo(f"  open {out_dir / 'naive' / 'report.html'}   (and {out_dir / 'robust'}"
               "/report.html)")
    for profile, found in (("naive", naive_found), ("robust", robust_found)):
        if found:
            run_dir = shlex.quote(str(out_dir / profile))
            click.echo(f"  {pos_sim} explain {run_dir} --finding 1")
    click.echo(f"  {pos_sim} studio --replay {shlex.quote(str(out_dir / 'naive'))}")


def _wrap(text: str, width: int = 86) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width) or [""]
