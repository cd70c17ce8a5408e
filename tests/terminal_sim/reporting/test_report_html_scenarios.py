"""report.html of every seed scenario: self-contained, receipts as images, every finding told."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from terminal_sim.evidence.privacy import scan_file
from terminal_sim.harness.run import run_scenario
from terminal_sim.reporting.report_html import REPORT_NAME, render_report_html, write_report_html
from terminal_sim.reporting.run_view import load_run_dir, view_of_result
from terminal_sim.scenario.loader import load_scenario
from terminal_sim.sim.simulation import RunResult
from tests.support import SCENARIOS

#: a resource the page would fetch: src=/href= or CSS url() pointing at http(s)
REMOTE = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']?\s*|url\(\s*["']?\s*)(?:https?:)?//""",
                    re.IGNORECASE)
IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')

NAMES = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


def test_the_scenarios_are_there() -> None:
    assert len(NAMES) >= 10, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_report_of_each_scenario(name: str, scenario_runs: dict[str, tuple[Path, RunResult]]
                                 ) -> None:
    run_dir, result = scenario_runs[name]
    page = write_report_html(run_dir)  # from the artifacts alone
    assert page == run_dir / REPORT_NAME
    html = page.read_text(encoding="utf-8")

    assert not REMOTE.findall(html), "the page must load nothing from a network"
    assert "http://" not in html
    assert "https://" not in html
    assert "<link" not in html
    assert "@import" not in html

    # receipts behind a finding are pictures, the others their own text (drawn on request)
    images = IMAGE.findall(html)
    texts = html.count('<pre class="paper">')
    assert len(images) + texts == len(result.evidence.receipts)  # every receipt, once
    for row in re.findall(r'<tr id="row-[^"]*" class="row has-finding".*?</tr>', html,
                          re.DOTALL):
        assert '<pre class="paper">' not in row
        assert row.count("<figure") == row.count('<img src="data:image/png')
    for encoded in images[:3]:
        picture = Image.open(io.BytesIO(base64.b64decode(encoded)))
        assert picture.format == "PNG"
        assert picture.width > 500

    for number, finding in enumerate(result.report["findings"], start=1):
        assert finding["code"] in html
        row = re.search(rf'<tr id="finding-{number}" .*?</tr>', html, re.DOTALL)
        assert row is not None, f"finding #{number} has no row"
        chain = re.search(r'<ol class="chain">(.*?)</ol>', row.group(0), re.DOTALL)
        assert chain is not None, f"finding #{number} ({finding['code']}) has no causal chain"
        assert chain.group(1).count("<li") >= 1, (
            f"finding #{number} ({finding['code']}) has no causal chain")
        assert 'class="cause"' in row.group(0)
    if result.report["findings"]:
        assert 'class="row has-finding"' in html  # the rows behind findings are marked
        assert 'class="chain"' in html
    assert scan_file(page) == []  # masked card numbers only


@pytest.mark.parametrize("name", ["nightly-update-blank-receipts", "power-dip-print-before-save"])
def test_the_page_from_memory_equals_the_page_from_disk(
        name: str, scenario_runs: dict[str, tuple[Path, RunResult]]) -> None:
    run_dir, result = scenario_runs[name]
    from_disk = render_report_html(load_run_dir(run_dir))
    from_memory = render_report_html(view_of_result(result, run_dir))
    assert from_disk == from_memory


def test_the_page_made_again_from_the_artifacts_is_the_page_the_run_wrote(
        tmp_path: Path) -> None:
    # the run writes its page from memory; `pos-sim report` makes it again from the files
    # alone: two paths, one page (a fresh run, so no other test has rewritten it)
    run_dir = tmp_path / "run"
    run_scenario(load_scenario(SCENARIOS / "rogue-reprint.yaml"), out_dir=run_dir)
    written_by_the_run = (run_dir / REPORT_NAME).read_bytes()
    again = render_report_html(load_run_dir(run_dir)).encode("utf-8")
    assert "STRAY_RECEIPT" in again.decode("utf-8")
    assert again == written_by_the_run


def test_blank_and_cut_off_receipts_are_flagged(
        scenario_runs: dict[str, tuple[Path, RunResult]]) -> None:
    html = render_report_html(load_run_dir(scenario_runs["nightly-update-blank-receipts"][0]))
    assert html.count("· blank</figcaption>") == 20
    html = render_report_html(load_run_dir(scenario_runs["printer-powered-down-mid-job"][0]))
    assert "cut off" in html
    assert "drawn from its text" not in html  # the bytes gave back every receipt exactly


def test_the_timeline_has_its_lanes_and_marks(
        scenario_runs: dict[str, tuple[Path, RunResult]]) -> None:
    import json

    html = render_report_html(load_run_dir(scenario_runs["power-dip-print-before-save"][0]))
    blob = re.search(r'<script type="application/json" id="timeline-data">(.*?)</script>',
                     html, re.DOTALL)
    assert blob is not None
    data = json.loads(blob.group(1))
    lanes = [lane for lane, _ in data["lanes"]]
    assert {"iso", "paper", "fault", "power", "journal"} <= set(lanes)
    used = {lanes[row[4]] for row in data["trace"]}
    assert {"iso", "paper", "fault", "power", "journal"} <= used
    assert data["host"]  # the host's messages, on the host lane
    assert {span[1] for span in data["spans"]} >= {"idle", "off"}
    # each finding is marked where its paper and books part: the power dip after the print
    assert len(data["marks"]) == 3
    texts = data["names"]["texts"]
    print_t = min(row[1] for row in data["trace"] if "APPROVED" in texts[row[7]]
                  and "STAN 000005" in texts[row[7]])
    assert {mark[0] for mark in data["marks"]} == {print_t}
