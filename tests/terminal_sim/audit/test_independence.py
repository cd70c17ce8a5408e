"""The auditor is a second oracle: the contract that keeps it apart, and its imports."""

from __future__ import annotations

import ast
import tomllib

from tests.support import ROOT

FORBIDDEN = {"terminal_sim.evidence", "terminal_sim.sim", "terminal_sim.harness",
             "terminal_sim.reporting", "terminal_sim.core", "terminal_sim.receipts",
             "terminal_sim.acquirer", "terminal_sim.stores", "terminal_sim.iso"}


def test_pyproject_forbids_the_reconciler_and_the_simulator() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("source_modules") == ["terminal_sim.audit"]]
    assert contract["type"] == "forbidden"
    assert set(contract["forbidden_modules"]) >= FORBIDDEN
    (layers,) = [c for c in contracts if c["type"] == "layers"]
    assert "terminal_sim.evidence | terminal_sim.audit" in layers["layers"]


def test_no_module_of_the_auditor_imports_them() -> None:
    for path in sorted((ROOT / "terminal_sim" / "audit").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), (
                    f"{path.name} imports {name}")
