"""Docstrings for the terminal: reStructuredText's inline markup taken out.

``pos-sim acquirer spec`` and ``pos-sim faults show`` print module and class docstrings,
which are written for Sphinx: ``literal``, :mod:`pkg.module`, **strong**, ```text`_``,
``Example::``. On a terminal that markup is noise, so :func:`plain` drops it and keeps
the words; everything else (paragraphs, lists, simple tables) is plain text already.
"""

from __future__ import annotations

import inspect
import re

__all__ = ["plain"]

# :role:`~pkg.mod.name` -> name, :role:`title <target>` -> title, :role:`pkg.mod` -> pkg.mod
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`(~?)([^`<]*?)(?:\s*<[^`>]*>)?`")
_LITERAL = re.compile(r"``(.+?)``")
_CELL_LITERAL = re.compile(r"``([^`]+?)``(\s{2,}|$)")
_STRONG = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")
_LINK = re.compile(r"`([^`<]+?)(?:\s*<[^`>]*>)?`_{1,2}")


def _role(match: re.Match[str]) -> str:
    text = match.group(2).strip()
    return text.rsplit(".", 1)[-1] if match.group(1) else text


_BORDER = re.compile(r"^\s*=+(\s+=+)*\s*$")


def _table_rows(lines: list[str]) -> set[int]:
    """Indexes of the lines inside simple tables (between a block's first and last
    ``====`` border)."""
    rows: set[int] = set()
    borders: list[int] = []
    for index, line in enumerate([*lines, ""]):
        if not line.strip():  # a block ends
            if len(borders) >= 2:
                rows.update(range(borders[0] + 1, borders[-1]))
            borders = []
        elif _BORDER.match(line):
            borders.append(index)
    return rows


def plain(text: str | None) -> str:
    """``text`` (a docstring) dedented, without reStructuredText's inline markup."""
    lines = inspect.cleandoc(text or "").splitlines()
    for index in _table_rows(lines):
        # a literal that ends a cell gives its backquotes back as spaces: columns stay
        lines[index] = _CELL_LITERAL.sub(lambda m: m.group(1) + "    " + m.group(2),
                                         lines[index])
    out = "\n".join(lines)
    out = _ROLE.sub(_role, out)
    out = _LITERAL.sub(r"\1", out)
    out = _STRONG.sub(r"\1", out)
    out = _LINK.sub(r"\1", out)
    # "Example::" introduces a literal block: on a terminal it is just "Example:"
    return re.sub(r"(\S)::$", r"\1:", out, flags=re.MULTILINE)
