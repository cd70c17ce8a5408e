"""pos-sim demo (python3 tasks.py demo): a failure under naive, its absence under robust."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from terminal_sim.cli.main import main
from tests.support import SMALL


def test_demo_tells_the_failure_and_its_fix(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--scenario", str(SMALL), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    table = {line.split()[0]: line.split()[1:] for line in lines
             if line.startswith("  ") and line.split()[0].isupper()}
    assert table["STRAY_RECEIPT"] == ["1", "0"]
    assert table["LOST_RECORD"] == ["1", "0"]
    for profile in ("naive", "robust"):  # the table says what the runs' reports say
        report = json.loads((out / profile / "report.json").read_text())
        assert report["profile"] == profile
        for code, (naive, robust) in table.items():
            expected = naive if profile == "naive" else robust
            assert report["findings_by_code"].get(code, 0) == int(expected)
    # it ends with where to look further
    assert lines[-4] == "look further:"
    assert f"{out / 'naive' / 'report.html'}" in lines[-3]
    assert lines[-2].endswith(f"pos-sim explain {out / 'naive'} --finding 1")
    assert lines[-1].endswith(f"pos-sim studio --replay {out / 'naive'}")


def test_demo_says_when_the_story_does_not_hold(tmp_path: Path) -> None:
    calm = tmp_path / "calm.yaml"  # nothing goes wrong under naive: no story to tell
    calm.write_text(SMALL.read_text().split("faults:")[0] + "faults: []\n")
    result = CliRunner().invoke(main, ["demo", "--scenario", str(calm), "--out",
                                       str(tmp_path / "demo")])
    assert result.exit_code == 1, result.output
    assert "the story does not hold" in result.output
