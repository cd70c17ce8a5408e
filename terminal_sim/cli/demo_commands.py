"""``pos-sim demo``: the first thing a new user sees, a failure and its fix.

One seed scenario (by default ``scenarios/power-dip-print-before-save.yaml``: a power dip
between print and save) runs twice with the same seed, once under the firmware that
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

#: The demo's story, beside the package's source tree (a checkout, as the README uses).
DEFAULT_SCENARIO = Path("scenarios") / "power-dip-print-before-save.yaml"
PROFILES = ("naive", "robust")


@click.command("demo")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_SCENARIO, show_default=True, help="The scenario to tell.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out") / "demo", show_default=True,
              help="Directory for the two runs (OUT/naive, OUT/robust).")
@_friendly_errors
def demo(scenario_path: Path, out_dir: Path) -> None:
    """Run a field failure under the naive firmware, then under robust, and compare."""
    from terminal_sim.harness.campaign_job import forbidden_findings
    from terminal_sim.harness.run import run_scenario
    from terminal_sim.scenario.loader import load_scenario
    from terminal_sim.scenario.schema import FINDING_CODES

    scenario = load_scenario(scenario_path)
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
    else:
        click.echo(f"the story does not hold: naive findings {sum(naive.values())}, "
                   f"robust forbidden findings {len(forbidden)}")
    naive_dir = shlex.quote(str(out_dir / "naive"))
    click.echo("look further:")
    click.echo(f"  open {out_dir / 'naive' / 'report.html'}   (and {out_dir / 'robust'}"
               "/report.html)")
    click.echo(f"  .venv/bin/pos-sim explain {naive_dir} --finding 1")
    click.echo(f"  .venv/bin/pos-sim studio --replay {naive_dir}")
    sys.exit(EXIT_OK if told else EXIT_FAILED)


def _wrap(text: str, width: int = 86) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width) or [""]
