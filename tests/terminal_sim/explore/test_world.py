"""World generation: deterministic, valid, and covering every registered fault."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from typing import Any, ClassVar

import pytest

from terminal_sim.base.seeds import Stream
from terminal_sim.explore.draw import DayPlan, draw_fault
from terminal_sim.explore.world import generate_world
from terminal_sim.plugins.faults import Fault, Param
from terminal_sim.plugins.registry import fault_class, known_fault_names
from terminal_sim.scenario.loader import parse_scenario
from tests.support import ROOT

_DIGEST = ("import hashlib; from terminal_sim.explore.world import generate_world; "
           "print(hashlib.sha256(''.join(generate_world(7, i, 'robust').to_yaml() "
           "for i in range(20)).encode()).hexdigest())")


def test_the_same_seed_gives_the_same_worlds() -> None:
    first = [generate_world(7, i, "robust").to_yaml() for i in range(20)]
    assert first == [generate_world(7, i, "robust").to_yaml() for i in range(20)]
    assert first != [generate_world(8, i, "robust").to_yaml() for i in range(20)]
    assert len(set(first)) == 20


@pytest.mark.parametrize("hashseed", ["0", "12345"])
def test_worlds_do_not_depend_on_the_hash_seed(hashseed: str) -> None:
    here = hashlib.sha256("".join(generate_world(7, i, "robust").to_yaml()
                                  for i in range(20)).encode()).hexdigest()
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    there = subprocess.run([sys.executable, "-c", _DIGEST], env=env, cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.strip()
    assert there == here


def test_the_profile_only_names_the_world() -> None:
    naive, robust = generate_world(3, 5, "naive").data, generate_world(3, 5, "robust").data
    assert naive.pop("profile") == "naive"
    assert robust.pop("profile") == "robust"
    assert naive == robust


def test_every_generated_world_parses() -> None:
    for seed in range(200):
        world = generate_world(seed, seed % 7, "robust")
        scenario = parse_scenario(world.to_yaml(), f"{world.name}.yaml")
        assert 1 <= len(scenario.terminals) <= 4
        assert scenario.sales


def test_every_fault_is_enabled_in_at_least_20_of_1000_worlds() -> None:
    covered: Counter[str] = Counter()
    for index in range(1000):
        covered.update({f["name"] for f in generate_world(1, index, "robust").data["faults"]})
    assert {name: covered[name] for name in known_fault_names()
            if covered[name] < 20} == {}


def test_each_world_enables_a_different_subset() -> None:
    subsets = {tuple(sorted({f["name"] for f in generate_world(1, i, "naive").data["faults"]}))
               for i in range(50)}
    assert len(subsets) > 40


def test_every_built_in_fault_draws_valid_parameters_across_their_ranges() -> None:
    plan = DayPlan(("T0000001", "T0000002"), 7200)
    for name in known_fault_names():
        cls = fault_class(name)
        drawn: dict[str, set[Any]] = {key: set() for key in cls.params}
        for index in range(60):
            entry = draw_fault(name, cls, plan, Stream(index, name))
            assert entry is not None, (name, index)
            cls.validate({k: v for k, v in entry.items() if k != "name"})
            for key in cls.params:
                drawn[key].add(repr(entry.get(key)))
        # every parameter with something to draw is drawn, not only left at its default
        assert [key for key, seen in drawn.items() if len(seen) < 2
                and key not in ("currency",)] == [], name


class _ThirdParty(Fault):
    """A fault without explore hints, as a third-party package may write one."""

    name = "third-party"
    params: ClassVar[dict[str, Param]] = {
        "mode": Param(str, "a", "a | b", ("a", "b")),
        "size": Param(int, 7, "no range worth exploring"),
        "share": Param(float, 0.5, "a tight range", low=0.0, high=1.0),
    }


def test_a_fault_without_hints_gets_its_choices_tight_ranges_and_defaults() -> None:
    plan = DayPlan(("T0000001",), 3600)
    entries = [draw_fault("third-party", _ThirdParty, plan, Stream(i, "x")) for i in range(40)]
    assert {e["mode"] for e in entries if e and "mode" in e} == {"a", "b"}
    assert all("size" not in e for e in entries if e)
    shares = {e["share"] for e in entries if e and "share" in e}
    assert len(shares) > 5
    assert all(0.0 <= s <= 1.0 for s in shares)
