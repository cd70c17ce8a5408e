"""Paths the tests share: the repository, its scenarios and a small recorded scenario."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
#: 20 sales, a power dip after a print: findings of two codes, a power cut in the trace
SMALL = SCENARIOS / "power-dip-print-before-save.yaml"
