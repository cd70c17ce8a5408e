"""Scenario loading: every malformed file is named by file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from terminal_sim.errors import ScenarioError
from terminal_sim.scenario.loader import load_scenario, parse_scenario
from tests.support import SCENARIOS

GOOD = """\
name: t
seed: 1
terminals:
  - id: T0000001
workload:
  sales:
    - at: "08:01"
      amount: 1250
      card: visa-approve
  generate:
    count: 3
expect:
  STRAY_RECEIPT: 0
  LOST_RECORD: ">= 1"
"""


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(textwrap.dedent(text), "s.yaml")
    return caught.value


def test_good_scenario() -> None:
    scenario = parse_scenario(GOOD, "s.yaml")
    assert scenario.sales[0].at_ms == 60_000
    assert scenario.sales[0].card.label == "visa-approve"
    assert [e.describe() for e in scenario.expect] == ["STRAY_RECEIPT == 0", "LOST_RECORD >= 1"]
    assert scenario.generate is not None
    assert scenario.generate.count == 3


@pytest.mark.parametrize(("text", "line", "field", "reason"), [
    (GOOD.replace("seed: 1", "sede: 1"), 2, "sede", "unknown key"),
    (GOOD.replace("count: 3", "count: three"), 11, "workload.generate.count", "not of type"),
    (GOOD.replace("amount: 1250", "amount: -5"), 8, "workload.sales.0.amount", "minimum"),
    (GOOD.replace("id: T0000001", "id: T1"), 4, "terminals.0.id", "does not match"),
    (GOOD.replace("card: visa-approve", "card: platinum"), 9, "workload.sales.0.card",
     "unknown test card"),
    (GOOD.replace('"08:01"', '"48:00"'), 7, "workload.sales.0.at", "not valid"),
    (GOOD.replace('">= 1"', '"about 3"'), 14, "expect.LOST_RECORD", "not valid"),
    (GOOD + "expect:\n  BLANK_RECEIPT: 1\n", 15, "expect", "duplicate key"),
    (GOOD.replace("  generate:", "  generate: [").replace("count: 3", "count: 3"), None,
     "(syntax)", ""),
    (GOOD + "faults:\n  - name: meteor-strike\n", 16, "faults.0.name", "unknown fault"),
    (GOOD + "profile: paranoid\n", 15, "profile", "unknown profile"),
    ("name: x\n", 1, "(document)", "'seed' is a required property"),
])
def test_errors_name_file_line_and_field(text: str, line: int | None, field: str,
                                         reason: str) -> None:
    error = error_of(text)
    assert error.path == "s.yaml"
    assert error.field == field
    if line is not None:
        assert error.line == line, str(error)
        assert str(error).startswith(f"s.yaml:{line}: {field}: ")
    else:
        assert error.line is not None  # syntax errors still carry a line
    assert reason in error.reason


def test_refunds_are_sales_of_kind_refund() -> None:
    refunds = '  refunds:\n    - {at: "09:00", amount: 400}\n  generate:'
    text = GOOD.replace("  generate:", refunds)
    scenario = parse_scenario(text, "s.yaml")
    refund = [s for s in scenario.sales if s.kind == "refund"]
    assert len(refund) == 1
    assert refund[0].amount_minor == 400
    assert refund[0].at_ms == 3_600_000


def test_terminal_reference_must_exist() -> None:
    text = GOOD.replace("      card: visa-approve",
                        "      card: visa-approve\n      terminal: T0000009")
    error = error_of(text)
    assert error.field == "workload.sales.0.terminal"
    assert "no terminal" in error.reason


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    with pytest.raises(ScenarioError, match="empty"):
        load_scenario(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")


def test_shipped_scenarios_load() -> None:

    for path in sorted(SCENARIOS.glob("*.yaml")):
        assert load_scenario(path).name == path.stem
