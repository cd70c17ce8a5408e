"""The live terminal's STAN counter file, the STAN window of a run, the progress line."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from terminal_sim.errors import ConfigurationError
from terminal_sim.harness import live_progress
from terminal_sim.harness.live_progress import LiveProgress
from terminal_sim.harness.live_state import StanStore, default_state_dir, run_stans


def test_stan_counter_survives_a_new_store(tmp_path: Path) -> None:
    StanStore(tmp_path / "state").save("T0000001", 41)
    assert StanStore(tmp_path / "state").load("T0000001") == 41
    assert StanStore(tmp_path / "state").load("T0000002") == 0  # a new terminal
    assert not list((tmp_path / "state").glob("*.tmp"))  # written by rename


@pytest.mark.parametrize("content", ["{", '{"last_stan": -1}', '{"last_stan": "7"}'])
def test_damaged_state_file_is_a_configuration_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "T0000001.json").write_text(content)
    with pytest.raises(ConfigurationError, match=r"T0000001\.json"):
        StanStore(tmp_path).load("T0000001")


def test_state_file_name_cannot_leave_its_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        StanStore(tmp_path).save("../x", 1)


def test_state_sits_beside_the_ledger() -> None:
    assert default_state_dir(Path("/d/host.sqlite")) == Path("/d/host.terminals")


def test_run_stans_counts_from_the_base_and_wraps() -> None:
    assert run_stans(0, 3) == {"000001", "000002", "000003"}
    assert run_stans(5, 5) == frozenset()
    assert run_stans(999_998, 2) == {"999999", "000001", "000002"}


def test_progress_lines_name_time_sales_and_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_progress, "LINE_EVERY_S", 0.0)
    stream = io.StringIO()
    counted = []

    def findings() -> int:
        counted.append(1)
        return 2

    progress = LiveProgress(stream, planned=3, now=lambda: dt.datetime(2026, 1, 5, 9, 15),
                            findings=findings)
    progress.sale_started()
    progress.tick()
    progress.tick()  # the findings are not counted again so soon
    progress.done(4)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "live 09:15:00  sales 1/3  findings so far: 2"
    assert lines[-1] == "live 09:15:00  day over: 1 sales, findings: 4"
    assert len(counted) == 1
