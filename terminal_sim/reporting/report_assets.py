"""The report page's style sheet and script, as text (the page carries them inline, so
it loads nothing from a network). ``BASE_CSS`` is shared with the studio's page."""

from __future__ import annotations

__all__ = ["BASE_CSS", "NOSCRIPT_CSS", "REPORT_CSS", "REPORT_JS"]

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
.ledger .k{font-style:normal}
.slip pre.paper{width:220px;margin:0;padding:6px 4px;background:var(--paper);
border:1px solid #d6d3d1;box-shadow:0 1px 3px rgba(0,0,0,.15);font:9px/1.3 ui-monospace,
SFMono-Regular,Menlo,monospace;overflow-x:auto;white-space:pre}
.slip button.draw{font-size:11px;margin:2px 0}
.pager{margin:6px 0}.pager .at{color:var(--muted);margin:0 8px}
body.only-findings .ledger tbody.page[hidden]{display:table-row-group}
body.only-findings .pager[data-table=ledger]{display:none}
"""

#: Without script every row of the paged tables is shown, and there is nothing to page.
NOSCRIPT_CSS = """
.ledger tbody.page[hidden]{display:table-row-group!important}
.pager,.slip button.draw{display:none}
"""

REPORT_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var names = data.names;
  var hostLane = data.lanes.map(function (l) { return l[0]; }).indexOf("host");
  // timeline items: [t, lane, trace id (0: a host message), index into trace or host]
  var items = data.trace.map(function (r, i) { return [r[1], r[4], r[0], i]; });
  data.host.forEach(function (m, i) { items.push([m[0], hostLane, 0, i]); });
  var traceAt = {};
  data.trace.forEach(function (r, i) { traceAt[r[0]] = i; });
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
  function two(n) { return String(n).padStart(2, "0"); }
  function virtual(ms) {
    var rest = ms % 1000;
    return fmt(ms) + (rest ? "." + String(rest).padStart(3, "0") : "");
  }
  function when(ms) {
    var out = "T+" + virtual(ms);
    if (!data.start) { return out; }
    var d = new Date(Date.parse(data.start.slice(0, 19) + "Z") + ms);
    return d.getUTCFullYear() + "-" + two(d.getUTCMonth() + 1) + "-" + two(d.getUTCDate()) +
      " " + two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + ":" +
      two(d.getUTCSeconds()) + " " + out;
  }
  function itemInfo(it) {
    if (it[2]) {
      var r = data.trace[it[3]];
      return when(r[1]) + " · " + names.texts[r[7]];
    }
    var m = data.host[it[3]];
    return when(m[0]) + " · " + names.texts[m[2]];
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
    // a mark per pixel and lane (a big day has tens of thousands: the first one stands for
    // the others in its pixel; zooming in separates them)
    var taken = {};
    data.spans.forEach(function (s) {
      if (s[3] < view[0] || s[2] > view[1]) { return; }
      var a = Math.max(x(s[2]), LEFT), b = Math.min(x(s[3]), W - 10);
      var key = s[0] + "/" + Math.round(a);
      if (b - a < 1 && taken[key]) { return; }
      taken[key] = true;
      out.push('<rect class="span" x="' + a + '" y="' + bandTop[s[0]] + '" width="' +
        Math.max(b - a, 0.6) + '" height="' + BAND + '" fill="' + (data.colours[s[1]] || "#ddd")
        + '" data-info="' + esc(s[0] + " " + s[1] + " from " + wall(s[2]) + " (T+" + fmt(s[2])
        + ") to " + wall(s[3])) + '"/>');
    });
    items.forEach(function (it, i) {
      if (it[0] < view[0] || it[0] > view[1]) { return; }
      var ty = laneTop + it[1] * LANE, tx = x(it[0]), key = it[1] + ":" + Math.round(tx);
      if (taken[key]) { return; }
      taken[key] = true;
      out.push('<rect class="item" x="' + (tx - 1) + '" y="' + ty + '" width="2.4" height="' +
        (LANE - 5) + '" fill="' + laneColours[it[1] % laneColours.length] + '" data-id="' +
        it[2] + '" data-item="' + i + '"/>');
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
    if (target && target.getAttribute && target.getAttribute("data-item")) {
      info.textContent = itemInfo(items[+target.getAttribute("data-item")]);
    } else if (target && target.getAttribute && target.getAttribute("data-info")) {
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
      var row = reveal("ev-" + target.getAttribute("data-id"));
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
    if (scroll && first) { reveal(first.id); first.scrollIntoView({block: "center"}); }
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

  // -- paged tables: the ledger's rows wait in hidden <tbody> pages, the trace's in data
  function Pager(table, count, size, show) {
    var box = document.querySelector('.pager[data-table="' + table + '"]');
    var self = {page: 0, pages: Math.max(1, Math.ceil(count / size))};
    self.go = function (page) {
      self.page = Math.max(0, Math.min(self.pages - 1, page));
      show(self.page);
      box.querySelector(".at").textContent = data.words.rows
        .replace("{first}", count ? self.page * size + 1 : 0)
        .replace("{last}", Math.min(count, (self.page + 1) * size))
        .replace("{count}", count);
      box.querySelector(".prev").disabled = self.page === 0;
      box.querySelector(".next").disabled = self.page >= self.pages - 1;
    };
    box.querySelector(".prev").addEventListener("click", function () { self.go(self.page - 1); });
    box.querySelector(".next").addEventListener("click", function () { self.go(self.page + 1); });
    self.go(0);
    return self;
  }
  var bodies = document.querySelectorAll(".ledger tbody.page");
  var ledgerPager = Pager("ledger", document.querySelectorAll(".ledger tr.row").length,
    data.ledger_page, function (page) {
      bodies.forEach(function (b, i) { b.hidden = i !== page; });
    });
  var traceBody = document.getElementById("trace-rows");
  function traceRow(r) {
    var state = names.states[r[3]], numbers = data.cited[r[0]] || "";
    var point = names.points[r[6]];
    return '<tr id="ev-' + r[0] + '"' + (numbers ? ' class="cited"' : "") +
      ' data-findings="' + numbers + '"><td>' + r[0] + "</td><td>" + esc(when(r[1])) +
      "</td><td>" + esc(names.terminals[r[2]]) + '</td><td><span class="state s-' +
      esc(state[0]) + '">' + esc(state[1]) + "</span></td><td>" + esc(names.lanes[r[4]]) +
      "</td><td>" + esc(names.records[r[5]]) + (point ? "<br><small>" + esc(point) +
      "</small>" : "") + "</td><td>" + esc(names.texts[r[7]]) + "</td></tr>";
  }
  var tracePager = Pager("trace", data.trace.length, data.page, function (page) {
    traceBody.innerHTML = data.trace.slice(page * data.page, (page + 1) * data.page)
      .map(traceRow).join("");
  });
  // the element of an id, its page shown first (a trace row is drawn when its page is)
  function reveal(id) {
    if (/^ev-/.test(id) && traceAt[id.slice(3)] !== undefined) {
      var page = Math.floor(traceAt[id.slice(3)] / data.page);
      if (page !== tracePager.page) { tracePager.go(page); }
    }
    var node = document.getElementById(id);
    var body = node && node.closest && node.closest(".ledger tbody.page");
    if (body && body.hidden) {
      ledgerPager.go(Array.prototype.indexOf.call(bodies, body));
    }
    return node;
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest('a[href^="#"]');
    if (!a) { return; }
    var node = reveal(a.getAttribute("href").slice(1));
    if (node) { e.preventDefault(); node.scrollIntoView({block: "center"}); flash([node]);
      history.replaceState(null, "", a.getAttribute("href")); }
  });
  if (location.hash.length > 1) {
    var target = reveal(location.hash.slice(1));
    if (target) { target.scrollIntoView({block: "center"}); }
  }
  // -- a slip shown as its text, drawn as a picture on request (from the text: no data)
  function drawSlip(pre) {
    var lines = pre.textContent.split("\n"), px = 12, lh = 15;
    var cols = Math.max(24, Math.max.apply(null, lines.map(function (l) { return l.length; })));
    var canvas = document.createElement("canvas"), c = canvas.getContext("2d");
    c.font = px + "px monospace";
    var cw = c.measureText("M").width;
    canvas.width = Math.ceil(cols * cw + 24);
    canvas.height = lines.length * lh + 24;
    c.fillStyle = "#fffdf7"; c.fillRect(0, 0, canvas.width, canvas.height);
    c.fillStyle = "#111"; c.font = px + "px monospace"; c.textBaseline = "top";
    lines.forEach(function (l, i) { c.fillText(l, 12, 12 + i * lh); });
    var img = document.createElement("img");
    img.src = canvas.toDataURL("image/png");
    img.alt = pre.textContent;
    return img;
  }
  document.querySelectorAll(".slip button.draw").forEach(function (b) {
    b.addEventListener("click", function () {
      var fig = b.parentNode, pre = fig.querySelector("pre.paper");
      var img = fig.querySelector("img");
      if (!img) { img = drawSlip(pre); fig.insertBefore(img, pre); img.hidden = true; }
      var picture = img.hidden;
      img.hidden = !picture; pre.hidden = picture;
      b.textContent = picture ? data.words.text : data.words.picture;
    });
  });
  window.addEventListener("resize", draw);
  draw();
})();
"""
