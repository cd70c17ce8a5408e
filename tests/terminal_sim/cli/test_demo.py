"""pos-sim demo (python3 tasks.py demo): a failure under naive, its absence under robust."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from terminal_sim.cli.main import main
from tests.support import SCENARIOS, SMALL


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


def test_demo_runs_from_any_folder_and_prints_commands_that_exist(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no scenarios/ here: the one beside the package is told
    result = CliRunner().invoke(main, ["demo", "--out", "demo"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"scenario: {SMALL}"
    assert lines[-2] == "  pos-sim explain demo/naive --finding 1"  # no .venv/bin here
    assert lines[-1] == "  pos-sim studio --replay demo/naive"
    (tmp_path / ".venv" / "bin").mkdir(parents=True)  # a clone's venv: its command is named
    (tmp_path / ".venv" / "bin" / "pos-sim").write_text("")
    result = CliRunner().invoke(main, ["demo", "--out", "demo"])
    assert result.output.splitlines()[-1] == "  .venv/bin/pos-sim studio --replay demo/naive"


def test_demo_suggests_no_finding_that_is_not_there(tmp_path: Path) -> None:
    happy = SCENARIOS / "happy-day.yaml"  # no findings under either firmware
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--scenario", str(happy), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "the naive run shows no finding" in result.output
    assert "--finding" not in result.output
    assert result.output.splitlines()[-1].endswith(f"pos-sim studio --replay {out / 'naive'}")
