"""report.html of a big day stays small: pictures only behind findings, rows paged.

A 3,000-sale day (happy-day.yaml's workload, scaled as ``bench/run.py`` scales it) made
a 38 MB page with a PNG per receipt and every trace record as an HTML row; the bound is
10 MB. Bytes, not time: the time to open it in Chromium is a bench row (``report``).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from terminal_sim.reporting.report_html import LEDGER_PAGE_ROWS, write_report_html
from terminal_sim.scenario.loader import Scenario, load_scenario
from terminal_sim.sim.simulation import Simulation
from tests.support import SCENARIOS

MAX_BYTES = 10_000_000


def scaled_day(count: int) -> Scenario:
    scenario = load_scenario(SCENARIOS / "happy-day.yaml")
    assert scenario.generate is not None
    return dataclasses.replace(scenario, expect=(),
                               generate=dataclasses.replace(scenario.generate, count=count))


def _page(tmp_path: Path, count: int) -> str:
    result = Simulation(scaled_day(count), out_dir=tmp_path / "run").run()
    assert len(result.evidence.receipts) == count
    return write_report_html(tmp_path / "run", result).read_text(encoding="utf-8")


def test_a_day_of_receipts_without_findings_is_text_and_paged(tmp_path: Path) -> None:
    html = _page(tmp_path, 250)
    assert "data:image/png" not in html  # nothing behind a finding: no picture
    assert html.count('<pre class="paper">') == 250  # each receipt's own text
    pages = re.findall(r'<tbody class="page"( hidden)?>', html)
    assert len(pages) == -(-250 // LEDGER_PAGE_ROWS)
    assert pages[0] == ""
    assert all(pages[1:])
    assert '<tr id="ev-1"' not in html  # the trace is data the script pages through


@pytest.mark.slow
def test_a_3000_sale_day_makes_a_page_under_10_mb(tmp_path: Path) -> None:
    html = _page(tmp_path, 3000)
    size = len(html.encode("utf-8"))
    assert size < MAX_BYTES, f"report.html of a 3,000-sale day is {size:,} bytes"
