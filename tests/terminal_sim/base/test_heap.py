"""``frozen_heap``: the collector's permanent generation for one run, restored after."""

from __future__ import annotations

import gc

import pytest

from terminal_sim.base.heap import RUN_YOUNG_THRESHOLD, freeze_more, frozen_heap


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
    from terminal_sim.sim.simulation import Simulation
    from tests.support import SCENARIOS

    seen: list[int] = []
    play = Simulation.play

    def play_and_collect(self: Simulation) -> None:
        play(self)
        gc.collect(0)  # a young collection during the run (a short day may make none)

    gc.callbacks.append(lambda phase, info: seen.append(gc.get_freeze_count()))
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Simulation, "play", play_and_collect)
            run_scenario(load_scenario(SCENARIOS / "happy-day.yaml"))
        gc.collect()
    finally:
        gc.callbacks.pop()
    assert gc.get_freeze_count() == 0
    assert max(seen) > 0  # the run's collections ran with the imports frozen


def test_raises_the_young_threshold_for_the_block_and_puts_it_back() -> None:
    before = gc.get_threshold()
    with frozen_heap():
        assert gc.get_threshold() == (max(before[0], RUN_YOUNG_THRESHOLD), *before[1:])
    assert gc.get_threshold() == before
    with pytest.raises(KeyError), frozen_heap():
        raise KeyError("x")
    assert gc.get_threshold() == before


def test_leaves_the_threshold_alone_when_it_did_not_freeze_or_it_was_changed() -> None:
    before = gc.get_threshold()
    gc.freeze()
    try:
        with frozen_heap():
            assert gc.get_threshold() == before
    finally:
        gc.unfreeze()
    try:
        with frozen_heap():
            gc.set_threshold(1234, *before[1:])  # someone tunes the collector meanwhile
        assert gc.get_threshold() == (1234, *before[1:])
    finally:
        gc.set_threshold(*before)


def test_freeze_more_freezes_what_came_since_inside_a_block_that_froze() -> None:
    with frozen_heap() as froze:
        before = gc.get_freeze_count()
        made: list[list[int]] = [[] for _ in range(1000)]  # tracked by the collector
        freeze_more(froze)
        assert gc.get_freeze_count() >= before + len(made)
    assert gc.get_freeze_count() == 0
    freeze_more(False)  # outside such a block: nothing
    assert gc.get_freeze_count() == 0


def test_the_end_of_a_run_walks_only_what_it_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    from terminal_sim.harness.run import run_scenario
    from terminal_sim.scenario.loader import load_scenario
    from terminal_sim.sim.simulation import Simulation
    from tests.support import SCENARIOS

    seen: dict[str, int] = {}
    play, paper = Simulation.play, Simulation._paper  # noqa: SLF001

    def spy_play(self: Simulation) -> None:
        seen["play"] = gc.get_freeze_count()
        play(self)

    def spy_paper(self: Simulation) -> object:
        seen["end"] = gc.get_freeze_count()
        return paper(self)

    monkeypatch.setattr(Simulation, "play", spy_play)
    monkeypatch.setattr(Simulation, "_paper", spy_paper)
    run_scenario(load_scenario(SCENARIOS / "happy-day.yaml"))
    assert seen["end"] > seen["play"] > 0  # the day's objects frozen before the end
    assert gc.get_freeze_count() == 0
