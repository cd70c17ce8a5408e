"""What ``at``-style and ``message``-style fault parameters may name, for the explorer.

THE ONE PLUG-IN PLACE for the scenario vocabulary: another change adds to
:class:`~terminal_sim.plugins.faults.Param` a vocabulary (crash point, MTI) and a
cashier-retry workload option. Until it lands, :func:`vocabulary_of` recognises the
parameters by name (``at``: a crash point, ``message``: an MTI) and :data:`CASHIER` is
``None``; when it lands, these two definitions are all that changes.
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

__all__ = ["CASHIER", "crash_point_names", "mti_names", "vocabulary", "vocabulary_of"]

#: PLUG-IN (scen): the cashier-retry workload option's ranges, e.g.
#: ``{"retry_probability": (0.0, 1.0), "delay_s": (5, 120)}``; ``None`` until
#: ``workload: cashier: {...}`` exists (the generator then adds no cashier).
CASHIER: dict[str, tuple[float, float]] | None = None


def vocabulary_of(name: str, param: Param) -> str | None:
    """``"crash_point"``, ``"mti"`` or ``None``: what the value of ``name`` names.

    PLUG-IN (scen): once ``Param`` declares its vocabulary, return it here
    (``return param.vocabulary``) instead of guessing from the name.
    """
    del param  # the vocabulary will come from the parameter itself (see above)
    return {"at": "crash_point", "message": "mti"}.get(name)


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
