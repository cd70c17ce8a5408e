"""Live mode's scheduler: it waits for a clock that runs by itself.

The clock is :class:`~terminal_sim.base.clock.ScaledClock` (virtual milliseconds from a
monotonic source, ``speed`` times faster than real time). :class:`RealTimeScheduler`
has the :class:`~terminal_sim.sim.scheduler.Scheduler` interface: it sleeps until the
next action is due, and runs at once any callable another thread hands it through
:meth:`RealTimeScheduler.call_soon_threadsafe` (replies from the TCP link). This is
the one place where the wall clock drives the terminal: live mode, not simulation.
"""

from __future__ import annotations

import heapq
import queue
from collections.abc import Callable

from terminal_sim.base.clock import ScaledClock
from terminal_sim.errors import SimulationError
from terminal_sim.sim.scheduler import Scheduled, Scheduler


class RealTimeScheduler(Scheduler):
    """Runs actions when their virtual time has come, in real (scaled) time."""

    clock: ScaledClock

    def __init__(self, clock: ScaledClock) -> None:
        super().__init__(clock)
        self._posted: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.stopped = False
        #: called between actions and at least every ``tick_seconds`` of real time
        #: (live progress); it must be cheap when it has nothing to do
        self.ticker: Callable[[], None] | None = None
        self.tick_seconds = 0.25

    def call_soon_threadsafe(self, action: Callable[[], None]) -> None:
        """From any thread: run ``action`` on the scheduler's thread as soon as it can."""
        self._posted.put(action)

    def stop(self) -> None:
        self.stopped = True
        self._posted.put(lambda: None)

    def run(self, *, until: int | None = None, until_quiet: bool = False,
            max_steps: int = 10_000_000, idle_grace_ms: int = 0) -> None:
        """Run until nothing is pending (or ``until``, or only background work is left).

        ``idle_grace_ms`` keeps waiting that long (virtual) for posted work once the
        queue looks done, so a reply already on the wire is not cut off.
        """
        queue_ = self._queue
        while not self.stopped:
            if self.ticker is not None:
                self.ticker()
            self._drain_posted()
            while queue_ and queue_[0][2].cancelled:
                heapq.heappop(queue_)
            done = not queue_ or (until_quiet and self.quiet())
            if until is not None and self.clock.now() >= until:
                break
            if done:
                if not self._wait_posted(self.clock.real_seconds(idle_grace_ms)):
                    break
                continue
            item = queue_[0][2]
            due = item.at if until is None else min(item.at, until)
            wait = self.clock.real_seconds(due - self.clock.now())
            if wait > 0:
                # with a ticker, wake up in time for it even when nothing is due
                capped = self.ticker is not None and wait > self.tick_seconds
                if self._wait_posted(self.tick_seconds if capped else wait) or capped:
                    continue  # posted work first, then look at the queue again
            if until is not None and item.at > until:
                continue
            heapq.heappop(queue_)
            if item.cancelled:
                continue
            item.action()
            self.steps += 1
            if self.steps >= max_steps:
                raise SimulationError(f"live run did not settle within {max_steps} steps")

    def _drain_posted(self) -> None:
        while True:
            try:
                action = self._posted.get_nowait()
            except queue.Empty:
                return
            action()

    def _wait_posted(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for posted work; run it and return True if any came."""
        try:
            action = self._posted.get(timeout=seconds) if seconds > 0 else (
                self._posted.get_nowait())
        except queue.Empty:
            return False
        action()
        self._drain_posted()
        return True


__all__ = ["RealTimeScheduler", "ScaledClock", "Scheduled"]
