"""The words people read, in their language: one gettext catalogue for the whole tool.

Every sentence a page or a console summary shows is an English ``msgid`` in the code
(marked by a call to a :class:`Catalogue`, ``_("Stories")``, or kept in
:data:`terminal_sim.reporting.explain_text.EN` for the stories), and its translation lives in
``terminal_sim/locale/<ll_CC>/LC_MESSAGES/terminal_sim.po``. The ``.mo`` beside it is
compiled from it (``python3 tasks.py messages``) and committed, so an installation needs
nothing but the standard library's :mod:`gettext`; a test holds the two together and
checks that every marked string is translated. ``msgid`` values are ``str.format``
templates over named fields; a finding code, a terminal id, a STAN or a card brand is a
field, never part of the words.

The language is chosen by ``--lang`` or, without it, by the locale
(:func:`lang_from_env`: ``LC_ALL``, ``LC_MESSAGES``, ``LANG``; ``C``, ``POSIX`` or unset is
English). The language changes words only: no artifact but ``report.html`` and what is
printed depends on it.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from terminal_sim.errors import ConfigurationError

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "Catalogue", "catalogue", "lang_from_env"]

DOMAIN = "terminal_sim"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

#: Language tags the tool speaks (``--lang``), English first; gettext's folder for each.
LANGUAGES: tuple[str, ...] = ("en", "zh-CN")
_FOLDERS = {"zh-CN": "zh_CN"}
#: What goes between two sentences (typography, not words: Chinese runs them together).
_SENTENCE_GAPS = {"en": " ", "zh-CN": ""}


class Catalogue:
    """The words of one language: ``cat("Stories")``, ``cat("{count} receipts", count=3)``."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ConfigurationError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        self.lang = lang
        self._translations = _translations(lang)
        self.sentence_gap = _SENTENCE_GAPS[lang]

    def __call__(self, msgid: str, **fields: Any) -> str:
        text = self._translations.gettext(msgid)
        return text.format(**fields) if fields else text

    def _(self, msgid: str, **fields: Any) -> str:
        """The same as calling the catalogue (the name extraction tools look for)."""
        return self(msgid, **fields)

    def in_context(self, context: str, msgid: str) -> str:
        """``msgid`` as meant in ``context`` (gettext's ``pgettext``: a word with two senses)."""
        return self._translations.pgettext(context, msgid)


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[_FOLDERS[lang]])
    except OSError as err:  # the .mo is missing from this installation
        raise ConfigurationError(f"no message catalogue for {lang!r} in {LOCALE_DIR}") from err


def catalogue(lang: str) -> Catalogue:
    """The catalogue of ``lang`` (one of :data:`LANGUAGES`)."""
    return Catalogue(lang)


def lang_from_env(environ: Mapping[str, str]) -> str:
    """The language the locale asks for: the first set of ``LC_ALL``, ``LC_MESSAGES`` and
    ``LANG`` (as the C library reads them); a Chinese locale (``zh_CN.UTF-8``, ``zh_SG``,
    ``zh``) gives ``zh-CN``, anything else (``C``, ``POSIX``, unset, other languages) ``en``."""
    value = next((environ[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG")
                  if environ.get(name)), "")
    tag = value.split(".", 1)[0].split("@", 1)[0].replace("-", "_").lower()
    if tag in ("zh", "zh_cn", "zh_sg", "zh_hans") or tag.startswith("zh_hans_"):
        return "zh-CN"
    return "en"
