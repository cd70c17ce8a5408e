"""``TraceLinks`` builds its index by key on the first question: the answers are those of
the records it was given, whatever happens to the caller's list afterwards."""

from __future__ import annotations

from typing import Any

from terminal_sim.evidence.links import TraceLinks


def _record(ident: int, kind: str = "event", **data: Any) -> dict[str, Any]:
    return {"id": ident, "t": ident * 10, "terminal": "T1", "kind": kind, "name": "x",
            "data": data}


def test_the_index_is_of_the_records_given() -> None:
    trace = [_record(1, stan="000001", sale_id="S1"),
             _record(2, sale_id="S1", at_byte=0),
             _record(3, "fault", stan="000001", fault="power_dip", effect="cut"),
             {"id": 4, "t": 40, "terminal": "T1", "kind": "note", "name": "x", "data": None},
             _record(5, stans=["000002", "", "000001"], job_id=0),
             _record(6, sale_id="S2", retry_of="S1")]
    links = TraceLinks(trace)
    trace.append(_record(7, stan="000001", sale_id="S1"))  # after the links were made
    trace[0]["data"]["note"] = "unchanged keys"
    assert links.ids("T1", "000001") == [1, 2, 3, 5]
    assert links.ids("T1", "000002") == [1, 3, 5]  # one hop: not 2, by sale S1
    assert links.sale_id("T1", "000001") == "S1"
    assert links.sale_id("T1", "000009") == ""
    assert links.intent("T1", "S2") == "S1"
    assert links.intent("T1", "S1") == "S1"
    assert [c["trace_id"] for c in links.causes(links.ids("T1", "000001"))] == [3]


def test_questions_that_need_no_index_build_none() -> None:
    links = TraceLinks([_record(1, sale_id="S2", retry_of="S1"), _record(2, stan="000001")])
    assert links.intent("T1", "S2") == "S1"
    assert links.causes([1, 2]) == []
    assert links._index is None  # noqa: SLF001 - what the lazy index is for
    assert links.ids("T1", "000001") == [2]
    assert links._index is not None  # noqa: SLF001
