#!/usr/bin/env python3
"""The two quickstart commands, on a fresh machine with only Python 3.11+ and pip.

    python3 tasks.py demo   # a field failure under naive firmware, then under robust
    python3 tasks.py test   # lint, type-check, check the import layers, run every test

and, after editing a translation (terminal_sim/locale/*/LC_MESSAGES/terminal_sim.po):

    python3 tasks.py messages   # compile the .po files to the .mo files committed beside them

Each creates ``.venv`` beside this file on first use (and refreshes it when
pyproject.toml changes), installs terminal-sim into it with its test extras, then runs.
Extra arguments after ``demo`` or ``test`` go to ``pos-sim demo`` (``--scenario``,
``--out``) or ``pytest``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"


def _bin(name: str) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    return VENV / folder / name


def _ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py runs on whatever python3 is
        sys.exit(f"terminal-sim needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp = VENV / ".terminal-sim-installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted and _bin("python").exists():
        return
    if not _bin("python").exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing terminal-sim and its test tools ...", flush=True)
    subprocess.run([str(_bin("python")), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
                   check=True)
    subprocess.run([str(_bin("python")), "-m", "pip", "install", "--quiet", "-e",
                    f"{ROOT}[test]"], check=True)
    stamp.write_text(wanted)


def _run(args: list[str]) -> int:
    return subprocess.run(args, cwd=ROOT).returncode


def demo(extra: list[str]) -> int:
    _ensure_env()
    # the story: a seed scenario under naive, then under robust (terminal_sim/cli/demo_commands.py)
    return _run([str(_bin("pos-sim")), "demo", *extra])


def test(extra: list[str]) -> int:
    _ensure_env()
    pytest = [str(_bin("python")), "-m", "pytest"]
    if extra:  # a chosen run: pytest with the given arguments, nothing else
        return _run([*pytest, *extra])
    # the full check: lint, types and the import layers first, the test runner's verdict last
    checks = {
        "ruff": [str(_bin("ruff")), "check", "."],
        "mypy": [str(_bin("mypy"))],  # terminal_sim, printer, faults, tests, examples, bench
        "lint-imports": [str(_bin("lint-imports"))],  # the layer contracts (pyproject.toml)
    }
    failed = [name for name, command in checks.items() if _run(command) != 0]
    # every test, slow ones included, in random order (pytest-randomly prints the seed in
    # the header: -p randomly --randomly-seed=N repeats an order)
    code = _run([*pytest, "-p", "randomly"])
    if failed and code == 0:
        print(f"tests passed, but {', '.join(failed)} reported problems (see above)")
        return 1
    return code


def messages(extra: list[str]) -> int:
    _ensure_env()
    return _run([str(_bin("pybabel")), "compile", "--statistics", "-d",
                 str(ROOT / "terminal_sim" / "locale"), "-D", "terminal_sim", *extra])


def main() -> int:
    commands = {"demo": demo, "test": test, "messages": messages}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
