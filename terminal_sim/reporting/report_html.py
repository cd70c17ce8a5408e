"""``report.html``: one run on one page, for people who would rather look than read JSON.

The page is self-contained: styles and script are inline, receipts are PNG ``data:``
URIs, and nothing is loaded from a network, so it opens from disk in any browser and
can be attached to a CI run. It shows

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

Everything on the page is static HTML but the timeline and the highlighting, so it
reads without script too. :func:`write_report_html` builds it from a run directory's
artifacts (it can be regenerated any time) or from a :class:`RunResult` in memory.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal_sim.base.money import CURRENCIES, Money
from terminal_sim.reporting.explain import Narrator, Story, format_virtual
from terminal_sim.reporting.receipt_images import ReceiptArt
from terminal_sim.reporting.run_view import (
    LANES,
    LedgerRow,
    RunView,
    Slip,
    finding_row_keys,
    lane_of,
    load_run_dir,
    state_spans,
    view_of_result,
)
from terminal_sim.scenario.schema import FINDING_CODES

if TYPE_CHECKING:
    from terminal_sim.sim.simulation import RunResult

__all__ = ["REPORT_NAME", "render_report_html", "write_report_html"]

REPORT_NAME = "report.html"

#: Colours of the lifecycle states (bands on the timeline, pills in tables).
STATE_COLOURS = {
    "off": "#6b7280", "idle": "#d1fae5", "reading": "#bfdbfe", "authorizing": "#fde68a",
    "voiding": "#fbcfe8", "completing": "#c7d2fe",
}


def h(value: Any) -> str:
    """HTML-escaped text of anything."""
    return html.escape("" if value is None else str(value), quote=True)


def _money(amount: Any, currency: Any) -> str:
    if isinstance(amount, int) and isinstance(currency, str) and currency in CURRENCIES:
        return Money(amount, currency).format()
    return "" if amount is None else str(amount)


class _Page:
    """Builds the page of one run view."""

    def __init__(self, view: RunView, lang: str) -> None:
        self.view = view
        self.narrator = Narrator(view, lang)
        self.art = ReceiptArt()
        self.rows = view.ledger_rows()
        self.findings = view.findings
        self.finding_stories: list[Story] = [self.narrator.story(n)
                                             for n in range(1, len(self.findings) + 1)]
        self.stories = self.narrator.stories()
        # trace id -> finding numbers whose chain or evidence cites it
        self.cited: dict[int, list[int]] = {}
        for number, finding in enumerate(self.findings, start=1):
            for ident in finding.get("trace_ids") or []:
                self.cited.setdefault(int(ident), []).append(number)

    def when(self, t: int | None) -> str:
        if t is None:
            return ""
        wall = self.view.wall(t)
        clock = wall.strftime("%Y-%m-%d %H:%M:%S") if wall is not None else ""
        return f"{clock} T+{format_virtual(t)}".strip()

    # -- the page --------------------------------------------------------------------------

    def render(self) -> str:
        report = self.view.report
        title = f"{self.view.name}: terminal-sim report"
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # nothing may be fetched: a CSP that says so, for browsers that honour it
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">",
            f"<title>{h(title)}</title>",
            f"<style>{BASE_CSS}{REPORT_CSS}</style></head><body>",
            self._header(report),
            '<nav class="toc"><a href="#stories">Stories</a><a href="#findings">Findings</a>'
            '<a href="#timeline">Timeline</a><a href="#ledger">Paper and books</a>'
            '<a href="#trace">Trace</a></nav>',
            self._stories(),
            self._findings(),
            self._timeline(),
            self._ledger(),
            self._trace(),
            '<footer>terminal-sim · every time is virtual time since the start of the run '
            "(T+h:mm:ss), with the calendar time it stands for</footer>",
            f'<script type="application/json" id="timeline-data">{self._timeline_json()}'
            "</script>",
            f"<script>{REPORT_JS}</script>",
            "</body></html>",
        ]
        return "\n".join(parts) + "\n"

    def _header(self, report: dict[str, Any]) -> str:
        passed = bool(report.get("passed", True))
        verdict = ('<span class="verdict pass">PASSED</span>' if passed
                   else '<span class="verdict fail">FAILED</span>')
        counts = report.get("counts") or {}
        facts = [
            ("seed", report.get("seed")),
            ("profile", report.get("profile")),
            ("terminals", ", ".join(report.get("terminals") or [])),
            ("faults", ", ".join(report.get("faults") or []) or "none"),
            ("start", self.view.start.isoformat(sep=" ") if self.view.start else "unknown"),
            ("virtual time", f"T+{format_virtual(self.view.virtual_ms)}"),
            ("receipts", counts.get("receipts", len(self.view.slips))),
            ("journal records", counts.get("journal_records", len(self.view.journal))),
            ("host transactions", counts.get("host_transactions", len(self.view.host))),
            ("power cuts", counts.get("power_cuts", "")),
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
            out.append('<p class="codes ok">No findings: paper, journal, host ledger and back '
                       "office agree.</p>")
        expectations = report.get("expectations") or []
        if expectations:
            out.append('<table class="expect"><thead><tr><th>expected</th><th>actual</th>'
                       "<th></th></tr></thead><tbody>")
            for e in expectations:
                mark = "ok" if e.get("passed") else "FAIL"
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
            link = (f' <a class="ev" href="#ev-{step.trace_ids[0]}">trace #{step.trace_ids[0]}'
                    "</a>" if step.trace_ids else "")
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
        out = ['<section id="stories"><h2>Stories</h2>']
        if not self.stories:
            out.append("<p>Nothing to tell: every receipt has its record and every record "
                       "its receipt.</p>")
        for story in self.stories:
            numbers = " ".join(str(n) for n in story.numbers)
            out.append(f'<article class="story" data-findings="{numbers}">')
            out.append(self._story_html(story))
            out.append('<p class="jump"><button type="button" class="show-rows" '
                       f'data-findings="{numbers}">light up its rows</button></p></article>')
        out.append("</section>")
        return "\n".join(out)

    def _findings(self) -> str:
        out = ['<section id="findings"><h2>Findings</h2>']
        if not self.findings:
            out.append("<p>None.</p></section>")
            return "\n".join(out)
        out.append('<table class="findings"><thead><tr><th>#</th><th>code</th><th>terminal'
                   "</th><th>STAN</th><th>what</th><th>cause</th><th>rows</th></tr></thead>"
                   "<tbody>")
        anchors = {row.key: row.anchor for row in self.rows}
        for number, (finding, story) in enumerate(zip(self.findings, self.finding_stories,
                                                      strict=True), start=1):
            causes = "; ".join(f"{c.get('fault')} ({c.get('effect')})"
                               + (f" at {c['crash_point']}" if c.get("crash_point") else "")
                               for c in finding.get("causes") or []) or "none recorded"
            links = " ".join(f'<a href="#{anchors[key]}">{h(key)}</a>'
                             for key in finding_row_keys(finding) if key in anchors)
            out.append(
                f'<tr id="finding-{number}" class="finding" data-finding="{number}">'
                f"<td>{number}</td><td><span class=\"code c-{h(finding['code'])}\">"
                f"{h(finding['code'])}</span></td><td>{h(finding.get('terminal_id'))}</td>"
                f"<td>{h(finding.get('stan'))}</td><td>{h(finding.get('summary'))}"
                f'<details><summary>causal chain</summary>{self._story_html(story, heading="h4")}'
                f"</details></td><td>{h(causes)}</td><td>{links}</td></tr>")
        out.append("</tbody></table></section>")
        return "\n".join(out)

    # -- timeline ----------------------------------------------------------------------------

    def _timeline(self) -> str:
        legend = "".join(f'<span class="lane-key l-{key}">{h(label)}</span>'
                         for key, label in LANES)
        states = "".join(f'<span class="state-key" style="background:{colour}">{h(state)}'
                         "</span>" for state, colour in STATE_COLOURS.items())
        return (
            '<section id="timeline"><h2>Timeline</h2>'
            '<p class="hint">Virtual time runs left to right. Drag across the chart to zoom '
            'in, double-click (or <button type="button" id="tl-reset">show all</button>) to '
            "see the whole run. Red diamonds mark where a finding's paper and books part; "
            "pick one to read its story.</p>"
            f'<p class="legend">{states}</p><p class="legend">{legend}</p>'
            '<div id="tl-chart" class="chart" role="img" aria-label="timeline of the run">'
            "</div>"
            '<div id="tl-info" class="tl-info">Hover over a mark to see what happened.</div>'
            "<noscript><p>The timeline is drawn by script; the trace table below lists every "
            "record.</p></noscript></section>"
        )

    def _timeline_json(self) -> str:
        lanes = [key for key, _ in LANES]
        items = []
        for record in self.view.trace:
            items.append([record["t"], lanes.index(lane_of(record)), record["id"],
                          record.get("terminal") or "",
                          f"{self.when(record['t'])} · {self.narrator.describe(record)}"])
        for message in self.view.host_messages:
            items.append([message["vt"], lanes.index("host"), 0, message["terminal_id"],
                          f"{self.when(message['vt'])} · host {message['direction']} "
                          f"{message['mti']} STAN {message['stan']}"
                          + (f" response {message['response_code']}"
                             if message.get("response_code") else "")])
        spans = state_spans(self.view.trace, self.view.virtual_ms)
        marks = []
        for number, story in enumerate(self.finding_stories, start=1):
            if story.diverged_t is not None:
                marks.append([story.diverged_t, number, self.findings[number - 1]["code"],
                              story.diverged_id or 0])
        data = {
            "end": max(self.view.virtual_ms, 1),
            "start": self.view.start.isoformat() if self.view.start else None,
            "lanes": [[key, label] for key, label in LANES],
            "terminals": sorted({span[0] for span in spans}),
            "colours": STATE_COLOURS,
            "items": items,
            "spans": [list(span) for span in spans],
            "marks": marks,
        }
        # "</" must not end the script element early
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")

    # -- paper and books side by side ---------------------------------------------------------

    def _slip_html(self, slip: Slip) -> str:
        flags = []
        if slip.paper.blank:
            flags.append("blank")
        if slip.paper.truncated:
            flags.append("cut off")
        if not slip.exact:
            flags.append("drawn from its text")
        when = f" · printed {self.when(slip.t)}" if slip.t is not None else ""
        caption = f"{slip.ref}{when}" + (f" · {', '.join(flags)}" if flags else "")
        alt = slip.paper.text or ("blank slip" if slip.paper.blank else "slip")
        return (f'<figure class="slip" id="slip-{h(slip.ref.replace("#", "-"))}">'
                f'<img src="{self.art.data_uri(slip.receipt)}" alt="{h(alt)}">'
                f"<figcaption>{h(caption)}</figcaption></figure>")

    @staticmethod
    def _cells(record: dict[str, Any] | None, fields: Iterable[tuple[str, str]],
               state_key: str) -> str:
        if record is None:
            return '<div class="absent">no record</div>'
        state = record.get(state_key, "")
        lines = [f'<div class="state s-{h(state)}">{h(state)}</div>']
        for key, label in fields:
            value = record.get(key)
            if key == "amount_minor":
                value = _money(value, record.get("currency"))
            elif key.endswith("_vt") and isinstance(value, int) and value >= 0:
                value = f"T+{format_virtual(value)}"
            if value not in ("", None, -1):
                lines.append(f"<div><span class=k>{h(label)}</span> {h(value)}</div>")
        return "".join(lines)

    def _ledger_row(self, row: LedgerRow) -> str:
        marks = " ".join(f'<a class="code c-{h(self.findings[n - 1]["code"])}" '
                         f'href="#finding-{n}">#{n} {h(self.findings[n - 1]["code"])}</a>'
                         for n in row.findings)
        paper = "".join(self._slip_html(s) for s in row.slips) or \
            '<div class="absent">no receipt</div>'
        journal = self._cells(row.journal, (("stan", "STAN"), ("amount_minor", "amount"),
                                            ("masked_pan", "card"), ("rrn", "RRN"),
                                            ("approval_code", "auth"),
                                            ("response_code", "RC"), ("synced_vt", "synced")),
                              "state")
        host = "".join(self._cells(r, (("stan", "STAN"), ("mti_class", "class"),
                                       ("amount_minor", "amount"), ("response_code", "RC"),
                                       ("rrn", "RRN"), ("approval_code", "auth"),
                                       ("reason", "reason")), "status")
                       for r in row.host) or '<div class="absent">no transaction</div>'
        if self.view.backoffice is None:
            backoffice = '<div class="absent">no back office in this run</div>'
        else:
            backoffice = self._cells(row.backoffice, (("stan", "STAN"),
                                                      ("amount_minor", "amount"),
                                                      ("rrn", "RRN")), "state")
        cls = "row has-finding" if row.findings else "row"
        numbers = " ".join(str(n) for n in row.findings)
        return (f'<tr id="{row.anchor}" class="{cls}" data-findings="{numbers}">'
                f'<td class="when">{h(row.terminal_id)}<br>{h(row.stan or "no STAN")}<br>'
                f'<small>{h(self.when(row.t))}</small></td><td class="paper">{paper}</td>'
                f"<td>{journal}</td><td>{host}</td><td>{backoffice}</td>"
                f'<td class="marks">{marks}</td></tr>')

    def _ledger(self) -> str:
        out = ['<section id="ledger"><h2>Paper and books, side by side</h2>',
               '<p class="hint">One row per transaction (terminal, STAN), or per piece of paper '
               "with no transaction on it, oldest first. What the customer holds is on the "
               "left; what the books say is on the right. Rows behind a finding are marked."
               '</p><p><label><input type="checkbox" id="only-findings"> only rows with '
               "findings</label></p>",
               '<table class="ledger"><thead><tr><th>transaction</th><th>paper: what the '
               "customer holds</th><th>terminal journal</th><th>host ledger</th>"
               "<th>back office</th><th>findings</th></tr></thead><tbody>"]
        out += [self._ledger_row(row) for row in self.rows]
        out.append("</tbody></table></section>")
        return "\n".join(out)

    # -- the trace ----------------------------------------------------------------------------

    def _trace(self) -> str:
        out = ['<section id="trace"><h2>Trace</h2>',
               f'<p class="hint">{len(self.view.trace)} records of trace.jsonl, in words. '
               "Records behind a finding are marked.</p>",
               '<table class="trace"><thead><tr><th>id</th><th>time</th><th>terminal</th>'
               "<th>state</th><th>lane</th><th>record</th><th>what happened</th></tr></thead>"
               "<tbody>"]
        for record in self.view.trace:
            ident = record["id"]
            cited = self.cited.get(ident, [])
            cls = ' class="cited"' if cited else ""
            numbers = " ".join(str(n) for n in cited)
            state = record.get("state") or ""
            point = record.get("crash_point") or ""
            out.append(
                f'<tr id="ev-{ident}"{cls} data-findings="{numbers}"><td>{ident}</td>'
                f"<td>{h(self.when(record['t']))}</td><td>{h(record.get('terminal'))}</td>"
                f'<td><span class="state s-{h(state)}">{h(state)}</span></td>'
                f"<td>{h(lane_of(record))}</td><td>{h(record['kind'])} {h(record['name'])}"
                + (f"<br><small>{h(point)}</small>" if point else "")
                + f"</td><td>{h(self.narrator.describe(record))}</td></tr>")
        out.append("</tbody></table></section>")
        return "\n".join(out)


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


BASE_CSS = """
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bad:#b91c1c;--bad-bg:#fef2f2;
--good:#047857;--accent:#1d4ed8;--paper:#fffdf7}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",
sans-serif;color:var(--ink);margin:0;padding:0 24px 48px;background:#f8fafc}
h1{font-size:22px;margin:18px 0 8px}h2{font-size:18px;margin:28px 0 10px;
border-bottom:2px solid var(--line);padding-bottom:4px}h3,h4{margin:6px 0}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid var(--line);padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f1f5f9;font-weight:600;position:sticky;top:0;z-index:1}
small,.hint,.muted{color:var(--muted)}
.code{display:inline-block;padding:1px 6px;border-radius:4px;font:12px/1.5 ui-monospace,
SFMono-Regular,Menlo,monospace;background:#fee2e2;color:var(--bad);white-space:nowrap;
text-decoration:none;margin:1px}
.c-UNSYNCED_RECORD,.c-MISSING_RECEIPT{background:#ffedd5;color:#9a3412}
.c-TOTALS_MISMATCH{background:#ede9fe;color:#5b21b6}
.state{display:inline-block;padding:0 6px;border-radius:9px;font-size:12px;background:#e5e7eb}
.s-approved,.s-idle{background:#d1fae5}.s-declined,.s-failed,.s-off{background:#fee2e2}
.s-pending,.s-authorizing{background:#fde68a}.s-reading{background:#bfdbfe}
.s-completing{background:#c7d2fe}.s-voided,.s-reversed,.s-voiding{background:#fbcfe8}
.absent{color:var(--bad);font-style:italic}
.k{color:var(--muted);font-size:12px}
.slip{margin:0 0 8px;display:inline-block;vertical-align:top}
.slip img{width:220px;background:var(--paper);border:1px solid #d6d3d1;
box-shadow:0 1px 3px rgba(0,0,0,.15);image-rendering:auto;display:block}
.slip figcaption{font-size:11px;color:var(--muted);max-width:220px}
"""

REPORT_CSS = """
header .facts{display:flex;flex-wrap:wrap;gap:4px 18px;margin:0}
header .facts div{display:flex;gap:6px}header dt{color:var(--muted)}header dd{margin:0}
.verdict{font-size:13px;padding:2px 8px;border-radius:4px;vertical-align:middle}
.verdict.pass{background:#d1fae5;color:var(--good)}.verdict.fail{background:#fee2e2;
color:var(--bad)}
.codes.ok{color:var(--good)}
.expect{width:auto;margin:8px 0}.expect tr.fail td{color:var(--bad);font-weight:600}
.toc{position:sticky;top:0;background:#f8fafc;padding:6px 0;z-index:3;
border-bottom:1px solid var(--line)}
.toc a{margin-right:16px;color:var(--accent);text-decoration:none;font-weight:600}
.ledger th,.trace th,.findings th{top:34px}
.story{background:#fff;border:1px solid var(--line);border-left:4px solid var(--bad);
padding:8px 12px;margin:10px 0;border-radius:4px}
.story.focus,.finding.focus{outline:3px solid #f59e0b}
.chain{margin:6px 0;padding-left:22px}.chain li{margin:2px 0}
.chain li.diverges{font-weight:600;color:var(--bad)}
.chain li.diverges::after{content:" ⟵ paper and books part here";font-weight:400;
font-size:12px}
.outcome{margin:4px 0;font-weight:600}.cause{margin:4px 0;color:#92400e}
.note{margin:4px 0;color:var(--muted)}
a.ev{font-size:11px;color:var(--muted);margin-left:4px}
.findings details{margin-top:4px}.findings summary{cursor:pointer;color:var(--accent)}
.chart{position:relative;background:#fff;border:1px solid var(--line);user-select:none;
cursor:crosshair;min-height:120px}
.chart svg{display:block;width:100%}
.tl-info{min-height:2.8em;font-size:13px;padding:4px 0;color:var(--ink)}
.legend{margin:4px 0;display:flex;flex-wrap:wrap;gap:6px}
.state-key,.lane-key{font-size:12px;padding:0 6px;border-radius:4px;border:1px solid #cbd5e1}
.ledger td{min-width:120px}.ledger td.paper{width:250px}
.ledger tr.has-finding>td{background:var(--bad-bg)}
.ledger tr.has-finding>td:first-child{border-left:4px solid var(--bad)}
.ledger tr.focus>td{background:#fef3c7!important}
.ledger .marks{min-width:150px}
body.only-findings .ledger tr.row:not(.has-finding){display:none}
.trace td{font-size:12px}.trace tr.cited td{background:var(--bad-bg)}
.trace tr.focus td{background:#fef3c7}
footer{margin-top:32px;color:var(--muted);font-size:12px}
"""

REPORT_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var chart = document.getElementById("tl-chart");
  var info = document.getElementById("tl-info");
  var view = [0, data.end];
  var W = 1000, LEFT = 150, LANE = 18, BAND = 16;
  var STEPS = [1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5,
               108e5, 216e5, 432e5, 864e5];
  var laneColours = ["#2563eb", "#7c3aed", "#0891b2", "#111827", "#059669", "#d97706",
                     "#dc2626", "#000000", "#9ca3af"];

  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c];
    });
  }
  function fmt(ms) {
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    return h + ":" + String(m).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  }
  function wall(ms) {
    if (!data.start) { return "T+" + fmt(ms); }
    var d = new Date(Date.parse(data.start) + ms);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0")
      + (view[1] - view[0] < 600000 ? ":" + String(d.getSeconds()).padStart(2, "0") : "");
  }
  function x(t) { return LEFT + (t - view[0]) / (view[1] - view[0]) * (W - LEFT - 10); }

  function draw() {
    W = Math.max(600, chart.clientWidth || 1000);
    var terms = data.terminals, rows = [];
    var y = 22, out = [];
    var bandTop = {};
    terms.forEach(function (t) { bandTop[t] = y; rows.push([y, "state " + t]); y += BAND + 4; });
    var laneTop = y + 4;
    data.lanes.forEach(function (lane, i) { rows.push([laneTop + i * LANE, lane[1]]); });
    var H = laneTop + data.lanes.length * LANE + 24;
    out.push('<svg viewBox="0 0 ' + W + " " + H + '" width="' + W + '" height="' + H +
      '" class="tl">');
    rows.forEach(function (r, i) {
      out.push('<rect x="0" y="' + (r[0] - 2) + '" width="' + W + '" height="' + (LANE) +
        '" fill="' + (i % 2 ? "#f8fafc" : "#ffffff") + '"/>');
      out.push('<text x="4" y="' + (r[0] + 11) + '" font-size="11" fill="#374151">' +
        esc(r[1]) + "</text>");
    });
    // ticks on round virtual times, about one per 110 pixels
    var want = (view[1] - view[0]) / Math.max(2, (W - LEFT) / 110), step = STEPS[0];
    STEPS.forEach(function (s) { if (s <= want) { step = s; } });
    if (STEPS[STEPS.length - 1] < want) { step = Math.ceil(want / 864e5) * 864e5; }
    for (var t = Math.ceil(view[0] / step) * step; t <= view[1]; t += step) {
      var tx = x(t);
      out.push('<line x1="' + tx + '" x2="' + tx + '" y1="14" y2="' + (H - 18) +
        '" stroke="#e5e7eb"/>');
      out.push('<text x="' + tx + '" y="11" font-size="10" text-anchor="middle" ' +
        'fill="#6b7280">' + esc(wall(t)) + "</text>");
      out.push('<text x="' + tx + '" y="' + (H - 6) + '" font-size="10" ' +
        'text-anchor="middle" fill="#9ca3af">T+' + fmt(t) + "</text>");
    }
    data.spans.forEach(function (s) {
      if (s[3] < view[0] || s[2] > view[1]) { return; }
      var a = Math.max(x(s[2]), LEFT), b = Math.min(x(s[3]), W - 10);
      out.push('<rect class="span" x="' + a + '" y="' + bandTop[s[0]] + '" width="' +
        Math.max(b - a, 0.6) + '" height="' + BAND + '" fill="' + (data.colours[s[1]] || "#ddd")
        + '" data-info="' + esc(s[0] + " " + s[1] + " from " + wall(s[2]) + " (T+" + fmt(s[2])
        + ") to " + wall(s[3])) + '"/>');
    });
    data.items.forEach(function (it) {
      if (it[0] < view[0] || it[0] > view[1]) { return; }
      var ty = laneTop + it[1] * LANE, tx = x(it[0]);
      out.push('<rect class="item" x="' + (tx - 1) + '" y="' + ty + '" width="2.4" height="' +
        (LANE - 5) + '" fill="' + laneColours[it[1] % laneColours.length] + '" data-id="' +
        it[2] + '" data-info="' + esc(it[4]) + '"/>');
    });
    data.marks.forEach(function (m) {
      if (m[0] < view[0] || m[0] > view[1]) { return; }
      var mx = x(m[0]), my = laneTop - 6;
      out.push('<path class="mark" d="M' + mx + " " + (my - 6) + " l6 6 l-6 6 l-6 -6 z\" " +
        'fill="#dc2626" stroke="#fff" data-finding="' + m[1] + '" data-info="' +
        esc("finding #" + m[1] + " " + m[2] + ": paper and books part at " + wall(m[0]) +
        " (T+" + fmt(m[0]) + ")") + '"/>');
    });
    out.push('<rect id="tl-sel" x="0" y="0" width="0" height="' + H +
      '" fill="rgba(37,99,235,.15)"/>');
    out.push("</svg>");
    chart.innerHTML = out.join("");
  }

  function tAt(evt) {
    var box = chart.getBoundingClientRect();
    var px = (evt.clientX - box.left) / box.width * W;
    return view[0] + (px - LEFT) / (W - LEFT - 10) * (view[1] - view[0]);
  }
  var dragFrom = null;
  chart.addEventListener("mousedown", function (e) { dragFrom = tAt(e); });
  chart.addEventListener("mousemove", function (e) {
    var target = e.target;
    if (target && target.getAttribute && target.getAttribute("data-info")) {
      info.textContent = target.getAttribute("data-info");
    }
    if (dragFrom !== null) {
      var sel = document.getElementById("tl-sel"), a = x(dragFrom), b = x(tAt(e));
      sel.setAttribute("x", Math.min(a, b)); sel.setAttribute("width", Math.abs(b - a));
    }
  });
  chart.addEventListener("mouseup", function (e) {
    if (dragFrom === null) { return; }
    var to = tAt(e), a = Math.max(0, Math.min(dragFrom, to)), b = Math.min(data.end,
      Math.max(dragFrom, to));
    dragFrom = null;
    if (b - a > 5) { view = [a, b]; draw(); return; }
    var target = e.target;
    if (target.getAttribute("data-finding")) { focusFindings([+target.getAttribute(
      "data-finding")], true); }
    else if (target.getAttribute("data-id") && target.getAttribute("data-id") !== "0") {
      var row = document.getElementById("ev-" + target.getAttribute("data-id"));
      if (row) { row.scrollIntoView({block: "center"}); flash([row]); }
    }
  });
  chart.addEventListener("dblclick", function () { view = [0, data.end]; draw(); });
  document.getElementById("tl-reset").addEventListener("click", function () {
    view = [0, data.end]; draw();
  });

  function flash(nodes) {
    document.querySelectorAll(".focus").forEach(function (n) { n.classList.remove("focus"); });
    nodes.forEach(function (n) { n.classList.add("focus"); });
  }
  function focusFindings(numbers, scroll) {
    var want = {};
    numbers.forEach(function (n) { want[n] = true; });
    var hit = [];
    document.querySelectorAll("[data-findings]").forEach(function (node) {
      var own = (node.getAttribute("data-findings") || "").split(" ");
      if (own.some(function (n) { return want[n]; })) { hit.push(node); }
    });
    numbers.forEach(function (n) {
      var f = document.getElementById("finding-" + n);
      if (f) { hit.push(f); }
    });
    flash(hit);
    var first = hit.filter(function (n) { return n.classList.contains("row"); })[0];
    if (scroll && first) { first.scrollIntoView({block: "center"}); }
    var marks = data.marks.filter(function (m) { return want[m[1]]; });
    if (marks.length) {
      var lo = Math.min.apply(null, marks.map(function (m) { return m[0]; }));
      var hi = Math.max.apply(null, marks.map(function (m) { return m[0]; }));
      var pad = Math.max((hi - lo) * 0.2, 60000);
      view = [Math.max(0, lo - pad), Math.min(data.end, hi + pad)];
      draw();
    }
  }
  document.querySelectorAll("button.show-rows").forEach(function (b) {
    b.addEventListener("click", function () {
      focusFindings(b.getAttribute("data-findings").split(" ").map(Number), true);
    });
  });
  document.querySelectorAll("tr.finding").forEach(function (tr) {
    tr.addEventListener("click", function (e) {
      if (e.target.tagName === "A" || e.target.tagName === "SUMMARY") { return; }
      focusFindings([+tr.getAttribute("data-finding")], true);
    });
  });
  document.getElementById("only-findings").addEventListener("change", function (e) {
    document.body.classList.toggle("only-findings", e.target.checked);
  });
  window.addEventListener("resize", draw);
  draw();
})();
"""
