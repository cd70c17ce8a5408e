"""Numbers as runs: ``3, 5, 7-9`` for receipt numbers, ``1-200,500`` for seed lists."""

from __future__ import annotations

from collections.abc import Iterable


def runs(values: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive runs ``(first, last)`` in the order given (no sorting, repeats kept)."""
    found: list[tuple[int, int]] = []
    for value in values:
        if found and value == found[-1][1] + 1:
            found[-1] = (found[-1][0], value)
        else:
            found.append((value, value))
    return found


def runs_text(values: Iterable[int], *, separator: str = ", ") -> str:
    """``11-30`` for a run of consecutive numbers, ``3, 5, 7-9`` otherwise; "" for none."""
    return separator.join(str(first) if first == last else f"{first}-{last}"
                          for first, last in runs(values))
