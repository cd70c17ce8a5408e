"""What a person reads on the console: amounts in major units, finding codes whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from terminal_sim.base.money import format_amount
from terminal_sim.cli.harness_commands import _table
from terminal_sim.cli.main import _sweep_table, main
from tests.support import SCENARIOS


def test_format_amount_reads_major_units() -> None:
    assert format_amount(4080, "EUR") == "40.80 EUR"
    assert format_amount(-5, "EUR") == "-0.05 EUR"
    assert format_amount(1200, "JPY") == "1200 JPY"
    assert format_amount(4080, "XXX") == "4080"  # an unknown currency: as recorded
    assert format_amount(None, "EUR", missing="?") == "?"


def test_recover_prints_major_units(tmp_path: Path) -> None:
    out = tmp_path / "run"
    runner = CliRunner()
    ran = runner.invoke(main, ["run", str(SCENARIOS / "power-dip-lost-approval.yaml"),
                               "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    result = runner.invoke(main, ["recover", str(out)])
    assert "STAN 000003 (40.80 EUR) from host" in result.output, result.output


def test_sweep_table_keeps_every_finding_code_whole(capsys: Any) -> None:
    codes = ["ORPHAN_AUTHORIZATION", "TRUNCATED_RECEIPT", "DUPLICATE_CHARGE"]
    report = {"profile": "naive", "cut": "power", "synchronous": "NORMAL", "crash_points": 1,
              "runs": 1, "by_crash_point": {"sale/after:print": {c: 1 for c in codes}},
              "findings": {c: 1 for c in codes}, "forbidden": 0, "liveness_failures": [],
              "forbidden_examples": []}
    _sweep_table(report)
    header = capsys.readouterr().out.splitlines()[1]
    assert header.split()[2:] == sorted(codes)


def test_campaign_lines_keep_every_reason_whole(capsys: Any) -> None:
    why = [f"expectation ORPHAN_AUTHORIZATION == {n} (actual 0) unmet" for n in range(5)]
    data = {"per_scenario": {}, "aggregate": [], "nondeterministic": [], "failing": 1,
            "runs": 1, "errors": 0}
    _table(data, [{"command": "pos-sim run x.yaml --seed 1", "why": why}])
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.endswith(f"{why[0]}; {why[1]}; {why[2]}; ... 2 more")
