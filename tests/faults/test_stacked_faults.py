"""Faults stacked on one port never crash the simulator: every pair of sync-failure
modes on the back-office link, every pair of link faults on one exchange."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

import pytest

from terminal_sim.sim.simulation import RunResult

Day = Callable[..., RunResult]

SYNC_MODES = ("fail", "drop", "lag")


@pytest.mark.parametrize(("inner", "outer"), list(product(SYNC_MODES, repeat=2)))
def test_stacked_sync_failures_are_failed_rounds_under_robust(day: Day, inner: str,
                                                              outer: str) -> None:
    # the inner fault is installed first, the outer one sees each push first; a lagging
    # batch that reaches an unreachable back office is lost on the way, not an error
    result = day(f"""
        - {{name: sync-failure, mode: {inner}, lag_s: 60, until: '09:30'}}
        - {{name: sync-failure, mode: {outer}, lag_s: 60, until: '09:30'}}
    """, profile="robust")
    fired = [r for r in result.evidence.trace if r["kind"] == "fault"]
    assert fired  # the faults met the sync rounds
    # robust keeps every record until acknowledged: once the faults end it all arrives
    assert sorted(r["stan"] for r in result.evidence.backoffice or []) == [
        f"{n:06d}" for n in range(1, 7)]
    assert [f.code for f in result.findings] == []
