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


#: Every link fault, set to act on every message it can (the extremes of its parameters):
#: a slicer cuts into more pieces than a frame has bytes, so a piece is one byte.
LINK_FAULTS = {
    "link-latency": "{name: link-latency, delay_ms: 100, jitter_ms: 50}",
    "link-drop-request": "{name: link-drop-request, nth: [1, 3]}",
    "link-drop-reply": "{name: link-drop-reply, probability: 0.5}",
    "link-late-reply": "{name: link-late-reply, delay_ms: 20000, probability: 0.5}",
    "link-duplicate-reply": "{name: link-duplicate-reply, gap_ms: 0}",
    "link-reset": "{name: link-reset, direction: both, probability: 0.3}",
    "link-slicer": "{name: link-slicer, pieces: 1000, gap_ms: 1}",
    "link-corrupt": "{name: link-corrupt, bytes: 8, direction: both}",
}


@pytest.mark.parametrize(("inner", "outer"), list(product(LINK_FAULTS, repeat=2)))
def test_every_pair_of_link_faults_on_one_exchange_runs(day: Day, inner: str,
                                                        outer: str) -> None:
    # the outer fault (installed last) meets each message first, the inner one meets
    # what the outer one made of it: pieces, copies, changed bytes; nothing may crash
    # they stop before the last sales: the link must work again (no frame stream left
    # out of step), so robust finishes its work and nobody is charged for nothing
    until = "until: '09:06'}"
    result = day(f"""
        - {LINK_FAULTS[inner].replace("}", ", " + until)}
        - {LINK_FAULTS[outer].replace("}", ", " + until)}
    """, count=8, profile="robust")
    fired = {r["name"] for r in result.evidence.trace if r["kind"] == "fault"}
    assert fired  # at least one of the two met a message
    assert result.liveness == []
    assert [f.code for f in result.findings] == []


@pytest.mark.parametrize(("inner", "outer"), [("link-slicer", "link-corrupt"),
                                              ("link-corrupt", "link-slicer"),
                                              ("link-slicer", "link-slicer")])
def test_corrupting_pieces_never_touches_a_length_header(day: Day, inner: str,
                                                         outer: str) -> None:
    # each piece of a sliced frame is changed, but never in its length header: the
    # frames still reassemble, so no message is lost to a framing error
    result = day(f"""
        - {LINK_FAULTS[inner]}
        - {LINK_FAULTS[outer]}
    """, count=3, profile="robust")
    # the outer fault meets the frames first; a corrupt behind a slicer meets only pieces,
    # which pass the link's faults untouched (a piece is no message)
    assert outer in {r["name"] for r in result.evidence.trace if r["kind"] == "fault"}
    rejected = [r["data"]["reason"] for r in result.evidence.trace
                if r["name"] in ("reply_rejected", "connection_closed")]
    assert not [reason for reason in rejected if "length header" in reason]


def test_a_delayed_message_never_lands_inside_a_sliced_one(day: Day) -> None:
    # explore seed 2, world 53: latency delays some whole requests by ~15 s while the
    # slicer cuts others; a delayed message arriving amid another's pieces used to
    # desynchronise the host's framing for good (reversals never acknowledged)
    result = day("""
        - {name: link-latency, delay_ms: 14611, jitter_ms: 1783, until: '09:30'}
        - {name: link-slicer, pieces: 6, gap_ms: 71, direction: request,
           probability: 0.6, until: '09:30'}
    """, count=12, profile="robust")
    assert {r["name"] for r in result.evidence.trace if r["kind"] == "fault"} == {
        "link-latency", "link-slicer"}
    assert not [r for r in result.evidence.trace if r["name"] == "connection_closed"]
    assert result.liveness == []
    assert [f.code for f in result.findings] == []
