"""The stories of other failure modes, and the wording catalogues."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal_sim.errors import ConfigurationError
from terminal_sim.reporting.explain import Narrator, explain_text, format_virtual
from terminal_sim.reporting.run_view import load_run_dir
from terminal_sim.sim.simulation import RunResult

Runs = dict[str, tuple[Path, RunResult]]


def test_the_commands_offer_every_language() -> None:
    import click

    from terminal_sim.cli.main import main
    from terminal_sim.reporting.i18n import LANGUAGES

    for name in ("run", "report", "explain", "studio"):
        option = next(p for p in main.commands[name].params if p.name == "lang")
        assert isinstance(option.type, click.Choice)
        assert tuple(option.type.choices) == LANGUAGES, name


def test_virtual_time_format() -> None:
    assert format_virtual(0) == "0:00:00"
    assert format_virtual(28_800_000) == "8:00:00"
    assert format_virtual(400_209) == "0:06:40.209"


def test_print_before_save(scenario_runs: Runs) -> None:
    narrator = Narrator(load_run_dir(scenario_runs["power-dip-print-before-save"][0]))
    stories = narrator.stories()
    lost = next(s for s in stories if "LOST_RECORD" in s.codes)
    assert lost.codes == ["LOST_RECORD", "STRAY_RECEIPT"]  # one receipt, two findings
    text = lost.text()
    assert "printed an 'APPROVED' slip (26.10 EUR) STAN 000005" in text
    assert "the power failed at crash point sale/after:print" in text
    assert "the journal has no record" in text
    assert "the host ledger has STAN 000005 approved" in text
    assert "their card is charged 26.10 EUR" in text
    diverging = [s for s in lost.steps if s.diverges]
    assert len(diverging) == 1
    assert "printed" in diverging[0].text
    # the moment of the print comes before the moment of the cut
    printed = text.index("printed an 'APPROVED'")
    assert printed < text.index("the power failed")


def test_lost_approval_has_no_paper(scenario_runs: Runs) -> None:
    text = explain_text(load_run_dir(scenario_runs["power-dip-lost-approval"][0]))
    assert "The customer holds no receipt; their card is charged 40.80 EUR" in text
    assert "crash point sale/after:host_reply" in text


def test_cold_reader_slips(scenario_runs: Runs) -> None:
    view = load_run_dir(scenario_runs["cold-reader-error-slips"][0])
    text = explain_text(view)
    slips = sum(1 for f in view.findings if f["code"] == "STRAY_RECEIPT")
    assert slips > 10  # a cold morning: many failed reads, each a slip
    assert f"{slips} 'CARD UNREADABLE' slips" in text
    assert "°C and failed the read" in text
    assert f"the cold-card-reader fault (card read failed), {slips} times" in text


def test_late_reply_orphan(scenario_runs: Runs) -> None:
    view = load_run_dir(scenario_runs["late-host-reply"][0])
    numbers = [n for n, f in enumerate(view.findings, 1) if f["code"] == "ORPHAN_AUTHORIZATION"]
    story = Narrator(view).story(numbers[0])
    text = story.text()
    assert "reached a terminal that had stopped waiting: it was ignored" in text
    assert "the journal has STAN 000006 as failed" in text
    assert "the host ledger has STAN 000006 approved" in text


def test_no_findings(scenario_runs: Runs) -> None:
    text = explain_text(load_run_dir(scenario_runs["happy-day"][0]))
    assert "no findings" in text


def test_unknown_language(scenario_runs: Runs) -> None:
    with pytest.raises(ConfigurationError, match="unknown language"):
        Narrator(load_run_dir(scenario_runs["happy-day"][0]), "fr")
