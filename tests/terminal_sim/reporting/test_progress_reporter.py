"""Progress: a redrawn line with rate and ETA on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

import pytest

from terminal_sim.errors import ConfigurationError
from terminal_sim.reporting.progress import Progress, format_duration, is_interactive


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_one_per_ten_percent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    out, clock = io.StringIO(), Clock()
    with Progress(200, "sweep", stream=out, clock=clock) as progress:
        for _ in range(200):
            clock.now += 0.5
            progress.advance()
    lines = out.getvalue().splitlines()
    assert len(lines) == 11  # 10 %, 20 % ... 100 %, and the closing line
    assert lines[0] == "sweep: 20/200 (10%), 2.0/s, about 1m30s left"
    assert lines[9].startswith("sweep: 200/200 (100%)")
    assert "left" not in lines[9]
    assert lines[10] == "sweep: done: 200/200 in 1m40s (2.0/s)"
    assert "\r" not in out.getvalue()


def test_big_steps_write_one_line_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    out = io.StringIO()
    with Progress(10, "runs", stream=out, clock=Clock()) as progress:
        progress.advance(5)
        progress.advance(5)
    assert [line.split(" (")[0] for line in out.getvalue().splitlines()[:2]] == [
        "runs: 5/10", "runs: 10/10"]


def test_a_terminal_gets_a_redrawn_bar_with_rate_and_eta(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.delenv("CI", raising=False)
    out, clock = Tty(), Clock()
    progress = Progress(100, "campaign", stream=out, clock=clock, unit="runs")
    assert progress.interactive
    clock.now += 10
    progress.advance(25)
    shown = out.getvalue()
    assert shown.startswith("\rcampaign [######..................] 25/100 runs  25%")
    assert "2.5/s" in shown
    assert "ETA 30.0s" in shown
    clock.now += 30
    progress.advance(75)
    progress.close()
    final = out.getvalue().split("\r")[-1]
    assert final.endswith("\n")  # the last line stays on screen
    # padded with spaces over the longer line it replaces
    assert final.rstrip() == "campaign: done: 100/100 runs in 40.0s (2.5/s)"


def test_ci_is_never_interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert not is_interactive(Tty())
    monkeypatch.delenv("CI")
    assert is_interactive(Tty())
    assert not is_interactive(io.StringIO())


def test_unknown_total_and_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    out = io.StringIO()
    def count_then_fail() -> None:
        with Progress(None, "scan", stream=out, clock=Clock()) as progress:
            progress.advance(7)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        count_then_fail()
    assert out.getvalue() == "scan: stopped: 7 in 0.0s\n"


def test_disabled_writes_nothing() -> None:
    out = io.StringIO()
    with Progress(3, stream=out, enabled=False) as progress:
        progress.advance(3)
    assert out.getvalue() == ""
    assert progress.done == 3


def test_bad_arguments() -> None:
    with pytest.raises(ConfigurationError, match="total"):
        Progress(-1)
    with pytest.raises(ConfigurationError, match="advance"):
        Progress(3, stream=io.StringIO()).advance(-1)


def test_durations() -> None:
    assert format_duration(12.34) == "12.3s"
    assert format_duration(185) == "3m05s"
    assert format_duration(3720) == "1h02m"
    assert format_duration(-1) == "?"
