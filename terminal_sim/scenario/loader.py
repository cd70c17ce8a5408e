"""Scenario files: YAML in, a validated :class:`Scenario` out, or a precise error.

Every problem is a :class:`~terminal_sim.errors.ScenarioError` naming the file, the
line and the field (``workload.generate.count``): YAML syntax, unknown keys, duplicate
keys, wrong types and bad values (against :data:`~terminal_sim.scenario.schema.SCHEMA`),
then what a schema cannot say (unknown test cards or faults, unknown terminals, times
before the start).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from terminal_sim.base.cards import TEST_CARDS
from terminal_sim.errors import ScenarioError
from terminal_sim.scenario.builder import ScenarioBuilder
from terminal_sim.scenario.model import (
    CashierSpec,
    Expectation,
    FaultSpec,
    GenerateSpec,
    SaleSpec,
    Scenario,
    TerminalSpec,
    VoidSpec,
)
from terminal_sim.scenario.schema import SCHEMA

#: Scenario files are small and flat; deeper nesting is an error, not a stack overflow.
MAX_DEPTH = 64


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as the strings they were written as, and refuses
    aliases (an alias bomb would make the duplicate-key walk explode) and deep nesting."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, f"aliases (*{event.anchor}) are not allowed in scenario files",
                event.start_mark)  # type: ignore[arg-type]
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


class _Located:
    """The YAML node tree, to answer "which line holds this path?"."""

    def __init__(self, path: str, root: yaml.Node) -> None:
        self.path = path
        self.root = root

    def node(self, keys: list[Any]) -> yaml.Node:
        node = self.root
        for key in keys:
            child = self._child(node, key)
            if child is None:
                break
            node = child
        return node

    @staticmethod
    def _child(node: yaml.Node, key: Any) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    found: yaml.Node = value_node
                    return found
        if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child: yaml.Node = node.value[key]
            return child
        return None

    def key_line(self, keys: list[Any], key: str) -> int:
        """The line of mapping key ``key`` inside the mapping at ``keys``."""
        node = self.node(keys)
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                if key_node.value == key:
                    return int(key_node.start_mark.line) + 1
        return int(node.start_mark.line) + 1

    def line(self, keys: list[Any]) -> int:
        return int(self.node(keys).start_mark.line) + 1

    def error(self, keys: list[Any], reason: str, *, line: int | None = None) -> ScenarioError:
        dotted = ".".join(str(k) for k in keys) or "(document)"
        return ScenarioError(self.path, line if line is not None else self.line(keys), dotted,
                             reason)


def _check_duplicates(located: _Located, node: yaml.Node, keys: list[Any]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            name = key_node.value
            if name in seen:
                raise ScenarioError(located.path, key_node.start_mark.line + 1,
                                    ".".join(str(k) for k in [*keys, name]), "duplicate key")
            seen.add(name)
            _check_duplicates(located, value_node, [*keys, name])
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_duplicates(located, item, [*keys, index])


def _parse(path: str, text: str) -> tuple[_Located, Any]:
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                raise ScenarioError(path, 1, "(document)", "the file is empty")
            data = loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(p for p in (exc.context, exc.problem) if p) or "YAML syntax error"
        raise ScenarioError(path, line, "(syntax)", reason) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, None, "(syntax)", str(exc)) from None
    located = _Located(path, root)
    _check_duplicates(located, root, [])
    return located, data


# JSON Schema counts 1.0 as an integer; a scenario's integers are written as integers
_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool))
_VALIDATOR = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                          type_checker=_TYPES)(SCHEMA)


def _path_key(path: list[Any]) -> list[tuple[int, str]]:
    """A sort key for mixed int/str paths (list indexes and mapping keys)."""
    return [(0, f"{p:09d}") if isinstance(p, int) else (1, str(p)) for p in path]


def _schema_error(located: _Located, data: Any) -> ScenarioError | None:
    errors = sorted(_VALIDATOR.iter_errors(data),
                    key=lambda e: (located.line(list(e.absolute_path)),
                                   _path_key(list(e.absolute_path))))
    if not errors:
        return None
    error = errors[0]
    keys = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            known = ", ".join(sorted(allowed))
            return located.error([*keys, extra[0]], f"unknown key; known keys here: {known}",
                                 line=located.key_line(keys, extra[0]))
    if error.validator == "required":
        return located.error(keys, error.message)
    if error.validator in ("maximum", "maxItems") and isinstance(error.schema, dict):
        count = len(error.instance) if isinstance(error.instance, list) else error.instance
        what = " items" if isinstance(error.instance, list) else ""
        reason = f"{count:,}{what} is more than the maximum {error.validator_value:,}"
        descr = error.schema.get("description")
        return located.error(keys, reason + (f": {descr}" if descr else ""))
    if error.validator == "oneOf" and isinstance(error.schema, dict):
        descr = error.schema.get("description")
        reason = f"{error.instance!r} is not valid" + (f": {descr}" if descr else "")
        return located.error(keys, reason)
    return located.error(keys, error.message)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(name, None, "(file)", f"cannot read: {exc}") from None
    return parse_scenario(text, name)


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Validate scenario ``text`` (``path`` only names it in errors)."""
    located, data = _parse(path, text)
    problem = _schema_error(located, data)
    if problem is not None:
        raise problem
    return ScenarioBuilder(located, data, text).build()


__all__ = [
    "TEST_CARDS",
    "CashierSpec",
    "Expectation",
    "FaultSpec",
    "GenerateSpec",
    "SaleSpec",
    "Scenario",
    "TerminalSpec",
    "VoidSpec",
    "load_scenario",
    "parse_scenario",
]
