"""Chinese throughout: one catalogue, every marked word translated, pages with no English
word outside codes and identifiers, and a language that changes words only."""

from __future__ import annotations

import ast
import gettext
import json
import re
import string
from pathlib import Path
from typing import Any

import pytest

from terminal_sim.harness.run import run_scenario
from terminal_sim.plugins.registry import known_fault_names
from terminal_sim.reporting import report_html
from terminal_sim.reporting.explain import explain_text
from terminal_sim.reporting.explain_text import EN
from terminal_sim.reporting.i18n import LOCALE_DIR, Catalogue, lang_from_env
from terminal_sim.reporting.report_assets import REPORT_JS
from terminal_sim.reporting.report_html import render_report_html
from terminal_sim.reporting.run_view import RunView, load_run_dir
from terminal_sim.reporting.timeline import LANES
from terminal_sim.scenario.loader import load_scenario
from terminal_sim.sim.simulation import RunResult
from terminal_sim.studio import page as studio_page
from tests.support import ROOT, SCENARIOS
from tests.terminal_sim.reporting.page_words import english_words, visible_text

PO = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "terminal_sim.po"
MO = PO.with_suffix(".mo")
Runs = dict[str, tuple[Path, RunResult]]


def po_messages() -> dict[tuple[str | None, str], str]:
    from babel.messages.pofile import read_po

    with PO.open("rb") as handle:
        catalog = read_po(handle)
    return {(m.context, str(m.id)): str(m.string) for m in catalog if m.id}


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_committed_mo_is_the_po_compiled() -> None:
    from babel.messages.mofile import read_mo

    with MO.open("rb") as handle:
        compiled = {(m.context, str(m.id)): str(m.string) for m in read_mo(handle) if m.id}
    assert compiled == po_messages(), "run `python3 tasks.py messages` after editing the .po"
    # and the standard library reads it as the tool does
    with MO.open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    assert translations.pgettext("state", "approved") == "已批准"


def marked_words() -> set[str]:
    """Every msgid the code marks: the story templates, ``_("...")`` calls with a literal,
    the studio page's ``[[...]]`` and script words, and the report's script words."""
    words = set(EN.values()) | {label for _, label in LANES} | set(report_html.SCRIPT_WORDS)
    words |= set(studio_page.MARKED.findall(studio_page.PAGE_HTML))
    words |= set(studio_page.script_words())
    for path in (ROOT / "terminal_sim").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name == "_" and isinstance(node.args[0].value, str):
                    words.add(node.args[0].value)
    return words


def test_every_marked_word_is_translated_with_the_same_fields() -> None:
    messages = {msgid: text for (context, msgid), text in po_messages().items() if not context}
    words = marked_words()
    assert len(words) > 250, len(words)
    missing = sorted(w for w in words if not messages.get(w))
    assert not missing, missing
    for word in words:
        assert fields(messages[word]) == fields(word), word


def test_the_values_a_page_shows_as_words_are_translated() -> None:
    messages = po_messages()
    for state in studio_page.VALUES:
        assert messages.get(("state", state)), state
    for name in known_fault_names():  # the registry's summaries of the built-in faults
        from terminal_sim.plugins.registry import fault_class

        assert messages.get(("summary", fault_class(name).summary)), name


@pytest.mark.parametrize(("environ", "lang"), [
    ({}, "en"), ({"LANG": "C"}, "en"), ({"LANG": "POSIX"}, "en"), ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh-CN"), ({"LANG": "zh_CN.GB18030"}, "zh-CN"),
    ({"LANG": "de_DE.UTF-8"}, "en"), ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, "zh-CN"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_SG.UTF-8"}, "zh-CN"),
    ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh-CN"),
])
def test_the_default_language_follows_the_locale(environ: dict[str, str], lang: str) -> None:
    assert lang_from_env(environ) == lang


def test_an_unknown_language_is_refused() -> None:
    from terminal_sim.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="unknown language"):
        Catalogue("fr")


# -- the pages -------------------------------------------------------------------------------

def identifiers(view: RunView) -> set[str]:
    """Names of this run that are identifiers: trace record kinds and names, crash points,
    the scenario, the profile, fault and terminal names."""
    names: set[str] = set(known_fault_names())
    for record in view.trace:
        names |= {record["kind"], record["name"], record.get("crash_point") or ""}
    report = view.report
    names |= {str(report.get("scenario")), str(report.get("profile")),
              *(report.get("faults") or []), *(report.get("terminals") or [])}
    return names


NAMES = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("name", NAMES)
def test_report_html_in_chinese_has_no_english_word(name: str, scenario_runs: Runs) -> None:
    view = load_run_dir(scenario_runs[name][0])
    page = render_report_html(view, lang="zh-CN")
    assert '<html lang="zh-CN">' in page
    assert english_words(visible_text(page), identifiers(view)) == []
    # the words the page's script shows: the trace table, the timeline, the pager
    blob = page.split('id="timeline-data">', 1)[1].split("</script>", 1)[0]
    data = json.loads(blob)
    shown = [*data["names"]["texts"], *(label for _, label in data["names"]["states"]),
             *data["names"]["lanes"], *data["words"].values()]
    text = re.sub(r"\{[a-z]+\}", "", "\n".join(shown))  # the script fills in {fields}
    assert english_words(text, identifiers(view)) == []
    assert english_words(explain_text(view, lang="zh-CN"), identifiers(view)) == []
    for number in range(1, min(len(view.findings), 3) + 1):  # the headline of one finding
        assert english_words(explain_text(view, finding=number, lang="zh-CN"),
                             identifiers(view)) == []


def test_the_check_finds_english(nightly_run: Path) -> None:
    """The check can fail: the English page, and a Chinese page with an untranslated word."""
    view = load_run_dir(nightly_run)
    english = english_words(visible_text(render_report_html(view, lang="en")), identifiers(view))
    assert {"Stories", "Timeline", "receipts", "customer"} <= set(english)
    words = english_words(visible_text('<p title="light up">故事</p><button>play</button>'
                                       '<script>var stories;</script>'
                                       '<img alt="blank slip" src="x.png">'))
    assert words == ["light", "up", "play", "blank", "slip"]


def test_the_script_words_of_the_report_are_in_its_script() -> None:
    for literal in report_html.SCRIPT_WORDS:
        assert f'"{literal}"' in REPORT_JS, literal


def studio_configs() -> list[dict[str, Any]]:
    live = {"mode": "live", "profile": "naive", "seed": 0, "cards": ["VISA", "Mastercard"],
            "crash_points": ["sale/after:print", "sale/before:journal_commit"],
            "currencies": ["CNY", "EUR"]}
    replay = {"mode": "replay", "profile": "naive", "seed": 7, "scenario": "happy-day",
              "run_dir": "out/happy-day", "total": 10, "cards": [], "crash_points": [],
              "currencies": []}
    return [live, replay]


@pytest.mark.parametrize("config", studio_configs(), ids=["live", "replay"])
def test_the_studio_page_in_chinese_has_no_english_word(config: dict[str, Any]) -> None:
    import json

    page = studio_page.render_page({**config, "lang": "zh-CN"})
    allowed = {"happy-day", "naive", *config["crash_points"]}
    assert '<html lang="zh-CN">' in page
    assert english_words(visible_text(page), allowed) == []
    # what its script shows (the words it is given, the states it names)
    data = json.loads(re.search(r'<script type="application/json" id="config">(.*?)</script>',
                                page, re.S)[1])  # type: ignore[index]
    shown = [*data["words"].values(), *data["states"].values(),
             *(c for columns in data["book_columns"].values() for c in columns)]
    assert english_words("\n".join(shown)) == []
    english = studio_page.render_page({**config, "lang": "en"})
    assert {"Customer", "Present", "card"} <= set(english_words(visible_text(english), allowed)) \
        or config["mode"] == "replay"


def test_the_studio_tells_its_log_and_findings_in_chinese(nightly_run: Path) -> None:
    from terminal_sim.studio.replay import Replay

    replay = Replay(nightly_run, lang="zh-CN")
    replay.act({"action": "seek", "position": replay.total})
    data = replay.snapshot()
    view = load_run_dir(nightly_run)
    texts = [data["message"], *(item["text"] for item in data["trace"])]
    texts += [f"{f['title']} {f['summary']} {' '.join(f['sentences'])}" for f in data["findings"]]
    assert data["findings"]
    assert english_words("\n".join(texts), identifiers(view)) == []


# -- words only --------------------------------------------------------------------------------

def test_the_language_changes_report_html_only(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "power-dip-print-before-save.yaml")
    runs = {}
    for lang in ("en", "zh-CN"):
        run_scenario(scenario, out_dir=tmp_path / lang, lang=lang)
        runs[lang] = {p.relative_to(tmp_path / lang): p.read_bytes()
                      for p in sorted((tmp_path / lang).rglob("*")) if p.is_file()}
    assert set(runs["en"]) == set(runs["zh-CN"])
    differ = sorted(str(p) for p in runs["en"] if runs["en"][p] != runs["zh-CN"][p])
    assert differ == ["report.html"]


# -- the commands --------------------------------------------------------------------------------

def run_cli(args: list[str], env: dict[str, str]) -> Any:
    from click.testing import CliRunner

    from terminal_sim.cli.main import main

    return CliRunner().invoke(main, args, env=env)


def test_run_speaks_the_locale_and_lang_overrides_it(tmp_path: Path) -> None:
    scenario = str(SCENARIOS / "power-dip-print-before-save.yaml")
    chinese = run_cli(["run", scenario, "--out", str(tmp_path / "zh")],
                      {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "zh_CN.UTF-8"})
    view = load_run_dir(tmp_path / "zh")
    assert "发现" in chinese.output
    assert english_words(chinese.output, identifiers(view) | {str(tmp_path / "zh")}) == []
    assert '<html lang="zh-CN">' in (tmp_path / "zh" / "report.html").read_text(encoding="utf-8")
    english = run_cli(["run", scenario, "--out", str(tmp_path / "en"), "--lang", "en"],
                      {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "zh_CN.UTF-8"})
    assert "findings:" in english.output
    assert "PASSED" in english.output
    assert english.exit_code == chinese.exit_code
    plain = run_cli(["explain", str(tmp_path / "en"), "-f", "1"], {"LC_ALL": "C"})
    assert plain.exit_code == 0
    assert "Cause" in plain.output
