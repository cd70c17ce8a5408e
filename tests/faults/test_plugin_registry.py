"""The registry loads faults by entry point and refuses what is not a fault of that name."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from terminal_sim.errors import ConfigurationError
from terminal_sim.plugins.registry import ENTRY_POINT_GROUP, FaultRegistry, fault_class


def _registry(name: str, target: str) -> FaultRegistry:
    return FaultRegistry({name: EntryPoint(name, target, ENTRY_POINT_GROUP)})


def test_a_third_party_entry_point_loads_its_class() -> None:
    assert _registry("torn-card", "faults.card:TornCard").load("torn-card").__name__ == "TornCard"


def test_built_in_faults_come_from_the_entry_point_group() -> None:
    assert fault_class("power-dip").__module__ == "faults.power"


@pytest.mark.parametrize(("name", "target", "reason"), [
    ("gremlins", "faults.card:TornCard", "calls itself 'torn-card'"),
    ("errors", "terminal_sim.errors:ConfigurationError", "is not a Fault class"),
    ("missing", "faults.card:NoSuchFault", "cannot be loaded"),
    ("nowhere", "no_such_package.faults:Fault", "cannot be loaded"),
])
def test_what_is_not_a_fault_of_that_name_is_refused(name: str, target: str,
                                                     reason: str) -> None:
    with pytest.raises(ConfigurationError, match=reason):
        _registry(name, target).load(name)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown fault 'gremlins'; known: torn-card"):
        _registry("torn-card", "faults.card:TornCard").load("gremlins")
