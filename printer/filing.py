"""Where a device server's jobs go: a folder of numbered files and an append-only index.

=================  =========================================================================
file               what
=================  =========================================================================
``NNNN.bin``       the bytes of the job as received (from the previous cut to this one)
``NNNN.txt``       a receipt's text, as :attr:`~printer.roll.Receipt.text`
``NNNN.png``       a receipt's picture (:func:`~printer.render.receipt_png_bytes`; drawn up
                   to :data:`~printer.render.MAX_DRAWN_DOTS`, then a display cut)
``index.jsonl``    one JSON object a line, one line per job, appended (never rewritten):
                   number, files, source, connection, cut, truncated, blank, byte offsets,
                   bytes, bytes_dropped, warnings, printed, reason, held, time received;
                   and event lines (``"event": "held"``: a stream's bytes began to wait in
                   the printer's receive buffer, with the reason, the connection and the
                   stream offset; they carry no number)
=================  =========================================================================

A job whose bytes waited in the receive buffer (the cover was open ...) has ``held``: the
reason it waited; ``printed`` tells whether it printed when the printer came back. Bytes
still waiting when the power goes or the server stops are filed as a job that never
printed, the reason saying so.

A job that printed nothing (the paper was out, the cover open, a line never finished, a
raster too big ...) is filed too: its bytes, ``printed: false`` and the ``reason`` (the
printer's warnings for those bytes); it has no ``.txt`` or ``.png``.

**Cost.** Filing a job writes its files and appends one line: the same cost for the first
and the ten-thousandth job. Numbering goes on after the highest number found when the
sink opens, in the index *or on disk* (a file written before a crash but never indexed
keeps its number), and a number whose files exist is skipped, so no file is overwritten.

**Durability (fsync policy).** A job's files are created new (never over an existing
file) and written whole before its index line is appended, so every indexed file is
complete; a server killed mid-job can leave a partial file that no line indexes (its
number is not reused). A spool file (``.spool-*.tmp``, a job's bytes beyond 1 MiB) is
renamed into place. Nothing is fsynced per job: the
index is fsynced at most once per ``sync_interval`` (1 s) by :meth:`ReceiptSink.sync`,
which the server calls from its loop, and the index and the folder are fsynced when the
sink closes. So a killed process loses nothing filed; a power loss can lose the jobs of
the last second, and the data files of a job indexed just before it (their size is in the
index: a reader can tell). A torn last index line (a crash mid-append) is dropped when the
sink opens again; its files stay, and keep their number.

An ``index.json`` of an older version of this server is taken over once into
``index.jsonl`` (it is left in place).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from printer.errors import PrinterConfigurationError
from printer.roll import Receipt, RollWarning

__all__ = ["INDEX", "JobBytes", "ReceiptSink"]

INDEX = "index.jsonl"
_LEGACY_INDEX = "index.json"
_NUMBERED = re.compile(r"(\d{4,})\.(?:bin|txt|png)")
_SUFFIXES = (".bin", ".txt", ".png")


class JobBytes:
    """The bytes of one job in progress: in memory up to ``spill`` bytes, then in a
    spool file in ``folder``; at most ``limit`` bytes are kept (the rest only counted)."""

    def __init__(self, folder: Path, *, spill: int = 1 << 20, limit: int = 64 << 20) -> None:
        self.folder = folder
        self.spill = spill
        self.limit = limit
        self.size = 0  # bytes received
        self.kept = 0  # bytes kept (in memory or in the spool file)
        self.memory = bytearray()
        self.path: Path | None = None
        self._file: Any = None

    def add(self, data: bytes | memoryview) -> None:
        """Append ``data`` (the part beyond ``limit`` is counted, not kept)."""
        self.size += len(data)
        room = self.limit - self.kept
        if room <= 0 or not data:
            return
        part = data[:room]
        self.kept += len(part)
        if self._file is None and len(self.memory) + len(part) <= self.spill:
            self.memory += part
            return
        try:
            if self._file is None:
                self._open_spool()
            self._file.write(part)
        except OSError:  # no descriptor or no space: what fits in memory is kept
            self.kept -= len(part)
            self.limit = self.kept

    def _open_spool(self) -> None:
        handle, name = tempfile.mkstemp(dir=self.folder, prefix=".spool-", suffix=".tmp")
        self.path = Path(name)
        self._file = os.fdopen(handle, "wb")
        self._file.write(self.memory)
        self.memory = bytearray()

    @property
    def dropped(self) -> int:
        return self.size - self.kept

    def finish(self) -> bytes | Path:
        """The kept bytes, or the closed spool file holding them."""
        if self._file is None:
            return bytes(self.memory)
        self._file.close()
        self._file = None
        path, self.path = self.path, None  # the caller's now
        return path if path is not None else b""

    def discard(self) -> None:
        """Forget the bytes (and delete the spool file)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None
        self.memory = bytearray()


class ReceiptSink:
    """Files jobs into a folder (see the module doc). Thread-safe; ``png=False`` skips
    the pictures (for speed)."""

    def __init__(self, folder: str | os.PathLike[str], *, width_dots: int = 576,
                 png: bool = True, sync_interval: float = 1.0) -> None:
        self.folder = Path(folder)
        self.width_dots = width_dots
        self.png = png
        self.sync_interval = sync_interval
        self._lock = threading.Lock()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0  # jobs filed since the sink opened
        self._next = self._open_index() + 1
        self._dirty = False
        self._synced = time.monotonic()
        self._warm = False

    # -- opening ----------------------------------------------------------------------------

    def _open_index(self) -> int:
        """Open the index for appending; return the highest number in it or on disk."""
        path = self.folder / INDEX
        highest = 0
        if not path.exists() and (self.folder / _LEGACY_INDEX).exists():
            lines = [json.dumps(entry) + "\n" for entry in self._legacy_entries()]
            path.write_text("".join(lines), encoding="utf-8")
        if path.exists():
            highest = self._read_numbers(path)
        with os.scandir(self.folder) as found:
            for item in found:
                match = _NUMBERED.fullmatch(item.name)
                if match:
                    highest = max(highest, int(match.group(1)))
        self._index = open(path, "ab")  # noqa: SIM115 - open for the sink's lifetime
        return highest

    def _read_numbers(self, path: Path) -> int:
        data = path.read_bytes()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):  # a torn last line: that append never finished
            with open(path, "r+b") as handle:
                handle.truncate(complete)
        highest = 0
        for number, line in enumerate(data[:complete].splitlines(), start=1):
            try:
                entry = json.loads(line)
                if "event" not in entry:
                    highest = max(highest, int(entry["number"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise PrinterConfigurationError(
                    f"{path} line {number} is not an index line this server wrote ({exc}); "
                    f"choose another --out folder") from exc
        return highest

    def _legacy_entries(self) -> list[dict[str, Any]]:
        index = self.folder / _LEGACY_INDEX
        try:
            entries = json.loads(index.read_text(encoding="utf-8"))["receipts"]
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise TypeError("receipts is not a list of entries")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PrinterConfigurationError(
                f"{index} exists but is not an index this server wrote ({exc}); "
                f"choose another --out folder") from exc
        return entries

    # -- reading ----------------------------------------------------------------------------

    @property
    def entries(self) -> list[dict[str, Any]]:
        """Every index entry (read from the index: for tools and tests, not a hot path)."""
        with self._lock:
            self._index.flush()
            lines = (self.folder / INDEX).read_bytes().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    # -- filing -----------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load what drawing needs (fonts: ~0.5 s) before the first receipt comes."""
        if self.png and not self._warm:
            self._warm = True
            from printer.interpreter import parse
            from printer.render import receipt_png_bytes

            for receipt in parse(b"\x1b@WARM UP\n\x1b!\x01FONT B\n\x1dV\x00").receipts:
                receipt_png_bytes(receipt, width_dots=self.width_dots)

    def add(self, receipt: Receipt, data: bytes | Path, *, source: str, connection: int,
            dropped: int = 0, held: str | None = None) -> dict[str, Any]:
        """File one receipt (``data``: its bytes, or a spool file of them, moved into
        place); ``dropped``: its bytes beyond the kept limit. Return its index entry."""
        from printer.render import receipt_png_bytes

        picture = (receipt_png_bytes(receipt, width_dots=self.width_dots)
                   if self.png else None)
        with self._lock:
            stem = self._claim()
            size = self._place_bin(stem, data)
            _write(self.folder / f"{stem}.txt", (receipt.text + "\n").encode("utf-8"))
            if picture is not None:
                _write(self.folder / f"{stem}.png", picture)
            entry = self._entry(stem, source, connection, receipt.start_offset,
                                receipt.end_offset, size, dropped, receipt.warnings)
            entry.update(txt=f"{stem}.txt", png=f"{stem}.png" if picture else None,
                         cut=receipt.cut, truncated=receipt.truncated,
                         blank=receipt.is_blank, printed=True, held=held)
            return self._append(entry)

    def add_unprinted(self, data: bytes | Path, *, source: str, connection: int, start: int,
                      end: int, reason: str, warnings: Sequence[RollWarning],
                      dropped: int = 0, held: str | None = None) -> dict[str, Any]:
        """File a job that printed nothing: its bytes and why. Return its index entry."""
        with self._lock:
            stem = self._claim()
            size = self._place_bin(stem, data)
            entry = self._entry(stem, source, connection, start, end, size, dropped, warnings)
            entry.update(reason=reason, held=held)
            return self._append(entry)

    def add_event(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append an event line (no number, no files): ``{"event": event, **fields}``."""
        entry = {"event": event, **fields,
                 "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")}
        with self._lock:
            self._index.write((json.dumps(entry) + "\n").encode("utf-8"))
            self._index.flush()
            self._dirty = True
        return entry

    def _claim(self) -> str:
        while True:
            number = self._next
            self._next += 1
            stem = f"{number:04d}"
            if not any((self.folder / f"{stem}{suffix}").exists() for suffix in _SUFFIXES):
                return stem

    def _place_bin(self, stem: str, data: bytes | Path) -> int:
        target = self.folder / f"{stem}.bin"
        if isinstance(data, Path):
            os.replace(data, target)
            return target.stat().st_size
        _write(target, data)
        return len(data)

    @staticmethod
    def _entry(stem: str, source: str, connection: int, start: int, end: int, size: int,
               dropped: int, warnings: Sequence[RollWarning]) -> dict[str, Any]:
        return {
            "number": int(stem), "bin": f"{stem}.bin", "txt": None, "png": None,
            "source": source, "connection": connection, "cut": None, "truncated": False,
            "blank": True, "start_offset": start, "end_offset": end,
            "bytes": size + dropped, "bytes_dropped": dropped,
            "warnings": [w.to_dict() for w in warnings], "printed": False, "reason": None,
            "held": None,
            "received_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        }

    def _append(self, entry: dict[str, Any]) -> dict[str, Any]:
        self._index.write((json.dumps(entry) + "\n").encode("utf-8"))
        self._index.flush()  # one write: a killed process loses no whole line
        self._dirty = True
        self.count += 1
        return entry

    # -- durability -------------------------------------------------------------------------

    def sync(self, *, force: bool = False) -> None:
        """fsync the index if something was filed and ``sync_interval`` has passed."""
        now = time.monotonic()
        if not self._dirty or (not force and now - self._synced < self.sync_interval):
            return
        with self._lock:
            os.fsync(self._index.fileno())
            self._dirty = False
            self._synced = now

    def close(self) -> None:
        """fsync the index and the folder; close the index."""
        if self._index.closed:
            return
        self.sync(force=True)
        self._index.close()
        try:
            handle = os.open(self.folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _write(target: Path, data: bytes) -> None:
    """Create ``target`` (it must not exist) holding ``data``."""
    handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view):]
    finally:
        os.close(handle)
