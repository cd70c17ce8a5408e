"""``Trace.step`` (the effect loop's record) writes what ``Trace.write`` writes for the
same record, in memory and as JSON lines."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.sim.trace import Trace

NAMES = st.text(max_size=6)
DATA = st.none() | st.dictionaries(NAMES, st.integers() | NAMES, max_size=3)


@given(st.lists(st.tuples(st.integers(0, 10**9), NAMES, NAMES, NAMES, st.none() | NAMES,
                          DATA), max_size=8))
def test_step_is_write_with_flow_crash_point_and_data(
        records: list[tuple[int, str, str, str, str | None, dict[str, Any] | None]]) -> None:
    sink_a, sink_b = io.StringIO(), io.StringIO()
    a, b = Trace(sink_a), Trace(sink_b)
    for t, state, name, flow, point, data in records:
        ids = (a.step(t, "T0000001", state, "effect", name, flow, point, data),
               b.write(t, "T0000001", state, "effect", name, flow=flow, crash_point=point,
                       data=data or None))
        assert ids[0] == ids[1]
    assert a.records == b.records
    assert [list(r) for r in a.records] == [list(r) for r in b.records]  # same key order
    assert sink_a.getvalue() == sink_b.getvalue()
