"""What ``pos-sim explore`` writes: ``explore.json`` and one folder per failure.

``DIR/explore.json`` is the :meth:`~terminal_sim.explore.runner.Exploration.summary`
plus ``failing``: one ``{world, name, reason, reasons, dir, minimal}`` per failing world
(paths relative to ``DIR``). ``DIR/failures/<reason>-<world>/`` holds ``scenario.yaml``
(the generated world), ``reproduce.sh`` (the one command that shows the failure) and,
for the worlds that were shrunk, ``minimal.yaml``: the minimal scenario, commented with
where it came from, the reason and what was removed. When the reason is a finding code,
the minimal scenario expects none of it, so ``pos-sim run`` exits 1 on it.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from terminal_sim.explore.judge import ORACLE
from terminal_sim.explore.runner import Exploration, Failure
from terminal_sim.explore.world import dump_yaml
from terminal_sim.scenario.schema import FINDING_CODES

__all__ = ["EXPLORE_JSON", "failure_dir", "minimal_text", "write_exploration"]

EXPLORE_JSON = "explore.json"


def failure_dir(failure: Failure) -> str:
    """``failures/<reason>-<world>``, relative to the output folder."""
    reason = re.sub(r"[^A-Za-z0-9_.-]+", "-", failure.reason).strip("-")
    return f"failures/{reason}-{failure.world.index:04d}"


def _command(file: str, profile: str) -> str:
    return f"pos-sim run {file} --profile {profile} --out run"


def minimal_text(failure: Failure, profile: str, seed: int) -> str:
    """The commented minimal scenario of ``failure`` (which was shrunk)."""
    data = copy.deepcopy(failure.minimal or failure.scenario)
    data["name"] = f"{failure.world.name}-minimal"
    data["description"] = (f"pos-sim explore --profile {profile} --seed {seed}, world "
                           f"{failure.world.index}, shrunk: fails with {failure.reason}")
    if failure.reason in FINDING_CODES:
        data["expect"] = {failure.reason: 0}
    removed = failure.removed or ["nothing"]
    lines = [
        f"# Minimal scenario of world {failure.world.index} ({failure.world.name}) of",
        f"#   pos-sim explore --profile {profile} --seed {seed}",
        f"# It fails for: {failure.reason} (the world also: "
        f"{', '.join(failure.world.reasons)})",
        f"# Shrunk in {failure.shrink_runs} runs; removed:",
        *[f"#   - {note}" for note in removed],
        f"# Reproduce: {_command('minimal.yaml', profile)}",
    ]
    if failure.reason in FINDING_CODES:
        lines.append(f"#   exits 1: the expectation {failure.reason}: 0 is unmet")
    else:
        lines.append(f"#   and read its report: {failure.reason} is not a finding code")
    return "\n".join(lines) + "\n" + dump_yaml(data)


def _reproduce(failure: Failure, profile: str, seed: int, minimal: str | None) -> str:
    target = "minimal.yaml" if failure.minimal is not None else "scenario.yaml"
    lines = ["#!/bin/sh",
             f"# world {failure.world.index} of pos-sim explore --profile {profile} "
             f"--seed {seed}: {failure.reason}"]
    if minimal is not None and failure.minimal is None:
        lines.append(f"# its minimal scenario (same reason, another world): {minimal}")
    lines += ['cd "$(dirname "$0")" || exit 2', _command(target, profile)]
    if failure.reason.startswith(f"{ORACLE}:"):  # the run passes; the two oracles differ
        lines.append("pos-sim audit run --json  # agrees_with_report: false")
    return "\n".join(lines) + "\n"


def write_exploration(found: Exploration, out_dir: Path) -> dict[str, Any]:
    """Write ``explore.json`` and the failure folders under ``out_dir``; returns the JSON."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dirs = {f.world.index: failure_dir(f) for f in found.failures}
    failing = []
    for failure in found.failures:
        folder = out_dir / dirs[failure.world.index]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scenario.yaml").write_text(dump_yaml(failure.scenario), encoding="utf-8")
        minimal = None
        if failure.minimal is not None:
            minimal = f"{dirs[failure.world.index]}/minimal.yaml"
            (folder / "minimal.yaml").write_text(
                minimal_text(failure, found.profile, found.seed), encoding="utf-8")
        elif failure.minimal_of is not None:
            minimal = f"{dirs[failure.minimal_of]}/minimal.yaml"
        script = folder / "reproduce.sh"
        script.write_text(_reproduce(failure, found.profile, found.seed,
                                     f"../../{minimal}" if minimal else None),
                          encoding="utf-8")
        script.chmod(0o755)
        failing.append({"world": failure.world.index, "name": failure.world.name,
                        "reason": failure.reason, "reasons": list(failure.world.reasons),
                        "dir": dirs[failure.world.index], "minimal": minimal})
    data = {**found.summary(), "failing": failing}
    (out_dir / EXPLORE_JSON).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return data
