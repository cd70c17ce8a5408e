"""Load python-escpos on first use, without its import-time side effects leaking out.

Importing ``escpos`` (3.1) parses its capabilities YAML (~110 ms) unless it finds a
pickle of it, calls ``logging.basicConfig()`` on the root logger, and creates a temp
folder per process (``environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR", mkdtemp())`` calls
``mkdtemp()`` even when the variable is set). It also rewrites the pickle *in place*
whenever the YAML looks newer, so processes sharing one pickle folder can read a
half-written pickle (``EOFError``).

:func:`escpos_module` imports it once per process, on the first call (importing this
module does nothing). The capabilities pickle lives in a folder private to this
installation, Python and python-escpos version (:func:`cache_dir`); this module writes
it itself, to a temporary file renamed into place, before python-escpos looks, so
python-escpos only ever reads a complete pickle and never writes one (the pickle is
dated after the capabilities file, even one dated in the future). A pickle that does not
load, or loads as something other than capabilities, is rebuilt, never fatal. For the
duration of the import only, the environment variable is set, ``tempfile.mkdtemp``
answers with that folder, and the root logger's handlers and level are restored
afterwards; a lock makes concurrent first calls from several threads import once.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.resources
import logging
import os
import pickle
import platform
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["cache_dir", "escpos_module"]

_PICKLE_DIR_VARIABLE = "ESCPOS_CAPABILITIES_PICKLE_DIR"
_CAPABILITIES_FILE_VARIABLE = "ESCPOS_CAPABILITIES_FILE"
# what a damaged pickle (truncated, overwritten, of another shape) makes loading raise
_DAMAGED = (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, ImportError)

_lock = threading.Lock()
_loaded: list[ModuleType] = []  # empty until the first escpos_module() call


def escpos_module() -> ModuleType:
    """``escpos.escpos``, imported quietly on the first call (cached afterwards)."""
    if _loaded:
        return _loaded[0]
    with _lock:
        if not _loaded:
            _loaded.append(_import_escpos())
    return _loaded[0]


def cache_dir() -> Path:
    """The capabilities pickle folder of this installation and python-escpos version.

    Under ``$XDG_CACHE_HOME`` (``~/.cache``): one folder per interpreter prefix, Python
    version and python-escpos version, so installations never share (and fight over)
    a pickle.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    version = importlib.metadata.version("python-escpos")
    where = hashlib.sha256(f"{sys.prefix}\x1f{sys.executable}".encode()).hexdigest()[:12]
    name = f"escpos-{version}-py{platform.python_version()}-{where}"
    return Path(base) / "terminal-sim" / name


def _import_escpos() -> ModuleType:
    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        _ensure_pickle(folder)
    except OSError:  # a read-only home: python-escpos keeps its pickle in a temp folder
        with _quiet_root_logger():
            return importlib.import_module("escpos.escpos")
    try:
        return _import_with_cache(folder)
    except _DAMAGED:
        # The pickle was damaged after we looked (another tool, a full disk): rebuild.
        _write_pickle(_pickle_path(folder))
        return _import_with_cache(folder)


def _import_with_cache(folder: Path) -> ModuleType:
    with _pickle_folder(folder), _quiet_root_logger():
        return importlib.import_module("escpos.escpos")


def _pickle_path(folder: Path) -> Path:
    # the name python-escpos gives its pickle (escpos/capabilities.py)
    return folder / f"{platform.python_version()}.capabilities.pickle"


@contextmanager
def _capabilities_file() -> Iterator[Path]:
    configured = os.environ.get(_CAPABILITIES_FILE_VARIABLE)
    if configured:
        yield Path(configured)
        return
    resource = importlib.resources.files("escpos") / "capabilities.json"
    with importlib.resources.as_file(resource) as path:
        yield path


def _ensure_pickle(folder: Path) -> None:
    """Write the pickle unless a complete, current one is there."""
    target = _pickle_path(folder)
    with _capabilities_file() as source:
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            try:
                with target.open("rb") as stream:
                    capabilities = pickle.load(stream)  # ~2 ms: cheap insurance
            except Exception:  # noqa: BLE001 - whatever a damaged pickle raises: rebuild it
                capabilities = None
            if _complete(capabilities):
                return
    _write_pickle(target)


def _complete(capabilities: object) -> bool:
    """Looks like python-escpos's capabilities: profiles (with a default) and encodings."""
    if not isinstance(capabilities, dict):
        return False
    profiles, encodings = capabilities.get("profiles"), capabilities.get("encodings")
    return isinstance(profiles, dict) and "default" in profiles and isinstance(encodings, dict)


def _write_pickle(target: Path) -> None:
    """Parse the capabilities and pickle them to ``target`` atomically (temp + rename)."""
    import yaml

    with _capabilities_file() as source, source.open(encoding="utf-8") as stream:
        capabilities = yaml.safe_load(stream)
        newer_than = os.stat(source).st_mtime
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".capabilities-",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(capabilities, out, protocol=2)  # python-escpos's protocol
        # python-escpos rewrites (in place) a pickle older than its YAML: never let it,
        # even when the YAML's time stamp lies in the future
        written = os.stat(temporary).st_mtime
        if written <= newer_than:
            os.utime(temporary, (newer_than + 1, newer_than + 1))
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)  # gone after the rename; left on failure


@contextmanager
def _pickle_folder(folder: Path) -> Iterator[None]:
    """Point python-escpos at ``folder`` while it imports; put everything back after."""
    previous = os.environ.get(_PICKLE_DIR_VARIABLE)
    original_mkdtemp = tempfile.mkdtemp
    os.environ[_PICKLE_DIR_VARIABLE] = str(folder)
    # python-escpos calls mkdtemp() for its default even with the variable set
    tempfile.mkdtemp = _answer_with(str(folder))  # type: ignore[assignment]
    try:
        yield
    finally:
        tempfile.mkdtemp = original_mkdtemp
        if previous is None:
            os.environ.pop(_PICKLE_DIR_VARIABLE, None)
        else:
            os.environ[_PICKLE_DIR_VARIABLE] = previous


def _answer_with(folder: str) -> Callable[..., str]:
    def mkdtemp(*args: Any, **kwargs: Any) -> str:
        return folder

    return mkdtemp


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """Undo the ``logging.basicConfig()`` python-escpos calls when it is imported."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
