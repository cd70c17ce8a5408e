"""Paths the tests share: the repository, its scenarios and a small recorded scenario; and
how a test asks for a system tool.

A test that needs something outside Python (``chromium``, ``prlimit`` ...) asks
:func:`system_tool` (or calls :func:`missing`): on a developer's machine without it the test
skips saying what to install; under CI (``CI`` set to 1/true/yes) it fails, since CI
installs everything (``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
PRLIMIT_HOW = "install util-linux (apt-get install util-linux)"
#: 20 sales, a power dip after a print: findings of two codes, a power cut in the trace
SMALL = SCENARIOS / "power-dip-print-before-save.yaml"


def in_ci() -> bool:
    """True when the ``CI`` environment variable says the suite runs in CI."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(what: str, how: str) -> NoReturn:
    """Skip the test (``what`` is missing; ``how`` installs it); fail it under CI."""
    message = f"{what}; {how}"
    if in_ci():
        pytest.fail(f"{message} (CI is set: this test must run)")
    pytest.skip(message)


def system_tool(name: str, how: str) -> str:
    """The path of the program ``name`` on PATH, or :func:`missing` (skip; fail under CI)."""
    found = shutil.which(name)
    if found is None:
        missing(f"{name} is not installed", how)
    return found
