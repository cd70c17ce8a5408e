"""The words a reader sees on a page, and those of them that are English.

:func:`visible_text` is the text a browser shows: text nodes outside ``<script>`` and
``<style>``, and the attributes a reader meets (``title``, ``placeholder``, ``alt``,
``aria-label``, ``value`` of a button or an input). :func:`english_words` keeps the
words that are English prose: a token shaped like an identifier (a finding code, a
STAN, ``trace.jsonl``, ``sale/after:print``, ``T+0:01:02``) or in the allow-list
(card brands, the names of faults and trace records, which are identifiers) is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

__all__ = ["ALLOWED", "english_words", "visible_text"]

_SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

#: Words that are names, not prose: card brands, the product, units and protocol names.
ALLOWED = frozenset({
    "VISA", "Visa", "Mastercard", "MasterCard", "UnionPay", "Amex", "Maestro", "JCB",
    "terminal-sim", "ISO", "STAN", "STANs", "RRN", "RC", "MTI", "PAN", "CNY", "EUR", "USD",
    "GBP", "T", "C", "x", "h", "min", "s", "ms", "UTC", "ESC/POS",
})


class _Text(HTMLParser):
    def __init__(self, skip_alt_of: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._skip_alt_of = skip_alt_of

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        values = dict(attrs)
        for name in _SHOWN_ATTRIBUTES:
            if name == "alt" and self._skip_alt_of and (values.get("src") or "").startswith(
                    self._skip_alt_of):
                continue  # a receipt image: its alt text is the paper's own words
            if values.get(name):
                self.parts.append(str(values[name]))
        if tag in ("input", "button") and values.get("type") in ("button", "submit") \
                and values.get("value"):
            self.parts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(page: str, *, skip_alt_of: str | None = "data:image/png") -> str:
    parser = _Text(skip_alt_of)
    parser.feed(page)
    parser.close()
    return "\n".join(parser.parts)


_TOKEN = re.compile(r"[A-Za-z0-9_:/#.+\-@']+")
_IDENTIFIER = re.compile(r"[_:/#0-9@+]|\.[a-z]")


def english_words(text: str, identifiers: Iterable[str] = ()) -> list[str]:
    """The English words of ``text``, in order, that are neither identifier-shaped, nor in
    :data:`ALLOWED`, nor in ``identifiers``."""
    allowed = ALLOWED | set(identifiers)
    out = []
    for raw in _TOKEN.findall(text):
        token = raw.strip(".'-")
        if not re.search("[A-Za-z]", token) or token in allowed:
            continue
        if _IDENTIFIER.search(token) or (token.isupper() and len(token) > 1):
            continue
        out.append(token)
    return out
