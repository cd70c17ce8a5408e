"""A helper process that syncs the ledger's WAL file when the server asks.

Why a process and not a thread: a sync thread shares the event loop's GIL. Each sync
then costs the loop thread two or three contended GIL hand-overs (the thread wakes,
takes the GIL, releases it in ``fsync``, takes it again to report back), measured at
about 50 µs of the loop's CPU per message on a two-core machine with 20 terminals
(bench/RESULTS.md, issue 19). ``fsync`` flushes a file, not a descriptor: the helper
opens the same WAL file and syncs it in a process of its own, the loop only writes one
byte to ask and reads one byte for the answer.

The protocol over the helper's stdin and stdout: the server writes ``s`` to ask for a
sync (one at a time); the helper answers ``1`` once ``fsync`` returned, ``0`` when it
failed (then the server sends nothing that sync covered). The first sync also syncs the
WAL's directory, so that the file's entry survives a power cut as well. End of stdin
(the server closed it, or died) ends the helper.
"""

from __future__ import annotations

import os
import subprocess
import sys

from terminal_sim.errors import JournalError

#: The helper: only ``os`` and ``sys``, started with ``-I -S`` (no site, no environment).
HELPER = """\
import os, sys
wal, directory = sys.argv[1], sys.argv[2]
fd = None
while os.read(0, 1):
    try:
        if fd is None:
            fd = os.open(wal, os.O_RDONLY)
            entry = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(entry)
            finally:
                os.close(entry)
        os.fsync(fd)
        answer = b"1"
    except OSError as exc:
        sys.stderr.write(f"wal sync failed: {exc}\\n")
        answer = b"0"
    os.write(1, answer)
"""

ASK = b"s"
DONE = b"1"


class WalSyncProcess:
    """One helper process syncing ``wal_path`` on request (see the module docstring)."""

    def __init__(self, wal_path: str, *, program: str = HELPER) -> None:
        directory = os.path.dirname(os.path.abspath(wal_path))
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", program, wal_path, directory],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, close_fds=True)
        except OSError as exc:
            raise JournalError(f"cannot start the WAL sync helper: {exc}") from exc
        if self._process.stdin is None or self._process.stdout is None:  # pragma: no cover
            raise JournalError("the WAL sync helper has no pipes")
        self._ask = self._process.stdin.fileno()
        #: readable when the helper answered: the server's event loop watches it
        self.answers = self._process.stdout.fileno()

    @property
    def pid(self) -> int:
        """The helper's process id."""
        return self._process.pid

    def ask(self) -> None:
        """Ask for one sync; its answer becomes readable on :attr:`answers`."""
        try:
            os.write(self._ask, ASK)
        except OSError as exc:  # the helper is gone
            raise JournalError(f"the WAL sync helper is gone: {exc}") from exc

    def answer(self) -> None:
        """Read the answer to :meth:`ask`: returns once the sync is done; ``JournalError``
        when it failed or the helper died."""
        try:
            answer = os.read(self.answers, 1)
        except OSError as exc:
            raise JournalError(f"the WAL sync helper is gone: {exc}") from exc
        if answer != DONE:
            reason = "failed" if answer else "ended"
            raise JournalError(f"ledger sync {reason} in the WAL sync helper "
                               f"(exit status {self._process.poll()})")

    def close(self, timeout: float = 5.0) -> None:
        """End the helper (end of its stdin) and wait for it; kill it if it lingers."""
        process = self._process
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
