"""A seeded discrete-event scheduler on a virtual clock.

Ties at the same virtual time run in the order they were scheduled (a sequence number
breaks them), never in hash or heap-internal order: that is what makes runs repeat.

The heap holds ``(at, seq, item)`` tuples: tuples of ints compare in C, and ``seq`` is
unique, so the item itself is never compared (a heap of :class:`Scheduled` with a
Python ``__lt__`` made ~18 calls of it per push and pop).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from terminal_sim.base.clock import ScaledClock, VirtualClock
from terminal_sim.errors import SimulationError


@dataclass(slots=True)
class Scheduled:
    """A pending action; ``cancel()`` makes the scheduler skip it.

    Ordered by (``at``, ``seq``), as the scheduler runs them (its heap holds the
    ``(at, seq, item)`` tuples and never compares items itself).
    """

    at: int
    seq: int
    action: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)
    #: periodic housekeeping (sync rounds): does not keep the world from being "quiet"
    background: bool = field(default=False, compare=False)

    def __lt__(self, other: Scheduled) -> bool:
        if self.at != other.at:
            return self.at < other.at
        return self.seq < other.seq

    def __le__(self, other: Scheduled) -> bool:
        return (self.at, self.seq) <= (other.at, other.seq)

    def __gt__(self, other: Scheduled) -> bool:
        return (self.at, self.seq) > (other.at, other.seq)

    def __ge__(self, other: Scheduled) -> bool:
        return (self.at, self.seq) >= (other.at, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """Runs actions in virtual-time order."""

    def __init__(self, clock: VirtualClock | ScaledClock) -> None:
        self.clock = clock
        self._queue: list[tuple[int, int, Scheduled]] = []
        self._seq = 0
        self.steps = 0

    def at(self, t: int, action: Callable[[], None], *, background: bool = False) -> Scheduled:
        """Run ``action`` at virtual time ``t`` (not before now)."""
        self._seq += 1
        seq = self._seq
        now = self.clock.now()
        at = t if t > now else now
        item = Scheduled(at, seq, action, background=background)
        heapq.heappush(self._queue, (at, seq, item))
        return item

    def after(self, delay_ms: int, action: Callable[[], None], *,
              background: bool = False) -> Scheduled:
        return self.at(self.clock.now() + (delay_ms if delay_ms > 0 else 0), action,
                       background=background)

    def quiet(self) -> bool:
        """Nothing but background housekeeping is pending."""
        return all(item.cancelled or item.background for _, _, item in self._queue)

    def run(self, *, until: int | None = None, until_quiet: bool = False,
            max_steps: int = 10_000_000) -> None:
        """Run until nothing is pending, or virtual time ``until``, or (``until_quiet``)
        until only background work is left."""
        queue = self._queue
        pop = heapq.heappop
        advance_to = self.clock.advance_to
        while queue:
            if until is not None and queue[0][0] > until:
                break
            if until_quiet and self.quiet():
                break
            at, _, item = pop(queue)
            if item.cancelled:
                continue
            advance_to(at)
            item.action()
            self.steps += 1
            if self.steps >= max_steps:
                raise SimulationError(f"simulation did not settle within {max_steps} steps")

    @property
    def pending(self) -> int:
        return sum(1 for _, _, item in self._queue if not item.cancelled)

    def next_at(self) -> int | None:
        """Virtual time of the next pending action."""
        live = [at for at, _, item in self._queue if not item.cancelled]
        return min(live) if live else None
