"""``JournalEntry``'s own copies (``replaced``, ``values``, ``as_row``) against the
standard library's ``dataclasses.replace`` and ``fields``."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.core.effects import JournalEntry

TEXT = st.text(max_size=8)


@st.composite
def entries(draw: st.DrawFn) -> JournalEntry:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(JournalEntry):
        values[f.name] = draw(st.integers(-5, 10**9) if f.type == "int" else TEXT)
    return JournalEntry(**values)


FIELD_NAMES = [f.name for f in dataclasses.fields(JournalEntry)]


@given(entries(), st.dictionaries(st.sampled_from(FIELD_NAMES), TEXT, max_size=4))
def test_replaced_is_dataclasses_replace(entry: JournalEntry, changes: dict[str, Any]) -> None:
    assert entry.replaced(**changes) == dataclasses.replace(entry, **changes)


@given(entries())
def test_values_and_row_follow_the_fields(entry: JournalEntry) -> None:
    assert entry.values() == dataclasses.astuple(entry)
    assert entry.as_row() == dataclasses.asdict(entry)
    assert list(entry.as_row()) == FIELD_NAMES


def test_replaced_refuses_an_unknown_field() -> None:
    entry = JournalEntry("T0000001", "000001", "s1", "sale", "approved", 1, "EUR", "", "",
                         0, 0)
    with pytest.raises(TypeError, match="no field 'colour'"):
        entry.replaced(colour="red")
