"""One stream of bytes to a device server, cut into jobs and filed; and throttled logging.

A :class:`Session` feeds a connection's bytes to its own
:class:`~printer.interpreter.EscPosInterpreter`, takes the receipts the printer finished
after each chunk (:meth:`~printer.interpreter.EscPosInterpreter.take`, so nothing piles up
in memory), and files each with exactly its bytes. Bytes between two receipts that printed
nothing but made the printer warn (paper out, cover open, a line never ended, a raster too
big ...) are filed as a job that printed nothing, with that reason. Bytes that printed
nothing and raised no warning, or that are only status requests and ``ESC @`` (what
python-escpos's ``paper_status()`` sends, even to a printer without paper), are not a job.

The stream that uses up a finite roll is marked (:attr:`Session.used_up_roll`): the
server puts a new roll in when that stream ends.

Memory per session is bounded: the receipt in progress by the roll's length (the
interpreter counts paper), its bytes by :class:`~printer.filing.JobBytes` (1 MiB in
memory, then a spool file, at most ``job_limit`` kept), its warnings by the interpreter's
cap and :data:`MAX_JOB_WARNINGS` for a job that printed nothing.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

from printer.filing import JobBytes, ReceiptSink
from printer.interpreter import EscPosInterpreter
from printer.roll import Receipt, RollWarning

__all__ = ["MAX_JOB_WARNINGS", "Session", "Throttle"]

MAX_JOB_WARNINGS = 100
# DLE EOT n, DLE ENQ n, GS r n, ESC v, ESC u n, ESC @: asking, not printing
_QUERIES = re.compile(rb"(?:\x10\x04[\x01-\x04]|\x10\x05[\x00-\x02]|\x1dr[\x01\x0212]"
                      rb"|\x1bv|\x1bu[\x00\x01]|\x1b@)*")


class Throttle:
    """Logging that survives a flood: each kind of message at most once a second (the
    repeats counted and reported with the next one), and at most ``per_second`` lines a
    second in all."""

    def __init__(self, log: logging.Logger, per_second: int = 5) -> None:
        self.log = log
        self.per_second = per_second
        self._kinds: dict[str, list[float]] = {}  # kind -> [last logged, repeats since]
        self._window = 0.0
        self._lines = 0

    def __call__(self, kind: str, level: int, message: str) -> None:
        now = time.monotonic()
        seen = self._kinds.get(kind)
        if seen is not None and now - seen[0] < 1.0:
            seen[1] += 1
            return
        if now - self._window >= 1.0:
            self._window, self._lines = now, 0
        if self._lines >= self.per_second:
            if seen is not None:
                seen[1] += 1
            return
        self._lines += 1
        if seen is not None and seen[1]:
            message += f" (and {int(seen[1])} more like it before)"
        self.log.log(level, "%s", message)
        self._kinds[kind] = [now, 0]

    def flush(self) -> None:
        """Report repeats not reported yet (when a burst is over)."""
        now = time.monotonic()
        for kind, seen in self._kinds.items():
            if seen[1] and now - seen[0] >= 1.0:
                self.log.info("%s: %d more time(s) in the last %.1f s", kind, int(seen[1]),
                              now - seen[0])
                seen[0], seen[1] = now, 0


class Session:
    """One stream: its interpreter, the job in progress, and where jobs are filed."""

    def __init__(self, number: int, source: str, interpreter: EscPosInterpreter,
                 sink: ReceiptSink, *, job_limit: int = 64 << 20,
                 throttle: Throttle | None = None) -> None:
        self.number = number
        self.source = source
        self.interpreter = interpreter
        self.sink = sink
        self.job_limit = job_limit
        self.throttle = throttle
        self.job = self._new_job()
        self.job_start = 0  # stream offset of the job's first byte
        self.position = 0  # stream offset of the next byte to add to the job
        self.warnings: list[RollWarning] = []  # of the job, outside any receipt
        self.more_warnings = 0
        self.last_active = time.monotonic()
        self.used_up_roll = False
        self.filed_last = 0  # jobs the last chunk finished
        # the receive buffer (printer.control): bytes of this stream wait in it
        self.holding = False
        self.held_reason: str | None = None  # why they waited; on the receipts they make
        self.ended = False  # the stream closed while its bytes waited: finish when printed

    def _new_job(self) -> JobBytes:
        return JobBytes(self.sink.folder, limit=self.job_limit)

    def feed(self, data: bytes) -> bytes:
        """Receive ``data``; file what it finished; return the printer's replies."""
        self.last_active = time.monotonic()
        base = self.interpreter.offset
        state = self.interpreter.state
        ended = state.roll_ended
        reply = self.interpreter.feed(data)
        self.used_up_roll |= state.roll_ended and not ended
        self._file(data, base)
        return reply

    def finish(self) -> None:
        """End the stream: file the receipt in progress (truncated) and what is left."""
        base = self.interpreter.offset
        self.interpreter.finish()
        self._file(b"", base)
        if self.position > self.job_start and self.warnings:
            self._file_unprinted(self.interpreter.offset)
        else:
            self.job.discard()

    def note_held(self, size: int) -> None:
        """File the event: this stream's bytes wait in the receive buffer from now."""
        try:
            self.sink.add_event("held", source=self.source, connection=self.number,
                                offset=self.interpreter.offset, reason=self.held_reason)
        except OSError as exc:
            self._filing_failed(b"", self.interpreter.offset, exc)

    def file_lost(self, data: bytes, reason: str) -> None:
        """File bytes that waited in the receive buffer and will never print."""
        start = self.interpreter.offset
        try:
            self.sink.add_unprinted(data, source=self.source, connection=self.number,
                                    start=start, end=start + len(data), reason=reason,
                                    warnings=(), held=self.held_reason)
        except OSError as exc:
            self._filing_failed(data, start, exc)

    def close(self) -> None:
        """Forget the job in progress without filing it (the spool file goes too)."""
        self.job.discard()

    # -- filing -----------------------------------------------------------------------------

    def _file(self, data: bytes, base: int) -> None:
        receipts, warnings = self.interpreter.take()
        self.filed_last = len(receipts)
        in_receipts = {id(warning) for receipt in receipts for warning in receipt.warnings}
        free = [warning for warning in warnings if id(warning) not in in_receipts]
        view = memoryview(data)
        for receipt in receipts:
            start = max(receipt.start_offset, self.position)
            free = self._note(free, start)
            if start > self.position:  # bytes that printed nothing before this receipt
                self._add(view, base, start)
                if self.warnings:
                    self._file_unprinted(start)
                else:
                    self.job.discard()
                    self._restart(start)
            end = max(receipt.end_offset, start)
            self._add(view, base, end)
            self._file_receipt(receipt, end)
        self._note(free, None)
        self._add(view, base, base + len(data))

    def _add(self, view: memoryview, base: int, upto: int) -> None:
        """Add the chunk's bytes from ``position`` up to stream offset ``upto``."""
        lo = max(self.position - base, 0)
        hi = min(upto - base, len(view))
        if hi > lo:
            self.job.add(view[lo:hi])
        self.position = max(self.position, upto)

    def _note(self, free: list[RollWarning], before: int | None) -> list[RollWarning]:
        """Take the warnings of the job in progress (those before offset ``before``, a
        receipt's start): they are no receipt's; return the others."""
        rest = []
        for warning in free:
            if before is not None and warning.offset >= before:
                rest.append(warning)
            elif len(self.warnings) < MAX_JOB_WARNINGS:
                self.warnings.append(warning)
            else:
                self.more_warnings += 1
        return rest

    def _restart(self, at: int) -> None:
        self.job = self._new_job()
        self.job_start = self.position = at
        self.warnings = []
        self.more_warnings = 0

    def _file_receipt(self, receipt: Receipt, end: int) -> None:
        job = self.job
        start = self.job_start
        self._restart(end)
        data = job.finish()
        held, self.held_reason = self.held_reason, (self.held_reason if self.holding else None)
        try:
            self.sink.add(receipt, data, source=self.source, connection=self.number,
                          dropped=job.dropped, held=held)
        except OSError as exc:
            self._filing_failed(data, start, exc)

    def _file_unprinted(self, end: int) -> None:
        job, warnings, more = self.job, self.warnings, self.more_warnings
        start = self.job_start
        self._restart(end)
        if job.path is None and _QUERIES.fullmatch(job.memory):
            job.discard()
            return
        reasons: list[str] = []
        for warning in warnings:
            if warning.reason not in reasons:
                reasons.append(warning.reason)
        reason = "; ".join(reasons[:3])
        if len(reasons) > 3 or more:
            reason += f" (+{len(reasons) - 3 + more if len(reasons) > 3 else more} more)"
        data = job.finish()
        try:
            self.sink.add_unprinted(data, source=self.source, connection=self.number,
                                    start=start, end=end, reason=reason,
                                    warnings=warnings, dropped=job.dropped)
        except OSError as exc:
            self._filing_failed(data, start, exc)

    def _filing_failed(self, data: Any, start: int, exc: OSError) -> None:
        where = f" (its bytes stay in {data.name})" if isinstance(data, Path) else ""
        if self.throttle is not None:
            self.throttle("filing", logging.ERROR,
                          f"connection {self.number}: the job from byte {start} could not be "
                          f"filed: {exc}{where}")
