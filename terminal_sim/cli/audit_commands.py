"""``pos-sim audit RUN_DIR [--json]``: the independent auditor's verdict on a run.

Exit codes: 0 every invariant holds, 1 one does not, 2 RUN_DIR is missing or damaged
(a missing artifact, a truncated or non-SQLite store, a trace line that is not JSON),
with one line on stderr. The run directory is read, never written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from terminal_sim.cli.exit_codes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, cli_errors

__all__ = ["audit"]


@click.command("audit")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def audit(run_dir: Path, as_json: bool) -> None:
    """Check RUN_DIR's conservation invariants from its raw artifacts alone.

    A second oracle beside the reconciler: what the customer was charged at the host
    equals what the merchant's books and the settlement say, every approved slip has a
    record, every abandoned approval is reversed, no queued work is left, no sale is
    charged twice. Also says whether report.json's findings agree.
    """
    from terminal_sim.audit import audit_run_dir
    from terminal_sim.errors import StoreUnreadable

    with cli_errors():
        try:
            verdict = audit_run_dir(run_dir)
        except StoreUnreadable as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
    if as_json:
        click.echo(json.dumps(verdict.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        for invariant in verdict.invariants:
            mark = (f"not judged: {invariant.not_judged}" if invariant.not_judged
                    else "holds" if invariant.holds else f"FAILS ({len(invariant.evidence)})")
            click.echo(f"{invariant.name:<30} {mark}")
            for entry in invariant.evidence[:3]:
                key = f"{entry.get('terminal_id', '')}/{entry.get('stan') or '-'}"
                click.echo(f"    {key}: {entry.get('what', '')}")
        agree = "yes" if verdict.agrees_with_report else "NO"
        click.echo(f"agrees with report.json: {agree}")
        for line in verdict.disagreements:
            click.echo(f"    {line}")
    sys.exit(EXIT_OK if verdict.holds else EXIT_FAILED)
