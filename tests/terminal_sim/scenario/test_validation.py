"""Issue 13: sizes no run can finish, fault times before the start, misspelt crash points
and MTIs are errors naming the file, the line and the field."""

from __future__ import annotations

import textwrap
from typing import Any, ClassVar

import pytest

from terminal_sim.errors import ConfigurationError, ScenarioError
from terminal_sim.plugins.faults import Fault, Param
from terminal_sim.plugins.vocabulary import crash_point_names, mti_names
from terminal_sim.scenario.loader import parse_scenario
from terminal_sim.scenario.schema import MAX_SALES

HEAD = """\
name: t
seed: 1
start: "2026-03-02T08:00:00"
terminals:
  - id: T0000001
  - id: T0000002
workload:
  sales:
    - at: "09:00"
      amount: 1250
"""


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(textwrap.dedent(text), "s.yaml")
    return caught.value


def test_a_count_no_run_can_finish_is_refused_with_its_line() -> None:
    error = error_of(HEAD + "  generate:\n    count: 10000000\n")
    assert (error.path, error.line, error.field) == ("s.yaml", 12, "workload.generate.count")
    assert "maximum 50,000" in error.reason
    assert "21 KB" in error.reason


def test_count_times_terminals_is_bounded() -> None:
    count = MAX_SALES // 2  # fine for one terminal, too much for two
    error = error_of(HEAD + f"  generate:\n    count: {count}\n")
    assert (error.line, error.field) == (12, "workload.generate.count")
    assert "2 terminals" in error.reason
    assert "plus 1 listed" in error.reason


def test_the_largest_run_still_loads() -> None:
    scenario = parse_scenario(HEAD + f"  generate:\n    count: {(MAX_SALES - 1) // 2}\n")
    assert scenario.generate is not None


def test_too_many_terminals() -> None:
    terminals = "".join(f"  - id: T{i:07d}\n" for i in range(10_001))
    text = "name: t\nseed: 1\nterminals:\n" + terminals + "workload: {}\n"
    error = error_of(text)
    assert (error.line, error.field) == (4, "terminals")
    assert "10,001 items is more than the maximum 10,000" in error.reason


@pytest.mark.parametrize(("fault", "field"), [
    ("name: power-dip\n    time: \"07:59\"", "faults.0.time"),
    ("name: link-drop-reply\n    from: \"06:00\"", "faults.0.from"),
    ("name: link-drop-reply\n    until: \"07:00\"", "faults.0.until"),
    ("name: maintenance-update\n    time: \"02:00\"", "faults.0.time"),
    ("name: operator-reprint\n    time: \"07:30\"", "faults.0.time"),
    ("name: clock-jump\n    time: \"00:10\"", "faults.0.time"),
])
def test_fault_times_before_the_start_are_errors(fault: str, field: str) -> None:
    error = error_of(HEAD + f"faults:\n  - {fault}\n")
    assert (error.path, error.line, error.field) == ("s.yaml", 13, field)
    assert "before the start 08:00:00" in error.reason


@pytest.mark.parametrize("limit", [0, -5])
def test_a_limit_that_never_fires_is_an_error(limit: int) -> None:
    error = error_of(HEAD + f"faults:\n  - name: link-drop-reply\n    limit: {limit}\n")
    assert (error.path, error.line, error.field) == ("s.yaml", 13, "faults.0.limit")
    assert f"{limit} is outside 1 to" in error.reason


def test_fault_times_from_the_start_on_are_fine() -> None:
    scenario = parse_scenario(HEAD + 'faults:\n  - name: power-dip\n    time: "08:00"\n'
                              '  - name: maintenance-update\n    time: "26:00"\n'
                              '  - name: link-drop-reply\n    from: 0\n    until: "23:00"\n')
    assert [f.name for f in scenario.faults] == ["power-dip", "maintenance-update",
                                                 "link-drop-reply"]


def test_a_misspelt_crash_point_is_an_error_listing_valid_names() -> None:
    error = error_of(HEAD + "faults:\n  - name: power-dip\n    at: sale/after:hostreply\n")
    assert (error.line, error.field) == (13, "faults.0.at")
    assert "did you mean 'sale/after:host_reply'" in error.reason
    assert "host_reply" in error.reason
    assert "journal_commit" in error.reason


@pytest.mark.parametrize("point", ["sale/after:host_reply", "*/after:host_reply",
                                   "sale/during:print", "refund/*", "reversal/after:saf_acked"])
def test_crash_points_and_globs_that_match_are_accepted(point: str) -> None:
    parse_scenario(HEAD + f"faults:\n  - name: power-dip\n    at: \"{point}\"\n")


def test_a_glob_matching_nothing_is_an_error() -> None:
    error = error_of(HEAD + "faults:\n  - name: power-dip\n    at: \"sale/befor:*\"\n")
    assert error.field == "faults.0.at"


def test_an_unknown_mti_is_an_error_listing_valid_ones() -> None:
    error = error_of(HEAD + 'faults:\n  - name: link-drop-reply\n    message: "0201"\n')
    assert (error.line, error.field) == (13, "faults.0.message")
    assert "0210" in error.reason
    assert "0430" in error.reason


def test_every_mti_of_the_link_is_accepted() -> None:
    assert {"0200", "0210", "0400", "0410", "0420", "0421", "0430", "0500", "0510"} <= set(
        mti_names())
    parse_scenario(HEAD + 'faults:\n  - name: link-drop-reply\n    message: "0430"\n')


class _ThirdParty(Fault):
    """A fault from another package: its params declare vocabularies too."""

    name = "third-party"
    params: ClassVar[dict[str, Param]] = {
        "points": Param(list, [], "crash points", vocabulary="crash_point"),
        "mti": Param(str, None, "a message type", vocabulary="mti"),
        "when": Param((str, int), None, "a time", vocabulary="time"),
    }

    def install(self, host: Any) -> None:
        return None


def test_third_party_faults_get_the_same_checks() -> None:
    _ThirdParty.validate({"points": ["sale/after:print", "void/*"], "mti": "0200",
                          "when": "09:00"})
    with pytest.raises(ConfigurationError, match="points: 'sale/after:prnt' is no crash"):
        _ThirdParty.validate({"points": ["sale/after:print", "sale/after:prnt"]})
    with pytest.raises(ConfigurationError, match="mti: '9999'"):
        _ThirdParty.validate({"mti": "9999"})
    with pytest.raises(ConfigurationError, match="when: expected a time"):
        _ThirdParty.validate({"when": "9 o'clock"})
    assert _ThirdParty.times_before({"when": "07:00"}, 8 * 3_600_000) == ["when"]
    assert _ThirdParty.times_before({"when": 60}, 8 * 3_600_000) == []


def test_the_vocabulary_holds_every_crash_point_a_lifecycle_passes() -> None:
    from terminal_sim.harness.sweep import crash_points

    known = set(crash_point_names())
    for profile in ("naive", "robust"):
        for points in crash_points(profile, {}).values():
            assert set(points) <= known, set(points) - known

