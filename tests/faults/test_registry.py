"""The fault registry, parameter validation, and faults' errors at scenario load."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner

from terminal_sim.base.seeds import SeedTree
from terminal_sim.cli.main import main
from terminal_sim.errors import ScenarioError
from terminal_sim.plugins.faults import Fault, Trigger
from terminal_sim.plugins.registry import fault_class, known_fault_names
from terminal_sim.scenario.loader import parse_scenario

MISSION = ["cold-card-reader", "power-dip", "sync-failure", "maintenance-update"]
MORE = ["printer-paper-out", "printer-cover-open", "printer-power-loss", "operator-reprint",
        "torn-card", "clock-jump"]
LINK = ["link-latency", "link-drop-request", "link-drop-reply", "link-late-reply",
        "link-duplicate-reply", "link-reset", "link-slicer", "link-corrupt"]


def test_every_named_fault_is_registered() -> None:
    assert set(MISSION + MORE + LINK) <= set(known_fault_names())


@pytest.mark.parametrize("name", MISSION + MORE + LINK)
def test_each_fault_documents_itself(name: str) -> None:
    cls = fault_class(name)
    assert issubclass(cls, Fault)
    assert cls.summary
    assert (cls.__doc__ or "").strip()
    for param in cls.all_params().values():
        assert param.help


def test_faults_list_shows_every_name() -> None:
    result = CliRunner().invoke(main, ["faults", "list"])
    assert result.exit_code == 0
    for name in MISSION + MORE + LINK:
        assert name in result.output


def test_faults_show_details() -> None:
    result = CliRunner().invoke(main, ["faults", "show", "cold-card-reader"])
    assert result.exit_code == 0
    assert "temperature_c" in result.output
    assert "probability" in result.output


def test_faults_show_unknown_exits_2() -> None:
    result = CliRunner().invoke(main, ["faults", "show", "gremlins"])
    assert result.exit_code == 2
    assert "unknown fault 'gremlins'" in result.output


BASE = """\
name: x
seed: 1
workload:
  generate: {count: 1}
faults:
  - name: power-dip
"""


@pytest.mark.parametrize(("extra", "line", "field", "reason"), [
    ("    at: sale/after:print\n    down_s: soon\n", 8, "faults.0.down_s", "expected int"),
    ("    at: sale/after:print\n    colour: red\n", 8, "faults.0.colour",
     "not a parameter of fault 'power-dip'"),
    ("    down_s: 3\n", 6, "faults.0", "give either 'at'"),
    ("    at: sale/after:print\n    probability: 2.0\n", 8, "faults.0.probability",
     "between 0 and 1"),
    ("    at: sale/after:print\n    from: noon\n", 8, "faults.0.from", "time of day"),
])
def test_bad_fault_parameters_name_line_and_field(extra: str, line: int, field: str,
                                                  reason: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(BASE + extra, "f.yaml")
    error = caught.value
    assert (error.line, error.field) == (line, field), str(error)
    assert reason in error.reason


def test_trigger_counts_nth_window_limit_and_probability() -> None:
    stream = SeedTree(1).stream("t")
    nth = Trigger(nth=(2, 4))
    assert [nth.fires(0, stream) for _ in range(5)] == [False, True, False, True, False]
    window = Trigger(window=(100, 200))
    assert [window.fires(t, stream) for t in (50, 100, 199, 200)] == [False, True, True, False]
    limited = Trigger(limit=2)
    assert [limited.fires(0, stream) for _ in range(4)] == [True, True, False, False]
    sometimes = Trigger(probability=0.5)
    fired = sum(sometimes.fires(0, stream) for _ in range(1000))
    assert 400 < fired < 600


def test_trigger_draws_are_seeded() -> None:
    def draws(seed: int) -> list[bool]:
        stream = SeedTree(seed).stream("fault/0/x")
        trigger = Trigger(probability=0.3)
        return [trigger.fires(0, stream) for _ in range(50)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_unknown_terminal_target_is_refused_at_load(day: Callable[..., object]) -> None:
    with pytest.raises(ScenarioError, match=r"faults\.0\.terminals: no terminal 'T0000099'"):
        day("- {name: torn-card, terminals: [T0000099]}")
