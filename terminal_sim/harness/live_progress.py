"""Live mode's progress on stderr: virtual time, sales, findings so far.

A live run takes real time (a day at ``--speed 100`` is about four minutes), so it
says how far it is: on a terminal, one line rewritten in place twice a second; into a
file or a pipe, one line every ten seconds; and a last line when the day is over. The
line goes to the stream given (``pos-sim run`` passes stderr, nothing with
``--quiet``), never into an artifact: the run folder is the same with or without it.

"Findings so far" is the reconciliation of the evidence as it stands, which costs a
read of the roll, the stores and the host's rows: it is redone at most every
:data:`FINDINGS_EVERY_S` seconds and never more often than 20 times its own cost, so
it cannot slow the terminal down. A sale in flight at that moment (approved at the
host, not yet in the journal) may show as a finding until the next count.

Every string a person reads here is in :data:`MESSAGES` (one place, for translation).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import IO

#: What the progress line says; ``{…}`` fields are filled in by :class:`LiveProgress`.
MESSAGES = {
    "line": "live {time}  sales {started}/{planned}  findings so far: {findings}",
    "done": "live {time}  day over: {started} sales, findings: {findings}",
    "not_counted": "not counted yet",
}

#: seconds between two counts of the findings (at least)
FINDINGS_EVERY_S = 10.0
#: seconds between two lines: on a terminal (rewritten in place), into a file or pipe
TTY_EVERY_S = 0.5
LINE_EVERY_S = 10.0


class LiveProgress:
    """Throttled progress lines; :meth:`tick` is cheap when it is not time to write."""

    def __init__(self, stream: IO[str], *, planned: int,
                 now: Callable[[], dt.datetime],
                 findings: Callable[[], int]) -> None:
        self.stream = stream
        self.planned = planned
        self.started = 0
        self._now = now
        self._findings = findings
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._every = TTY_EVERY_S if self._tty else LINE_EVERY_S
        self._next_line = time.monotonic() + self._every
        self._next_count = time.monotonic()
        self._count: int | None = None

    def sale_started(self) -> None:
        self.started += 1

    def _text(self, key: str, findings: str) -> str:
        return MESSAGES[key].format(time=self._now().strftime("%H:%M:%S"),
                                    started=self.started, planned=self.planned,
                                    findings=findings)

    def _recount(self) -> None:
        began = time.monotonic()
        self._count = self._findings()
        cost = time.monotonic() - began
        self._next_count = time.monotonic() + max(FINDINGS_EVERY_S, 20 * cost)

    def tick(self) -> None:
        """Write a line if it is time."""
        moment = time.monotonic()
        if moment < self._next_line:
            return
        if moment >= self._next_count:
            self._recount()
        self._next_line = time.monotonic() + self._every
        findings = MESSAGES["not_counted"] if self._count is None else str(self._count)
        self._write(self._text("line", findings), final=False)

    def done(self, findings: int) -> None:
        self._write(self._text("done", str(findings)), final=True)

    def _write(self, text: str, *, final: bool) -> None:
        if self._tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
