"""``--lang``: the language of what a command shows (pages, stories, summaries).

Without it the locale decides (:func:`terminal_sim.reporting.i18n.lang_from_env`:
``LC_ALL``, ``LC_MESSAGES``, ``LANG``; ``C``, ``POSIX`` or unset is English). The
language changes words only, never an artifact other than ``report.html``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from terminal_sim.reporting.i18n import LANGUAGES, lang_from_env

__all__ = ["lang_option"]

F = TypeVar("F", bound=Callable[..., Any])


def _resolve(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    return value if value is not None else lang_from_env(os.environ)


def lang_option(what: str) -> Callable[[F], F]:
    """The ``--lang`` option of a command whose ``what`` it translates."""
    return click.option(
        "--lang", type=click.Choice(LANGUAGES), default=None, callback=_resolve,
        help=f"Language of {what} (default: from the locale, LC_ALL / LC_MESSAGES / LANG; "
             "C, POSIX or unset: en).")
