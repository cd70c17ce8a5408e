"""The causal chain of a finding, in plain words a trainer can read out.

A :class:`Narrator` turns a :class:`~terminal_sim.reporting.run_view.RunView` into
:class:`Story` s. A story tells, in order and with times, the trace records behind a
finding (what the customer did, what the terminal, host and printer did, which fault
struck where), the moment paper and books part, what the customer holds against what
the books say, and the cause.

Findings about the same evidence (a blank slip is both ``BLANK_RECEIPT`` and
``STRAY_RECEIPT``) form one *incident*; incidents alike (same codes, same kind of cause)
form one story, told once with counts: twenty blank slips after one update are one
story, not forty. :meth:`Narrator.story` tells one finding's incident and says how many
are alike. Times are given as the calendar time and the virtual time since the start
of the run (``T+8:00:00``), as in ``trace.jsonl``.

Wording lives in :mod:`terminal_sim.reporting.explain_text` (``en``, ``zh-CN``); one record in words
is :mod:`terminal_sim.reporting.explain_words`; what the paper and the books say, and the
cause, :mod:`terminal_sim.reporting.explain_evidence`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from terminal_sim.errors import ConfigurationError
from terminal_sim.reporting.explain_evidence import EvidenceWords, Incident, format_virtual
from terminal_sim.reporting.explain_words import ranges
from terminal_sim.reporting.i18n import LANGUAGES
from terminal_sim.reporting.run_view import RunView, finding_row_keys

__all__ = ["LANGUAGES", "Narrator", "Step", "Story", "explain_text", "format_virtual"]

#: Records that add nothing a listener needs (their neighbours say it all).
_QUIET = {("effect", "read_card"), ("effect", "start_timer"), ("effect", "cancel_timer"),
          ("event", "print_done")}
#: At most this many steps in a story; the rest is counted.
MAX_STEPS = 9
_PAPER_CODES = ("STRAY_RECEIPT", "BLANK_RECEIPT", "TRUNCATED_RECEIPT")
_HOST_CODES = ("LOST_RECORD", "ORPHAN_AUTHORIZATION", "DUPLICATE_CHARGE")


@dataclass(frozen=True, slots=True)
class Step:
    """One moment of a story: a trace record (or several alike) in words."""

    t: int
    trace_ids: tuple[int, ...]
    text: str  # the sentence, time included
    diverges: bool = False  # paper and books part here
    kind: str = "record"  # record | diverge (the sentence saying so) | more (the rest counted)


@dataclass
class Story:
    """The causal chain of one incident, or of several alike."""

    title: str
    numbers: list[int]  # the finding numbers (1-based, report order) it tells
    codes: list[str]
    steps: list[Step] = field(default_factory=list)
    outcome: list[str] = field(default_factory=list)  # holds vs books, totals
    cause: str = ""
    notes: list[str] = field(default_factory=list)  # also reported as, alike
    diverged_t: int | None = None
    diverged_id: int | None = None
    sep: str = " "  # between sentences: a space in English, nothing in Chinese

    def sentences(self) -> list[str]:
        return [s.text for s in self.steps] + self.outcome + ([self.cause] if self.cause
                                                               else []) + self.notes

    def text(self) -> str:
        return self.sep.join(self.sentences())


class Narrator(EvidenceWords):
    """Tells the findings of one run in one language."""

    def __init__(self, view: RunView, lang: str = "en") -> None:
        super().__init__(view, lang)
        self._slips = view.slips_by_ref()
        self._incidents = self._gather()

    # -- words -----------------------------------------------------------------------------

    def _sentence(self, t_ms: int, text: str) -> str:
        return self.w("sentence", at=self.w("at", when=self.when(t_ms)), text=text)

    # -- incidents -------------------------------------------------------------------------

    def _gather(self) -> list[Incident]:
        incidents: dict[str, Incident] = {}
        for number, finding in enumerate(self.view.findings, start=1):
            keys = finding_row_keys(finding)
            # an aggregate (the day's totals) tells its own story
            key = f"#{number}" if finding["code"] == "TOTALS_MISMATCH" or not keys else keys[0]
            incident = incidents.setdefault(key, Incident(key, [], []))
            incident.numbers.append(number)
            incident.findings.append(finding)
        return list(incidents.values())

    def _incident_of(self, number: int) -> Incident:
        for incident in self._incidents:
            if number in incident.numbers:
                return incident
        raise ConfigurationError(f"no finding #{number}")

    def _chain(self, incident: Incident) -> list[dict[str, Any]]:
        """The trace records about this incident's evidence, in order."""
        row = self._rows.get(incident.key)
        stans = self._stans(incident)
        ids: set[int] = set()
        for finding in incident.findings:
            ids.update(int(i) for i in finding.get("trace_ids") or [])
        records = [r for i in sorted(ids) if (r := self.view.record(i)) is not None]
        sales = {(r.get("data") or {}).get("sale_id") for r in records
                 if (r.get("data") or {}).get("stan") in stans}
        prints = {s.print_id for s in (row.slips if row is not None else [])}
        causes = {int(c["trace_id"]) for f in incident.findings for c in f.get("causes") or []
                  if c.get("trace_id") is not None}
        chosen = []
        for record in records:
            data = record.get("data") or {}
            about = (record["id"] in causes or record["id"] in prints
                     or data.get("stan") in stans or bool(stans & set(data.get("stans") or []))
                     or (data.get("sale_id") is not None and data.get("sale_id") in sales))
            quiet = (record["kind"], record["name"]) in _QUIET and data.get("ok", True)
            if about and not quiet:
                chosen.append(record)
        return chosen

    def _divergence(self, incident: Incident, chain: list[dict[str, Any]]
                    ) -> dict[str, Any] | None:
        """The record after which paper and books disagree for good."""
        codes = set(incident.codes)
        row = self._rows.get(incident.key)
        by_id = {r["id"]: r for r in chain}
        if codes & set(_PAPER_CODES) and row is not None:
            for slip in row.slips:
                if slip.print_id is not None:
                    return by_id.get(slip.print_id) or self.view.record(slip.print_id)
        stan = row.stan if row is not None else ""
        if codes & set(_HOST_CODES):
            for record in chain:
                data = record.get("data") or {}
                if record["name"] == "host_reply" and data.get("stan") == stan \
                        and data.get("rc") == "00":
                    return record
        if "UNSYNCED_RECORD" in codes:
            for record in chain:
                if record["kind"] in ("sync", "fault") and stan in (
                        (record.get("data") or {}).get("stans") or []):
                    return record
        if "MISSING_RECEIPT" in codes:
            for record in chain:
                if record["kind"] == "fault":
                    return record
        causes = [r for r in chain if r["kind"] == "fault"]
        return causes[0] if causes else (chain[0] if chain else None)

    # -- stories ---------------------------------------------------------------------------

    def stories(self) -> list[Story]:
        """Every finding, as few stories as tell them all (alike incidents told once)."""
        groups: dict[tuple[Any, ...], list[Incident]] = defaultdict(list)
        for incident in self._incidents:
            groups[incident.signature()].append(incident)
        return [self._tell(group) for group in groups.values()]

    def story(self, number: int) -> Story:
        """The story of finding ``number`` (1-based, in report order)."""
        total = len(self.view.findings)
        if not 1 <= number <= total:
            raise ConfigurationError(
                f"no finding #{number}: this run has {total} finding(s)"
                + (f" (1 to {total})" if total else ""))
        incident = self._incident_of(number)
        story = self._tell([incident], focus=number)
        others = [f"{f['code']} (#{n})" for n, f in zip(incident.numbers, incident.findings,
                                                        strict=True) if n != number]
        if others:
            story.notes.append(self.w("also", others=", ".join(others)) + self.period)
        alike = [i for i in self._incidents if i.signature() == incident.signature()]
        if len(alike) > 1:
            code = self.view.findings[number - 1]["code"]
            numbers = [n for i in alike for n, f in zip(i.numbers, i.findings, strict=True)
                       if f["code"] == code]
            story.notes.append(self.w("alike", count=len(alike), code=code,
                                      numbers=_numberranges(numbers)) + self.period)
        return story

    def _tell(self, incidents: list[Incident], focus: int | None = None) -> Story:
        first = incidents[0]
        numbers = sorted(n for i in incidents for n in i.numbers)
        codes = [f["code"] for i in incidents for f in i.findings]
        chains = [self._chain(i) for i in incidents]
        if focus is not None:
            title = self.w("title_one", number=focus,
                           code=self.view.findings[focus - 1]["code"])
        else:
            counted = Counter(codes)
            listed = ", ".join(c if n == 1 else self.w("what_n", count=n, code=c)
                               for c, n in sorted(counted.items()))
            title = self.w("title_group" if len(numbers) > 1 else "title_single",
                           what=self._what(incidents), codes=listed,
                           numbers=_numberranges(numbers))
        story = Story(title, numbers, sorted(set(codes)), sep=self._.sentence_gap)
        diverge = self._divergence(first, chains[0])
        if diverge is not None:
            story.diverged_t, story.diverged_id = diverge["t"], diverge["id"]
        story.steps = self._steps(chains, diverge, self._stans(first))
        story.outcome = self._outcome(incidents)
        story.cause = self._cause(incidents)
        return story

    def _what(self, incidents: list[Incident]) -> str:
        """A short name for a group: the paper it left, its STAN, or its main code."""
        paper = self._paper_phrase(incidents)
        if paper is not None:
            return paper
        first = incidents[0]
        row = self._rows.get(first.key)
        if row is not None and row.stan and len(incidents) == 1:
            return self.w("what_stan", stan=row.stan, terminal=row.terminal_id)
        if first.codes == ["TOTALS_MISMATCH"] and len(incidents) == 1:
            return self.w("what_totals", terminal=first.findings[0].get("terminal_id", "?"))
        rows = [r for i in incidents if (r := self._rows.get(i.key)) is not None and r.stan]
        if rows and len({r.terminal_id for r in rows}) == 1:
            stans = [r.stan for r in rows]
            shown = ", ".join(stans[:5]) + (", ..." if len(stans) > 5 else "")
            return self.w("what_stans", stans=shown, terminal=rows[0].terminal_id)
        counted = Counter(f["code"] for i in incidents for f in i.findings)
        code, count = counted.most_common(1)[0]
        return self.w("what_n", count=count, code=code)

    def _stans(self, incident: Incident) -> set[str]:
        row = self._rows.get(incident.key)
        stans = {row.stan} if row is not None and row.stan else set()
        return stans | {f["stan"] for f in incident.findings if f.get("stan")}

    def _steps(self, chains: list[list[dict[str, Any]]], diverge: dict[str, Any] | None,
               stans: set[str]) -> list[Step]:
        """Sentences for the first chain; records alike across the chains told once."""
        example = chains[0]
        # the same kind of record at the same moment in every chain: say it once, counted
        same: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
        for chain in chains:
            for record in chain:
                same[(record["kind"], record["name"], record["t"])].append(record)
        steps: list[Step] = []
        for record in example:
            alike = same[(record["kind"], record["name"], record["t"])]
            unique = {r["id"]: r for r in alike}
            if len(unique) > 1:
                text = self._plural(record, list(unique.values()))
                ids = tuple(sorted(unique))
            else:
                text = self.describe(record)
                ids = (record["id"],)
            diverges = diverge is not None and diverge["id"] in ids
            steps.append(Step(record["t"], ids, self._sentence(record["t"], text), diverges))
        steps = _dedupe(steps)
        if len(steps) > MAX_STEPS:
            keep = _important(steps, self._weights(example, steps, stans))
            dropped = len(steps) - len(keep)
            steps = keep
            steps.append(Step(steps[-1].t, (), self.w("more_steps", count=dropped) + self.period,
                              kind="more"))
        for index, step in enumerate(steps):
            if step.diverges:
                steps.insert(index + 1, Step(step.t, (), self.w("diverge") + self.period,
                                             kind="diverge"))
                break
        return steps

    @staticmethod
    def _weights(chain: list[dict[str, Any]], steps: list[Step], stans: set[str]) -> list[int]:
        """How much each step matters (0 most): faults, the paper and the host's word
        first, then the sale around them, then background work (sync, other STANs)."""
        by_id = {r["id"]: r for r in chain}
        weights = []
        for step in steps:
            record = by_id.get(step.trace_ids[0]) if step.trace_ids else None
            if step.diverges or record is None or record["kind"] == "fault":
                weights.append(0)
                continue
            name = record["name"]
            data = record.get("data") or {}
            if name in ("print", "host_reply", "spooler_resumed_job", "timer_expired") \
                    or name.startswith(("send_", "journal_")):
                weights.append(1 if data.get("stan") in stans or name == "print" else 3)
            elif record["kind"] in ("sync", "host"):
                weights.append(4)
            else:
                weights.append(2)
        return weights

    def _plural(self, record: dict[str, Any], alike: list[dict[str, Any]]) -> str:
        data = record.get("data") or {}
        if record["name"] == "spooler_resumed_job" and data.get("empty"):
            jobs = [(r.get("data") or {}).get("job_id") for r in alike]
            return self.w("spooler_resumed_empty_n", count=len(alike),
                          jobs=ranges([j for j in jobs if isinstance(j, int)]))
        if record["name"] == "print":
            return self.w("print_n", count=len(alike), outcome=data.get("outcome") or "")
        return self.describe(record) + f" (×{len(alike)})"

    def header(self, stories: list[Story]) -> str:
        report = self.view.report
        fields = {"scenario": self.view.name, "seed": report.get("seed", "?"),
                  "profile": report.get("profile", "?")}
        unknown = self.view.journal_unknown  # "paper and books agree" would be untrue
        if not self.view.findings and not unknown:
            return self.w("no_findings", **fields) + self.period
        head = self.w("header", findings=len(self.view.findings), stories=len(stories),
                      **fields) + self.period
        return head + (" " + self.w("no_journal") + self.period if unknown else "")




def _dedupe(steps: list[Step]) -> list[Step]:
    """Drop a step that says exactly what the previous one said (retries, alike records)."""
    out: list[Step] = []
    for step in steps:
        if out and out[-1].text == step.text:
            continue
        out.append(step)
    return out


def _important(steps: list[Step], weights: list[int]) -> list[Step]:
    """The :data:`MAX_STEPS` steps that matter most, in their order (ties: the earliest)."""
    ranked = sorted(range(len(steps)), key=lambda i: (weights[i], i))[:MAX_STEPS]
    return [steps[i] for i in sorted(ranked)]




def _numberranges(numbers: Iterable[int]) -> str:
    return "#" + ranges(numbers).replace(", ", ", #").replace("-", "-#")


def explain_text(view: RunView, *, finding: int | None = None, lang: str = "en") -> str:
    """The whole explanation ``pos-sim explain`` prints."""
    narrator = Narrator(view, lang)
    if finding is not None:
        story = narrator.story(finding)
        summary = narrator.finding_line(view.findings[finding - 1])
        return "\n".join([story.title, summary, "", story.text()]) + "\n"
    stories = narrator.stories()
    lines = [narrator.header(stories)]
    for number, story in enumerate(stories, start=1):
        lines += ["", narrator.w("story_of", number=number, total=len(stories),
                                 title=story.title), story.text()]
    return "\n".join(lines) + "\n"
