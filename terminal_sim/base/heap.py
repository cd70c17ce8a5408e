"""The cyclic garbage collector during one simulated run: what was there before is frozen.

A run (:meth:`terminal_sim.sim.simulation.Simulation.run`) allocates steadily and keeps
much of it to the end (trace records, receipts, rows), so CPython's collector makes a few
full collections in a long day. Each walks every tracked object of the process, most of
them there before the run began: imported modules, classes, functions (~37,000 after
the simulator's imports). :func:`frozen_heap` moves those into the collector's permanent
generation for the run (``gc.freeze()``) and back when it ends (``gc.unfreeze()``), so a
full collection walks only what the run made.

It never changes what a run computes: objects are still freed by reference counting,
and cyclic garbage made during the run is collected as before; only cycles among the
objects that were already there wait until the run ends. It stays out of the way of
whoever else tunes the collector: when objects are frozen already (a caller's
``gc.freeze()``, an enclosing run, another thread's run) it does nothing, and it
unfreezes only what it froze, in a ``finally``.

:func:`freeze_more`, inside a block that froze, moves what the run has made since into
the permanent generation as well: the end of a run (reconciliation) reads what the day
made and allocates much of its own, so a full collection came there once in each day
of 3,000 sales measured, ~45 ms walking the whole day; after it, such a collection walks
only what the end makes. The block's ``gc.unfreeze()`` returns everything.

The same block raises the youngest generation's threshold to
:data:`RUN_YOUNG_THRESHOLD` (CPython's default: 700) and puts it back at its end (unless it was
changed inside the block: that change stays). A sale leaves ~20 tracked objects that
live to the end of the run (trace records, rows, the roll's elements); each young
collection moves the ones it finds alive to the middle generation, whose collections
walk them again and move them on to the oldest, whose growth sets off a full collection.
The store day (10 terminals x 300 sales) with 700: 273 young collections, 24 middle
(~1 ms each), one full (~20 ms in the middle of the day), ~60-70 ms in all; with 50,000:
3 young collections and no other, ~20 ms.
Cyclic garbage still goes at the next young collection, after at most 50,000 net
allocations of tracked objects (a few MB).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["RUN_YOUNG_THRESHOLD", "freeze_more", "frozen_heap"]

#: the youngest generation's threshold inside :func:`frozen_heap` (at least this)
RUN_YOUNG_THRESHOLD = 50_000


@contextmanager
def frozen_heap() -> Iterator[bool]:
    """Freeze the objects there now for the ``with`` block (True when it did)."""
    if gc.get_freeze_count() or not gc.isenabled():
        yield False
        return
    gc.freeze()
    threshold = gc.get_threshold()
    ours = (max(threshold[0], RUN_YOUNG_THRESHOLD), *threshold[1:])
    gc.set_threshold(*ours)
    try:
        yield True
    finally:
        if gc.get_threshold() == ours:  # changed inside the block: that change stays
            gc.set_threshold(*threshold)
        gc.unfreeze()


def freeze_more(froze: bool) -> None:
    """Within a :func:`frozen_heap` block that froze (``froze``: what it yielded), freeze
    the objects made since as well; nothing when it did not (a caller's freeze is the
    caller's) or when the collector is disabled."""
    if froze and gc.isenabled():
        gc.freeze()
