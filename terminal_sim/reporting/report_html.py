"""``report.html``: one run on one page, for people who would rather look than read JSON.

The page is self-contained: styles and script are inline, receipts behind findings are
PNG ``data:`` URIs, and nothing is loaded from a network, so it opens from disk in any
browser and can be attached to a CI run. It shows

* the verdict, the expectations and the counts;
* the stories: each finding's causal chain in plain words (:mod:`terminal_sim.reporting.explain`),
  alike findings told once, with the moment paper and books part;
* a timeline in virtual time: terminal states as bands, and lanes for the customer,
  ISO 8583 messages, the host ledger, the printer, the journal, sync, faults and power
  (drag across it to zoom; the page draws it from data embedded in it);
* the four evidence sources side by side, joined on (terminal, STAN): the receipt as
  the customer holds it, and what the journal, the host ledger and the back office say;
  the rows behind findings are marked, and picking a finding lights its rows;
* the whole trace, each record in words.

A day of thousands of sales stays quick to write and to open: only the receipts behind
a finding are drawn as pictures (each other receipt is its own text, which the page's
script draws as a picture on request, from the text: no bytes for it in the file); the
paper-and-books table is paged (:data:`LEDGER_PAGE_ROWS` rows a page, every row shown
without script); the trace is compact data (:mod:`terminal_sim.reporting.report_data`)
from which the script draws the timeline and the trace table a page at a time.
:func:`write_report_html` builds the page from a run directory's artifacts (it can be
regenerated any time) or from a :class:`RunResult` in memory.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal_sim.base.money import format_amount
from terminal_sim.reporting.explain import Narrator, Story, format_virtual
from terminal_sim.reporting.i18n import Catalogue
from terminal_sim.reporting.receipt_images import ReceiptArt
from terminal_sim.reporting.report_assets import BASE_CSS, NOSCRIPT_CSS, REPORT_CSS, REPORT_JS
from terminal_sim.reporting.report_data import page_data, page_data_json
from terminal_sim.reporting.run_view import (
    LedgerRow,
    RunView,
    Slip,
    finding_row_keys,
    load_run_dir,
    view_of_result,
)
from terminal_sim.reporting.timeline import LANES
from terminal_sim.scenario.schema import FINDING_CODES

if TYPE_CHECKING:
    from terminal_sim.sim.simulation import RunResult

__all__ = ["REPORT_NAME", "render_report_html", "write_report_html"]

REPORT_NAME = "report.html"

#: Rows of the paper-and-books table the page shows at once (the rest wait, hidden, for
#: the page's script to page to them; without script they are all shown).
LEDGER_PAGE_ROWS = 100

#: Colours of the lifecycle states (bands on the timeline, pills in tables).
STATE_COLOURS = {
    "off": "#6b7280", "idle": "#d1fae5", "reading": "#bfdbfe", "authorizing": "#fde68a",
    "voiding": "#fbcfe8", "completing": "#c7d2fe",
}


#: The words of REPORT_JS (as JavaScript string literals in it), translated in place.
SCRIPT_WORDS = ("state ", " from ", ") to ", "finding #", ": paper and books part at ")


def h(value: Any) -> str:
    """HTML-escaped text of anything."""
    return html.escape("" if value is None else str(value), quote=True)


def ht(text: str) -> str:
    """HTML-escaped text for an element's content (quotes kept: they need no escaping there)."""
    return html.escape(text, quote=False)


class _Page:
    """Builds the page of one run view."""

    def __init__(self, view: RunView, lang: str) -> None:
        self.view = view
        self.narrator = Narrator(view, lang)
        self._ = Catalogue(lang)
        self.lang = lang
        self.art = ReceiptArt()
        self.rows = view.ledger_rows()
        self.findings = view.findings
        self.finding_stories: list[Story] = [self.narrator.story(n)
                                             for n in range(1, len(self.findings) + 1)]
        self.stories = self.narrator.stories()

    def when(self, t: int | None) -> str:
        if t is None:
            return ""
        wall = self.view.wall(t)
        clock = wall.strftime("%Y-%m-%d %H:%M:%S") if wall is not None else ""
        return f"{clock} T+{format_virtual(t)}".strip()

    # -- the page --------------------------------------------------------------------------

    def render(self) -> str:
        report = self.view.report
        _ = self._
        title = _("{name}: terminal-sim report", name=self.view.name)
        parts = [
            "<!DOCTYPE html>",
            f'<html lang="{h(self.lang)}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # nothing may be fetched: a CSP that says so, for browsers that honour it
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">",
            f"<title>{h(title)}</title>",
            f"<style>{BASE_CSS}{REPORT_CSS}</style>",
            f"<noscript><style>{NOSCRIPT_CSS}</style></noscript></head><body>",
            self._header(report),
            f'<nav class="toc"><a href="#stories">{_("Stories")}</a><a href="#findings">'
            f'{_("Findings")}</a><a href="#timeline">{_("Timeline")}</a><a href="#ledger">'
            f'{_("Paper and books")}</a><a href="#trace">{_("Trace")}</a></nav>',
            self._stories(),
            self._findings(),
            self._timeline(),
            self._ledger(),
            self._trace(),
            "<footer>" + ht(_("terminal-sim · every time is virtual time since the start of "
                             "the run (T+h:mm:ss), with the calendar time it stands for"))
            + "</footer>",
            f'<script type="application/json" id="timeline-data">{self._data_json()}'
            "</script>",
            f"<script>{self._script()}</script>",
            "</body></html>",
        ]
        return "\n".join(parts) + "\n"

    def _header(self, report: dict[str, Any]) -> str:
        _ = self._
        passed = bool(report.get("passed", True))
        verdict = (f'<span class="verdict pass">{_("PASSED")}</span>' if passed
                   else f'<span class="verdict fail">{_("FAILED")}</span>')
        counts = report.get("counts") or {}
        facts = [
            (_("seed"), report.get("seed")),
            (_("profile"), report.get("profile")),
            (_("terminals"), ", ".join(report.get("terminals") or [])),
            (_("faults"), ", ".join(report.get("faults") or []) or _("none")),
            (_("start"), self.view.start.isoformat(sep=" ") if self.view.start
             else _("unknown")),
            (_("virtual time"), f"T+{format_virtual(self.view.virtual_ms)}"),
            (_("receipts"), counts.get("receipts", len(self.view.slips))),
            (_("journal records"), _("not known: the application under test keeps it")
             if self.view.journal_unknown
             else counts.get("journal_records", len(self.view.journal))),
            (_("host transactions"), counts.get("host_transactions", len(self.view.host))),
            (_("power cuts"), counts.get("power_cuts", "")),
        ]
        out = [f'<header><h1>{h(self.view.name)} {verdict}</h1><dl class="facts">']
        out += [f"<div><dt>{h(k)}</dt><dd>{h(v)}</dd></div>" for k, v in facts
                if v not in ("", None)]
        out.append("</dl>")
        by_code = report.get("findings_by_code") or {}
        if by_code:
            # the codes in their documented order (report.json on disk sorts its keys)
            order = {code: index for index, code in enumerate(FINDING_CODES)}
            codes = sorted(by_code, key=lambda c: (order.get(c, len(order)), c))
            out.append('<p class="codes">' + " ".join(
                f'<span class="code c-{h(code)}">{h(code)} × {h(by_code[code])}</span>'
                for code in codes) + "</p>")
        else:
            out.append('<p class="codes ok">' + ht(_("No findings: paper, journal, host ledger "
                                                    "and back office agree.")) + "</p>")
        expectations = report.get("expectations") or []
        if expectations:
            out.append(f'<table class="expect"><thead><tr><th>{_("expected")}</th><th>'
                       f'{_("actual")}</th><th></th></tr></thead><tbody>')
            for e in expectations:
                mark = _("ok") if e.get("passed") else _("FAIL")
                out.append(f'<tr class="{"pass" if e.get("passed") else "fail"}">'
                           f"<td>{h(e.get('code'))} {h(e.get('expect'))}</td>"
                           f"<td>{h(e.get('actual'))}</td><td>{mark}</td></tr>")
            out.append("</tbody></table>")
        out.append("</header>")
        return "\n".join(out)

    # -- stories and findings ----------------------------------------------------------------

    def _story_html(self, story: Story, *, heading: str = "h3") -> str:
        out = [f'<{heading} class="story-title">{h(story.title)}</{heading}>',
               '<ol class="chain">']
        for step in story.steps:
            if step.kind == "diverge":
                continue  # the step before it is marked instead
            ids = " ".join(str(i) for i in step.trace_ids)
            cls = ' class="diverges"' if step.diverges else ""
            link = (f' <a class="ev" href="#ev-{step.trace_ids[0]}">'
                    + ht(self._("trace #{id}", id=step.trace_ids[0])) + "</a>"
                    if step.trace_ids else "")
            out.append(f'<li{cls} data-ids="{ids}">{h(step.text)}{link}</li>')
        out.append("</ol>")
        for sentence in story.outcome:
            out.append(f'<p class="outcome">{h(sentence)}</p>')
        if story.cause:
            out.append(f'<p class="cause">{h(story.cause)}</p>')
        for note in story.notes:
            out.append(f'<p class="note">{h(note)}</p>')
        return "\n".join(out)

    def _stories(self) -> str:
        _ = self._
        out = [f'<section id="stories"><h2>{_("Stories")}</h2>']
        if not self.stories:
            out.append("<p>" + ht(_("Nothing to tell: every receipt has its record and every "
                                   "record its receipt.")) + "</p>")
        for story in self.stories:
            numbers = " ".join(str(n) for n in story.numbers)
            out.append(f'<article class="story" data-findings="{numbers}">')
            out.append(self._story_html(story))
            out.append('<p class="jump"><button type="button" class="show-rows" '
                       f'data-findings="{numbers}">{ht(_("light up its rows"))}</button></p>'
                       "</article>")
        out.append("</section>")
        return "\n".join(out)

    def _findings(self) -> str:
        _ = self._
        out = [f'<section id="findings"><h2>{_("Findings")}</h2>']
        if not self.findings:
            out.append(f"<p>{ht(_('None.'))}</p></section>")
            return "\n".join(out)
        out.append("<table class=\"findings\"><thead><tr><th>#</th>" + "".join(
            f"<th>{ht(_(label))}</th>" for label in ("code", "terminal", "STAN", "what", "cause",
                                                     "rows")) + "</tr></thead><tbody>")
        anchors = {row.key: row.anchor for row in self.rows}
        for number, (finding, story) in enumerate(zip(self.findings, self.finding_stories,
                                                      strict=True), start=1):
            causes = "; ".join(self._cause(c) for c in finding.get("causes") or []) \
                or _("none recorded")
            summary = finding.get("summary") if self.lang == "en" else story.title
            links = " ".join(f'<a href="#{anchors[key]}">{h(key)}</a>'
                             for key in finding_row_keys(finding) if key in anchors)
            out.append(
                f'<tr id="finding-{number}" class="finding" data-finding="{number}">'
                f"<td>{number}</td><td><span class=\"code c-{h(finding['code'])}\">"
                f"{h(finding['code'])}</span></td><td>{h(finding.get('terminal_id'))}</td>"
                f"<td>{h(finding.get('stan'))}</td><td>{h(summary)}<details><summary>"
                f'{ht(_("causal chain"))}</summary>{self._story_html(story, heading="h4")}'
                f"</details></td><td>{h(causes)}</td><td>{links}</td></tr>")
        out.append("</tbody></table></section>")
        return "\n".join(out)

    # -- timeline ----------------------------------------------------------------------------

    def _timeline(self) -> str:
        _ = self._
        legend = "".join(f'<span class="lane-key l-{key}">{ht(_(label))}</span>'
                         for key, label in LANES)
        states = "".join(f'<span class="state-key" style="background:{colour}">'
                         f"{h(self._state(state))}</span>"
                         for state, colour in STATE_COLOURS.items())
        hint = ht(_("Virtual time runs left to right. Drag across the chart to zoom in, "
                   "double-click (or {button}) to see the whole run. Red diamonds mark where "
                   "a finding's paper and books part; pick one to read its story.",
                   button="\0")).replace(
            "\0", f'<button type="button" id="tl-reset">{ht(_("show all"))}</button>')
        return (
            f'<section id="timeline"><h2>{ht(_("Timeline"))}</h2>'
            f'<p class="hint">{hint}</p>'
            f'<p class="legend">{states}</p><p class="legend">{legend}</p>'
            '<div id="tl-chart" class="chart" role="img" aria-label="'
            f'{h(_("timeline of the run"))}"></div>'
            '<div id="tl-info" class="tl-info">'
            + ht(_("Hover over a mark to see what happened.")) + "</div><noscript><p>"
            + ht(_("The timeline is drawn by script; the trace table below lists every "
                   "record.")) + "</p></noscript></section>"
        )

    def _data_json(self) -> str:
        data = page_data(self.view, self.narrator, self._, self.finding_stories,
                         STATE_COLOURS, self._state)
        data["ledger_page"] = LEDGER_PAGE_ROWS
        return page_data_json(data)

    # -- paper and books side by side ---------------------------------------------------------

    def _slip_html(self, slip: Slip, *, picture: bool) -> str:
        """The slip as a picture (``picture``: behind a finding) or as its own text, which
        the page's script draws as a picture on request."""
        _ = self._
        flags = []
        if slip.paper.blank:
            flags.append(_("blank"))
        if slip.paper.truncated:
            flags.append(_("cut off"))
        if picture and not slip.exact:
            flags.append(_("drawn from its text"))
        when = _(" · printed {when}", when=self.when(slip.t)) if slip.t is not None else ""
        caption = f"{slip.ref}{when}" + (f" · {_(', ').join(flags)}" if flags else "")
        ident = h(slip.ref.replace("#", "-"))
        if picture:
            alt = slip.paper.text or (_("blank slip") if slip.paper.blank else _("slip"))
            paper = f'<img src="{self.art.data_uri(slip.receipt)}" alt="{h(alt)}">'
        else:
            paper = (f'<pre class="paper">{ht(slip.paper.text)}</pre><button type="button" '
                     f'class="draw">{ht(_("paper as picture"))}</button>')
        return (f'<figure class="slip" id="slip-{ident}">{paper}'
                f"<figcaption>{h(caption)}</figcaption></figure>")

    def _cells(self, record: dict[str, Any] | None, fields: Iterable[tuple[str, str]],
               state_key: str) -> str:
        if record is None:
            return f'<div class="absent">{ht(self._("no record"))}</div>'
        state = record.get(state_key, "")
        lines = [f'<div class="state s-{h(state)}">{h(self._state(state))}</div>']
        for key, label in fields:
            value = record.get(key)
            if key == "amount_minor":
                value = format_amount(value, record.get("currency"))
            elif key.endswith("_vt") and isinstance(value, int) and value >= 0:
                value = f"T+{format_virtual(value)}"
            if value not in ("", None, -1):
                lines.append(f"<i class=k>{h(self._(label))}</i> {h(value)}<br>")
        return "".join(lines)

    def _ledger_row(self, row: LedgerRow) -> str:
        marks = " ".join(f'<a class="code c-{h(self.findings[n - 1]["code"])}" '
                         f'href="#finding-{n}">#{n} {h(self.findings[n - 1]["code"])}</a>'
                         for n in row.findings)
        _ = self._
        paper = "".join(self._slip_html(s, picture=bool(row.findings))
                        for s in row.slips) or \
            f'<div class="absent">{ht(_("no receipt"))}</div>'
        journal = self._cells(row.journal, (("stan", "STAN"), ("amount_minor", "amount"),
                                            ("masked_pan", "card"), ("rrn", "RRN"),
                                            ("approval_code", "auth"),
                                            ("response_code", "RC"), ("synced_vt", "synced")),
                              "state")
        host = "".join(self._cells(r, (("stan", "STAN"), ("mti_class", "class"),
                                       ("amount_minor", "amount"), ("response_code", "RC"),
                                       ("rrn", "RRN"), ("approval_code", "auth"),
                                       ("reason", "reason")), "status")
                       for r in row.host) or f'<div class="absent">{ht(_("no transaction"))}</div>'
        if self.view.backoffice is None:
            backoffice = f'<div class="absent">{ht(_("no back office in this run"))}</div>'
        else:
            backoffice = self._cells(row.backoffice, (("stan", "STAN"),
                                                      ("amount_minor", "amount"),
                                                      ("rrn", "RRN")), "state")
        cls = "row has-finding" if row.findings else "row"
        numbers = " ".join(str(n) for n in row.findings)
        return (f'<tr id="{row.anchor}" class="{cls}" data-findings="{numbers}">'
                f'<td class="when">{h(row.terminal_id)}<br>{h(row.stan or _("no STAN"))}<br>'
                f'<small>{h(self.when(row.t))}</small></td><td class="paper">{paper}</td>'
                f"<td>{journal}</td><td>{host}</td><td>{backoffice}</td>"
                f'<td class="marks">{marks}</td></tr>')

    def _ledger(self) -> str:
        _ = self._
        heads = ("transaction", "paper: what the customer holds", "terminal journal",
                 "host ledger", "back office", "findings")
        out = [f'<section id="ledger"><h2>{ht(_("Paper and books, side by side"))}</h2>',
               '<p class="hint">'
               + ht(_("One row per transaction (terminal, STAN), or per piece of paper with no "
                      "transaction on it, oldest first. What the customer holds is on the "
                      "left; what the books say is on the right. Rows behind a finding are "
                      "marked.")) + '</p><p><label><input type="checkbox" id="only-findings"> '
               + ht(_("only rows with findings")) + "</label></p>",
               '<table class="ledger"><thead><tr>'
               + "".join(f"<th>{ht(_(head))}</th>" for head in heads)
               + "</tr></thead>"]
        for first in range(0, len(self.rows), LEDGER_PAGE_ROWS):
            hidden = " hidden" if first else ""  # the page's script pages through them
            out.append(f'<tbody class="page"{hidden}>')
            out += [self._ledger_row(row) for row in self.rows[first:first + LEDGER_PAGE_ROWS]]
            out.append("</tbody>")
        out.append(f'</table>{self._pager("ledger")}</section>')
        return "\n".join(out)

    # -- words of values -----------------------------------------------------------------------

    def _state(self, state: str) -> str:
        """A lifecycle, journal or host state as a reader says it (the page keeps the
        identifier in its class names)."""
        return self._.in_context("state", state) if state else state

    def _cause(self, cause: dict[str, Any]) -> str:
        text = self._("{fault} ({effect})", fault=cause.get("fault"),
                      effect=self.narrator.effect(str(cause.get("effect"))))
        if cause.get("crash_point"):
            text += self._(" at {crash_point}", crash_point=cause["crash_point"])
        return text

    def _script(self) -> str:
        """The page's script, its few words in the page's language."""
        script = REPORT_JS
        for literal in SCRIPT_WORDS:
            words = self._(literal)
            if words != literal:
                script = script.replace(json.dumps(literal), json.dumps(words, ensure_ascii=False))
        return script

    # -- the trace ----------------------------------------------------------------------------

    def _pager(self, table: str) -> str:
        _ = self._
        return (f'<p class="pager" data-table="{table}"><button type="button" class="prev">'
                f'{ht(_("previous"))}</button> <span class="at"></span> <button type="button" '
                f'class="next">{ht(_("next"))}</button></p>')

    def _trace(self) -> str:
        _ = self._
        heads = ("id", "time", "terminal", "state", "lane", "record", "what happened")
        return (f'<section id="trace"><h2>{ht(_("Trace"))}</h2><p class="hint">'
                + ht(_("{count} records of trace.jsonl, in words. Records behind a finding "
                       "are marked.", count=len(self.view.trace))) + "</p>"
                '<table class="trace"><thead><tr>'
                + "".join(f"<th>{ht(_(head))}</th>" for head in heads)
                + f'</tr></thead><tbody id="trace-rows"></tbody></table>{self._pager("trace")}'
                "<noscript><p>" + ht(_("The trace table is drawn by script; trace.jsonl beside "
                                       "this page holds every record.")) + "</p></noscript>"
                "</section>")


def render_report_html(view: RunView, *, lang: str = "en") -> str:
    """The report page of ``view`` (stories in ``lang``: en or zh-CN)."""
    return _Page(view, lang).render()


def write_report_html(run_dir: str | Path, result: RunResult | None = None, *,
                      lang: str = "en") -> Path:
    """Write ``report.html`` into ``run_dir`` and return its path.

    With ``result`` the page is built from the run in memory (plus ``host.sqlite`` for the
    host's message log, when it is there); without, from the artifacts in ``run_dir``
    alone, so the page of any earlier run can be made again.
    """
    root = Path(run_dir)
    view = view_of_result(result, root) if result is not None else load_run_dir(root)
    target = root / REPORT_NAME
    target.write_text(render_report_html(view, lang=lang), encoding="utf-8")
    return target
