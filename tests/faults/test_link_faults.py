"""Each link fault makes the terminal's view and the host's view diverge as it says."""

from __future__ import annotations

from collections.abc import Callable

from terminal_sim.sim.simulation import RunResult

Day = Callable[..., RunResult]


def host_view(result: RunResult) -> dict[str, str]:
    """STAN -> status, as the host's ledger has it."""
    return {r["stan"]: r["status"] for r in result.evidence.host}


def journal_view(result: RunResult) -> dict[str, str]:
    """STAN -> state, as the terminal's journal has it."""
    return {r["stan"]: r["state"] for r in result.evidence.journal}


def codes(result: RunResult) -> list[str]:
    return sorted(f.code for f in result.findings)


def test_baseline_views_agree(day: Day) -> None:
    result = day()
    assert host_view(result) == journal_view(result)
    assert set(host_view(result).values()) == {"approved"}
    assert codes(result) == []


def test_drop_request_host_never_saw_it(day: Day) -> None:
    result = day("- {name: link-drop-request, message: '0200', nth: 2}")
    assert "000002" not in host_view(result)
    assert journal_view(result)["000002"] == "failed"
    assert codes(result) == []  # nothing charged: nothing to reconcile


def test_drop_reply_after_commit_host_approved_terminal_timed_out(day: Day) -> None:
    result = day("- {name: link-drop-reply, message: '0210', nth: 2}")
    assert host_view(result)["000002"] == "approved"
    assert journal_view(result)["000002"] == "failed"
    assert "ORPHAN_AUTHORIZATION" in codes(result)


def test_late_reply_arrives_after_the_timeout_and_is_not_taken(day: Day) -> None:
    result = day("- {name: link-late-reply, message: '0210', nth: 3, delay_ms: 20000}")
    assert host_view(result)["000003"] == "approved"
    assert journal_view(result)["000003"] == "failed"
    notes = [r for r in result.evidence.trace if r["name"] == "ignored"]
    assert any("late or stray reply for STAN 000003" in r["data"]["reason"] for r in notes)
    assert "ORPHAN_AUTHORIZATION" in codes(result)


def test_slightly_late_reply_within_the_timeout_is_fine(day: Day) -> None:
    result = day("- {name: link-late-reply, message: '0210', nth: 3, delay_ms: 5000}")
    assert codes(result) == []
    assert journal_view(result)["000003"] == "approved"


def test_duplicate_reply_is_recognised_as_stray(day: Day) -> None:
    result = day("- {name: link-duplicate-reply, message: '0210', nth: 2}")
    assert codes(result) == []
    assert journal_view(result) == host_view(result)
    ignored = [r for r in result.evidence.trace if r["name"] == "ignored"]
    assert any("STAN 000002" in r["data"]["reason"] for r in ignored)


def test_reset_loses_the_reply(day: Day) -> None:
    result = day("- {name: link-reset, message: '0210', nth: 1}")
    assert host_view(result)["000001"] == "approved"
    assert journal_view(result)["000001"] == "failed"


def test_slicer_pieces_are_reassembled(day: Day) -> None:
    result = day("- {name: link-slicer, pieces: 4, probability: 1.0}")
    assert codes(result) == []
    assert journal_view(result) == host_view(result)
    assert sum(1 for r in result.evidence.trace if r["kind"] == "fault") == 12


def test_corrupt_request_gets_a_format_error(day: Day) -> None:
    # one changed byte: the host cannot decode the request but can still tell who sent
    # which STAN, and answers 30; the terminal declines, nobody is charged (which byte
    # changes is drawn from the fault's stream: seed 16 changes one in a typed field)
    result = day("- {name: link-corrupt, direction: request, message: '0200', nth: 1, "
                 "bytes: 1}", seed=16)
    replies = [r["data"] for r in result.evidence.trace if r["name"] == "host_reply"]
    assert (replies[0]["stan"], replies[0]["rc"]) == ("000001", "30")
    assert journal_view(result)["000001"] == "declined"
    assert "000001" not in host_view(result)
    assert codes(result) == []


def test_corrupt_request_beyond_reading_times_out(day: Day) -> None:
    # six changed bytes take the STAN with them: the host's format-error reply names no
    # STAN, the terminal rejects it and gives up on the sale when its timer runs out
    result = day("- {name: link-corrupt, direction: request, message: '0200', nth: 1, "
                 "bytes: 6}", seed=11)
    rejected = [r["data"]["reason"] for r in result.evidence.trace
                if r["name"] == "reply_rejected"]
    assert rejected == ["field 11: mandatory field missing"]
    assert journal_view(result)["000001"] == "failed"
    assert "000001" not in host_view(result)


def test_corrupt_reply_is_rejected_not_crashing(day: Day) -> None:
    result = day("- {name: link-corrupt, message: '0210', nth: 2, bytes: 8}", seed=3)
    rejected = [r for r in result.evidence.trace if r["name"] == "reply_rejected"]
    state = journal_view(result)["000002"]
    # a reply mangled beyond reading is rejected with its offset; one that still
    # decodes carries whatever code the bytes now say: never an untyped exception
    assert rejected or state in ("approved", "declined")
    for record in rejected:
        assert record["data"]["offset"] is not None or record["data"]["reason"]


def test_latency_delays_without_divergence(day: Day) -> None:
    result = day("- {name: link-latency, delay_ms: 3000, jitter_ms: 1000}")
    assert codes(result) == []
    assert journal_view(result) == host_view(result)


def test_two_slicers_keep_the_byte_stream_in_order(day: Day) -> None:
    # the outer slicer's pieces pass the inner one untouched: a byte stream is never
    # reordered, so every frame is reassembled and no fault acts on a piece of one
    result = day("""
        - {name: link-slicer, pieces: 3, gap_ms: 61}
        - {name: link-slicer, pieces: 4, gap_ms: 5}
        """)
    assert codes(result) == []
    assert set(journal_view(result).values()) == {"approved"}
    assert journal_view(result) == host_view(result)
    mtis = {r["data"]["mti"] for r in result.evidence.trace if r["kind"] == "fault"}
    assert mtis == {"0200", "0210"}


def test_a_frame_under_way_in_pieces_holds_back_the_next(day: Day) -> None:
    # the reply of sale 1 is cut in pieces 2 s apart and repeated 10 ms later: the copy
    # waits behind the pieces and is recognised as a stray repeat, not mixed into them
    result = day("""
        - {name: link-slicer, direction: reply, pieces: 3, gap_ms: 2000, nth: 1}
        - {name: link-duplicate-reply, gap_ms: 10, nth: 1}
        """)
    assert codes(result) == []
    assert not [r for r in result.evidence.trace if r["name"] == "reply_rejected"]
    assert journal_view(result) == host_view(result)


def test_a_frame_sent_late_waits_for_the_pieces_under_way(day: Day) -> None:
    # sale 1's reply is held back 20 s (an inner fault) and re-enters the connection
    # while the reversal's 0410 is arriving in pieces 3 s apart: it waits behind them
    result = day("""
        - {name: link-late-reply, message: '0210', nth: 1, delay_ms: 20000}
        - {name: link-slicer, direction: reply, message: '0410', pieces: 4, gap_ms: 3000}
        """, profile="robust")
    assert not [r for r in result.evidence.trace if r["name"] == "reply_rejected"]
    assert result.liveness == []
    assert journal_view(result)["000001"] == "reversed"
    assert {(r["type"], r["status"]) for r in result.evidence.host
            if r["stan"] == "000001"} == {("sale", "reversed"), ("reversal", "applied")}
