"""check_run_dir and read_checked_run_dir: the trace a reader gets is the file's, whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from terminal_sim.errors import StoreUnreadable
from terminal_sim.harness.run import run_scenario
from terminal_sim.scenario.loader import load_scenario
from terminal_sim.stores.run_files import check_run_dir, read_checked_run_dir
from tests.support import SCENARIOS


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("run")
    run_scenario(load_scenario(SCENARIOS / "power-dip-print-before-save.yaml"),
                 profile="naive", out_dir=target)
    return target


def test_the_trace_handed_over_is_every_record_of_the_file(run_dir: Path) -> None:
    checked = read_checked_run_dir(run_dir)
    lines = (run_dir / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    assert checked.trace == [json.loads(line) for line in lines]
    assert checked.report == check_run_dir(run_dir)


@pytest.mark.parametrize("damage", ["a line out", "not json"])
def test_a_damaged_trace_is_refused_by_both_readers_alike(
        run_dir: Path, tmp_path: Path, damage: str) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    lines = (copy / "trace.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = "" if damage == "a line out" else "{not json\n"
    (copy / "trace.jsonl").write_text("".join(lines), encoding="utf-8")
    with pytest.raises(StoreUnreadable, match=r"trace\.jsonl:4") as checked:
        check_run_dir(copy)
    with pytest.raises(StoreUnreadable) as read:
        read_checked_run_dir(copy)
    assert str(read.value) == str(checked.value)
