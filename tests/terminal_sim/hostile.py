"""What the hostile-input tests of the servers share: log capture and a watched stderr."""

from __future__ import annotations

import logging
import subprocess
import threading
import time


class Records(logging.Handler):
    """Every record a logger emits, kept."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]

    def tracebacks(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.exc_info]


class Stderr:
    """A subprocess's stderr read line by line on a thread, each line with its arrival time."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.stamps: list[float] = []
        self._process = process
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        stream = self._process.stderr
        if stream is None:
            return
        for line in stream:
            self.stamps.append(time.monotonic())
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 10.0) -> bool:
        """Whether a line with ``text`` arrives within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.05)
        return False

    def most_lines_in_a_second(self, since: int = 0) -> int:
        """The most lines (from line ``since`` on) that arrived within one second."""
        stamps = self.stamps[since:]
        return max((sum(1 for t in stamps if start <= t < start + 1.0) for start in stamps),
                   default=0)

    def join(self) -> None:
        self._thread.join(timeout=5)
