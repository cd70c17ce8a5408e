"""``VirtualClock.wall`` keeps its last answer: it must follow the time and the epoch."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.base.clock import DEFAULT_EPOCH, VirtualClock

EPOCHS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1))


@given(st.lists(st.tuples(st.integers(0, 10**9), st.none() | EPOCHS), max_size=20))
def test_wall_is_epoch_plus_now(steps: list[tuple[int, dt.datetime | None]]) -> None:
    clock = VirtualClock()
    for delta, epoch in steps:
        clock.advance_to(clock.now() + delta)
        if epoch is not None:
            clock.epoch = epoch
        expected = clock.epoch + dt.timedelta(milliseconds=clock.now())
        assert clock.wall() == expected
        assert clock.wall() == expected  # asked again at the same time


def test_a_new_epoch_at_the_same_time_moves_the_wall() -> None:
    clock = VirtualClock()
    assert clock.wall() == DEFAULT_EPOCH
    clock.epoch = dt.datetime(2030, 6, 1)
    assert clock.wall() == dt.datetime(2030, 6, 1)
