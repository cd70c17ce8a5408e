"""``ESC t`` code pages: the character tables text bytes are decoded with."""

from __future__ import annotations

import codecs
import importlib.util
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from printer.interpreter.codes import _ASCII


class CodePages:
    """``ESC t n`` to character tables, as python-escpos's capabilities define them.

    ``pages`` maps the number n to an encoding name (a profile's ``codePages``),
    ``encodings`` those names to capability entries (``python_encode`` codec name, or
    ``data``: the 128 characters of 0x80..0xFF). Tables are built on first use and shared
    by every interpreter in the process.
    """

    def __init__(
        self,
        pages: Mapping[int, str] | Mapping[str, str],
        encodings: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self._pages = {int(n): str(name) for n, name in pages.items()}
        self._encodings = encodings
        self._memo: dict[int, str | None] = {}

    def __contains__(self, n: object) -> bool:
        return n in self._pages

    def name(self, n: int) -> str | None:
        """The encoding name of page ``n``, or None when the profile has no page n."""
        return self._pages.get(n)

    def table(self, n: int) -> str | None:
        """The 256-character decoding table of page ``n``; None when none is known."""
        if n in self._memo:
            return self._memo[n]
        name = self._pages.get(n)
        table = None if name is None else _table_for(self._encodings.get(name, {}))
        self._memo[n] = table
        return table

    @classmethod
    def default(cls) -> CodePages:
        """The pages of python-escpos's default profile, read without importing escpos."""
        return _default_code_pages()


# Decoding tables by what defines them (a codec name, or the 128 characters of a data
# table), so every interpreter and profile in the process shares them.
_TABLES: dict[tuple[str, str], str | None] = {}


def _table_for(entry: Mapping[str, Any]) -> str | None:
    data = entry.get("data")
    if data is not None:
        key = ("data", "".join(data))
    else:
        key = ("codec", str(entry.get("python_encode") or entry.get("iconv") or ""))
    if key not in _TABLES:
        _TABLES[key] = _build_table(entry)
    return _TABLES[key]

# Used when python-escpos's capabilities cannot be read: the Epson standard numbering.
_FALLBACK_PAGES = {0: "CP437", 2: "CP850", 3: "CP860", 4: "CP863", 5: "CP865", 16: "CP1252",
                   17: "CP866", 18: "CP852", 19: "CP858", 39: "ISO_8859-2", 40: "ISO_8859-15"}
_FALLBACK_ENCODINGS = {
    "CP437": {"python_encode": "cp437"}, "CP850": {"python_encode": "cp850"},
    "CP860": {"python_encode": "cp860"}, "CP863": {"python_encode": "cp863"},
    "CP865": {"python_encode": "cp865"}, "CP1252": {"python_encode": "cp1252"},
    "CP866": {"python_encode": "cp866"}, "CP852": {"python_encode": "cp852"},
    "CP858": {"python_encode": "cp858"}, "ISO_8859-2": {"python_encode": "iso8859_2"},
    "ISO_8859-15": {"python_encode": "iso8859-15"},
}


def _build_table(entry: Mapping[str, Any]) -> str | None:
    # Same rule as python-escpos's Encoder._get_codepage_char_list: bytes below 0x80 are
    # ASCII, each byte 0x80..0xFF is one character of the code page.
    data = entry.get("data")
    if data is not None:
        high = "".join(data)
        return _ASCII + high if len(high) == 128 else None
    codec = entry.get("python_encode") or entry.get("iconv")
    if not codec:
        return None
    try:
        codecs.lookup(codec)
    except LookupError:
        return None
    chars = []
    for byte in range(128, 256):
        try:
            char = bytes((byte,)).decode(codec)
        except UnicodeDecodeError:
            char = "\ufffd"  # a lead byte of a multi-byte codec (CP932): not one character
        chars.append(char if len(char) == 1 else "\ufffd")
    return _ASCII + "".join(chars)


@cache
def _default_code_pages() -> CodePages:
    try:
        spec = importlib.util.find_spec("escpos")  # locates, does not import, the package
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("python-escpos is not installed")
        path = Path(next(iter(spec.submodule_search_locations))) / "capabilities.json"
        with path.open(encoding="utf-8") as handle:
            capabilities = json.load(handle)
        return CodePages(capabilities["profiles"]["default"]["codePages"],
                         capabilities["encodings"])
    except (OSError, ValueError, KeyError, TypeError, ImportError):
        return CodePages(_FALLBACK_PAGES, _FALLBACK_ENCODINGS)
