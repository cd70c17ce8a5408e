"""The timeline of a run: which lane a trace record is drawn in, and how long each
terminal spent in each state (the report page and the studio draw both)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["LANES", "PRINT_RECORDS", "lane_of", "state_spans"]

#: Trace records that put something on paper, and where their bytes start.
PRINT_RECORDS = {("effect", "print"), ("note", "spooler_resumed_job"),
                 ("fault", "operator-reprint")}

#: Lanes of a timeline, in the order they are drawn, with what goes in each.
LANES: tuple[tuple[str, str], ...] = (
    ("customer", "customer and operator"),
    ("iso", "ISO 8583 messages"),
    ("host", "host ledger"),
    ("paper", "printer"),
    ("journal", "journal"),
    ("sync", "back-office sync"),
    ("fault", "faults"),
    ("power", "power"),
    ("other", "other"),
)

_CUSTOMER = {"sale_requested", "void_requested", "reprint_requested", "card_read",
             "customer_retries"}
_POWER = {"power_cut", "restart", "power_on", "printer_power_restored"}


def lane_of(record: dict[str, Any]) -> str:
    """The timeline lane a trace record belongs in."""
    kind, name = record["kind"], record["name"]
    data = record.get("data") or {}
    if name in _POWER:
        return "power"
    if kind == "fault":
        return "fault"
    if name in _CUSTOMER:
        return "customer"
    if kind == "host" or (isinstance(data, dict) and data.get("mti")):
        return "iso"
    if (kind, name) in PRINT_RECORDS or name in ("print_done", "printer_refilled",
                                                 "printer_cover_closed"):
        return "paper"
    if name.startswith("journal_"):
        return "journal"
    if kind == "sync":
        return "sync"
    return "other"


def state_spans(trace: Iterable[dict[str, Any]], end_ms: int
                ) -> list[tuple[str, str, int, int]]:
    """(terminal, state, from, to): how long each terminal spent in each state."""
    spans: list[tuple[str, str, int, int]] = []
    current: dict[str, tuple[str, int]] = {}
    for record in trace:
        terminal, state = record.get("terminal"), record.get("state")
        if not terminal or not state:
            continue  # host-side records carry no terminal state
        before = current.get(terminal)
        if before is None or before[0] != state:
            # a state that lasted no virtual time (completing a print) is not drawn
            if before is not None and record["t"] > before[1]:
                spans.append((terminal, before[0], before[1], record["t"]))
            current[terminal] = (state, record["t"])
    for terminal, (state, since) in current.items():
        spans.append((terminal, state, since, max(end_ms, since)))
    spans.sort(key=lambda s: (s[0], s[2]))
    return spans
