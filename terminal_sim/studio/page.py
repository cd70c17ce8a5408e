"""The studio page: HTML, CSS and script as strings, assembled by :func:`render_page`.

The page loads nothing from anywhere but its own server (``/api/state`` polled a few
times a second, ``/api/action`` posted by the controls); receipts arrive as ``data:``
PNGs. The same page serves a live terminal and a replay: the config embedded in it says
which, and the script shows the matching controls. Element ids are stable: tests and
trainers' scripts may rely on them (``#btn-sale``, ``#amount``, ``#card``,
``#crash-point``, ``#btn-dip``, ``#state-name``, ``#findings``, ``#roll`` ...).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from terminal_sim.core.lifecycle import STATES
from terminal_sim.reporting.i18n import Catalogue
from terminal_sim.reporting.report_assets import BASE_CSS
from terminal_sim.studio.diagram import lifecycle_svg
from terminal_sim.studio.snapshot import BOOK_COLUMNS

__all__ = ["render_page"]


def render_page(config: dict[str, Any]) -> str:
    """The whole page for a studio with ``config`` (its mode, cards, crash points...)."""
    _ = Catalogue(str(config.get("lang") or "en"))
    svg, note = _diagram_words(_, *lifecycle_svg())
    data = {**config, "lang": _.lang,
            "book_columns": {name: [_(c) for c in columns]
                             for name, columns in BOOK_COLUMNS.items()},
            "words": {w: _(w) for w in script_words()},
            "states": {**{kind: _.in_context("kind", kind) for kind in KINDS},
                       **{state: _.in_context("state", state) for state in VALUES}}}
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    title = (_("terminal-sim studio: replay of {scenario}", scenario=config.get("scenario", ""))
             if config.get("mode") == "replay" else _("terminal-sim studio"))
    cards = "".join(f'<option value="{html.escape(c)}">{html.escape(c)}</option>'
                    for c in config.get("cards", []))
    points = "".join(f'<option value="{html.escape(p)}"'
                     f'{" selected" if p.endswith("after:print") else ""}>{html.escape(p)}'
                     "</option>" for p in config.get("crash_points", []))
    page = MARKED.sub(lambda m: html.escape(_(m.group(1)), quote=False), PAGE_HTML)
    page = page.replace('placeholder="none"', f'placeholder="{html.escape(_("none"))}"')
    return (page
            .replace("{{lang}}", html.escape(_.lang))
            .replace("{{title}}", html.escape(title))
            .replace("{{css}}", BASE_CSS + PAGE_CSS)
            .replace("{{diagram}}", svg)
            .replace("{{internal}}", html.escape(note))
            .replace("{{cards}}", cards)
            .replace("{{points}}", points)
            .replace("{{config}}", payload)
            .replace("{{script}}", PAGE_JS))


def _diagram_words(_: Catalogue, svg: str, note: str) -> tuple[str, str]:
    """The state diagram's words (its states, "any state", the note on transitions that
    stay) in the page's language; triggers are identifiers and stay."""
    if _.lang == "en":
        return svg, note
    words = {state: _.in_context("state", state) for state in STATES}
    words["any state"] = _("any state")
    label = "state diagram of the terminal"
    svg = svg.replace(f'aria-label="{label}"', f'aria-label="{html.escape(_(label))}"')
    svg = re.sub(r">([a-z ]+)</text>", lambda m: f">{html.escape(words.get(m[1], m[1]))}</text>",
                 svg)
    note = "; ".join(
        _("{trigger} in {states}: stays", trigger=m[1],
          states=_(", ").join(words.get(state, state) for state in m[2].split(", ")))
        for m in re.finditer(r"(\S+) in ([a-z, ]+): stays", note))
    return svg, note


#: Values the page shows as words: lifecycle, journal and host states, and kinds of sale.
VALUES = (*STATES, "approved", "declined", "failed", "voided", "reversed", "pending", "acked",
          "applied", "received")
KINDS = ("sale", "void", "refund", "reversal")

#: Words of the page marked ``[[...]]`` in :data:`PAGE_HTML`, and ``T("...")`` in its script.
MARKED = re.compile(r"\[\[(.+?)\]\]")
_SCRIPT_WORD = re.compile(r'\bT\("((?:[^"\\]|\\.)*)"\)')


def script_words() -> list[str]:
    """The words of the page's script (``T("...")``), to translate before it runs."""
    return list(dict.fromkeys(json.loads(f'"{m}"') for m in _SCRIPT_WORD.findall(PAGE_JS)))


PAGE_HTML = """<!DOCTYPE html>
<html lang="{{lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title><style>{{css}}</style></head>
<body>
<header class="bar">
  <strong>[[terminal-sim studio]]</strong>
  <span id="mode-label" class="pill"></span>
  <span>[[profile]] <b id="profile"></b></span><span>[[seed]] <b id="seed"></b></span>
  <span class="clock"><b id="clock">-</b> <small id="virtual"></small></span>
  <label>[[speed]] <select id="speed">
    <option value="0">[[stopped]]</option><option value="1">[[1x real time]]</option>
    <option value="10">[[10x]]</option><option value="60">[[60x (a minute a second)]]</option>
    <option value="600">[[600x]]</option><option value="3600">[[3600x (an hour a second)]]</option>
  </select></label>
  <button type="button" id="btn-pause">[[pause]]</button>
  <span id="message" role="status"></span>
</header>
<main class="studio">
  <section class="panel terminal-panel">
    <div class="device" id="device">
      <div class="screen"><div id="terminal-id"></div><div id="state-name">-</div>
        <div id="screen-msg"></div></div>
      <div class="leds"><span id="power-led" class="led"></span> [[power]]</div>
    </div>
    <div id="live-controls">
      <fieldset><legend>[[Customer]]</legend>
        <label>[[amount]] <input id="amount" value="12.50" size="8" inputmode="decimal"></label>
        <label>[[card]] <select id="card">{{cards}}</select></label>
        <button type="button" id="btn-sale" class="primary">[[Present card]]</button>
      </fieldset>
      <fieldset><legend>[[Operator]]</legend>
        <button type="button" id="btn-void">[[Void last sale]]</button>
        <button type="button" id="btn-reprint">[[Reprint (print key)]]</button>
        <label>[[keyed amount]] <input id="reprint-amount" size="6" placeholder="none"></label>
      </fieldset>
      <fieldset><legend>[[Faults]]</legend>
        <label class="toggle"><input type="checkbox" id="f-cold" data-fault="cold">
          [[cold weather (card reader)]]</label>
        <label class="toggle"><input type="checkbox" id="f-sync" data-fault="sync">
          [[break the sync to the back office]]</label>
        <label class="toggle"><input type="checkbox" id="f-paper" data-fault="paper">
          [[paper out]]</label>
        <label class="toggle"><input type="checkbox" id="f-update" data-fault="update">
          [[tonight's update]] <small id="update-at"></small></label>
        <div class="row"><button type="button" id="btn-plug">[[Pull the plug]]</button></div>
        <div class="row">[[power dip at]] <select id="crash-point">{{points}}</select>
          <button type="button" id="btn-dip">[[Arm]]</button>
          <span id="dip-status" class="muted"></span></div>
      </fieldset>
      <fieldset><legend>[[Clock]]</legend>
        <button type="button" data-advance="60000">[[+1 min]]</button>
        <button type="button" data-advance="600000">[[+10 min]]</button>
        <button type="button" data-advance="3600000">+1 h</button>
        <button type="button" id="btn-morning">[[to 08:00 tomorrow]]</button>
        <button type="button" id="btn-reset" class="danger">[[start over]]</button>
      </fieldset>
    </div>
    <div id="replay-controls" hidden>
      <fieldset><legend>[[Replay]]</legend>
        <p id="replay-of" class="muted"></p>
        <button type="button" id="btn-back">[[◀ step]]</button>
        <button type="button" id="btn-play" class="primary">[[play]]</button>
        <button type="button" id="btn-fwd">[[step ▶]]</button>
        <button type="button" id="btn-next-finding">[[next finding]]</button>
        <input type="range" id="scrub" min="0" max="0" value="0">
        <span id="position"></span>
      </fieldset>
    </div>
  </section>
  <section class="panel diagram-panel"><h2>[[State]]</h2>
    <div id="diagram">{{diagram}}</div><p class="muted small">{{internal}}</p>
    <h2>[[What happened]]</h2><ol id="log" class="log"></ol>
  </section>
  <section class="panel roll-panel"><h2>[[Receipt roll]] <small id="roll-count"></small></h2>
    <div id="roll" class="roll"></div></section>
  <section class="panel books-panel"><h2>[[The books]]</h2>
    <div class="books">
      <div><h3>[[Terminal journal]]</h3><table id="journal" class="book"></table></div>
      <div><h3>[[Host ledger]]</h3><table id="host" class="book"></table></div>
      <div><h3>[[Back office]]</h3><table id="backoffice" class="book"></table></div>
    </div></section>
  <section class="panel findings-panel"><h2>[[Findings]] <small id="findings-count"></small></h2>
    <div id="findings"><p class="muted">[[None yet: paper and books agree.]]</p></div></section>
</main>
<script type="application/json" id="config">{{config}}</script>
<script>{{script}}</script>
</body></html>
"""

PAGE_CSS = """
body{padding:0 12px 24px}
.bar{position:sticky;top:0;z-index:5;display:flex;flex-wrap:wrap;gap:6px 16px;
align-items:center;background:#0f172a;color:#e2e8f0;padding:8px 12px;margin:0 -12px 10px}
.bar select,.bar button{font-size:13px}.bar .clock b{font-size:16px}
.pill{background:#334155;border-radius:9px;padding:1px 8px;font-size:12px}
#message{color:#fde68a;font-size:13px}#message.error{color:#fca5a5}
.studio{display:grid;grid-template-columns:minmax(300px,360px) minmax(420px,1fr) 300px;
grid-template-areas:"term diag roll" "books books roll" "find find roll";gap:12px}
.terminal-panel{grid-area:term}.diagram-panel{grid-area:diag}.roll-panel{grid-area:roll}
.books-panel{grid-area:books}.findings-panel{grid-area:find}
.panel{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 10px;
min-width:0}
.panel h2{font-size:15px;margin:4px 0 8px;border:0}
.device{background:#1f2937;border-radius:14px;padding:12px;color:#d1fae5;margin-bottom:8px}
.screen{background:#064e3b;border-radius:6px;padding:10px;min-height:84px;
font-family:ui-monospace,Menlo,monospace}
#state-name{font-size:24px;font-weight:700;text-transform:uppercase;letter-spacing:1px}
#screen-msg{font-size:12px;opacity:.9;min-height:1.2em}#terminal-id{font-size:11px;opacity:.7}
.device.off .screen{background:#111827;color:#4b5563}
.leds{font-size:11px;margin-top:6px;color:#9ca3af}
.led{display:inline-block;width:10px;height:10px;border-radius:50%;background:#4b5563;
vertical-align:middle}.led.on{background:#22c55e;box-shadow:0 0 6px #22c55e}
fieldset{border:1px solid var(--line);border-radius:6px;margin:0 0 8px;padding:6px 8px}
legend{font-weight:600;font-size:13px}
fieldset label{display:inline-block;margin:2px 6px 2px 0;font-size:13px}
label.toggle{display:block}.row{margin:4px 0;font-size:13px}
button{cursor:pointer;border:1px solid #cbd5e1;background:#f8fafc;border-radius:5px;
padding:3px 8px;margin:2px 2px 2px 0}button.primary{background:#1d4ed8;color:#fff;
border-color:#1d4ed8}button.danger{color:var(--bad)}
#diagram svg{width:100%;height:auto;max-height:330px}
svg.machine .state rect{fill:#f1f5f9;stroke:#64748b;stroke-width:1.5}
svg.machine .state text{font:600 13px system-ui,sans-serif;text-anchor:middle;fill:#1f2937}
svg.machine .state.lit rect{fill:#fde047;stroke:#a16207;stroke-width:3}
svg.machine .edge{color:#94a3b8}svg.machine .edge path{fill:none;stroke:currentColor;
stroke-width:1.4}svg.machine .edge .label{font:11px system-ui,sans-serif;fill:#475569;
text-anchor:middle;paint-order:stroke;stroke:#fff;stroke-width:3px}
svg.machine .edge.lit{color:#b45309}svg.machine .edge.lit path{stroke-width:3}
svg.machine .any{fill:#fff;stroke:#94a3b8}svg.machine .any-label{font:10px system-ui;
text-anchor:middle;fill:#475569}
.small{font-size:11px}
.log{max-height:260px;overflow:auto;font-size:12px;margin:0;padding-left:0;list-style:none}
.log li{padding:2px 4px;border-bottom:1px solid #f1f5f9}
.log li.cited{background:var(--bad-bg)}.log .when{color:var(--muted);margin-right:6px}
.roll{max-height:calc(100vh - 90px);overflow:auto;display:flex;flex-direction:column;
align-items:center;gap:4px;background:#e7e5e4;padding:8px 0;border-radius:4px}
.roll .slip img{width:250px}.roll .slip.hit img{outline:4px solid var(--bad)}
.roll .slip.new img{animation:feed 1.2s ease-out}
@keyframes feed{from{clip-path:inset(0 0 100% 0)}to{clip-path:inset(0 0 0 0)}}
.books{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:8px}
.book{font-size:12px}.book td,.book th{padding:2px 4px;white-space:nowrap}
.books>div{max-height:300px;overflow:auto}
.book tr.hit td{background:#fee2e2}.book tr.focus td,.slip.focus img{outline:3px solid #f59e0b}
.finding-card{border:1px solid var(--line);border-left:4px solid var(--bad);border-radius:4px;
padding:6px 10px;margin:6px 0;background:#fff}
.finding-card h3{font-size:14px;margin:2px 0}.finding-card ol{margin:4px 0;padding-left:20px;
font-size:13px}.finding-card .summary{font-size:13px;margin:2px 0}
.finding-card.fresh{animation:glow 2s ease-out}
@keyframes glow{from{background:#fef3c7}to{background:#fff}}
@media (max-width:1100px){.studio{grid-template-columns:1fr;grid-template-areas:"term" "diag"
"roll" "books" "find"}.books{grid-template-columns:1fr}}
"""

PAGE_JS = r"""
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("config").textContent);
  function T(text) { return (config.words || {})[text] || text; }  // the page's language
  function S(state) { return (config.states || {})[state] || state; }
  var $ = function (id) { return document.getElementById(id); };
  var since = 0, slips = [], lastState = null, findingsSeen = {}, busy = false;
  var live = config.mode === "live";

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c];
    });
  }
  function say(text, error) {
    var m = $("message"); m.textContent = text || ""; m.className = error ? "error" : "";
  }
  function post(action) {
    return fetch("/api/action", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(action)}).then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { say(body.error || T("refused"), true); } else { say(body.message); }
          poll();
        });
      }).catch(function (e) { say(T("no answer from the studio: ") + e, true); });
  }

  // -- setup --------------------------------------------------------------------------------
  $("mode-label").textContent = live ? T("live terminal") : T("replay");
  $("profile").textContent = config.profile; $("seed").textContent = config.seed;
  if (!live) {
    $("live-controls").hidden = true; $("replay-controls").hidden = false;
    $("replay-of").textContent = "run " + (config.scenario || "") + " · " + (config.run_dir || "");
    $("scrub").max = config.total;
  }
  ["journal", "host", "backoffice"].forEach(function (name) {
    $(name).innerHTML = "<thead><tr>" + config.book_columns[name].map(function (c) {
      return "<th>" + esc(c) + "</th>"; }).join("") + "</tr></thead><tbody></tbody>";
  });
  $("btn-sale").addEventListener("click", function () {
    post({action: "sale", amount: $("amount").value, card: $("card").value});
  });
  $("btn-void").addEventListener("click", function () { post({action: "void"}); });
  $("btn-reprint").addEventListener("click", function () {
    post({action: "reprint", amount: $("reprint-amount").value || null});
  });
  $("btn-plug").addEventListener("click", function () {
    post({action: "plug", on: $("btn-plug").dataset.plugIn === "1"});
  });
  $("btn-dip").addEventListener("click", function () {
    var armed = $("btn-dip").dataset.armed === "1";
    post({action: "dip", at: armed ? "" : $("crash-point").value});
  });
  document.querySelectorAll("input[data-fault]").forEach(function (box) {
    box.addEventListener("change", function () {
      post({action: "fault", fault: box.dataset.fault, on: box.checked});
    });
  });
  document.querySelectorAll("button[data-advance]").forEach(function (b) {
    b.addEventListener("click", function () { post({action: "advance", ms: +b.dataset.advance}); });
  });
  $("btn-morning").addEventListener("click", function () { post({action: "morning"}); });
  $("btn-reset").addEventListener("click", function () {
    slips = []; $("roll").innerHTML = ""; $("log").innerHTML = ""; since = 0;
    findingsSeen = {}; post({action: "reset"});
  });
  $("speed").addEventListener("change", function () {
    post({action: "speed", speed: +$("speed").value});
  });
  $("btn-pause").addEventListener("click", function () {
    if (live) { post({action: "pause"}); }
    else { post({action: $("btn-pause").dataset.paused === "1" ? "play" : "pause"}); }
  });
  $("btn-play").addEventListener("click", function () {
    post({action: $("btn-play").dataset.paused === "1" ? "play" : "pause"});
  });
  $("btn-back").addEventListener("click", function () { post({action: "step", delta: -1}); });
  $("btn-fwd").addEventListener("click", function () { post({action: "step", delta: 1}); });
  $("btn-next-finding").addEventListener("click", function () {
    post({action: "next_finding"});
  });
  $("scrub").addEventListener("change", function () {
    post({action: "seek", position: +$("scrub").value});
  });

  // -- drawing ------------------------------------------------------------------------------
  function lightDiagram(state, items) {
    document.querySelectorAll("#diagram .state").forEach(function (g) {
      g.classList.toggle("lit", g.dataset.state === state);
    });
    items.forEach(function (it) {
      var parts = it.record.split(" ");
      if (lastState && it.state && it.state !== lastState) {
        // an event names its trigger; a power cut is traced as a fault, not an event
        var trigger = parts[0] === "event" ? parts[1] : null, from = lastState, to = it.state;
        document.querySelectorAll("#diagram .edge").forEach(function (g) {
          var e = g.dataset.edge.split(">");
          var hit = (e[0] === from || e[0] === "*") && e[2] === to &&
            (trigger === null || e[1].split("|").indexOf(trigger) >= 0);
          g.classList.toggle("lit", hit);
        });
      }
      if (it.state) { lastState = it.state; }
    });
  }
  function drawLog(items, restart) {
    var log = $("log");
    if (restart) { log.innerHTML = ""; }
    items.forEach(function (it) {
      var li = document.createElement("li");
      if (it.findings.length) { li.className = "cited"; }
      li.innerHTML = '<span class="when">' + esc(it.when) + "</span>" +
        (it.state ? '<span class="state s-' + esc(it.state) + '">' + esc(S(it.state)) + "</span> "
          : "") + esc(it.text);
      li.title = it.record + T(" (trace #") + it.id + ")";
      log.appendChild(li);
    });
    while (log.children.length > 400) { log.removeChild(log.firstChild); }
    if (items.length) { log.scrollTop = log.scrollHeight; }
  }
  function drawRoll(data) {
    var roll = $("roll"), grew = false;
    data.slips.forEach(function (s) {
      var old = slips[s.index];
      if (old && old.sig === s.sig) { return; }
      var fig = document.createElement("figure");
      fig.className = "slip" + (old ? "" : " new");
      fig.dataset.key = s.key; fig.dataset.ref = s.ref;
      fig.innerHTML = '<img alt="receipt ' + esc(s.ref) + '" src="' + s.src + '">' +
        "<figcaption>" + esc(s.caption) + (s.flags.length ? " · " + esc(s.flags.join(T(", "))) :
        "") + "</figcaption>";
      if (roll.children[s.index]) { roll.replaceChild(fig, roll.children[s.index]); }
      else {
        roll.appendChild(fig); grew = true;
        // the picture has no height until it is decoded: follow the roll once it is
        fig.querySelector("img").addEventListener("load", function () {
          if (fig === roll.lastChild) { roll.scrollTop = roll.scrollHeight; }
        });
      }
      slips[s.index] = s;
    });
    while (roll.children.length > data.slips_total) { roll.removeChild(roll.lastChild); }
    slips.length = Math.min(slips.length, data.slips_total);
    $("roll-count").textContent = data.slips_total ? data.slips_total + T(" receipt(s)") : "";
    if (grew) { roll.scrollTop = roll.scrollHeight; }
  }
  function drawBook(name, rows) {
    var body = $(name).tBodies[0];
    if (rows === null) {
      body.innerHTML = '<tr><td class="absent">' + esc(T("no back office")) + "</td></tr>";
      return; }
    body.innerHTML = rows.map(function (r) {
      return '<tr data-key="' + esc(r.key) + '" class="st-' + esc(r.state) + '">' +
        r.cells.map(function (c, i) {
          return i === 2 || (name === "host" && i === 3) ?
            '<td><span class="state s-' + esc(c) + '">' + esc(S(c)) + "</span></td>" :
            "<td>" + esc(i === 1 || (name === "host" && i === 2) ? S(c) : c) + "</td>";
        }).join("") + "</tr>";
    }).join("") || '<tr><td class="muted" colspan="7">' + esc(T("empty")) + "</td></tr>";
    if (rows.length) { body.parentNode.parentNode.scrollTop = 1e9; }
  }
  function drawFindings(list) {
    var box = $("findings");
    $("findings-count").textContent = list.length ? "(" + list.length + ")" : "";
    if (!list.length) {
      box.innerHTML = '<p class="muted">None yet: paper and books agree.</p>'; return;
    }
    box.innerHTML = list.map(function (f) {
      var fresh = findingsSeen[f.n + f.code] ? "" : " fresh";
      return '<article class="finding-card' + fresh + '" data-code="' + esc(f.code) +
        '" data-rows="' + esc(f.rows.join(" ")) + '"><h3><span class="code c-' + esc(f.code) +
        '">' + esc(f.code) + "</span> #" + f.n + "</h3><p class=\"summary\">" +
        esc(f.summary) + "</p><ol>" + f.sentences.map(function (s) {
          return "<li>" + esc(s) + "</li>"; }).join("") + "</ol></article>";
    }).join("");
    list.forEach(function (f) { findingsSeen[f.n + f.code] = true; });
    var hit = {};
    list.forEach(function (f) { f.rows.forEach(function (k) { hit[k] = true; }); });
    document.querySelectorAll("[data-key]").forEach(function (node) {
      node.classList.toggle("hit", !!hit[node.dataset.key]);
    });
    box.querySelectorAll(".finding-card").forEach(function (card) {
      card.addEventListener("mouseenter", function () {
        var keys = card.dataset.rows.split(" ");
        document.querySelectorAll("[data-key]").forEach(function (node) {
          node.classList.toggle("focus", keys.indexOf(node.dataset.key) >= 0);
        });
      });
    });
  }
  function draw(data) {
    $("clock").textContent = data.clock || data.virtual;
    $("virtual").textContent = data.virtual;
    $("terminal-id").textContent = data.terminal;
    $("state-name").textContent = S(data.state);
    $("screen-msg").textContent = data.message || "";
    $("device").classList.toggle("off", !data.powered);
    $("power-led").classList.toggle("on", !!data.powered);
    var speed = $("speed");
    if (document.activeElement !== speed) {
      var known = Array.prototype.some.call(speed.options, function (o) {
        return +o.value === data.speed; });
      if (!known) { var o = document.createElement("option"); o.value = data.speed;
        o.textContent = data.speed + "x"; speed.appendChild(o); }
      speed.value = String(data.speed);
    }
    $("btn-pause").textContent = data.paused ? T("run") : T("pause");
    $("btn-pause").dataset.paused = data.paused ? "1" : "0";
    if (live) {
      var f = data.faults;
      ["cold", "sync", "paper", "update"].forEach(function (k) {
        var box = $("f-" + k); if (document.activeElement !== box) { box.checked = !!f[k]; }
      });
      $("update-at").textContent = f.update_at ? "(" + f.update_at + ")" : T("(at 02:00)");
      $("btn-dip").dataset.armed = f.dip_at ? "1" : "0";
      $("btn-dip").textContent = f.dip_at ? T("Disarm") : T("Arm");
      $("dip-status").textContent = f.dip_at ? T("armed at ") + f.dip_at : "";
      $("btn-plug").dataset.plugIn = data.powered ? "0" : "1";
      $("btn-plug").textContent = data.powered ? T("Pull the plug") : T("Plug in");
    } else {
      $("btn-play").textContent = data.paused ? T("play") : T("pause");
      $("btn-play").dataset.paused = data.paused ? "1" : "0";
      $("scrub").max = data.total;
      if (document.activeElement !== $("scrub")) { $("scrub").value = data.position; }
      $("position").textContent = data.position + " / " + data.total;
    }
    if (data.restart_log) { lastState = null; }
    lightDiagram(data.state, data.trace);
    drawLog(data.trace, data.restart_log);
    drawRoll(data);
    drawBook("journal", data.journal); drawBook("host", data.host);
    drawBook("backoffice", data.backoffice);
    drawFindings(data.findings);
    since = data.trace_last;
  }

  function poll() {
    if (busy) { return; }
    busy = true;
    var known = slips.length;
    fetch("/api/state?since=" + since + "&slips=" + known).then(function (r) {
      return r.json();
    }).then(function (data) { draw(data); }).catch(function (e) {
      say(T("no answer from the studio: ") + e, true);
    }).then(function () { busy = false; });
  }
  poll();
  setInterval(poll, 350);
})();
"""
