"""The data ``report.html`` draws with script: the trace, the host's messages, the timeline.

A day of thousands of sales has tens of thousands of trace records. As HTML rows they
made the page tens of megabytes and slow to open, and the timeline carried each one's
words a second time. Here every record is one short JSON array whose repeated parts
(terminal, state, lane, record name, crash point, and the words themselves: many records
read alike) are numbers into tables, and the page's script draws from it both the
timeline and, one page at a time, the trace table.

The shape (``TRACE_FIELDS`` names a trace row's columns)::

    {"end": ms, "start": iso|null, "lanes": [[key, label]], "terminals": [...],
     "colours": {state: colour}, "spans": [[terminal, state, from, to]],
     "marks": [[t, finding, code, trace id]],
     "names": {"terminals": [...], "states": [[state, label]], "lanes": [label],
               "records": ["kind name"], "points": [crash point], "texts": [words]},
     "trace": [[id, t, terminal, state, lane, record, point, text]],
     "cited": {trace id: "finding numbers"},
     "host": [[t, terminal, text]], "words": {...}}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from terminal_sim.reporting.explain import Narrator, Story
from terminal_sim.reporting.i18n import Catalogue
from terminal_sim.reporting.run_view import RunView
from terminal_sim.reporting.timeline import LANES, lane_of, state_spans

__all__ = ["TRACE_FIELDS", "TRACE_PAGE_ROWS", "page_data_json"]

#: The columns of one trace row in the page's data.
TRACE_FIELDS = ("id", "t", "terminal", "state", "lane", "record", "point", "text")
#: Trace rows the page shows at once.
TRACE_PAGE_ROWS = 200


class _Names:
    """A table of strings and the index of each (the first time seen, the next number)."""

    def __init__(self, first: tuple[str, ...] = ()) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}
        for value in first:
            self(value)

    def __call__(self, value: str) -> int:
        index = self._index.get(value)
        if index is None:
            index = self._index[value] = len(self.values)
            self.values.append(value)
        return index


def page_data(view: RunView, narrator: Narrator, catalogue: Catalogue,
              stories: list[Story], colours: dict[str, str],
              state_word: Callable[[str], str]) -> dict[str, Any]:
    """What the page's script draws, as JSON-ready data."""
    _ = catalogue
    lanes = [key for key, _label in LANES]
    terminals, states, records, points, texts = (_Names(), _Names(), _Names(), _Names(),
                                                 _Names())
    trace = [[record["id"], record["t"], terminals(record.get("terminal") or ""),
              states(record.get("state") or ""), lanes.index(lane_of(record)),
              records(f"{record['kind']} {record['name']}"),
              points(record.get("crash_point") or ""), texts(narrator.describe(record))]
             for record in view.trace]
    host = []
    for message in view.host_messages:
        text = _("host {direction} {mti} STAN {stan}", direction=state_word(message["direction"]),
                 mti=message["mti"], stan=message["stan"])
        if message.get("response_code"):
            text += _(" response {rc}", rc=message["response_code"])
        host.append([message["vt"], terminals(message["terminal_id"]), texts(text)])
    cited: dict[str, str] = {}
    for number, finding in enumerate(view.findings, start=1):
        for ident in finding.get("trace_ids") or []:
            cited[str(ident)] = f"{cited[str(ident)]} {number}" if str(ident) in cited \
                else str(number)
    spans = state_spans(view.trace, view.virtual_ms)
    marks = [[story.diverged_t, number, view.findings[number - 1]["code"],
              story.diverged_id or 0]
             for number, story in enumerate(stories, start=1) if story.diverged_t is not None]
    return {
        "end": max(view.virtual_ms, 1),
        "start": view.start.isoformat() if view.start else None,
        "lanes": [[key, _(label)] for key, label in LANES],
        "terminals": sorted({span[0] for span in spans}),
        "colours": colours,
        "spans": [list(span) for span in spans],
        "marks": marks,
        "names": {"terminals": terminals.values,
                  "states": [[state, state_word(state)] for state in states.values],
                  "lanes": [_.in_context("lane", key) for key in lanes],
                  "records": records.values, "points": points.values, "texts": texts.values},
        "trace": trace,
        "cited": cited,
        "host": host,
        "page": TRACE_PAGE_ROWS,
        "words": {"rows": _("rows {first}-{last} of {count}", first="{first}", last="{last}",
                            count="{count}"),
                  "picture": _("paper as picture"), "text": _("paper as text")},
    }


def page_data_json(data: dict[str, Any]) -> str:
    """``data`` as the text of a ``<script type="application/json">`` element."""
    # "</" must not end the script element early
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
