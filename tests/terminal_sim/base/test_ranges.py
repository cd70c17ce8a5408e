"""Numbers as runs of consecutive values."""

from __future__ import annotations

from terminal_sim.base.ranges import runs, runs_text


def test_runs_keep_the_order_given() -> None:
    assert runs([1, 2, 3, 5, 7, 8, 9, 3, 4]) == [(1, 3), (5, 5), (7, 9), (3, 4)]
    assert runs([]) == []


def test_runs_as_text() -> None:
    assert runs_text([11, 12, 13]) == "11-13"
    assert runs_text([3, 5, 7, 8, 9]) == "3, 5, 7-9"
    assert runs_text([1, 2, 500], separator=",") == "1-2,500"
    assert runs_text([]) == ""
