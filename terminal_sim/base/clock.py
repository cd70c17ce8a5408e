"""Clocks: virtual (simulation) and monotonic (live mode), both in integer milliseconds.

Simulated logic reads time only through a :class:`Clock`; the virtual one advances
when the scheduler says so, which is what makes a run reproducible.
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Protocol

#: Default calendar origin of virtual time zero when a scenario names none.
DEFAULT_EPOCH = _dt.datetime(2026, 1, 5, 8, 0, 0)


class Clock(Protocol):
    """What simulated logic may ask of time."""

    def now(self) -> int:
        """Milliseconds since the clock's origin."""
        ...

    def wall(self) -> _dt.datetime:
        """The calendar time the terminal shows (local, naive)."""
        ...


class VirtualClock:
    """Time that moves only when the scheduler moves it."""

    def __init__(self, epoch: _dt.datetime = DEFAULT_EPOCH) -> None:
        self.epoch = epoch
        self._now = 0

    def now(self) -> int:
        return self._now

    def advance_to(self, t_ms: int) -> None:
        """Move to ``t_ms``; time never runs backwards (a clock-jump fault skews ``wall``)."""
        if t_ms < self._now:
            raise ValueError(f"virtual time cannot go back from {self._now} to {t_ms}")
        self._now = t_ms

    def wall(self) -> _dt.datetime:
        return self.epoch + _dt.timedelta(milliseconds=self._now)


class MonotonicClock:
    """Live mode: real elapsed time from a monotonic source, shown against ``epoch``."""

    def __init__(self, epoch: _dt.datetime | None = None) -> None:
        # live: the wall-clock origin is read once, here, never inside simulated logic
        self.epoch = epoch or _dt.datetime.now().replace(microsecond=0)
        self._origin = time.monotonic_ns()

    def now(self) -> int:
        return (time.monotonic_ns() - self._origin) // 1_000_000

    def wall(self) -> _dt.datetime:
        return self.epoch + _dt.timedelta(milliseconds=self.now())
