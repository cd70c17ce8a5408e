"""Where a command writes a whole directory (``--out``): checked, staged, swapped in.

One set of rules for every command that writes a run directory (``pos-sim run``, the
studio's ``--out``) or a directory of its own (``recover``'s ``recovered/``):

* an unusable target (``/dev/null``, a path under a file, a directory without write
  permission) is refused before anything runs: :class:`~terminal_sim.errors.ConfigurationError`
  naming the path and the reason (exit 2);
* a missing or empty target is simply made;
* a previous output of the same kind (recognised by its files: every entry is one the
  command writes, and its marker file is there, e.g. ``report.json``) is replaced as a
  whole: no file of the previous one is left beside the new ones;
* any other non-empty directory is refused (exit 2, nothing changed) unless ``force``:
  then the new files are moved in, and files the command writes that are not part of the
  new output are removed; files of others stay.

The new output is written into a hidden sibling (``.NAME.partial-XXXX``) and renamed into
place only when complete, so a crash mid-run leaves the previous directory as it was
(and a ``.NAME.partial-PID-N`` sibling: the next output into the same target removes
those whose PID is no longer alive).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from terminal_sim.errors import ConfigurationError

__all__ = ["OutputKind", "check_out_dir", "check_replaceable", "output_dir"]

_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class OutputKind:
    """What a command writes into its directory: the names, and the one that marks it."""

    what: str
    names: frozenset[str]
    marker: str

    def owns(self, name: str) -> bool:
        """Whether ``name`` is a file this output writes (or SQLite's side file of one, or
        the staging left by a crash while writing one of its directories)."""
        base = next((name[: -len(s)] for s in _SIDE_FILES if name.endswith(s)), name)
        if name.startswith(".") and (".partial-" in name or ".old-" in name):
            base = name[1:].split(".partial-")[0].split(".old-")[0]
        return base in self.names

    def is_previous(self, entries: Iterable[str]) -> bool:
        listed = list(entries)
        return self.marker in listed and all(self.owns(name) for name in listed)


def check_out_dir(target: Path) -> None:
    """Refuse an ``--out`` no directory can be made at: the path and the reason."""
    if target.exists() and not target.is_dir():
        raise ConfigurationError(f"--out {target}: exists and is not a directory")
    ancestor = target
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if ancestor != target and not ancestor.is_dir():
        raise ConfigurationError(f"--out {target}: {ancestor} is a file, not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigurationError(f"--out {target}: no permission to write in {ancestor}")
    if target.is_dir() and not os.access(target.parent, os.W_OK | os.X_OK):
        raise ConfigurationError(f"--out {target}: no permission to replace it "
                                 f"(cannot write in {target.parent})")


def _listing(target: Path) -> list[str]:
    try:
        return sorted(entry.name for entry in target.iterdir())
    except OSError as exc:
        raise ConfigurationError(f"--out {target}: cannot be listed ({exc.strerror})") from exc


def _sibling(target: Path, what: str) -> Path:
    """A new hidden directory beside ``target`` (made with the umask's permissions, as
    ``target`` itself would be)."""
    for number in range(1000):
        candidate = target.with_name(f".{target.name}.{what}-{os.getpid()}-{number}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{target.parent}: no free name for .{target.name}.{what}-*")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, someone else's
        return True
    return True


def remove_stale_staging(target: Path) -> None:
    """Remove ``.TARGET.partial-PID-N`` directories beside ``target`` left by a run that
    was killed (its PID no longer alive); nothing else is touched."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.partial-([0-9]+)-[0-9]+")
    try:
        entries = sorted(target.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if found and entry.is_dir() and not entry.is_symlink() \
                and int(found.group(1)) != os.getpid() and not _pid_alive(int(found.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _swap_in(staging: Path, target: Path, kind: OutputKind, previous: list[str]) -> None:
    if not previous:
        if target.exists():
            target.rmdir()
        staging.rename(target)
    elif kind.is_previous(previous):
        old = _sibling(target, "old")
        old.rmdir()
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old)
    else:  # forced into someone else's directory: ours replaced, theirs kept
        new = {entry.name for entry in staging.iterdir()}
        for name in previous:
            if kind.owns(name) and name not in new:
                _remove(target / name)
        for name in sorted(new):
            if (target / name).is_dir() and not (target / name).is_symlink():
                shutil.rmtree(target / name)
            os.replace(staging / name, target / name)
        staging.rmdir()


def check_replaceable(target: Path, kind: OutputKind, *, force: bool = False) -> list[str]:
    """:func:`check_out_dir`, then refuse a non-empty ``target`` that is not a previous
    output of ``kind`` (unless ``force``); returns what ``target`` holds now."""
    check_out_dir(target)
    previous = _listing(target) if target.is_dir() else []
    if previous and not kind.is_previous(previous) and not force:
        raise ConfigurationError(
            f"--out {target}: not empty and not a previous {kind.what} "
            f"({', '.join(previous[:3])}{', ...' if len(previous) > 3 else ''}); "
            "choose another directory, or --force to write into it")
    return previous


@contextmanager
def output_dir(target: Path, kind: OutputKind, *, force: bool = False) -> Iterator[Path]:
    """A fresh staging directory to write the output into; swapped in at ``target`` when
    the block ends without an error (removed, ``target`` untouched, when it raises)."""
    if target.is_symlink():  # the directory it points at is the one replaced
        target = Path(os.path.realpath(target))
    previous = check_replaceable(target, kind, force=force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(target)
        staging = _sibling(target, "partial")
    except OSError as exc:
        raise ConfigurationError(f"--out {target}: cannot be made ({exc.strerror})") from exc
    try:
        yield staging
        _swap_in(staging, target, kind, previous)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
