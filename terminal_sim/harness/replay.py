"""Replay a run: the same scenario and seed again, every artifact compared byte for byte.

"Same seed, same bytes" is a promise; :func:`replay` measures it. A run directory holds
``report.json`` (which names the scenario, seed and profile) and ``scenario.yaml`` (the
scenario's source text, written by :func:`write_scenario_copy`); the scenario is run
again into a temporary directory and each artifact of :data:`COMPARED` is compared with
the recorded one:

=====================  ================================================================
artifact               compared as, and what a difference names
=====================  ================================================================
``trace.jsonl``        lines: the first differing line, both versions, with its record
                       id and virtual time (the trace is where a divergence starts, so it
                       is reported first)
``*.sqlite``           the SQL dump (``iterdump``), not the pages: SQLite may lay out the
                       same rows differently; the first differing statement
``receipts.bin``       bytes: the first differing offset, the printer and receipt it
                       falls in, both versions around it
``receipts.txt``,      lines: the first differing line (for ``report.json`` also the JSON
``report.json``,       path of the first differing value)
``report.html``,
``scenario.yaml``
=====================  ================================================================

Every file of :data:`terminal_sim.harness.run.ARTIFACTS` is compared, so an artifact added
there is covered here without a change.

An artifact missing on one side is a difference too. Runs are never modified: the
stores are opened read-only.

A lab session (``report.json`` has a ``lab`` section: ``pos-sim lab --out`` or ``lab
reconcile --out``) is refused (``ConfigurationError``, exit 2): the application that
drove it is not ours to run again.
A live run (``report.json`` has a ``live`` section) cannot be replayed byte for byte;
its replay says so and runs the checks of :mod:`terminal_sim.harness.live_replay`
instead (``ReplayResult.live``; each failed check is a :class:`Difference`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal_sim.errors import ConfigurationError, StoreUnreadable
from terminal_sim.evidence.artifacts import load_report
from terminal_sim.harness.run import ARTIFACTS, SCENARIO_COPY, run_scenario, write_scenario_copy
from terminal_sim.scenario.loader import Scenario, load_scenario, parse_scenario
from terminal_sim.stores.run_files import check_run_dir
from terminal_sim.stores.sqlite import open_read_only

__all__ = [
    "COMPARED",
    "SCENARIO_COPY",
    "Difference",
    "ReplayResult",
    "compare_runs",
    "replay",
    "scenario_of_run",
    "sql_dump",
    "write_scenario_copy",
]

#: What a replay compares, in the order differences are reported (the trace first: it is
#: where a divergence begins; everything else follows from it).
COMPARED = tuple(dict.fromkeys(("trace.jsonl", *ARTIFACTS, SCENARIO_COPY)))

_CONTEXT_BYTES = 16


@dataclass
class Difference:
    """The first difference in one artifact: where, and the lines to show a person."""

    artifact: str
    where: str
    detail: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"{self.artifact}: {self.where}", *(f"  {line}" for line in self.detail)]


@dataclass
class ReplayResult:
    """What :func:`replay` found."""

    run_dir: Path
    scenario: str
    seed: int
    profile: str
    compared: list[str]
    differences: list[Difference]
    replay_dir: Path | None = None  # kept only when asked
    #: a live run: ``compared`` names the checks made instead of a byte comparison
    live: bool = False

    @property
    def identical(self) -> bool:
        return not self.differences


def scenario_of_run(run_dir: Path, scenario_path: Path | None = None) -> Scenario:
    """The scenario a run was made from: ``scenario_path`` when given, else the run's own
    ``scenario.yaml``. Checked against the name ``report.json`` records."""
    report = load_report(run_dir)
    copy = run_dir / SCENARIO_COPY
    if scenario_path is not None:
        scenario = load_scenario(scenario_path)
    elif copy.is_file():
        try:
            text = copy.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"{copy}: cannot read: {exc}") from None
        scenario = parse_scenario(text, str(copy))
    else:
        raise ConfigurationError(
            f"{run_dir} has no {SCENARIO_COPY} (a run from before replay existed, or from a "
            "scenario built in code); name the scenario file with --scenario FILE")
    if scenario.name != report.get("scenario"):
        raise ConfigurationError(
            f"{run_dir} is a run of scenario {report.get('scenario')!r}, not of "
            f"{scenario.name!r} ({scenario.path})")
    return scenario


def replay(run_dir: str | Path, *, scenario_path: str | Path | None = None,
           keep: str | Path | None = None) -> ReplayResult:
    """Run the recorded scenario, seed and profile of ``run_dir`` again and compare.

    ``keep`` names a directory for the replayed artifacts (by default a temporary one,
    deleted afterwards). A directory that is not a run raises ``ConfigurationError``; a
    damaged or incomplete one :class:`~terminal_sim.errors.StoreUnreadable` naming the file.
    """
    recorded = Path(run_dir)
    if not recorded.is_dir():
        raise ConfigurationError(f"{recorded} is not a directory")
    report = check_run_dir(recorded)  # a damaged recording is bad input, not a difference
    if "lab" in report:
        raise ConfigurationError(
            f"{recorded} is a lab session (pos-sim lab): what a real application did "
            "against the lab is not replayable; read it with pos-sim explain, audit or "
            "report")
    try:
        seed = int(report["seed"])
        profile = str(report["profile"])
    except (KeyError, TypeError, ValueError):
        raise ConfigurationError(f"{recorded}/report.json names no seed and profile; "
                                 "is it a run directory?") from None
    scenario = scenario_of_run(recorded, Path(scenario_path) if scenario_path else None)
    if "live" in report:
        return _replay_live(recorded, report, scenario, seed, profile)

    def run_into(target: Path) -> list[Difference]:
        run_scenario(scenario, seed=seed, profile=profile, out_dir=target)
        return compare_runs(recorded, target, start=scenario.start)

    names = [n for n in COMPARED if (recorded / n).exists()]
    if keep is not None:
        target = Path(keep)
        if target.resolve() == recorded.resolve():
            raise ConfigurationError("--keep must name another directory than the run")
        differences = run_into(target)
        kept: Path | None = target
    else:
        with tempfile.TemporaryDirectory(prefix="pos-sim-replay-") as tmp:
            differences = run_into(Path(tmp))
        kept = None
    return ReplayResult(recorded, scenario.name, seed, profile, names, differences, kept)


def _replay_live(recorded: Path, report: dict[str, Any], scenario: Scenario, seed: int,
                 profile: str) -> ReplayResult:
    from terminal_sim.harness.live_replay import LIVE_CHECKS, check_live_run

    def simulate() -> list[dict[str, Any]]:
        return run_scenario(scenario, seed=seed, profile=profile).evidence.journal

    problems = check_live_run(recorded, report, simulate)
    differences = [Difference(check, where, detail) for check, where, detail in problems]
    return ReplayResult(recorded, scenario.name, seed, profile, list(LIVE_CHECKS),
                        differences, live=True)


# -- comparing two run directories ------------------------------------------------------------


def compare_runs(recorded: Path, replayed: Path, *, start: dt.datetime | None = None,
                 names: tuple[str, ...] = COMPARED) -> list[Difference]:
    """The first difference of each artifact in ``names`` between two run directories.

    ``scenario.yaml`` is compared only when the recorded run has one (older runs do not).
    ``start`` (the scenario's start) turns virtual times into times of day in messages.
    """
    differences = []
    printers = _printers(recorded)
    for name in names:
        a, b = recorded / name, replayed / name
        if name == SCENARIO_COPY and not a.exists():
            continue
        if not a.exists() or not b.exists():
            if a.exists() or b.exists():
                which = "the recorded run" if a.exists() else "the replay"
                differences.append(Difference(name, f"only {which} has it"))
            continue
        found = _compare(name, a, b, start=start, printers=printers)
        if found is not None:
            differences.append(found)
    return differences


def _compare(name: str, a: Path, b: Path, *, start: dt.datetime | None,
             printers: dict[str, dict[str, int]]) -> Difference | None:
    if name.endswith(".sqlite"):
        return _compare_sql(name, a, b)
    left, right = a.read_bytes(), b.read_bytes()
    if left == right:
        return None
    if name == "receipts.bin":
        return _compare_bytes(name, left, right, printers)
    if name == "trace.jsonl":
        return _compare_trace(name, left, right, start)
    found = _compare_lines(name, left, right)
    if name == "report.json":
        path = _json_path(left, right)
        if path is not None:
            found.detail.insert(0, f"first differing value: {path}")
    return found


def _split_lines(data: bytes) -> list[str]:
    return data.decode("utf-8", errors="replace").split("\n")


def _first_line_difference(left: bytes, right: bytes) -> tuple[int, str | None, str | None]:
    """(0-based index, recorded line, replayed line); a side that ran out gives None."""
    one, two = _split_lines(left), _split_lines(right)
    for index in range(max(len(one), len(two))):
        x = one[index] if index < len(one) else None
        y = two[index] if index < len(two) else None
        if x != y:
            return index, x, y
    return len(one), None, None  # only reached when the bytes differ in no line: impossible


def _show(line: str | None, limit: int = 400) -> str:
    if line is None:
        return "(no such line: the file ends before it)"
    return line if len(line) <= limit else line[:limit] + f"... ({len(line)} characters)"


def _compare_lines(name: str, left: bytes, right: bytes) -> Difference:
    index, x, y = _first_line_difference(left, right)
    return Difference(name, f"first difference at line {index + 1}",
                      [f"recorded: {_show(x)}", f"replayed: {_show(y)}"])


def _record_label(line: str | None, start: dt.datetime | None) -> str:
    """``id 17, t 400209 ms (09:06:40.209)`` for a trace line, or what can be read."""
    if not line:
        return ""
    try:
        record = json.loads(line)
    except ValueError:
        return "not JSON"
    if not isinstance(record, dict):
        return "not a record"
    parts = []
    if "id" in record:
        parts.append(f"id {record['id']}")
    t = record.get("t")
    if isinstance(t, int) and not isinstance(t, bool):
        moment = f"t {t} ms"
        if start is not None:
            moment += f" ({(start + dt.timedelta(milliseconds=t)).strftime('%H:%M:%S.%f')[:-3]})"
        parts.append(moment)
    for key in ("terminal", "kind", "name"):
        if record.get(key):
            parts.append(f"{key} {record[key]}")
    return ", ".join(parts)


def _compare_trace(name: str, left: bytes, right: bytes,
                   start: dt.datetime | None) -> Difference:
    index, x, y = _first_line_difference(left, right)
    label = _record_label(x, start) or _record_label(y, start)
    where = f"first differing event at line {index + 1}" + (f" ({label})" if label else "")
    detail = [f"recorded: {_show(x)}", f"replayed: {_show(y)}"]
    other = _record_label(y, start)
    if x is not None and y is not None and other and other != label:
        detail.append(f"replayed record: {other}")
    return Difference(name, where, detail)


def _printers(run_dir: Path) -> dict[str, dict[str, int]]:
    try:
        report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    printers = report.get("printers") if isinstance(report, dict) else None
    return printers if isinstance(printers, dict) else {}


def _compare_bytes(name: str, left: bytes, right: bytes,
                   printers: dict[str, dict[str, int]]) -> Difference:
    offset = next((i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y),
                  min(len(left), len(right)))
    where = f"first differing byte at offset {offset}"
    detail = []
    for terminal_id, span in sorted(printers.items()):
        begin, size = span.get("offset", 0), span.get("bytes", 0)
        if begin <= offset < begin + size:
            receipt = left[begin:offset].count(b"\x1dV") + 1  # GS V: each cut ends a receipt
            where += f" (printer of {terminal_id}, byte {offset - begin}, receipt {receipt})"
            break
    low = max(0, offset - _CONTEXT_BYTES)
    for label, data in (("recorded", left), ("replayed", right)):
        piece = data[low:offset + _CONTEXT_BYTES]
        detail.append(f"{label}: {len(data)} bytes; at {low}: {piece.hex(' ')}")
    return Difference(name, where, detail)


def sql_dump(path: Path) -> list[str]:
    """The SQL dump of a store, opened read-only (a run is never modified)."""
    try:
        with closing(open_read_only(path)) as db:
            return list(db.iterdump())
    except sqlite3.Error:  # e.g. a WAL file without -shm on a read-only medium
        with closing(open_read_only(path, immutable=True)) as db:
            return list(db.iterdump())


def _compare_sql(name: str, a: Path, b: Path) -> Difference | None:
    try:
        left, right = sql_dump(a), sql_dump(b)
    except (sqlite3.Error, StoreUnreadable) as exc:
        return Difference(name, f"cannot be read as SQLite: {exc}")
    if left == right:
        return None
    for index in range(max(len(left), len(right))):
        x = left[index] if index < len(left) else None
        y = right[index] if index < len(right) else None
        if x != y:
            table = _table_of(x) or _table_of(y)
            where = f"first differing SQL statement {index + 1} of the dump"
            if table:
                where += f" (table {table})"
            return Difference(name, where, [f"recorded: {_show(x)}", f"replayed: {_show(y)}"])
    return None


def _table_of(statement: str | None) -> str:
    if statement is None:
        return ""
    for prefix in ('INSERT INTO "', "CREATE TABLE ", "CREATE INDEX "):
        if statement.startswith(prefix):
            rest = statement[len(prefix):]
            return rest.split('"')[0] if prefix.endswith('"') else rest.split()[0].strip('"')
    return ""


def _json_path(left: bytes, right: bytes) -> str | None:
    try:
        one, two = json.loads(left), json.loads(right)
    except ValueError:
        return None
    for path, _x, _y in _json_differences(one, two, "$"):
        return path
    return None


def _json_differences(x: Any, y: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(x, dict) and isinstance(y, dict):
        for key in sorted(set(x) | set(y), key=str):
            if key not in x or key not in y:
                yield f"{path}.{key}", x.get(key), y.get(key)
            else:
                yield from _json_differences(x[key], y[key], f"{path}.{key}")
    elif isinstance(x, list) and isinstance(y, list):
        for index in range(max(len(x), len(y))):
            if index >= len(x) or index >= len(y):
                yield f"{path}[{index}]", None, None
                return
            yield from _json_differences(x[index], y[index], f"{path}[{index}]")
    elif x != y or type(x) is not type(y):
        yield path, x, y
