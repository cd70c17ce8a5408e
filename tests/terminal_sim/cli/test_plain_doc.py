"""Docstrings printed on the terminal carry no reStructuredText markup."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from terminal_sim.cli.main import main
from terminal_sim.cli.plain_doc import plain
from terminal_sim.plugins.registry import known_fault_names

MARKUP = re.compile(r"``|:[a-z]+:`|\*\*\S|`_")


def test_inline_markup_is_taken_out_and_the_words_kept() -> None:
    text = """Title.

    Uses :mod:`terminal_sim.base.cards`, :func:`~terminal_sim.iso.framing.swap_tpdu`,
    :class:`the ledger <terminal_sim.acquirer.ledger.HostLedger>` and ``"no-reply"``;
    the **Luhn check** first; see `the spec <https://example.org>`_. Example::

        pos-sim acquirer spec
    """
    assert plain(text) == (
        "Title.\n\nUses terminal_sim.base.cards, swap_tpdu,\nthe ledger and \"no-reply\";\n"
        "the Luhn check first; see the spec. Example:\n\n    pos-sim acquirer spec")


def test_a_simple_table_keeps_its_columns() -> None:
    table = plain("""x

    ======  ====  =========
    ending  code  meaning
    ======  ====  =========
    ``05``  05    do ``not`` honour
    ======  ====  =========
    """)
    assert "05      05    do not honour" in table.splitlines()


def test_acquirer_spec_prints_no_markup() -> None:
    result = CliRunner().invoke(main, ["acquirer", "spec"])
    assert result.exit_code == 0, result.output
    assert MARKUP.findall(result.output) == []


@pytest.mark.parametrize("name", known_fault_names())
def test_faults_show_prints_no_markup(name: str) -> None:
    result = CliRunner().invoke(main, ["faults", "show", name])
    assert result.exit_code == 0, result.output
    assert MARKUP.findall(result.output) == [], name
