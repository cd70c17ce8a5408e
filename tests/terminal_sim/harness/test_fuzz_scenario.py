"""Fuzzing scenario YAML into the loader: only ``ScenarioError``, and every error says where.

Inputs start from the real scenarios (``scenarios/*.yaml``) and are damaged the ways files
get damaged and attackers damage them: keys deleted, values of the wrong type, huge and
non-finite numbers, garbage characters inserted, lines duplicated (duplicate keys) or
swapped, bytes that are not UTF-8. The properties:

* ``parse_scenario``/``load_scenario`` either return a ``Scenario`` or raise
  ``ScenarioError``, never anything else;
* a ``ScenarioError`` names a field (``(syntax)``/``(file)`` for what is not a field) and,
  when the text is well-formed YAML, the line, which lies inside the file.

The examples per test come from the suite's Hypothesis profile: ``ci`` (derandomized,
100 examples) by default, ``TERMINAL_SIM_HYPOTHESIS_PROFILE=nightly`` for 5,000.

Inputs found to crash the loader or to be accepted although the simulator cannot run
them are kept at the bottom as plain examples, marked ``xfail(strict=True)`` until the
loader is fixed: when it is, they pass, strict xfail turns that into a failure, and the
marker comes off.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from terminal_sim.errors import ScenarioError
from terminal_sim.scenario.loader import Scenario, load_scenario, parse_scenario
from terminal_sim.scenario.schema import SCHEMA
from tests.support import ROOT

SOURCES = {p.name: p.read_text(encoding="utf-8")
           for p in sorted((ROOT / "scenarios").glob("*.yaml"))}
NOT_FIELDS = ("(syntax)", "(file)", "(document)")


class _KeepTimestamps(yaml.SafeLoader):
    """Timestamps stay text, as the scenario loader keeps them."""


_KeepTimestamps.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)

DATA = {name: yaml.load(text, Loader=_KeepTimestamps) for name, text in SOURCES.items()}


def _yaml_parses(text: str) -> tuple[bool, Any]:
    """Is ``text`` one well-formed YAML document (the oracle for "the YAML parsed")?"""
    try:
        return True, yaml.load(text, Loader=_KeepTimestamps)
    except (yaml.YAMLError, RecursionError, ValueError):
        return False, None


def check_rejection(error: ScenarioError, text: str) -> None:
    """A rejection names a field and, for well-formed YAML, a line inside the file."""
    assert isinstance(error.field, str), error
    assert error.field, error
    assert isinstance(error.reason, str), error
    assert error.reason.strip(), error
    assert error.field in str(error)
    lines = text.count("\n") + 1
    parsed, data = _yaml_parses(text)
    if error.field not in ("(syntax)", "(file)"):
        assert parsed, f"a field error for text that is not YAML: {error}"
    if parsed:
        assert error.line is not None, f"no line for well-formed YAML: {error}"
    if error.line is not None:
        assert 1 <= error.line <= lines + 1, f"line {error.line} of a {lines}-line file"
    if parsed and error.field not in NOT_FIELDS and isinstance(data, dict):
        # the field starts with a key of the document (or a known key it lacks); keys may
        # hold dots themselves, so compare prefixes rather than split
        known = {str(k) for k in data} | set(SCHEMA["properties"])
        assert any(error.field == k or error.field.startswith(f"{k}.") for k in known), (
            f"{error.field!r} names no key of the document")


def accept_or_reject(text: str) -> Scenario | None:
    """Run the loader; anything but a ``Scenario`` or a well-formed ``ScenarioError``
    fails the test (an untyped exception propagates with its traceback)."""
    try:
        return parse_scenario(text, "fuzzed.yaml")
    except ScenarioError as error:
        check_rejection(error, text)
        return None


# -- strategies ------------------------------------------------------------------------------

HUGE = st.sampled_from([10**19, -(10**19), 10**400, -(10**400), 2**63, 2**64 - 1, -1, 0])
ODD_FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [math.inf, -math.inf, math.nan, 1e308, -0.0, 5e-324])
SCALARS = (st.none() | st.booleans() | st.integers(-(10**6), 10**6) | HUGE | ODD_FLOATS
           | st.text(max_size=20) | st.sampled_from(["", "08:05", "99:99", "visa-approve",
                                                     "power-dip", "T0000001", ">= 1", "robust",
                                                     "2026-01-05T08:00:00", "sale/after:print"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=3),
                      max_leaves=8)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in the document (the root excluded)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((*prefix, index))
            found += _paths(value, (*prefix, index))
    return found


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    node = root
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def mutated_documents(draw: st.DrawFn) -> str:
    """A real scenario with 1-4 structural mutations, dumped back to YAML."""
    name = draw(st.sampled_from(sorted(DATA)))
    doc = _copy(DATA[name])
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        key = path[-1]
        action = draw(st.sampled_from(["delete", "replace", "replace", "insert", "wrap",
                                       "to_list", "to_text"]))
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(VALUES)
        elif action == "insert" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10) | st.integers())] = draw(VALUES)
        elif action == "insert" and isinstance(parent, list):
            parent.insert(key, draw(VALUES))
        elif action == "wrap":
            value = parent[key]
            for _ in range(draw(st.integers(1, 20))):
                value = [value] if draw(st.booleans()) else {"x": value}
            parent[key] = value
        elif action == "to_list":
            parent[key] = [parent[key]]
        else:
            parent[key] = str(parent[key])
    return yaml.safe_dump(doc, sort_keys=draw(st.booleans()), allow_unicode=True)


JUNK = ["\t", "\x00", "\ufeff", "{", "}", "[", "- ", ": ", "&a ", "*a", "!!python/name:os.system ",
        "!!binary ", "!!set ", "<<: ", "'", '"', "#", "%YAML 1.1\n", "---\n", "...\n", "\r",
        "\u2028", "? ", "|\n", ">-\n"]


@st.composite
def damaged_texts(draw: st.DrawFn) -> str:
    """A real scenario's text with 1-3 textual injuries."""
    text = draw(st.sampled_from(sorted(SOURCES.values())))
    for _ in range(draw(st.integers(1, 3))):
        lines = text.split("\n")
        kind = draw(st.sampled_from(["garbage", "delete", "duplicate", "swap", "indent",
                                     "truncate", "number"]))
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        if kind == "garbage":
            position = draw(st.integers(0, len(text)))
            junk = draw(st.text(min_size=1, max_size=12) | st.sampled_from(JUNK))
            text = text[:position] + junk + text[position:]
            continue
        if kind == "delete":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at])  # a duplicate key when the line holds one
        elif kind == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "indent":
            lines[at] = " " * draw(st.integers(1, 5)) + lines[at]
        elif kind == "truncate":
            lines = lines[:at]
        else:  # replace the first number on the line with a huge or odd one
            odd = draw(st.sampled_from(["1" + "0" * 400, "-99999999999999999999", ".nan", ".inf",
                                        "-.inf", "1e999", "0x7fffffffffffffff", "0o777",
                                        "1_000_000", "+12", "12.5"]))
            lines[at] = _replace_number(lines[at], odd)
        text = "\n".join(lines)
    return str(text)


def _replace_number(line: str, replacement: str) -> str:
    start = next((i for i, c in enumerate(line) if c.isdigit()), None)
    if start is None:
        return line + " " + replacement
    end = start
    while end < len(line) and line[end].isdigit():
        end += 1
    return line[:start] + replacement + line[end:]


# -- the properties ---------------------------------------------------------------------------

FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(mutated_documents())
def test_mutated_documents_only_raise_scenario_errors(text: str) -> None:
    accept_or_reject(text)


@FUZZ
@given(damaged_texts())
def test_damaged_texts_only_raise_scenario_errors(text: str) -> None:
    accept_or_reject(text)


@FUZZ
@given(st.sampled_from(sorted(SOURCES)), st.sampled_from(sorted(
    {"name", "seed", "profile", "profile_settings", "start", "terminals", "workload", "faults",
     "expect", "description"})), VALUES)
def test_any_value_at_a_top_level_key(name: str, key: str, value: Any) -> None:
    doc = _copy(DATA[name])
    doc[key] = value
    accept_or_reject(yaml.safe_dump(doc, allow_unicode=True))


@FUZZ
@given(st.sampled_from(sorted(SOURCES)), st.integers(0, 10_000), st.binary(min_size=1, max_size=8))
def test_bytes_that_are_not_utf8(tmp_path_factory: pytest.TempPathFactory, name: str,
                                 where: int, junk: bytes) -> None:
    raw = SOURCES[name].encode("utf-8")
    where = min(where, len(raw))
    path = tmp_path_factory.getbasetemp() / "fuzzed-bytes.yaml"
    path.write_bytes(raw[:where] + junk + raw[where:])
    try:
        load_scenario(path)
    except ScenarioError as error:
        rejected = error
    else:
        return  # the junk landed where YAML and the schema take it
    assert rejected.path == str(path)
    if rejected.field == "(file)":
        assert "cannot read" in rejected.reason
    else:
        check_rejection(rejected, path.read_text(encoding="utf-8"))


def test_the_real_scenarios_load() -> None:
    """The seeds of the fuzzing are valid: a mutation starts from an accepted file."""
    for name, text in SOURCES.items():
        assert accept_or_reject(text) is not None, name


def test_the_oracle_sees_errors_without_a_line() -> None:
    """``check_rejection`` is not vacuous: a field error without a line fails it."""
    text = SOURCES["happy-day.yaml"]
    with pytest.raises(AssertionError, match="no line"):
        check_rejection(ScenarioError("x", None, "seed", "bad"), text)
    with pytest.raises(AssertionError, match="names no key"):
        check_rejection(ScenarioError("x", 2, "nonsense.key", "bad"), text)
    with pytest.raises(AssertionError, match="line 999"):
        check_rejection(ScenarioError("x", 999, "seed", "bad"), text)


def test_a_non_utf8_file_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\nseed: 1\nworkload: {}\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.field == "(file)"
    assert caught.value.line is None


# -- what fuzzing found ------------------------------------------------------------------------
# Crashes of the loader itself (an untyped exception, or exponential time).

_DEEP = "name: x\nseed: 1\nworkload: {}\ndescription: " + "[" * 900 + "]" * 900 + "\n"
_DEEPER = "name: x\nseed: 1\nworkload: " + "[" * 5000 + "]" * 5000 + "\n"
_CYCLE = "name: &a [*a]\nseed: 1\nworkload: {}\n"
_BOMB = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9 if i else ["x"] * 9) + "]\n"
                for i in range(9)) + "name: x\nseed: 1\nworkload: {}\n"
LOADER_CRASHES = {
    "nesting-900": _DEEP,         # RecursionError in _check_duplicates
    "nesting-5000": _DEEPER,      # RecursionError in PyYAML's composer
    "alias-cycle": _CYCLE,        # RecursionError: a list that contains itself
    "alias-bomb": _BOMB,          # 9**9 nodes walked by _check_duplicates: hours
    # JSON Schema's "integer" takes 1.0; the loader's code after it does not
    "expect-integral-float": "name: x\nseed: 1\nworkload: {}\nexpect: {LOST_RECORD: 0.0}\n",
    "at-integral-float": "name: x\nseed: 1\nworkload: {sales: [{at: 5.0, amount: 500}]}\n",
    # a decimal fault parameter given as a huge integer: OverflowError in Param.check
    "fault-decimal-huge-int": ("name: x\nseed: 1\nworkload: {}\nfaults: [{name: cold-card-reader, "
                               "temperature_c: -1" + "0" * 400 + "}]\n"),
    # schema errors sorted by path: an int key beside a str key on one line
    "mixed-key-types": "name: x\nseed: 1\nworkload: {}\nprofile_settings: {1: [], x: []}\n",
}


# no wall-clock limit here (it flaked on a shared machine): the loader refuses aliases and
# deep nesting before any work, and the suite's own timeout still ends a hang
@pytest.mark.parametrize("case", sorted(LOADER_CRASHES))
def test_found_loader_crashes(case: str) -> None:
    limit = sys.getrecursionlimit()
    try:
        with pytest.raises(ScenarioError) as caught:
            parse_scenario(LOADER_CRASHES[case], "fuzzed.yaml")
    finally:
        sys.setrecursionlimit(limit)
    check_rejection(caught.value, LOADER_CRASHES[case])


@st.composite
def nested_or_aliased(draw: st.DrawFn) -> str:
    """A real scenario with one value replaced by deep nesting or by aliases (a cycle, a
    chain of lists of aliases), in block or flow style."""
    name = draw(st.sampled_from(sorted(SOURCES)))
    key = draw(st.sampled_from(["description", "workload", "faults", "expect", "terminals",
                                "x_unknown"]))
    kind = draw(st.sampled_from(["flow", "block", "cycle", "chain"]))
    depth = draw(st.integers(1, 3000))
    if kind == "flow":
        value = "[" * depth + "]" * depth
    elif kind == "block":
        depth = min(depth, 1200)
        value = "".join("\n" + "  " * (i + 1) + "- " for i in range(depth)) + "x"
    elif kind == "cycle":
        value = "&c [*c]"
    else:
        width = draw(st.integers(2, 9))
        levels = draw(st.integers(2, 9))
        anchors = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width if i else
                                                       ["x"] * width) + "]\n"
                          for i in range(levels))
        value = f"*l{levels - 1}"
        return anchors + _set_top_level(SOURCES[name], key, value)
    return _set_top_level(SOURCES[name], key, value)


def _set_top_level(text: str, key: str, value: str) -> str:
    lines = [line for line in text.split("\n") if not line.startswith(f"{key}:")]
    return "\n".join(lines) + f"\n{key}: {value}\n"


@settings(phases=[Phase.explicit, Phase.generate],  # a known failure: do not shrink it
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(nested_or_aliased())
def test_nesting_and_aliases_only_raise_scenario_errors(text: str) -> None:
    accept_or_reject(text)


# Scenarios the loader accepts and the simulator cannot run: each one crashed (or hung)
# ``Simulation.run`` with an untyped exception; the loader should refuse it, naming the
# field. (input, the field the rejection should name)
_BASE = "name: x\nseed: 1\nworkload: {generate: {count: 2}}\n"
ACCEPTED_BUT_UNRUNNABLE = {
    "profile-setting-type": (_BASE + "profile_settings: {journal_capacity: x}\n",
                             "profile_settings"),  # TypeError in the journal
    "profile-setting-value": (_BASE + "profile_settings: {journal_synchronous: 5}\n",
                              "profile_settings"),  # ConfigurationError at run, no line
    "sale-at-1e20-s": ("name: x\nseed: 1\nworkload: {sales: [{at: 100000000000000000000, "
                       "amount: 5}]}\n", "workload.sales.0.at"),  # 10 million steps, then
                                                                   # RuntimeError
    "interval-1e20-s": ("name: x\nseed: 1\nworkload: {generate: {count: 2, interval_s: "
                        "[1, 100000000000000000000]}}\n", "workload.generate.interval_s"),
    "amount-13-digits": ("name: x\nseed: 1\nworkload: {generate: {count: 2, amount: "
                         "[1, 10000000000000]}}\n", "workload.generate.amount"),  # Iso8583Error
    "start-year-9999": (_BASE.replace("workload", "start: '9999-12-31T23:59'\nworkload"),
                        "start"),  # OverflowError: date value out of range
    "fault-delay-1e23": (_BASE + "faults: [{name: link-late-reply, delay_ms: "
                         "100000000000000000000000}]\n", "faults.0.delay_ms"),  # OverflowError
    "fault-jump-1e23": (_BASE + "faults: [{name: clock-jump, time: 10, jump_s: "
                        "-100000000000000000000000}]\n", "faults.0.jump_s"),  # OverflowError
    "fault-nan": (_BASE + "faults: [{name: cold-card-reader, temperature_c: .nan}]\n",
                  "faults.0.temperature_c"),  # ValueError: cannot convert NaN
    "fault-negative-jitter": (_BASE + "faults: [{name: link-latency, jitter_ms: -5}]\n",
                              "faults.0.jitter_ms"),  # ValueError in Stream.between
    # runs, but means nothing: -0.5 prints all of the job but its tail, 7 all of it
    "printer-fraction-out-of-range": (_BASE + "faults: [{name: printer-power-loss, "
                                      "print_fraction: -0.5}]\n", "faults.0.print_fraction"),
    # JSON Schema's "integer" takes 1.0 (TypeError/ValueError when the run uses it)
    "seed-integral-float": ("name: x\nseed: 1.0\nworkload: {generate: {count: 2}}\n",
                            "seed"),
    "count-integral-float": ("name: x\nseed: 1\nworkload: {generate: {count: 2.0}}\n",
                             "workload.generate.count"),
    "amount-integral-float": ("name: x\nseed: 1\nworkload: {sales: [{at: 5, amount: 500.0}]}"
                              "\n", "workload.sales.0.amount"),
    "fault-unknown-terminal": (_BASE + "faults: [{name: power-dip, at: '*', terminals: [T9]}]\n",
                               "faults.0.terminals"),  # ConfigurationError at run, no line
}


@pytest.mark.parametrize("case", sorted(ACCEPTED_BUT_UNRUNNABLE))
def test_found_unrunnable_scenarios_are_refused(case: str) -> None:
    text, field = ACCEPTED_BUT_UNRUNNABLE[case]
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "fuzzed.yaml")
    assert caught.value.field.startswith(field), caught.value
    check_rejection(caught.value, text)
