"""What keeps a live server sane under hostile load: a budget of log lines, escaped peer
text, and a connection cap the descriptor limit can afford.

A server out of file descriptors, or hammered by a broken peer, meets the same error
thousands of times a second; one line each buries the log (and the disk). A
:class:`RateLimitedLog` writes at most ``per_second`` lines in any second (a sliding
window) and counts what it held back; the next line it writes is preceded by
``N similar errors suppressed`` (counted in the budget), and :meth:`flush` writes that
summary when the flood stops. As a ``logging`` filter it puts another logger's lines on
the same budget. Live servers only: it reads the monotonic clock (tests
hand it their own).

:func:`printable` escapes control characters, so a message type or a peer's bytes with
newlines cannot forge log lines or ledger rows.

:func:`affordable_connections` caps a server's connections below the process's
descriptor limit (``ulimit -n``, ``prlimit --nofile``), keeping a reserve for its files:
a connection beyond the cap is refused, rather than ``accept`` failing with EMFILE.
"""

from __future__ import annotations

import logging
import resource
import threading
import time
from collections import deque
from collections.abc import Callable

from terminal_sim.errors import ConfigurationError

__all__ = ["RateLimitedLog", "affordable_connections", "printable"]

#: At most this many lines a second, unless told otherwise.
LINES_PER_SECOND = 10


class RateLimitedLog:
    """A logger's ``log`` with a budget of lines per second."""

    def __init__(self, logger: logging.Logger, *, per_second: int = LINES_PER_SECOND,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_second < 2:  # room for a summary and the line after it
            raise ConfigurationError(f"per_second: at least 2, got {per_second}")
        self.logger = logger
        self.per_second = per_second
        self.clock = clock
        self.suppressed = 0
        self._written: deque[float] = deque()
        self._lock = threading.RLock()  # a threaded server's handlers share one budget

    def _room(self, now: float) -> int:
        while self._written and now - self._written[0] >= 1.0:
            self._written.popleft()
        return self.per_second - len(self._written)

    def admit(self) -> bool:
        """May one more line be written now? (Counts it, or counts it suppressed.)"""
        with self._lock:
            now = self.clock()
            room = self._room(now)
            if self.suppressed and room >= 1:
                self._summary(now)
                room -= 1
            if room < 1:
                self.suppressed += 1
                return False
            self._written.append(now)
            return True

    def filter(self, record: logging.LogRecord) -> bool:
        """The ``logging.Filter`` protocol: put another logger on the same budget."""
        del record
        return self.admit()

    def log(self, level: int, msg: str, *args: object, exc_info: bool = False) -> bool:
        """Log like ``logger.log``, or count the line as suppressed; True when written."""
        if not self.admit():
            return False
        self.logger.log(level, msg, *args, exc_info=exc_info)
        return True

    def warning(self, msg: str, *args: object) -> bool:
        return self.log(logging.WARNING, msg, *args)

    def info(self, msg: str, *args: object) -> bool:
        return self.log(logging.INFO, msg, *args)

    def error(self, msg: str, *args: object, exc_info: bool = False) -> bool:
        return self.log(logging.ERROR, msg, *args, exc_info=exc_info)

    def flush(self) -> None:
        """Write the pending summary (when the budget allows: else at the next call)."""
        with self._lock:
            now = self.clock()
            if self.suppressed and self._room(now) >= 1:
                self._summary(now)

    def _summary(self, now: float) -> None:
        count, self.suppressed = self.suppressed, 0
        self._written.append(now)
        self.logger.warning("%d similar errors suppressed", count)


def printable(text: str, limit: int | None = 200) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b`` ...), cut at ``limit``
    characters (``None``: never cut)."""
    cut = text if limit is None else text[:limit]
    if cut.isprintable():
        escaped = cut
    else:
        escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return escaped + ("..." if limit is not None and len(text) > limit else "")


def affordable_connections(wanted: int, reserve: int) -> int:
    """``wanted`` connections, or fewer when the descriptor limit less ``reserve`` is lower
    (at least one)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - reserve))
