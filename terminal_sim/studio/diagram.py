"""The terminal's state diagram, drawn from the ``transitions`` machine itself, as SVG.

Nothing is hand-placed: the states, the initial state and every transition come from
the machine (``TerminalFleet().machine``), so the picture follows the table when the
table changes. The layout is a small layered (Sugiyama-style) one:

1. a depth-first walk from the initial state marks the edges that go back (cycles);
2. the other edges form a DAG; each state's column is its longest path from the start;
3. states in a column are stacked in the order the walk found them;
4. forward edges are straight (arched when they skip columns), edges going back arc
   below the states, and a trigger that leads from (almost) every state to one state
   (``power_lost``) is drawn once, from an "any state" badge.

Internal transitions (``dest=None``: the state stays, e.g. a stray host reply) are not
edges; they are listed under the diagram. Every state is a ``<g class="state"
data-state="...">`` and every edge a ``<g class="edge" data-edge="src>trigger>dst">``, so
a page lights the current state and the last transition by toggling a class.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

__all__ = ["Diagram", "Edge", "diagram_svg", "machine_graph"]

COLUMN = 190  # px between columns
ROW = 66  # px a state takes in its column
BOX_W, BOX_H = 104, 34
TOP = 70  # room for edges arching above


@dataclass(frozen=True, slots=True)
class Edge:
    source: str  # "*" for "from any state"
    dest: str
    triggers: tuple[str, ...]
    conditions: tuple[str, ...] = ()


@dataclass
class Diagram:
    """The machine as a graph: states, initial state, edges, internal transitions."""

    states: list[str]
    initial: str
    edges: list[Edge]
    internal: dict[str, list[str]] = field(default_factory=dict)  # trigger -> states


def _name(condition: Any) -> str:
    func = getattr(condition, "func", condition)
    return str(getattr(func, "__name__", func))


def machine_graph(machine: Any) -> Diagram:
    """Read states and transitions out of a ``transitions.Machine``."""
    states = [str(s) for s in machine.states]
    initial = str(machine.initial)
    by_pair: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
    internal: dict[str, list[str]] = defaultdict(list)
    sources_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for trigger, event in machine.events.items():
        if trigger.startswith("to_"):
            continue  # auto transitions, if a machine has them
        for source, transitions in event.transitions.items():
            for transition in transitions:
                if transition.dest is None:
                    if source not in internal[trigger]:
                        internal[trigger].append(source)
                    continue
                dest = str(transition.dest)
                conditions = tuple(_name(c) for c in transition.conditions)
                by_pair[(source, dest)].append((trigger, conditions))
                sources_of[(trigger, dest)].add(source)
    # a trigger reaching one state from (almost) everywhere is drawn once, from "any state"
    collapsed = {key for key, sources in sources_of.items()
                 if len(sources) >= 3 and len(sources) >= len(states) - 2}
    edges: list[Edge] = []
    for (trigger, dest) in sorted(collapsed):
        edges.append(Edge("*", dest, (trigger,)))
    for (source, dest), labelled in by_pair.items():
        kept = [(t, c) for t, c in labelled if (t, dest) not in collapsed]
        if not kept:
            continue
        triggers = tuple(dict.fromkeys(t for t, _ in kept))
        conditions = tuple(dict.fromkeys(c for _, cs in kept for c in cs))
        edges.append(Edge(source, dest, triggers, conditions))
    return Diagram(states, initial, edges, dict(internal))


def _layers(diagram: Diagram) -> tuple[dict[str, int], list[str], set[tuple[str, str]]]:
    """Column of each state, the order the walk found them, and the edges going back."""
    succ: dict[str, list[str]] = defaultdict(list)
    for edge in diagram.edges:
        if edge.source != "*" and edge.dest not in succ[edge.source]:
            succ[edge.source].append(edge.dest)
    order: list[str] = []
    back: set[tuple[str, str]] = set()
    on_stack: set[str] = set()
    seen: set[str] = set()

    def walk(state: str) -> None:
        seen.add(state)
        on_stack.add(state)
        order.append(state)
        for nxt in succ[state]:
            if nxt in on_stack:
                back.add((state, nxt))
            elif nxt not in seen:
                walk(nxt)
        on_stack.discard(state)

    walk(diagram.initial)
    for state in diagram.states:  # unreachable states still get drawn
        if state not in seen:
            walk(state)
    column = {state: 0 for state in diagram.states}
    changed = True
    while changed:  # longest path over the forward edges (a DAG: terminates)
        changed = False
        for source in order:
            for nxt in succ[source]:
                if (source, nxt) not in back and column[nxt] < column[source] + 1:
                    column[nxt] = column[source] + 1
                    changed = True
    return column, order, back


@dataclass
class _Slot:
    """A place in a column: a state, or a bend of an edge passing through the column."""

    name: str
    column: int
    edge: Edge | None = None  # set for a bend
    y: float = 0.0
    order: float = 0.0

    @property
    def height(self) -> float:
        return ROW if self.edge is None else ROW * 0.75


def _order(columns: dict[int, list[_Slot]], links: list[tuple[_Slot, _Slot]]) -> None:
    """A few barycentre sweeps: each slot moves towards the mean place of its neighbours,
    which untangles crossings in graphs this small."""
    preds: dict[int, list[_Slot]] = defaultdict(list)
    succs: dict[int, list[_Slot]] = defaultdict(list)
    for a, b in links:
        succs[id(a)].append(b)
        preds[id(b)].append(a)
    for sweep in range(4):
        ordered = sorted(columns) if sweep % 2 == 0 else sorted(columns, reverse=True)
        for col in ordered:
            slots = columns[col]
            for index, slot in enumerate(slots):
                near = preds[id(slot)] if sweep % 2 == 0 else succs[id(slot)]
                slot.order = (sum(n.order for n in near) / len(near)) if near else index
            slots.sort(key=lambda slot: slot.order)
            for index, slot in enumerate(slots):
                slot.order = index


class _Layout:
    """Where every state box, bend and edge end goes (see the module docstring)."""

    def __init__(self, diagram: Diagram) -> None:
        self.diagram = diagram
        self.column, order, self.back = _layers(diagram)
        self.columns: dict[int, list[_Slot]] = defaultdict(list)
        self.slot_of: dict[str, _Slot] = {}
        for state in order:
            self.slot_of[state] = _Slot(state, self.column[state])
            self.columns[self.column[state]].append(self.slot_of[state])
        self.routes: dict[int, list[_Slot]] = {}
        links = self._route_forward_edges()
        for slots in self.columns.values():
            for index, slot in enumerate(slots):
                slot.order = index
        _order(self.columns, links)
        self.tallest = max(sum(s.height for s in slots) for slots in self.columns.values())
        for slots in self.columns.values():
            y = TOP + (self.tallest - sum(s.height for s in slots)) / 2
            for slot in slots:
                slot.y = y + slot.height / 2
                y += slot.height
        self.width = 40 + (max(self.columns) + 1) * COLUMN
        self.bottom = TOP + self.tallest
        back_edges = [e for e in diagram.edges if self.is_back(e)]
        self.height = self.bottom + 26 + 24 * len(back_edges)
        self.arc_side: dict[int, str] = {}
        self.port = self._ports()

    def is_back(self, edge: Edge) -> bool:
        return (edge.source, edge.dest) in self.back

    def x_of(self, slot: _Slot) -> float:
        return 40 + slot.column * COLUMN + BOX_W / 2

    def _route_forward_edges(self) -> list[tuple[_Slot, _Slot]]:
        """A forward edge skipping columns bends through a slot in each column it crosses."""
        links: list[tuple[_Slot, _Slot]] = []
        for number, edge in enumerate(self.diagram.edges):
            if edge.source == "*" or self.is_back(edge):
                continue
            path = [self.slot_of[edge.source]]
            for col in range(self.column[edge.source] + 1, self.column[edge.dest]):
                bend = _Slot(f"{edge.source}>{edge.dest}@{col}", col, edge)
                self.columns[col].append(bend)
                path.append(bend)
            path.append(self.slot_of[edge.dest])
            self.routes[number] = path
            links += list(pairwise(path))
        return links

    def _ports(self) -> dict[tuple[str, str, int], float]:
        """Where edges meet a box: spread along its side, ordered by where the other end
        is. An edge going back arcs below the states, or above when it leaves from the
        upper half."""
        ends: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
        for number, path in self.routes.items():
            ends[(path[0].name, "right")].append((path[1].y, number))
            ends[(path[-1].name, "left")].append((path[-2].y, number))
        middle = TOP + self.tallest / 2
        for number, edge in enumerate(self.diagram.edges):
            if self.is_back(edge):
                source, dest = self.slot_of[edge.source], self.slot_of[edge.dest]
                side = "top" if source.y < middle - 1 else "bottom"
                self.arc_side[number] = side
                ends[(edge.source, side)].append((-self.x_of(dest), number))
                ends[(edge.dest, side)].append((self.x_of(source), number))
        port: dict[tuple[str, str, int], float] = {}
        for (state, side), items in ends.items():
            items.sort()
            span = (BOX_H - 10) if side in ("left", "right") else (BOX_W - 24)
            for index, (_key, number) in enumerate(items):
                offset = (index + 1) / (len(items) + 1) * span - span / 2
                port[(state, side, number)] = offset
        return port


def diagram_svg(diagram: Diagram, *, css_class: str = "machine") -> str:
    """The diagram as an inline ``<svg>`` element (no external references)."""
    layout = _Layout(diagram)
    parts = [f'<svg class="{css_class}" viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" '
             f'width="{layout.width:.0f}" height="{layout.height:.0f}" role="img" '
             'aria-label="state diagram of the terminal">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" '
             'fill="currentColor"/></marker></defs>']
    depth = {"top": 0, "bottom": 0}
    for number, edge in enumerate(diagram.edges):
        title = html.escape(" / ".join(edge.triggers)
                            + (f" [{', '.join(edge.conditions)}]" if edge.conditions else ""))
        key = html.escape(f"{edge.source}>{'|'.join(edge.triggers)}>{edge.dest}")
        label = _label(edge.triggers)
        if edge.source == "*":
            parts.append(_from_any_svg(layout, edge, key, title, label))
            continue
        if layout.is_back(edge):
            side = layout.arc_side[number]
            depth[side] += 1
            d, text = _back_edge(layout, number, edge, depth[side], label)
        else:
            d, text = _forward_edge(layout, number, label)
        parts.append(f'<g class="edge" data-edge="{key}"><title>{title}</title>'
                     f'<path d="{d}" marker-end="url(#arrow)"/>{text}</g>')
    for state in diagram.states:
        slot = layout.slot_of[state]
        x, y = layout.x_of(slot), slot.y
        initial = " initial" if state == diagram.initial else ""
        parts.append(f'<g class="state{initial}" data-state="{html.escape(state)}">'
                     f'<rect x="{x - BOX_W / 2:.0f}" y="{y - BOX_H / 2:.0f}" width="{BOX_W}" '
                     f'height="{BOX_H}" rx="10"/><text x="{x:.0f}" y="{y + 5:.0f}">'
                     f"{html.escape(state)}</text></g>")
    parts.append("</svg>")
    return "".join(parts)


def _from_any_svg(layout: _Layout, edge: Edge, key: str, title: str, label: list[str]) -> str:
    """An edge from "any state": a badge above its target."""
    target = layout.slot_of[edge.dest]
    x2, y2 = layout.x_of(target), target.y - BOX_H / 2
    x1, y1 = x2, y2 - 36
    return (f'<g class="edge from-any" data-edge="{key}"><title>{title}</title>'
            f'<path d="M{x1:.0f} {y1 + 9:.0f} L{x2:.0f} {y2:.0f}" marker-end="url(#arrow)" '
            f'stroke-dasharray="4 3"/><rect x="{x1 - 34:.0f}" y="{y1 - 9:.0f}" width="68" '
            f'height="18" rx="9" class="any"/><text x="{x1:.0f}" y="{y1 + 4:.0f}" '
            f'class="any-label">any state</text>'
            f"{_text(x1 + 8, y1 + 24, label, 'start')}</g>")


def _back_edge(layout: _Layout, number: int, edge: Edge, depth: int, label: list[str]
               ) -> tuple[str, str]:
    """The path and label of an edge going back: an arc below (or above) the states, the
    ``depth``-th on its side."""
    side = layout.arc_side[number]
    a, b = layout.slot_of[edge.source], layout.slot_of[edge.dest]
    ax = layout.x_of(a) + layout.port[(a.name, side, number)]
    bx = layout.x_of(b) + layout.port[(b.name, side, number)]
    sign = 1 if side == "bottom" else -1
    ay, by = a.y + sign * BOX_H / 2, b.y + sign * BOX_H / 2
    reach = (layout.bottom + 4 + 24 * depth if side == "bottom"
             else min(a.y, b.y) - BOX_H / 2 - 18 - 16 * depth)
    d = f"M{ax:.0f} {ay:.0f} C{ax:.0f} {reach:.0f} {bx:.0f} {reach:.0f} {bx:.0f} {by:.0f}"
    text = _text((ax + bx) / 2, (reach - 3) if side == "bottom" else reach + 6, label,
                 "middle")
    return d, text


def _forward_edge(layout: _Layout, number: int, label: list[str]) -> tuple[str, str]:
    """The path and label of a forward edge, through its bends."""
    path = layout.routes[number]
    first, last = path[0], path[-1]
    points = [(layout.x_of(first) + BOX_W / 2,
               first.y + layout.port[(first.name, "right", number)])]
    points += [(layout.x_of(bend), bend.y) for bend in path[1:-1]]
    points.append((layout.x_of(last) - BOX_W / 2,
                   last.y + layout.port[(last.name, "left", number)]))
    if len(path) > 2:  # the first bend has its own room in its column: label there
        lx, ly = points[1][0], points[1][1] - 5
    else:
        (x1, y1), (x2, y2) = points[0], points[1]
        lx, ly = (x1 + x2) / 2, (y1 + y2) / 2 - 5
    return _smooth(points), _text(lx, ly, label, "middle")


def _label(triggers: tuple[str, ...]) -> list[str]:
    return list(triggers)


def _text(x: float, y: float, lines: list[str], anchor: str) -> str:
    """A label of one line per trigger, stacked upwards from ``y``."""
    spans = "".join(f'<tspan x="{x:.0f}" dy="{0 if i == 0 else 12}">{html.escape(line)}'
                    "</tspan>" for i, line in enumerate(lines))
    top = y - 12 * (len(lines) - 1)
    return (f'<text x="{x:.0f}" y="{top:.0f}" class="label" text-anchor="{anchor}">'
            f"{spans}</text>")


def _smooth(points: list[tuple[float, float]]) -> str:
    """A path through ``points``: straight for two, a smooth curve through bends."""
    (x0, y0) = points[0]
    if len(points) == 2:
        return f"M{x0:.0f} {y0:.0f} L{points[1][0]:.0f} {points[1][1]:.0f}"
    out = [f"M{x0:.0f} {y0:.0f}"]
    for (xa, ya), (xb, yb) in pairwise(points):
        mid = (xa + xb) / 2
        out.append(f"C{mid:.0f} {ya:.0f} {mid:.0f} {yb:.0f} {xb:.0f} {yb:.0f}")
    return " ".join(out)


def internal_note(diagram: Diagram) -> str:
    """Plain words for the transitions that keep the state (not drawn as edges)."""
    return "; ".join(f"{trigger} in {', '.join(states)}: stays"
                     for trigger, states in sorted(diagram.internal.items()))


def lifecycle_svg() -> tuple[str, str]:
    """The SVG of the terminal lifecycle, and the note on its internal transitions."""
    from terminal_sim.core.lifecycle import TerminalFleet

    diagram = machine_graph(TerminalFleet().machine)
    return diagram_svg(diagram), internal_note(diagram)
