"""Receipts as pictures for reports and the studio: PNG bytes and ``data:`` URIs.

The drawing itself is :mod:`printer.render` (the printer package's renderer, with
Debian's bitmap fonts, so images are the same on every machine); this module adds what
pages need on top of it: a cache (identical paper, such as blank slips, is drawn
once) that is safe for the studio's threads, ``data:`` URIs, and a receipt made from
plain text for when only the text of the paper is known.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from typing import Any

from printer.render import receipt_png_bytes
from printer.roll import Feed, Receipt, TextLine

__all__ = ["ReceiptArt", "receipt_data_uri", "receipt_png", "text_receipt"]

_lock = threading.Lock()  # the picture cache is shared by studio threads
_FONT_A_DOTS = 12


class ReceiptArt:
    """Draws receipts on paper ``columns`` font-A characters wide (48: an 80 mm roll)."""

    def __init__(self, columns: int = 48) -> None:
        self.columns = columns
        self.width = columns * _FONT_A_DOTS
        self._cache: dict[str, bytes] = {}

    def png(self, receipt: Receipt) -> bytes:
        """The receipt as PNG bytes."""
        key = self._key(receipt)
        with _lock:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            data = receipt_png_bytes(receipt, width_dots=self.width)
            if len(self._cache) < 4096:
                self._cache[key] = data
            return data

    def data_uri(self, receipt: Receipt) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png(receipt)).decode("ascii")

    @staticmethod
    def _key(receipt: Receipt) -> str:
        digest = hashlib.sha256(repr((receipt.elements, receipt.truncated,
                                      receipt.cut)).encode("utf-8"))
        return digest.hexdigest()


def _default_art() -> ReceiptArt:
    return ReceiptArt()


def receipt_png(receipt: Receipt) -> bytes:
    """``receipt`` as PNG bytes on an 80 mm roll (48 columns)."""
    return _default_art().png(receipt)


def receipt_data_uri(receipt: Receipt) -> str:
    """``receipt`` as a ``data:image/png;base64,...`` URI."""
    return _default_art().data_uri(receipt)


def text_receipt(text: str, *, truncated: bool = False) -> Receipt:
    """A receipt made of plain text lines, for when only the text of the paper is known.

    Styles are not known from text alone: every line is printed in font A, left aligned.
    """
    from printer.roll import DEFAULT_STYLE, TextRun

    elements: list[Any] = []
    for offset, line in enumerate(text.splitlines()):
        elements.append(TextLine(offset, line, runs=(TextRun(line, DEFAULT_STYLE),)))
    if not elements:
        elements.append(Feed(0, lines=6))
    return Receipt(tuple(elements), 0, len(text), None if truncated else "full", truncated)
