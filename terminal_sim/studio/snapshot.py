"""What the studio page draws, as JSON: one :class:`~terminal_sim.reporting.run_view.RunView` at a
moment, cut to what a poll needs.

A page polls with the last trace id and the number of receipts it already has, and gets
only what is new of those two (receipt pictures are the heavy part), plus the books,
the findings with their stories, and the clock. Views, stories and pictures are cached
by the trace length, so polling a quiet terminal costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terminal_sim.base.money import format_amount as _money
from terminal_sim.reporting.explain import Narrator, format_virtual
from terminal_sim.reporting.i18n import Catalogue
from terminal_sim.reporting.receipt_images import ReceiptArt
from terminal_sim.reporting.run_view import RunView, Slip, finding_row_keys
from terminal_sim.reporting.timeline import lane_of

__all__ = ["BOOK_COLUMNS", "SnapshotBuilder"]

#: Most trace records sent in one answer (the page keeps a log of recent ones).
MAX_TRACE = 400
#: Most rows of each book sent (the newest).
MAX_ROWS = 250

BOOK_COLUMNS = {
    "journal": ["STAN", "type", "state", "amount", "card", "RRN", "synced"],
    "host": ["STAN", "class", "type", "status", "RC", "amount", "RRN"],
    "backoffice": ["STAN", "type", "state", "amount", "received"],
}


def _vt(value: Any) -> str:
    return f"T+{format_virtual(value)}" if isinstance(value, int) and value >= 0 else "-"


class SnapshotBuilder:
    """Turns views into poll answers, caching what does not change between polls."""

    def __init__(self, art: ReceiptArt | None = None, lang: str = "en") -> None:
        self.lang = lang
        self._ = Catalogue(lang)
        self.art = art or ReceiptArt()
        self._key: Any = None
        self._view: RunView | None = None
        self._findings: list[dict[str, Any]] = []
        self._narrator: Narrator | None = None

    def cached_view(self, key: Any, make: Callable[[], RunView]) -> RunView:
        """The view for ``key`` (made once per key: the trace length of a live session)."""
        if self._view is None or key != self._key:
            view = make()
            self._adopt(view, key)
            return view
        return self._view

    def _adopt(self, view: RunView, key: Any) -> Narrator:
        narrator = Narrator(view, self.lang)
        self._view, self._key, self._narrator = view, key, narrator
        self._findings = self.findings(view, narrator)
        return narrator

    def all_findings(self, view: RunView) -> list[dict[str, Any]]:
        """Every finding of ``view`` with its story (cached with the view)."""
        self._narrator_of(view)
        return self._findings

    def _narrator_of(self, view: RunView) -> Narrator:
        if self._view is view and self._narrator is not None:
            return self._narrator
        return self._adopt(view, ("view", id(view)))

    # -- pieces ----------------------------------------------------------------------------

    def when(self, view: RunView, t: int) -> str:
        wall = view.wall(t)
        clock = wall.strftime("%Y-%m-%d %H:%M:%S") if wall is not None else ""
        return f"{clock} T+{format_virtual(t)}".strip()

    def findings(self, view: RunView, narrator: Narrator) -> list[dict[str, Any]]:
        out = []
        for number, finding in enumerate(view.findings, start=1):
            story = narrator.story(number)
            out.append({
                "n": number,
                "code": finding["code"],
                "summary": narrator.finding_line(finding),
                "title": story.title,
                "sentences": story.sentences(),
                "rows": finding_row_keys(finding),
                "trace_ids": list(finding.get("trace_ids") or []),
                "diverged_t": story.diverged_t,
                "diverged_id": story.diverged_id,
                "diverged": self.when(view, story.diverged_t)
                if story.diverged_t is not None else "",
            })
        return out

    def slip(self, view: RunView, index: int, slip: Slip) -> dict[str, Any]:
        flags = [self._(name) for name, on in (("blank", slip.paper.blank),
                                               ("cut off", slip.paper.truncated)) if on]
        stan = slip.paper.facts.stan
        return {
            "index": index,
            "ref": slip.ref,
            "key": f"{slip.paper.terminal_id}/{stan}" if stan else slip.ref,
            "src": self.art.data_uri(slip.receipt),
            "caption": slip.ref + (f" · {self.when(view, slip.t)}" if slip.t is not None
                                   else ""),
            "flags": flags,
            "sig": f"{slip.ref}:{slip.paper.end_offset}:{int(slip.paper.truncated)}",
        }

    @staticmethod
    def books(view: RunView) -> dict[str, Any]:
        journal = [{"key": f"{r['terminal_id']}/{r['stan']}", "state": r["state"],
                    "cells": [r["stan"], r["type"], r["state"],
                              _money(r["amount_minor"], r["currency"]), r.get("masked_pan", ""),
                              r.get("rrn", ""), _vt(r.get("synced_vt", -1))]}
                   for r in view.journal]
        host = [{"key": f"{r['terminal_id']}/{r['stan']}", "state": r["status"],
                 "cells": [r["stan"], r.get("mti_class", ""), r["type"], r["status"],
                           r.get("response_code", ""), _money(r["amount_minor"], r["currency"]),
                           r.get("rrn", "")]}
                for r in view.host]
        backoffice = None
        if view.backoffice is not None:
            backoffice = [{"key": f"{r['terminal_id']}/{r['stan']}", "state": r["state"],
                           "cells": [r["stan"], r["type"], r["state"],
                                     _money(r["amount_minor"], r["currency"]),
                                     _vt(r.get("received_vt"))]}
                          for r in view.backoffice]
        return {"journal": journal[-MAX_ROWS:], "host": host[-MAX_ROWS:],
                "backoffice": backoffice[-MAX_ROWS:] if backoffice is not None else None}

    # -- the answer --------------------------------------------------------------------------

    def build(self, view: RunView, *, since: int, slips_from: int, now: int,
              trace: list[dict[str, Any]] | None = None, slips: list[Slip] | None = None,
              books: RunView | None = None, findings_until: int | None = None
              ) -> dict[str, Any]:
        """The poll answer. ``trace``/``slips``/``books`` override the view's (a replay
        shows part of a run); ``findings_until`` (a trace id) shows only the findings whose
        paper and books had parted by that record."""
        narrator = self._narrator_of(view)
        records = view.trace if trace is None else trace
        shown_slips = view.slips if slips is None else slips
        findings = [f for f in self._findings if findings_until is None
                    or (f["diverged_id"] or 0) <= findings_until]
        cited: dict[int, list[int]] = {}
        for finding in findings:
            for ident in finding["trace_ids"]:
                cited.setdefault(int(ident), []).append(finding["n"])
        fresh = [r for r in records if r["id"] > since][-MAX_TRACE:]
        items = [{
            "id": r["id"],
            "when": self.when(view, r["t"]),
            "terminal": r.get("terminal") or "",
            "state": r.get("state") or "",
            "lane": lane_of(r),
            "record": f"{r['kind']} {r['name']}",
            "text": narrator.describe(r),
            "findings": cited.get(r["id"], []),
        } for r in fresh]
        start = max(0, min(slips_from, len(shown_slips)) - 1)  # resend the newest one
        wall = view.wall(now)
        return {
            "now": now,
            "clock": wall.strftime("%Y-%m-%d %H:%M:%S") if wall is not None else "",
            "virtual": f"T+{format_virtual(now)}",
            "trace": items,
            "trace_last": records[-1]["id"] if records else 0,
            "slips": [self.slip(view, i, s) for i, s in enumerate(shown_slips) if i >= start],
            "slips_total": len(shown_slips),
            **self.books(books if books is not None else view),
            "findings": [{k: v for k, v in f.items() if k not in ("trace_ids", "diverged_id")}
                         for f in findings],
        }
