"""Clocks: virtual (simulation) and scaled real time (live mode), in integer milliseconds.

Simulated logic reads time only through a :class:`Clock`. :class:`VirtualClock` advances
when the scheduler says so, which is what makes a run reproducible; :class:`ScaledClock`
runs by itself from a monotonic source, ``speed`` times faster than real time, and the
real-time scheduler (:mod:`terminal_sim.sim.realtime`) waits for it. Both also take
``advance_to`` from a scheduler (the scaled one ignores it).
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Protocol

from terminal_sim.errors import ConfigurationError, SimulationError

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
        #: the last ``wall()`` and what it was computed from (asked ~5 times a sale)
        self._wall = (epoch, 0, epoch)

    def now(self) -> int:
        return self._now

    def advance_to(self, t_ms: int) -> None:
        """Move to ``t_ms``; time never runs backwards (a clock-jump fault skews ``wall``)."""
        if t_ms < self._now:
            raise SimulationError(f"virtual time cannot go back from {self._now} to {t_ms}")
        self._now = t_ms

    def wall(self) -> _dt.datetime:
        epoch, at, wall = self._wall
        if at != self._now or epoch is not self.epoch:
            wall = self.epoch + _dt.timedelta(milliseconds=self._now)
            self._wall = (self.epoch, self._now, wall)
        return wall


class ScaledClock:
    """Live mode: virtual ms since start, ``speed`` times real time (``speed=1`` is real
    time), shown against the calendar from ``epoch``.

    This is the one clock that reads real time: live mode runs the terminal against a
    real acquirer, so elapsed time is the point here; simulated runs never use it.
    """

    def __init__(self, epoch: _dt.datetime, *, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ConfigurationError("speed must be positive")
        self.epoch = epoch
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> int:
        return int((time.monotonic() - self._origin) * 1000 * self.speed)

    def advance_to(self, t_ms: int) -> None:
        """Real time moves by itself; nothing to do (the scheduler waits instead)."""

    def wall(self) -> _dt.datetime:
        return self.epoch + _dt.timedelta(milliseconds=self.now())

    def real_seconds(self, virtual_ms: int) -> float:
        """How long ``virtual_ms`` of this clock's time takes in real seconds."""
        return max(0.0, virtual_ms / 1000 / self.speed)
