"""Importing any module of the three packages only defines things.

Issue 12: nothing happens at import time but definitions. Every module of terminal_sim,
printer and faults is imported in a fresh process whose HOME, TMPDIR, XDG_CACHE_HOME and
working directory are empty folders; afterwards those folders must still be empty, the
environment unchanged, ``tempfile.mkdtemp`` and the root logger untouched, and
python-escpos not loaded (it is loaded on first use of a printer).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

PROBE = """
import importlib, json, logging, os, pkgutil, sys, tempfile
before = dict(os.environ)
mkdtemp = tempfile.mkdtemp
handlers = list(logging.getLogger().handlers)
level = logging.getLogger().level
names = []
for package in ("terminal_sim", "printer", "faults"):
    module = importlib.import_module(package)
    names += [info.name for info in pkgutil.walk_packages(module.__path__, package + ".")
              if not info.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
print(json.dumps({
    "modules": len(names),
    "environment_changed": changed,
    "mkdtemp_patched": tempfile.mkdtemp is not mkdtemp,
    "root_logger_changed": logging.getLogger().handlers != handlers
                           or logging.getLogger().level != level,
    "escpos_loaded": any(m == "escpos" or m.startswith("escpos.") for m in sys.modules),
}))
"""


def test_importing_every_module_has_no_side_effects(tmp_path: Path) -> None:
    folders = {name: tmp_path / name for name in ("home", "tmp", "cache", "cwd")}
    for folder in folders.values():
        folder.mkdir()
    env = {**os.environ, "HOME": str(folders["home"]), "TMPDIR": str(folders["tmp"]),
           "XDG_CACHE_HOME": str(folders["cache"]), "PYTHONPATH": str(ROOT),
           "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=folders["cwd"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["modules"] > 100  # the walk found the packages, not an empty path
    assert seen["environment_changed"] == []
    assert seen["mkdtemp_patched"] is False
    assert seen["root_logger_changed"] is False
    assert seen["escpos_loaded"] is False
    left = {name: sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
            for name, folder in folders.items()}
    assert left == {name: [] for name in folders}
