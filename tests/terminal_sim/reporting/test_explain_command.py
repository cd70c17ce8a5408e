"""``pos-sim explain``: the story of a finding, read out by a trainer, matching the trace."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from terminal_sim.cli.reporting_commands import explain
from terminal_sim.reporting.explain import Narrator, format_virtual
from terminal_sim.reporting.run_view import load_run_dir


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(explain, list(args))
    return result.exit_code, result.stdout, result.stderr


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.)\s+", text) if s.strip()]


def test_the_blank_slips_story(nightly_run: Path) -> None:
    code, out, _ = run(str(nightly_run))
    assert code == 0
    assert "1 story" in out  # forty findings, one story: twenty blank slips
    story = out.split("Story 1 of 1:", 1)[1]
    said = sentences(story)
    assert 4 <= len(said) <= 12, said  # a few sentences
    update = [s for s in said if "update" in s]
    assert update
    assert "02:00:00" in update[0]
    assert "T+8:00:00" in update[0]  # and its virtual time, as in trace.jsonl
    assert any("spooler" in s for s in said)
    assert "20 blank slips" in story
    assert "no transaction" in story  # what the books say against what the customer holds
    assert "Cause: the maintenance-update fault (spooler data discarded)" in story


def test_one_finding(nightly_run: Path) -> None:
    code, out, _ = run(str(nightly_run), "--finding", "1")
    assert code == 0
    assert out.startswith("Finding #1: BLANK_RECEIPT")
    assert "02:00:00" in out
    assert "spooler" in out
    assert "resumed job 11" in out  # this slip's own job, from the trace
    assert "one of 20 alike" in out
    assert "also reported as STRAY_RECEIPT (#21)" in out


def test_the_story_matches_the_trace(nightly_run: Path) -> None:
    trace = {r["id"]: r for r in map(json.loads, (nightly_run / "trace.jsonl").open())}
    story = Narrator(load_run_dir(nightly_run)).story(1)
    assert story.steps
    for step in story.steps:
        for ident in step.trace_ids:
            assert f"T+{format_virtual(trace[ident]['t'])}" in step.text
    update = next(r for r in trace.values() if r["name"] == "maintenance-update")
    assert story.steps[0].trace_ids == (update["id"],)
    resumed = [s for s in story.steps if s.diverges]
    assert len(resumed) == 1
    assert trace[resumed[0].trace_ids[0]]["name"] == "spooler_resumed_job"


def test_in_chinese(nightly_run: Path) -> None:
    code, out, _ = run(str(nightly_run), "--lang", "zh-CN", "-f", "21")
    assert code == 0
    assert "打印队列" in out
    assert "02:00:00" in out
    assert "20" in out
    assert "。" in out


@pytest.mark.parametrize("number", ["0", "41", "-3"])
def test_finding_out_of_range(nightly_run: Path, number: str) -> None:
    code, out, err = run(str(nightly_run), "--finding", number)
    assert code == 2
    assert "no finding #" in err
    assert "40 finding(s)" in err
    assert out == ""


def test_not_a_run_directory(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path))
    assert code == 2
    assert "not a run directory" in err
    assert "report.json" in err
    code, _, err = run(str(tmp_path / "missing"))
    assert code == 2
    assert "not a directory" in err
    (tmp_path / "report.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "trace.jsonl").write_text("", encoding="utf-8")
    code, _, err = run(str(tmp_path))
    assert code == 2
    assert "report.json: not readable JSON" in err


def test_help() -> None:
    result = CliRunner().invoke(explain, ["--help"])
    assert result.exit_code == 0
    assert "--finding" in result.output
    assert "zh-CN" in result.output
