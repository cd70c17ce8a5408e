"""Progress of long work (runs, sweeps, campaigns), on a terminal or in a log.

::

    with Progress(len(seeds), "sweep", stream=sys.stderr) as progress:
        for seed in seeds:
            run(seed)
            progress.advance()

On a terminal (the stream is a TTY and ``CI`` is not set) one line is redrawn in
place at most ``refresh_s`` apart: a bar, done/total, percent, the rate and the time
left. Anywhere else (a pipe, a log file, CI) it writes plain lines, one each time
another ``step_percent`` is done, and a last one with the total time, so logs stay
short and readable. ``total=None`` (unknown amount of work) counts without percent or
time left. Nothing is written at all with ``enabled=False``. With ``count_failed=True``
the line also says how many of the units done failed (``advance(n, failed=k)``: a
campaign's failing seeds so far).

The clock is ``time.monotonic`` unless one is given (tests pass their own).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO

from terminal_sim.errors import ConfigurationError

__all__ = ["Progress", "format_duration", "is_interactive"]

BAR_WIDTH = 24


def is_interactive(stream: IO[str]) -> bool:
    """True when ``stream`` is a terminal a person watches (not CI, not a pipe)."""
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


def format_duration(seconds: float) -> str:
    """``1h02m``, ``3m05s``, ``12.3s``: short, for rates and times left."""
    if seconds < 0 or seconds != seconds:  # negative or NaN: nothing sensible to say
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Counts work done and tells how far along it is."""

    def __init__(self, total: int | None, label: str = "", *, stream: IO[str] | None = None,
                 unit: str = "", interactive: bool | None = None, step_percent: int = 10,
                 refresh_s: float = 0.1, enabled: bool = True, count_failed: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if total is not None and total < 0:
            raise ConfigurationError(f"total: at least 0, got {total}")
        if not 1 <= step_percent <= 100:
            raise ConfigurationError(f"step_percent: between 1 and 100, got {step_percent}")
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.unit = f" {unit}" if unit else ""
        self.interactive = is_interactive(self.stream) if interactive is None else interactive
        self.step_percent = step_percent
        self.refresh_s = refresh_s
        self.enabled = enabled
        self._clock = clock
        self.count_failed = count_failed
        self.done = 0
        self.failed = 0
        self._started = clock()
        self._last_draw = -1e9
        self._next_step = step_percent  # the next percent a plain line is written at
        self._width = 0
        self._closed = False

    # -- the API -----------------------------------------------------------------------------

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(failed=exc is not None)

    def advance(self, n: int = 1, *, failed: int = 0) -> None:
        """``n`` more units are done, ``failed`` of them failed."""
        if n < 0:
            raise ConfigurationError(f"advance: at least 0, got {n}")
        if not 0 <= failed <= n:
            raise ConfigurationError(f"advance: failed between 0 and {n}, got {failed}")
        self.done += n
        self.failed += failed
        if not self.enabled or self._closed:
            return
        if self.interactive:
            now = self._clock()
            if now - self._last_draw >= self.refresh_s or self._finished():
                self._last_draw = now
                self._redraw(self.line())
        else:
            self._plain_steps()

    def close(self, *, failed: bool = False) -> None:
        """The work ended: write the last line (once)."""
        if self._closed:
            return
        self._closed = True
        if not self.enabled:
            return
        elapsed = format_duration(self._clock() - self._started)
        verdict = "stopped" if failed else "done"
        last = f"{self._prefix()}{verdict}: {self._count()} in {elapsed}"
        rate = self.rate()
        if rate is not None:
            last += f" ({self._rate_text(rate)})"
        if self.count_failed:
            last += f", {self._failed_text()}"
        if self.interactive:
            self._redraw(last)
            self.stream.write("\n")
        else:
            self.stream.write(last + "\n")
        self.stream.flush()

    # -- numbers ------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return max(0.0, self._clock() - self._started)

    def rate(self) -> float | None:
        """Units per second so far (None before any time has passed)."""
        elapsed = self.elapsed()
        return self.done / elapsed if elapsed > 0 and self.done else None

    def eta(self) -> float | None:
        """Seconds left at the rate so far (None when unknown)."""
        rate = self.rate()
        if self.total is None or rate is None:
            return None
        return max(0, self.total - self.done) / rate

    def fraction(self) -> float | None:
        if self.total is None:
            return None
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)

    # -- text ----------------------------------------------------------------------------------

    def _prefix(self) -> str:
        return f"{self.label}: " if self.label else ""

    def _count(self) -> str:
        if self.total is None:
            return f"{self.done}{self.unit}"
        return f"{self.done}/{self.total}{self.unit}"

    def _failed_text(self) -> str:
        return f"{self.failed} failing"

    @staticmethod
    def _rate_text(rate: float) -> str:
        return f"{rate:.1f}/s" if rate < 100 else f"{rate:,.0f}/s"

    def line(self) -> str:
        """The one-line picture of now (the TTY form)."""
        parts = [self._prefix().rstrip(": ")] if self.label else []
        fraction = self.fraction()
        if fraction is not None:
            filled = round(fraction * BAR_WIDTH)
            parts.append("[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]")
            parts.append(f"{self._count()} {fraction:4.0%}")
        else:
            parts.append(self._count())
        rate = self.rate()
        if rate is not None:
            parts.append(self._rate_text(rate))
        if self.count_failed:
            parts.append(self._failed_text())
        eta = self.eta()
        if eta is not None and not self._finished():
            parts.append(f"ETA {format_duration(eta)}")
        return " ".join(parts)

    def _finished(self) -> bool:
        return self.total is not None and self.done >= self.total

    def _redraw(self, text: str) -> None:
        # pad with spaces over a longer previous line instead of relying on terminal codes
        pad = " " * max(0, self._width - len(text))
        self.stream.write("\r" + text + pad)
        self.stream.flush()
        self._width = len(text)

    def _plain_steps(self) -> None:
        fraction = self.fraction()
        if fraction is None:
            return  # unknown total: only the closing line says how much was done
        percent = fraction * 100
        if percent + 1e-9 < self._next_step:
            return
        while self._next_step <= percent + 1e-9:
            self._next_step += self.step_percent
        eta = self.eta()
        text = f"{self._prefix()}{self._count()} ({percent:.0f}%)"
        rate = self.rate()
        if rate is not None:
            text += f", {self._rate_text(rate)}"
        if self.count_failed:
            text += f", {self._failed_text()}"
        if eta is not None and not self._finished():
            text += f", about {format_duration(eta)} left"
        self.stream.write(text + "\n")
        self.stream.flush()
