"""The trace: every event and effect of a run, one JSON object per line.

Each record has ``id`` (its sequence number, which findings cite), ``t`` (virtual ms),
``terminal``, ``state`` (the terminal's state once the record happened), ``kind``
(``event`` | ``effect`` | ``note`` | ``host`` | ``fault``), ``name``, ``flow`` and,
for events and effects, ``crash_point``: the name of the boundary right after it.
Keys are sorted and separators fixed, so the same run gives the same bytes.
"""

from __future__ import annotations

import json
from typing import IO, Any

#: ``json.dumps`` with these options builds a new encoder on every call; one is enough.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(record: dict[str, Any]) -> str:
    """The canonical JSON of a record."""
    return _ENCODER.encode(record)


class Trace:
    """Writes records as JSON lines and keeps them for reconciliation and reports."""

    def __init__(self, sink: IO[str] | None = None, *, keep: bool = True,
                 first_id: int = 1) -> None:
        self._sink = sink
        self._keep = keep
        self.records: list[dict[str, Any]] = []
        self._next_id = first_id - 1  # a restarted live terminal continues its trace

    def write(self, t: int, terminal: str, state: str, kind: str, name: str,
              **data: Any) -> int:
        """Append one record; returns its id."""
        record = self._head(t, terminal, state, kind, name)
        for key, value in data.items():
            if value is not None:
                record[key] = value
        return self._add(record)

    def step(self, t: int, terminal: str, state: str, kind: str, name: str, flow: str,
             crash_point: str | None, data: dict[str, Any] | None) -> int:
        """An event or effect record: ``write(..., flow=, crash_point=, data=data or
        None)`` with its arguments in place (the effect loop's one call per step)."""
        record = self._head(t, terminal, state, kind, name)
        record["flow"] = flow
        if crash_point is not None:
            record["crash_point"] = crash_point
        if data:
            record["data"] = data
        return self._add(record)

    def _head(self, t: int, terminal: str, state: str, kind: str, name: str
              ) -> dict[str, Any]:
        self._next_id += 1
        return {"id": self._next_id, "t": t, "terminal": terminal, "state": state,
                "kind": kind, "name": name}

    def _add(self, record: dict[str, Any]) -> int:
        if self._keep:
            self.records.append(record)
        if self._sink is not None:
            self._sink.write(_ENCODER.encode(record) + "\n")
        return self._next_id
