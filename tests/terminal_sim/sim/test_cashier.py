"""Issue 13: the cashier who presents a purchase again after a power cut or an unknown
outcome, as a new sale marked ``retry_of`` in the trace."""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import Any

import pytest

from terminal_sim.errors import ScenarioError
from terminal_sim.scenario.loader import load_scenario, parse_scenario
from terminal_sim.sim.simulation import RunResult, Simulation
from tests.support import SCENARIOS

REGRESSION = SCENARIOS / "regressions" / "cashier-retry-duplicate-charge.yaml"
FORBIDDEN = ("LOST_RECORD", "ORPHAN_AUTHORIZATION", "DUPLICATE_CHARGE")


def _run(text: str, **kwargs: Any) -> RunResult:
    return Simulation(parse_scenario(textwrap.dedent(text)), **kwargs).run()


def _day(faults: str, *, profile: str = "naive", retry: str = "true",
         sales: str = "[{at: 60, amount: 1250}, {at: 600, amount: 2480}]") -> str:
    return (f"name: c\nseed: 5\nprofile: {profile}\n"
            f"workload:\n  sales: {sales}\n"
            f"  cashier: {{retry: {retry}, retry_after_s: [20, 30]}}\n"
            f"faults:\n{faults}")


def _retries(result: RunResult) -> list[dict[str, Any]]:
    return [r["data"] for r in result.evidence.trace if r["name"] == "cashier_retry"]


def _codes(result: RunResult) -> Counter[str]:
    return Counter(f.code for f in result.findings)


def test_naive_retry_after_an_unknown_outcome_is_a_duplicate_charge() -> None:
    result = Simulation(load_scenario(REGRESSION)).run()
    assert _codes(result)["DUPLICATE_CHARGE"] == 2
    assert result.passed
    assert [(r["sale_id"], r["retry_of"], r["why"]) for r in _retries(result)] == [
        ("T0000013-000002-R1", "T0000013-000002", "not completed"),
        ("T0000013-000004-R1", "T0000013-000004", "power cut"),
    ]
    duplicates = [f for f in result.findings if f.code == "DUPLICATE_CHARGE"]
    assert {f.evidence["sale_id"] for f in duplicates} == {"T0000013-000002",
                                                           "T0000013-000004"}


def test_robust_retries_leave_no_duplicate_charge() -> None:
    result = Simulation(load_scenario(REGRESSION), profile="robust").run()
    assert len(_retries(result)) == 2
    assert not [f.code for f in result.findings if f.code in FORBIDDEN]
    assert result.liveness == []
    host = Counter((r["type"], r["status"]) for r in result.evidence.host)
    assert host[("sale", "approved")] == 5  # each purchase charged once
    assert host[("sale", "reversed")] == 2  # the first attempts, reversed


def test_no_retry_when_an_approved_slip_came_out() -> None:
    # naive prints, then the power goes before the journal: the customer has the slip
    result = _run(_day("  - {name: power-dip, at: sale/after:print, nth: 1}\n"))
    assert _retries(result) == []
    assert _codes(result)["LOST_RECORD"] == 1


def test_no_retry_when_robust_reprints_the_slip_at_boot() -> None:
    result = _run(_day("  - {name: power-dip, at: sale/after:journal_commit, nth: 1}\n",
                       profile="robust"))
    assert _retries(result) == []
    assert not [f.code for f in result.findings if f.code in FORBIDDEN]


@pytest.mark.parametrize(("amount", "retried"), [(1291, True), (1296, True), (1205, False),
                                                 (1251, False)])
def test_technical_declines_are_retried_card_declines_are_not(amount: int,
                                                               retried: bool) -> None:
    result = _run(_day("  []\n", sales=f"[{{at: 60, amount: {amount}}}]"))
    assert len(_retries(result)) == (2 if retried else 0)  # a decline repeats: max_retries


def test_retries_stop_at_max_retries() -> None:
    result = _run(_day("  - {name: link-drop-request, message: \"0200\"}\n",
                       sales="[{at: 60, amount: 1250}]"))
    assert [r["attempt"] for r in _retries(result)] == [1, 2]
    assert {r["retry_of"] for r in _retries(result)} == {"T0000001-000001"}


def test_without_a_cashier_the_terminal_re_presents_the_same_sale_as_before() -> None:
    result = _run(_day("  - {name: link-drop-reply, message: \"0210\", nth: 1}\n",
                       retry="false"))
    assert _retries(result) == []
    notes = [r for r in result.evidence.trace if r["name"] == "customer_retries"]
    assert notes
    assert notes[0]["data"]["sale_id"] == "T0000001-000001"


def test_retries_do_not_move_the_other_streams() -> None:
    text = """\
    name: g
    seed: 3
    workload:
      generate: {count: 8, interval_s: [60, 120]}
      cashier: {retry: RETRY}
    faults:
      - {name: link-drop-reply, message: "0210", nth: 3}
    """
    def generated(result: RunResult) -> dict[str, int]:
        return {r["sale_id"]: r["amount_minor"] for r in result.evidence.journal
                if "-R" not in r["sale_id"]}

    with_retries = _run(text.replace("RETRY", "true"))
    without = _run(text.replace("RETRY", "false"))
    assert len(_retries(with_retries)) == 1
    assert len(generated(without)) == 8
    assert generated(with_retries) == generated(without)


def test_a_run_with_retries_is_deterministic() -> None:
    first = Simulation(load_scenario(REGRESSION)).run()
    second = Simulation(load_scenario(REGRESSION)).run()
    assert first.evidence.trace == second.evidence.trace


def test_cashier_keys_are_validated() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(_day("  []\n").replace("retry_after_s: [20, 30]",
                                              "retry_after_s: [90, 30]"), "c.yaml")
    assert (caught.value.line, caught.value.field) == (6, "workload.cashier.retry_after_s")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(_day("  []\n").replace("retry: true", "retry: true, tries: 3"),
                       "c.yaml")
    assert caught.value.field == "workload.cashier.tries"
