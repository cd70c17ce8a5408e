"""Card-data checks over a run's artifacts: no full PAN may be anywhere.

:func:`scan_run` looks at every artifact of a run directory for a Luhn-valid run of
13-19 digits. It reads each artifact the way its format is built, so that numbers
that merely stand side by side are not taken for a card number: SQLite files cell by
cell (a BLOB holding an ISO 8583 message field by field), JSON lines value by value,
receipts by their interpreted text and raw bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminal_sim.base.cards import find_pans, mask_pan
from terminal_sim.errors import ProtocolError
from terminal_sim.stores.sqlite import open_read_only


@dataclass(frozen=True, slots=True)
class Leak:
    """A possible full card number found in an artifact (shown masked)."""

    artifact: str
    where: str
    masked: str

    def __str__(self) -> str:
        return f"{self.artifact}: {self.where}: {self.masked}"


def _json_values(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _json_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_values(item, f"{path}[{index}]")
    elif value is not None:
        yield path, str(value)


def _blob_texts(blob: bytes) -> Iterator[tuple[str, str]]:
    from terminal_sim.iso import codec

    try:
        fields = codec.decode(blob)
    except ProtocolError:
        yield "", blob.decode("latin-1")
        return
    for name, value in fields.items():
        yield f"field {name}", value


def _sqlite_values(path: Path) -> Iterator[tuple[str, str]]:
    with closing(open_read_only(path)) as db:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for number, row in enumerate(cursor, start=1):
                for column, value in zip(columns, row, strict=True):
                    where = f"{table} row {number} {column}"
                    if isinstance(value, bytes):
                        for sub, text in _blob_texts(value):
                            yield f"{where} {sub}".strip(), text
                    elif value is not None:
                        yield where, str(value)


def _values(path: Path) -> Iterator[tuple[str, str]]:
    if path.suffix == ".sqlite":
        yield from _sqlite_values(path)
    elif path.suffix in (".jsonl", ".json"):
        text = path.read_text(encoding="utf-8")
        documents = text.splitlines() if path.suffix == ".jsonl" else [text]
        for number, line in enumerate(documents, start=1):
            if line.strip():
                yield from _json_values(json.loads(line), f"line {number}")
    else:
        for number, line in enumerate(path.read_bytes().decode("latin-1").splitlines(), 1):
            yield f"line {number}", line


def scan_file(path: Path) -> list[Leak]:
    """Possible full PANs in one artifact."""
    leaks = []
    for where, text in _values(path):
        for pan in find_pans(text):
            leaks.append(Leak(path.name, where, mask_pan(pan)))
    return leaks


def scan_run(run_dir: Path) -> list[Leak]:
    """Possible full PANs in every file of a run directory."""
    leaks: list[Leak] = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        leaks.extend(scan_file(path))
    return leaks
