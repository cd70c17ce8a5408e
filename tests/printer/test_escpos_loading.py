"""python-escpos is loaded on first use, quietly, with a private and atomic pickle cache.

Every test runs Python in a fresh process: what is checked is what importing and first use
do to a process that never saw python-escpos.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from printer.escpos_loader import cache_dir
from tests.support import ROOT

# Prints what the process looked like before and after: environment, tempfile.mkdtemp,
# root logger handlers, and whether python-escpos was imported.
_PROBE = """
import json, logging, os, sys, tempfile
before_env = dict(os.environ)
before_mkdtemp = tempfile.mkdtemp
before_handlers = list(logging.getLogger().handlers)
{action}
print(json.dumps({{
    "env_same": dict(os.environ) == before_env,
    "mkdtemp_same": tempfile.mkdtemp is before_mkdtemp,
    "handlers_same": logging.getLogger().handlers == before_handlers,
    "escpos_loaded": "escpos" in sys.modules,
}}))
"""

_IMPORT = "import printer.virtual"
_FIRST_USE = """
from printer.virtual import VirtualPrinter
p = VirtualPrinter()
p.text("HELLO\\n")
p.qr("TSIM:1", native=True)
p.cut()
assert p.receipts[0].text == "HELLO"
sys.stderr.write(p.output.hex())
"""


def _fresh_home(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCPOS_")}
    for name in ("TMPDIR", "HOME", "XDG_CACHE_HOME"):
        folder = tmp_path / name.lower()
        folder.mkdir()
        env[name] = str(folder)
    return env


def _files_under(tmp_path: Path) -> list[Path]:
    return sorted(path for path in tmp_path.rglob("*") if path.is_file())


def _probe(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _PROBE.format(action=action)], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False)


def _pickle_in(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    folder = cache_dir()
    return folder / f"{'.'.join(map(str, sys.version_info[:3]))}.capabilities.pickle"


def test_importing_the_virtual_printer_has_no_side_effects(tmp_path: Path) -> None:
    env = _fresh_home(tmp_path)
    result = _probe(_IMPORT, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"env_same": True, "mkdtemp_same": True,
                                         "handlers_same": True, "escpos_loaded": False}
    assert _files_under(tmp_path) == []


def test_first_use_leaves_only_the_private_cache(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    env = _fresh_home(tmp_path)
    result = _probe(_FIRST_USE, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"env_same": True, "mkdtemp_same": True,
                                         "handlers_same": True, "escpos_loaded": True}
    assert _files_under(tmp_path) == [_pickle_in(env, monkeypatch)]


def test_the_cache_folder_names_this_installation_and_version(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = cache_dir()
    assert folder.parent == tmp_path / "terminal-sim"
    assert folder.name.startswith("escpos-3.")  # python-escpos's version
    assert f"-py{sys.version_info[0]}.{sys.version_info[1]}." in folder.name


@pytest.mark.parametrize("damage", [
    b"", b"\x80\x02}q\x00(X\x08\x00\x00\x00profiles", b"junk",
    pickle.dumps(5, protocol=2),  # a complete pickle of something else
    pickle.dumps({"profiles": 5, "encodings": {}}, protocol=2),  # of the wrong shape
    b"\x80\x02cbuiltins\nslice\nq\x00.",  # a class, not capabilities
])
def test_a_damaged_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    damage: bytes) -> None:
    env = _fresh_home(tmp_path)
    cached = _pickle_in(env, monkeypatch)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(damage)  # newer than python-escpos's YAML: it would trust it
    result = _probe(_FIRST_USE, env)
    assert result.returncode == 0, result.stderr
    assert cached.stat().st_size > 10_000


def test_twenty_first_uses_at_once_share_one_cache(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # A stale pickle makes every process rebuild it at the same moment: python-escpos
    # alone rewrites it in place and some processes read it half-written.
    env = _fresh_home(tmp_path)
    cached = _pickle_in(env, monkeypatch)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"\x80\x02}q\x00(X\x08\x00\x00\x00profiles")
    os.utime(cached, (0, 0))
    processes = [
        subprocess.Popen([sys.executable, "-c", _PROBE.format(action=_FIRST_USE)], cwd=ROOT,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(20)
    ]
    results = [(*process.communicate(), process.returncode) for process in processes]
    failures = [err for _, err, code in results if code != 0]
    assert failures == []
    assert len({err for _, err, _ in results}) == 1  # the same bytes printed everywhere
    assert _files_under(tmp_path) == [cached]  # no temporary file left behind


def test_a_capabilities_file_dated_in_the_future_is_pickled_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # python-escpos rewrites, in place, a pickle older than its capabilities file: with a
    # file dated in the future every process would, and its neighbours read half a pickle
    import importlib.resources

    env = _fresh_home(tmp_path)
    source = tmp_path / "capabilities.json"
    source.write_bytes((importlib.resources.files("escpos") / "capabilities.json").read_bytes())
    future = source.stat().st_mtime + 86_400
    os.utime(source, (future, future))
    env["ESCPOS_CAPABILITIES_FILE"] = str(source)
    cached = _pickle_in(env, monkeypatch)
    seen = []
    for _ in range(2):
        result = _probe(_FIRST_USE, env)
        assert result.returncode == 0, result.stderr
        stat = cached.stat()
        seen.append((stat.st_ino, stat.st_mtime_ns))
    assert seen[0] == seen[1]
