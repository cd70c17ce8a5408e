"""``frozen_heap``: the collector's permanent generation for one run, restored after."""

from __future__ import annotations

import gc

import pytest

from terminal_sim.base.heap import frozen_heap


@pytest.fixture(autouse=True)
def _unfrozen() -> None:
    if gc.get_freeze_count():
        pytest.skip("objects are frozen by someone else in this process")


def test_freezes_for_the_block_and_unfreezes_after() -> None:
    with frozen_heap() as froze:
        assert froze
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_unfreezes_when_the_block_raises() -> None:
    with pytest.raises(KeyError), frozen_heap():
        raise KeyError("x")
    assert gc.get_freeze_count() == 0


def test_leaves_a_callers_freeze_alone() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with frozen_heap() as froze:
            assert not froze
        assert gc.get_freeze_count() == frozen  # not unfrozen by the inner block
    finally:
        gc.unfreeze()


def test_a_run_leaves_nothing_frozen() -> None:
    from terminal_sim.harness.run import run_scenario
    from terminal_sim.scenario.loader import load_scenario
    from tests.support import SCENARIOS

    seen: list[int] = []
    gc.callbacks.append(lambda phase, info: seen.append(gc.get_freeze_count()))
    try:
        run_scenario(load_scenario(SCENARIOS / "happy-day.yaml"))
        gc.collect()
    finally:
        gc.callbacks.pop()
    assert gc.get_freeze_count() == 0
    assert max(seen) > 0  # the run's collections ran with the imports frozen
