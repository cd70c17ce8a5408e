"""What ``at``-style and ``message``-style fault parameters may name, for the explorer.

A parameter says what it names through :attr:`~terminal_sim.plugins.faults.Param.vocabulary`
(``"crash_point"``, ``"mti"``); the explorer draws such values from the names a run can
really meet: the crash points the lifecycles pass (not every flow x step pair the loader
accepts) and the message types on the link.
"""

from __future__ import annotations

import functools
from typing import Any

from terminal_sim.core.messages import (
    MTI_ADVICE,
    MTI_FINANCIAL,
    MTI_NETWORK,
    MTI_RECONCILIATION,
    MTI_REVERSAL,
    MTI_REVERSAL_ADVICE,
    MTI_REVERSAL_ADVICE_REPEAT,
)
from terminal_sim.plugins.faults import Param

__all__ = ["crash_point_names", "mti_names", "vocabulary", "vocabulary_of"]

def vocabulary_of(name: str, param: Param) -> str | None:
    """``"crash_point"``, ``"mti"`` or ``None``: what the value of parameter ``name`` names
    (times of day are drawn by the generator from the day's plan)."""
    del name  # the parameter itself says it, for third-party faults too
    return param.vocabulary if param.vocabulary in ("crash_point", "mti") else None


@functools.lru_cache(maxsize=1)
def crash_point_names() -> tuple[str, ...]:
    """Every crash point a clean run of a lifecycle passes, under either profile, sorted
    (what ``pos-sim crashpoints`` lists)."""
    from terminal_sim.harness.sweep import crash_points

    found: set[str] = set()
    for profile in ("naive", "robust"):
        for points in crash_points(profile).values():
            found.update(points)
    return tuple(sorted(found))


def mti_names() -> tuple[str, ...]:
    """The message types on the link: the terminal's requests and the host's answers."""
    requests = (MTI_FINANCIAL, MTI_ADVICE, MTI_REVERSAL, MTI_REVERSAL_ADVICE,
                MTI_REVERSAL_ADVICE_REPEAT, MTI_RECONCILIATION, MTI_NETWORK)
    answers = tuple(f"{mti[:2]}{int(mti[2]) + 1}0" for mti in requests)
    return tuple(sorted({*requests, *answers}))


def vocabulary(kind: str) -> tuple[Any, ...]:
    """The names of vocabulary ``kind``."""
    return crash_point_names() if kind == "crash_point" else mti_names()
