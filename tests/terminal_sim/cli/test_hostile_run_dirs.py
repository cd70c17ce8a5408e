"""Damaged run directories and hostile --out targets: exit 2, the file named, nothing changed.

One good run directory is made per session (``recorded_run``) and copied per case; each
kind of damage is applied to the copy, then each of the five commands that read a run
directory (recover, replay, explain, report, audit) must exit 2 with the damaged file
named on its one line, print no traceback, and leave every byte, name and mtime of the
directory as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from terminal_sim.cli.main import main
from tests.support import ROOT, SCENARIOS, SMALL

pytestmark = pytest.mark.hostile

Damage = Callable[[Path], object]

COMMANDS: dict[str, list[str]] = {
    "recover": ["recover"],
    "replay": ["replay"],
    "explain": ["explain"],
    "report": ["report"],
    "audit": ["audit"],
}


def _garbage(size: int) -> bytes:
    """Deterministic bytes that are no SQLite page, no JSON and no ESC/POS of ours."""
    return bytes((i * 151 + 89) % 256 for i in range(max(size, 64)))


def _missing(name: str) -> Damage:
    return lambda run: (run / name).unlink()


def _truncated(name: str) -> Damage:
    def damage(run: Path) -> None:
        data = (run / name).read_bytes()
        (run / name).write_bytes(data[: len(data) // 2])
    return damage


def _garbled(name: str) -> Damage:
    def damage(run: Path) -> None:
        (run / name).write_bytes(_garbage((run / name).stat().st_size))
    return damage


def _emptied(name: str) -> Damage:
    return lambda run: (run / name).write_bytes(b"")


def _table_dropped(name: str, table: str) -> Damage:
    def damage(run: Path) -> None:
        with closing(sqlite3.connect(run / name)) as db:
            db.execute(f"DROP TABLE {table}")
            db.commit()
    return damage


def _page_overwritten(name: str) -> Damage:
    """The second page (a table's b-tree) overwritten: the header still says SQLite."""
    def damage(run: Path) -> None:
        data = bytearray((run / name).read_bytes())
        size = int.from_bytes(data[16:18], "big")
        data[size: 2 * size] = _garbage(size)[:size]
        (run / name).write_bytes(bytes(data))
    return damage


def _stray_wal(name: str) -> Damage:
    return lambda run: (run / f"{name}-wal").write_bytes(_garbage(4096))


def _trace_line(replacement: bytes) -> Damage:
    def damage(run: Path) -> None:
        lines = (run / "trace.jsonl").read_bytes().splitlines(keepends=True)
        lines[len(lines) // 2] = replacement
        (run / "trace.jsonl").write_bytes(b"".join(lines))
    return damage


def _trace_line_deleted(where: str) -> Damage:
    """One whole line taken out (``sed -i Nd``): every other line still a JSON object."""
    def damage(run: Path) -> None:
        lines = (run / "trace.jsonl").read_bytes().splitlines(keepends=True)
        del lines[{"first": 0, "middle": len(lines) // 2, "last": -1}[where]]
        (run / "trace.jsonl").write_bytes(b"".join(lines))
    return damage


def _receipts_text_cut(run: Path) -> None:
    """receipts.txt cut at a line end after its first receipt: still well-formed text."""
    lines = (run / "receipts.txt").read_bytes().splitlines(keepends=True)
    (run / "receipts.txt").write_bytes(b"".join(lines[: len(lines) // 2]))


def _trace_cut(run: Path) -> None:
    data = (run / "trace.jsonl").read_bytes()
    (run / "trace.jsonl").write_bytes(data[:-7])


def _report_text(text: str) -> Damage:
    return lambda run: (run / "report.json").write_text(text, encoding="utf-8")


def _report_without_printers(run: Path) -> None:
    text = (run / "report.json").read_text(encoding="utf-8")
    (run / "report.json").write_text(text.replace('"printers"', '"printerz"'), encoding="utf-8")


#: kind of damage -> (the file the message must name, what to do to a copy of the run)
DAMAGES: dict[str, tuple[str, Damage]] = {
    "journal-missing": ("journal.sqlite", _missing("journal.sqlite")),
    "journal-truncated": ("journal.sqlite", _truncated("journal.sqlite")),
    "journal-garbage": ("journal.sqlite", _garbled("journal.sqlite")),
    "journal-empty": ("journal.sqlite", _emptied("journal.sqlite")),
    "journal-no-records": ("journal.sqlite", _table_dropped("journal.sqlite", "records")),
    "journal-bad-page": ("journal.sqlite", _page_overwritten("journal.sqlite")),
    "journal-stray-wal": ("journal.sqlite", _stray_wal("journal.sqlite")),
    "host-missing": ("host.sqlite", _missing("host.sqlite")),
    "host-truncated": ("host.sqlite", _truncated("host.sqlite")),
    "host-garbage": ("host.sqlite", _garbled("host.sqlite")),
    "host-no-transactions": ("host.sqlite", _table_dropped("host.sqlite", "transactions")),
    "backoffice-missing": ("backoffice.sqlite", _missing("backoffice.sqlite")),
    "backoffice-truncated": ("backoffice.sqlite", _truncated("backoffice.sqlite")),
    "backoffice-garbage": ("backoffice.sqlite", _garbled("backoffice.sqlite")),
    "trace-missing": ("trace.jsonl", _missing("trace.jsonl")),
    "trace-bad-line": ("trace.jsonl", _trace_line(b"{\"id\": 12, \"t\": \n")),
    "trace-not-an-object": ("trace.jsonl", _trace_line(b"[1, 2, 3]\n")),
    "trace-not-utf8": ("trace.jsonl", _trace_line(b"{\"id\": \"\xff\xfe\"}\n")),
    "trace-cut": ("trace.jsonl", _trace_cut),
    "trace-first-line-deleted": ("trace.jsonl", _trace_line_deleted("first")),
    "trace-middle-line-deleted": ("trace.jsonl", _trace_line_deleted("middle")),
    "trace-last-line-deleted": ("trace.jsonl", _trace_line_deleted("last")),
    "receipts-text-cut": ("receipts.txt", _receipts_text_cut),
    "report-missing": ("report.json", _missing("report.json")),
    "report-truncated": ("report.json", _truncated("report.json")),
    "report-garbage": ("report.json", _garbled("report.json")),
    "report-not-an-object": ("report.json", _report_text("[]\n")),
    "report-no-printers": ("report.json", _report_without_printers),
    "receipts-missing": ("receipts.bin", _missing("receipts.bin")),
    "receipts-truncated": ("receipts.bin", _truncated("receipts.bin")),
}


def snapshot(root: Path) -> dict[str, tuple[str, int, str]]:
    """Every entry under ``root`` (the listing, hidden ones too): kind, mtime, content hash."""
    state = {".": ("dir", root.stat().st_mtime_ns, "")}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if path.is_dir():
            state[str(path.relative_to(root))] = ("dir", info.st_mtime_ns, "")
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path.relative_to(root))] = ("file", info.st_mtime_ns, digest)
    return state


@pytest.fixture
def damaged(request: pytest.FixtureRequest, recorded_run: Path, tmp_path: Path
            ) -> tuple[Path, str]:
    name, damage = DAMAGES[request.param]
    run = tmp_path / "run"
    shutil.copytree(recorded_run, run)
    damage(run)
    return run, name


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args, catch_exceptions=True)


def test_at_least_twenty_kinds_of_damage() -> None:
    assert len(DAMAGES) >= 20
    assert {name for name, _ in DAMAGES.values()} >= {
        "journal.sqlite", "host.sqlite", "backoffice.sqlite", "trace.jsonl", "report.json",
        "receipts.bin"}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("damaged", sorted(DAMAGES), indirect=True)
def test_a_damaged_run_is_refused_and_left_alone(damaged: tuple[Path, str],
                                                 command: str) -> None:
    run, name = damaged
    before = snapshot(run)
    result = invoke([*COMMANDS[command], str(run)])
    assert isinstance(result.exception, SystemExit), result.exception  # no uncaught error
    assert result.exit_code == 2, result.output
    assert name in result.output, result.output
    assert "Traceback" not in result.output
    assert snapshot(run) == before


def test_the_real_process_prints_one_line_and_no_traceback(recorded_run: Path,
                                                           tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(recorded_run, run)
    _garbled("journal.sqlite")(run)
    before = snapshot(run)
    done = subprocess.run([sys.executable, "-m", "terminal_sim", "recover", str(run)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.startswith("error: ")
    assert "journal.sqlite" in done.stderr
    assert snapshot(run) == before


def test_recover_refuses_without_the_host_ledger_and_makes_no_journal(
        tmp_path: Path) -> None:
    run = tmp_path / "lost"
    assert invoke(["run", str(SCENARIOS / "power-dip-lost-approval.yaml"), "--out",
                   str(run)]).exit_code == 0
    (run / "host.sqlite").unlink()
    result = invoke(["recover", str(run)])
    assert result.exit_code == 2
    assert "host.sqlite" in result.output
    assert "nothing to recover" not in result.output
    (run / "journal.sqlite").unlink()
    assert invoke(["recover", str(run)]).exit_code == 2
    assert not (run / "journal.sqlite").exists()
    assert not (run / "recovered").exists()


# -- pos-sim run --out ----------------------------------------------------------------------

def _run(out: Path, *extra: str, scenario: Path = SMALL) -> Result:
    return invoke(["run", str(scenario), "--out", str(out), *extra])


def test_run_refuses_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    (out / "report.json").write_text("{}\n", encoding="utf-8")  # a run's name, not a run
    before = snapshot(tmp_path)
    result = _run(out)
    assert result.exit_code == 2, result.output
    assert str(out) in result.output
    assert "--force" in result.output
    assert snapshot(tmp_path) == before


def test_run_with_force_keeps_the_other_files(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    (out / "recovery.json").write_text("{}\n", encoding="utf-8")  # a stale one of ours
    assert _run(out, "--force").exit_code in (0, 1)
    names = sorted(p.name for p in out.iterdir())
    assert "notes.txt" in names
    assert "recovery.json" not in names
    assert "report.json" in names


def test_run_replaces_a_previous_run_as_a_whole(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = _run(out, scenario=SCENARIOS / "power-dip-lost-approval.yaml")
    assert first.exit_code in (0, 1), first.output
    assert invoke(["recover", str(out)]).exit_code in (0, 1)
    (out / "journal.sqlite-wal").write_bytes(b"")  # what a crashed writer leaves
    (out / ".recovered.partial-1-0").mkdir()  # ... and a recovery that crashed
    old = snapshot(out)
    assert _run(out, "--seed", "3").exit_code in (0, 1)
    new = snapshot(out)
    fresh = tmp_path / "fresh"
    assert _run(fresh, "--seed", "3").exit_code in (0, 1)
    assert sorted(new) == sorted(snapshot(fresh))  # exactly a new run's files, nothing old
    assert all(new[k][2] != old[k][2] for k in new if k in old and new[k][0] == "file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "run"]  # no staging left


def test_run_through_a_symlink_replaces_the_directory_it_points_at(tmp_path: Path) -> None:
    real = tmp_path / "real"
    assert _run(real).exit_code in (0, 1)
    (tmp_path / "link").symlink_to(real)
    assert _run(tmp_path / "link", "--seed", "3").exit_code in (0, 1)
    assert (tmp_path / "link").is_symlink()
    assert '"seed": 3' in (real / "report.json").read_text(encoding="utf-8")


def test_a_run_that_fails_midway_leaves_the_previous_one(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from terminal_sim.errors import SimulationError
    from terminal_sim.harness import run as run_module

    out = tmp_path / "run"
    assert _run(out).exit_code in (0, 1)
    before = snapshot(out)

    def crash(*_args: object, out_dir: Path, **_kwargs: object) -> None:
        (Path(out_dir) / "trace.jsonl").write_text("half\n", encoding="utf-8")
        raise SimulationError("crashed mid-run")

    monkeypatch.setattr(run_module, "run_scenario", crash)
    result = _run(out)
    assert result.exit_code == 1
    assert "crashed mid-run" in result.output
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # the half-made one is gone


@pytest.mark.parametrize("where", ["/dev/null", "under-a-file", "no-permission"])
def test_run_refuses_an_unusable_out(tmp_path: Path, where: str) -> None:
    if where == "/dev/null":
        out = Path("/dev/null")
    elif where == "under-a-file":
        (tmp_path / "file").write_text("x", encoding="utf-8")
        out = tmp_path / "file" / "run"
    else:
        if os.geteuid() == 0:
            pytest.skip("root may write anywhere")
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        out = locked / "run"
    before = snapshot(tmp_path)
    result = _run(out)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    assert str(out) in result.output
    assert "Traceback" not in result.output
    assert snapshot(tmp_path) == before


def test_run_removes_the_staging_a_killed_run_left(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(done.stdout)  # a process that has exited: its PID is not alive
    stale = tmp_path / f".run.partial-{dead}-0"
    stale.mkdir()
    (stale / "trace.jsonl").write_text("half\n", encoding="utf-8")
    alive = tmp_path / f".run.partial-{os.getppid()}-0"  # a live process's staging stays
    alive.mkdir()
    other = tmp_path / f".other.partial-{dead}-0"  # another target's staging stays
    other.mkdir()
    assert _run(tmp_path / "run").exit_code in (0, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name, "run"])
