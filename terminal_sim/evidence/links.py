"""The trace behind a finding: which device-log records are about a STAN or a receipt.

Trace records are linked by keys they share: a STAN, a sale id, a print job id, or the
printer byte offset a job started at (which is where its receipt starts). A finding
cites the records linked to what it is about, and names as its causes the fault
records among them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from terminal_sim.evidence.sources import PaperReceipt

#: (terminal id, kind of key, value): kind is "stan", "sale", "job" or "byte"
LinkKey = tuple[str, str, Any]


def _keys(record: dict[str, Any]) -> list[LinkKey]:
    data = record.get("data") or {}
    terminal = record["terminal"]
    keys = []
    get = data.get  # one pass of plain lookups: this runs for every record of a day
    stans = get("stans")
    if stans:
        for stan in stans:
            if stan:
                keys.append((terminal, "stan", stan))
    stan = get("stan")
    if stan:
        keys.append((terminal, "stan", stan))
    sale_id = get("sale_id")
    if sale_id:
        keys.append((terminal, "sale", sale_id))
    jobs = get("jobs_damaged")
    if jobs:
        for job in jobs:
            if job is not None:
                keys.append((terminal, "job", job))
    job = get("job_id")
    if job is not None:
        keys.append((terminal, "job", job))
    at_byte = get("at_byte")
    if at_byte is not None:
        keys.append((terminal, "byte", at_byte))
    return keys


class TraceLinks:
    """The trace records of a run, indexed by the keys that link them.

    The index by key is built on the first question that needs it (a finding's trace
    ids, a STAN's sale id), from the records as they were given: a day without findings
    asks none, and pays for one pass over its trace (the retries), not for the index.
    """

    def __init__(self, trace: list[dict[str, Any]]) -> None:
        self._trace = tuple(trace)  # the records given: the index is of these
        self._index: dict[LinkKey, list[int]] | None = None
        self._records: dict[int, dict[str, Any]] = {}
        #: (terminal, sale id of a cashier's retry) -> the sale id of the first attempt
        self._retry_of: dict[tuple[str, str], str] = {}
        records = self._records
        for record in self._trace:
            data = record.get("data")
            if not isinstance(data, dict):
                continue
            retry_of = data.get("retry_of")
            if retry_of and data.get("sale_id"):
                self._retry_of[(record["terminal"], data["sale_id"])] = str(retry_of)
            records[record["id"]] = record

    @property
    def _by_key(self) -> dict[LinkKey, list[int]]:
        """Record ids by the keys they carry (built once, on first use)."""
        if self._index is None:
            by_key: dict[LinkKey, list[int]] = defaultdict(list)
            for record in self._trace:
                if isinstance(record.get("data"), dict):
                    ident = record["id"]
                    for key in _keys(record):
                        by_key[key].append(ident)
            self._index = by_key
        return self._index

    def _linked(self, seeds: list[LinkKey]) -> list[int]:
        """Records sharing a seed key, then records sharing their stan/sale/job keys."""
        by_key = self._by_key
        first: set[int] = set()
        for key in seeds:
            first.update(by_key.get(key, []))
        found = set(first)
        for ident in first:
            for key in _keys(self._records[ident]):
                if key[1] != "byte":
                    found.update(by_key.get(key, []))
        return sorted(found)

    def ids(self, terminal_id: str, stan: str) -> list[int]:
        """Trace ids about this STAN, and about the sale it belongs to."""
        return self._linked([(terminal_id, "stan", stan)])

    def paper_ids(self, receipt: PaperReceipt) -> list[int]:
        """Trace ids behind a receipt: what printed it (by byte offset), and its sale."""
        seeds: list[LinkKey] = [(receipt.terminal_id, "byte", receipt.start_offset)]
        if receipt.facts.stan:
            seeds.append((receipt.terminal_id, "stan", receipt.facts.stan))
        return self._linked(seeds)

    def sale_id(self, terminal_id: str, stan: str) -> str:
        """The sale id the device log gives a STAN ("" when it gives none)."""
        for ident in self._by_key.get((terminal_id, "stan", stan), []):
            sale_id = (self._records[ident].get("data") or {}).get("sale_id")
            if sale_id:
                return str(sale_id)
        return ""

    def intent(self, terminal_id: str, sale_id: str) -> str:
        """The purchase a sale id belongs to: a cashier's retry (``retry_of`` in the
        trace) is the same purchase as its first attempt."""
        return self._retry_of.get((terminal_id, sale_id), sale_id)

    def causes(self, ids: list[int]) -> list[dict[str, Any]]:
        """The fault records among ``ids``: what made the finding happen."""
        causes = []
        for ident in ids:
            record = self._records.get(ident)
            if record is not None and record["kind"] == "fault":
                data = record.get("data") or {}
                causes.append({"fault": data.get("fault", record["name"]),
                               "effect": data.get("effect", record["name"]),
                               "crash_point": record.get("crash_point") or
                               data.get("crash_point"),
                               "trace_id": ident, "t": record["t"]})
        return causes
