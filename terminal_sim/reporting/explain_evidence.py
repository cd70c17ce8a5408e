"""What the customer holds against what the books say, and the cause, in words.

:class:`EvidenceWords` is the part of :class:`~terminal_sim.reporting.explain.Narrator`
that speaks about evidence rather than about trace records: the slips of an incident,
the journal, host and back-office rows behind it, the totals, and the faults that caused
it. Times are told by :meth:`EvidenceWords.when` (calendar time and virtual time).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from terminal_sim.reporting.explain_words import RecordWords
from terminal_sim.reporting.run_view import LedgerRow, RunView, Slip

__all__ = ["EvidenceWords", "Incident", "format_virtual"]


def format_virtual(t_ms: int) -> str:
    """Virtual time as ``H:MM:SS`` (``.mmm`` when not on a whole second)."""
    seconds, ms = divmod(max(0, int(t_ms)), 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{text}.{ms:03d}" if ms else text


@dataclass
class Incident:
    """Findings about the same evidence (the key of their ledger row)."""

    key: str
    numbers: list[int]
    findings: list[dict[str, Any]]

    @property
    def codes(self) -> list[str]:
        return [f["code"] for f in self.findings]

    def signature(self) -> tuple[Any, ...]:
        causes = sorted({(c.get("fault"), c.get("effect"), c.get("crash_point"))
                         for f in self.findings for c in f.get("causes") or []},
                        key=repr)
        return tuple(sorted(self.codes)), tuple(causes)


class EvidenceWords(RecordWords):
    """Sentences about a run's evidence, for the incidents of its findings."""

    def __init__(self, view: RunView, lang: str) -> None:
        super().__init__(lang, {s.print_id: s.ref for s in view.slips if s.print_id is not None})
        self.view = view
        self._rows = {row.key: row for row in view.ledger_rows()}

    def when(self, t_ms: int) -> str:
        """``02:00:00 (T+8:00:00)``: the calendar time and the virtual time."""
        virtual = format_virtual(t_ms)
        wall = self.view.wall(t_ms)
        if wall is None:
            return self.w("when_virtual", virtual=virtual)
        start = self.view.start
        clock = wall.strftime("%H:%M:%S")
        if start is not None and wall.date() != start.date():
            if wall.date() == start.date() + dt.timedelta(days=1):
                clock = self.w("next_day", time=clock)
            else:
                clock = self.w("on_day", time=clock, date=wall.date().isoformat())
        return self.w("when_wall", wall=clock, virtual=virtual)

    def _paper_phrase(self, incidents: list[Incident]) -> str | None:
        slips = [s for i in incidents for s in self._incident_slips(i)]
        if not slips:
            return None
        if all(s.paper.blank for s in slips):
            if len(slips) == 1:
                return self.w("paper_blank", ref=slips[0].ref)
            return self.w("paper_blank_n", count=len(slips), first=slips[0].ref,
                          last=slips[-1].ref)
        if len(slips) > 1 and len({s.paper.facts.outcome for s in slips}) == 1 \
                and len(incidents) > 1:
            return self.w("paper_slips_n", count=len(slips), outcome=slips[0].paper.facts.outcome,
                          first=slips[0].ref, last=slips[-1].ref)
        phrases = [self._slip_phrase(s) for s in slips]
        if len(phrases) > 1:
            return self.w("paper_copies", first=phrases[0], more=len(phrases) - 1)
        return phrases[0]

    def _incident_slips(self, incident: Incident) -> list[Slip]:
        row = self._rows.get(incident.key)
        return list(row.slips) if row is not None else []

    def _slip_phrase(self, slip: Slip) -> str:
        facts = slip.paper.facts
        if slip.paper.blank:
            return self.w("paper_blank", ref=slip.ref)
        if slip.paper.truncated:
            return self.w("paper_truncated", ref=slip.ref)
        amount = (f" ({self._money(facts.amount_minor, facts.currency)})"
                  if facts.amount_minor is not None else "")
        outcome = facts.outcome or "?"
        return self.w("paper_slip", article=self._article(outcome), outcome=outcome,
                      amount_part=amount, stan_part=f" STAN {facts.stan}" if facts.stan else "",
                      ref=slip.ref)

    def _outcome(self, incidents: list[Incident]) -> list[str]:
        first = incidents[0]
        sentences = []
        for finding in first.findings:
            if finding["code"] == "TOTALS_MISMATCH":
                evidence = finding.get("evidence") or {}
                currency = evidence.get("currency", "EUR")
                stans = evidence.get("stans_on_one_side") or []
                shown = ", ".join(stans[:8]) + (", ..." if len(stans) > 8 else "")
                sentences.append(self.w(
                    "totals", books=self._money(evidence.get("terminal_total"), currency),
                    host=self._money(evidence.get("host_total"), currency), count=len(stans),
                    stans=shown or "-") + self.period)
        rows = [self._rows.get(i.key) for i in incidents]
        if all(r is None for r in rows):
            return sentences
        paper = self._paper_phrase(incidents) or self.w("no_paper")
        if len(incidents) > 1 and all(r is not None and r.journal is None and not r.host
                                      and r.backoffice is None for r in rows):
            sentences.append(self.w("holds_n", paper=paper) + self.period)
            sentences.append(self.w("books_none_n") + self.period)
            return sentences
        row = rows[0]
        if row is None:
            return sentences
        charged = [h for h in row.host if h.get("type") == "sale" and h.get("status") == "approved"]
        amount = (self._money(charged[0]["amount_minor"], charged[0]["currency"])
                  if charged else "")
        if len(incidents) == 1:
            holds = self.w("holds", paper=paper)
            if charged:
                holds += self.w("charged", amount=amount)
            sentences.append(holds + self.period)
        else:  # the group in one sentence, then its first incident as the example
            sentences.append(self.w("holds_n", paper=paper) + self.period)
            what = (self.w("what_stan", stan=row.stan, terminal=row.terminal_id) if row.stan
                    else row.key)
            sentences.append((self.w("first_of", what=what, amount=amount) if charged
                              else self.w("first_of_free", what=what)) + self.period)
        sentences.append(self.w("books", journal=self._journal_phrase(row),
                                host=self._host_phrase(row),
                                backoffice=self._backoffice_phrase(row)) + self.period)
        return sentences

    def _journal_phrase(self, row: LedgerRow) -> str:
        if row.journal is None:
            return self.w("journal_none")
        j = row.journal
        return self.w("journal_row", stan=j["stan"], state=j["state"],
                      amount=self._money(j["amount_minor"], j["currency"]))

    def _host_phrase(self, row: LedgerRow) -> str:
        if not row.host:
            return self.w("host_none")
        return "; ".join(self.w("host_row", stan=h["stan"], status=h["status"],
                                amount=self._money(h["amount_minor"], h["currency"]),
                                rc=h.get("response_code") or "-") for h in row.host)

    def _backoffice_phrase(self, row: LedgerRow) -> str:
        if self.view.backoffice is None:
            return self.w("backoffice_absent")
        if row.backoffice is None:
            return self.w("backoffice_none")
        b = row.backoffice
        return self.w("backoffice_row", stan=b["stan"], state=b["state"],
                      amount=self._money(b["amount_minor"], b["currency"]))

    def _cause(self, incidents: list[Incident]) -> str:
        causes: dict[int, dict[str, Any]] = {}
        for incident in incidents:
            for finding in incident.findings:
                for cause in finding.get("causes") or []:
                    causes[int(cause.get("trace_id") or 0)] = cause
        if not causes:
            return self.w("cause_none", profile=self.view.report.get("profile", "?")) + self.period
        by_fault: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for ident in sorted(causes):
            cause = causes[ident]
            by_fault[(str(cause.get("fault")), str(cause.get("effect")))].append(cause)
        parts = []
        for (fault, effect), alike in by_fault.items():
            if len(alike) > 1:
                parts.append(self.w("cause_n", fault=fault, effect=effect, count=len(alike),
                                    first=self.when(alike[0]["t"]),
                                    last=self.when(alike[-1]["t"])))
            elif alike[0].get("crash_point"):
                parts.append(self.w("cause_at_point", fault=fault, effect=effect,
                                    crash_point=alike[0]["crash_point"],
                                    when=self.when(alike[0]["t"])))
            else:
                parts.append(self.w("cause", fault=fault, effect=effect,
                                    when=self.when(alike[0]["t"])))
        return self._.sentence_gap.join(p + self.period for p in parts)
