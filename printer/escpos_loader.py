"""Import python-escpos without its import-time side effects.

Importing ``escpos`` (3.1) parses its capabilities YAML (~110 ms), calls
``logging.basicConfig()`` on the root logger, and creates a temp folder per process
(``environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR", mkdtemp())`` evaluates ``mkdtemp()``
even when the variable is set). :func:`escpos_module` imports it once, with the pickle
cache in a stable user cache folder, ``mkdtemp`` pointed at that folder for the
duration of the import, and the root logger restored afterwards.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from types import ModuleType
from unittest import mock

_loaded: ModuleType | None = None


def cache_dir() -> Path:
    """Where python-escpos's capabilities pickle is kept between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "terminal-sim" / "escpos"


def escpos_module() -> ModuleType:
    """``escpos.escpos``, imported quietly (cached after the first call)."""
    global _loaded
    if _loaded is not None:
        return _loaded
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(folder))
        redirect = mock.patch.object(tempfile, "mkdtemp", lambda *a, **k: str(folder))
    except OSError:  # read-only home: let python-escpos use its temp folder
        redirect = mock.patch.object(tempfile, "mkdtemp", tempfile.mkdtemp)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with redirect:
            import escpos.escpos as module
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    _loaded = module
    return module
