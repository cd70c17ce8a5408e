"""The state diagram is drawn from the transitions machine, every state and transition."""

from __future__ import annotations

import re

from terminal_sim.core.lifecycle import TerminalFleet
from terminal_sim.studio.diagram import diagram_svg, lifecycle_svg, machine_graph


def test_every_state_and_transition_is_drawn() -> None:
    machine = TerminalFleet().machine
    svg, note = lifecycle_svg()
    assert "http" not in svg.replace('xmlns', '')
    drawn_states = set(re.findall(r'data-state="([^"]+)"', svg))
    assert drawn_states == set(machine.states)
    edges = [e.split("&gt;") for e in re.findall(r'data-edge="([^"]+)"', svg)]
    for trigger, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                if transition.dest is None:
                    assert trigger in note  # kept state: told in words under the diagram
                    continue
                assert any(src in (source, "*") and trigger in triggers.split("|")
                           and dst == transition.dest for src, triggers, dst in edges), (
                    source, trigger, transition.dest)


def test_a_trigger_from_everywhere_is_drawn_once() -> None:
    graph = machine_graph(TerminalFleet().machine)
    power = [e for e in graph.edges if "power_lost" in e.triggers]
    assert len(power) == 1
    assert power[0].source == "*"
    assert power[0].dest == "off"


def test_layout_goes_left_to_right_from_the_initial_state() -> None:
    svg = diagram_svg(machine_graph(TerminalFleet().machine))
    def x(state: str) -> float:
        match = re.search(rf'data-state="{state}"><rect x="([\d.]+)"', svg)
        assert match is not None
        return float(match.group(1))
    assert x("off") < x("idle") < x("reading") < x("authorizing") < x("completing")
