"""README.md is a script: its commands run as written, in order, from a fresh clone.

The convention (stated in the README's Quickstart): every line of a fenced ``sh`` block is
a command (a line ending in ``\\`` continues on the next; a line that is only a comment is
prose). A command must exit 0 unless its trailing comment ends with ``[exit N]``; one
that serves until stopped or runs for many minutes ends with ``[not run: why]``, and a
block preceded by ``<!-- not run: why -->`` is skipped whole. Any ``sh`` block counts,
including ones added later.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from terminal_sim.harness.run import run_scenario
from terminal_sim.scenario.loader import parse_scenario
from terminal_sim.scenario.schema import FINDING_CODES
from tests.support import ROOT

README = ROOT / "README.md"
# a fence may be indented (a block inside a list item)
_BLOCK = re.compile(r"(?P<before>[^\n]*)\n[ \t]*```(?P<lang>[\w-]*)\n(?P<body>.*?)^[ \t]*```",
                    re.S | re.M)
_EXIT = re.compile(r"\[exit (\d+)\]\s*$")
_NOT_RUN = re.compile(r"\[not run: ([^\]]+)\]\s*$")
_BLOCK_NOT_RUN = re.compile(r"<!--\s*not run:\s*(.+?)\s*-->")


@dataclass(frozen=True)
class Command:
    """One command of the README, with what it must do."""

    line: int
    text: str
    exit_code: int
    not_run: str | None


def _split_comment(line: str) -> tuple[str, str]:
    """``cmd  # comment`` -> (cmd, comment): the first ``#`` after a space, outside quotes."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1:].strip()
    return line.rstrip(), ""


def readme_commands(text: str) -> list[Command]:
    """Every command of every ``sh`` block of ``text``, in order."""
    commands: list[Command] = []
    for block in _BLOCK.finditer(text):
        if block["lang"] != "sh":
            continue
        skipped = _BLOCK_NOT_RUN.search(block["before"])
        first = text.count("\n", 0, block.start("body")) + 1
        pending: list[str] = []
        for offset, raw in enumerate(block["body"].splitlines()):
            code, comment = _split_comment(raw)
            if not code and not pending:
                continue  # prose in a comment, or a blank line
            pending.append(code.removesuffix("\\").strip())
            if code.endswith("\\"):
                continue
            expected = _EXIT.search(comment)
            not_run = _NOT_RUN.search(comment)
            commands.append(Command(
                line=first + offset, text=" ".join(pending),
                exit_code=int(expected[1]) if expected else 0,
                not_run=skipped[1] if skipped else (not_run[1] if not_run else None)))
            pending = []
    return commands


def test_the_convention_reads_exit_codes_continuations_and_skips() -> None:
    text = ("intro\n```sh\n"
            "a --x 1   # ok\n"
            "b 'q # not a comment'   # fails here [exit 1]\n"
            "# prose only\n"
            "c --long \\\n"
            "    --more   # [not run: serves until stopped]\n"
            "```\n\n<!-- not run: needs a cluster -->\n```sh\nd\n```\n"
            "```yaml\ne: 1\n```\n")
    found = readme_commands(text)
    assert [(c.text, c.exit_code, c.not_run) for c in found] == [
        ("a --x 1", 0, None),
        ("b 'q # not a comment'", 1, None),
        ("c --long --more", 0, "serves until stopped"),
        ("d", 0, "needs a cluster"),
    ]
    assert found[0].line == 3


def test_the_readme_runs_most_of_its_commands() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    ran = [c for c in commands if c.not_run is None]
    assert commands[0].text == "python3 tasks.py demo"
    assert len(ran) >= 15  # the walk is a walk: skipping is for servers and hours
    assert all(c.not_run.strip() for c in commands if c.not_run is not None)


def test_findings_table_names_every_finding_code() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Findings", 1)[1].split("\n\n", 2)[1]
    listed = set(re.findall(r"`([A-Z_]+)`", table))
    assert listed == set(FINDING_CODES)


def test_the_example_scenario_meets_its_own_expectations() -> None:
    text = README.read_text(encoding="utf-8")
    examples = [b["body"] for b in _BLOCK.finditer(text)
                if b["lang"] == "yaml" and "terminals:" in b["body"]]
    assert examples
    for body in examples:
        result = run_scenario(parse_scenario(body, "README.md"))
        assert result.report["expectations"]
        assert result.passed, result.report["expectations"]


#: a README command that takes longer than this is stuck (or the README asks too much)
COMMAND_TIMEOUT_S = 600


def _fresh_clone(target: Path) -> Path:
    """The tracked files of this checkout (as they are now) and the running venv."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    if sys.prefix == sys.base_prefix:
        pytest.skip("the walk borrows the running virtual environment")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    venv = target / ".venv"  # the installed venv, seen from the clone, with tasks.py's stamp
    venv.mkdir()
    for entry in Path(sys.prefix).iterdir():
        if entry.name != ".terminal-sim-installed":
            (venv / entry.name).symlink_to(entry)
    digest = hashlib.sha256((target / "pyproject.toml").read_bytes()).hexdigest()
    (venv / ".terminal-sim-installed").write_text(digest)
    return target


@pytest.mark.slow
@pytest.mark.timeout(2400)  # every command of the README, one after the other
def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    clone = _fresh_clone(tmp_path / "clone")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    for command in readme_commands((clone / "README.md").read_text(encoding="utf-8")):
        if command.not_run is not None:
            continue
        try:
            done = subprocess.run(["bash", "-c", command.text], cwd=clone, env=env,
                                  capture_output=True, text=True, check=False,
                                  timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"README.md line {command.line}: {command.text}\n still running "
                        f"after {COMMAND_TIMEOUT_S} s")
        assert done.returncode == command.exit_code, (
            f"README.md line {command.line}: {command.text}\n exit {done.returncode}, "
            f"README says {command.exit_code}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
