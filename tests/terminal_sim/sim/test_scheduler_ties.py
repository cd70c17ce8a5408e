"""The scheduler's hand-written ordering: virtual time, then the order of scheduling."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.base.clock import VirtualClock
from terminal_sim.sim.scheduler import Scheduled, Scheduler


@given(st.lists(st.tuples(st.integers(0, 50), st.booleans()), max_size=60),
       st.integers(0, 20))
def test_actions_run_by_time_then_by_scheduling_order(items: list[tuple[int, bool]],
                                                       nested_at: int) -> None:
    clock = VirtualClock()
    scheduler = Scheduler(clock)
    ran: list[int] = []
    follow = len(items)
    expected: list[tuple[int, int, int]] = []
    def record(n: int) -> Callable[[], None]:
        return lambda: ran.append(n)

    def nested() -> None:
        scheduler.at(nested_at, record(follow))

    for seq, (at, cancel) in enumerate(items):
        handle = scheduler.at(at, record(seq))
        if cancel:
            handle.cancel()
        else:
            expected.append((at, seq, seq))
    # an action scheduled while running lands after everything already due at its time
    scheduler.at(nested_at, nested)
    scheduler.run()
    order = [n for _, _, n in sorted(expected)]
    assert [n for n in ran if n != follow] == order
    later = [n for at, _, n in sorted(expected) if at > nested_at]
    assert ran[len(ran) - len(later) - 1] == follow


def test_scheduled_items_compare_by_time_then_sequence() -> None:
    def item(at: int, seq: int) -> Scheduled:
        return Scheduled(at, seq, lambda: None)

    assert item(1, 9) < item(2, 0)
    assert not item(2, 0) < item(1, 9)
    assert item(1, 1) < item(1, 2)
    assert not item(1, 2) < item(1, 1)
    assert item(1, 1) <= item(1, 1)
    assert item(1, 2) >= item(1, 1)
    assert item(1, 2) > item(1, 1)
    assert item(1, 1) == Scheduled(1, 1, print)  # the action is not part of equality
    assert sorted([item(3, 1), item(1, 3), item(1, 2)]) == [item(1, 2), item(1, 3), item(3, 1)]
