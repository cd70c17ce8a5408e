"""A real browser on the trainer's page and on a report opened from disk.

Headless Chromium (Debian's ``chromium``) driven by Playwright, with no browser download:
``executable_path`` points at the system browser. Screenshots go to
``$TERMINAL_SIM_ARTIFACTS`` (default: this test's temporary directory) so a person can
look at what the test saw.

The test skips, saying why, only when the browser (or Playwright) is missing and ``CI``
is not set; under CI a missing browser fails it (``.ci/install-browser`` installs both).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from terminal_sim.reporting.report_html import write_report_html
from tests.support import missing

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 20_000


def _chromium() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _missing(what: str) -> None:
    missing(what, "run .ci/install-browser to install it")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("TERMINAL_SIM_ARTIFACTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("browser-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        _missing("no chromium at /usr/bin/chromium or on PATH")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the Python package playwright is not installed")
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1500, "height": 1100})
        try:
            yield context
        finally:
            context.close()


class Studio:
    """``python -m terminal_sim studio --port 0 ...`` in a subprocess."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "terminal_sim", "studio", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            raise AssertionError(f"studio did not start: {self.url!r}")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=20)
        return err


def _watch(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}")
            if msg.type == "error" else None)
    page.on("request", lambda request: problems.append(f"fetched {request.url}")
            if not request.url.startswith(("http://127.0.0.1:", "file://", "data:"))
            else None)
    return problems


@pytest.mark.slow
def test_pulling_the_plug_after_the_print_leaves_a_stray_receipt(browser: Any,
                                                                  artifacts: Path) -> None:
    studio = Studio("--profile", "naive", "--seed", "7", "--speed", "20")
    try:
        page = browser.new_page()
        problems = _watch(page)
        page.goto(studio.url)
        page.wait_for_function(
            "document.getElementById('state-name').textContent === 'idle'", timeout=TIMEOUT_MS)
        assert page.locator("#diagram g.state.lit").get_attribute("data-state") == "idle"
        # the fault controls: a power dip right after the slip is printed, before the save
        page.select_option("#crash-point", "sale/after:print")
        page.click("#btn-dip")
        page.wait_for_selector("#dip-status:has-text('armed at sale/after:print')",
                               timeout=TIMEOUT_MS)
        page.fill("#amount", "12.50")
        page.select_option("#card", "visa-approve")
        page.click("#btn-sale")
        stray = page.wait_for_selector(".finding-card[data-code='STRAY_RECEIPT']",
                                       timeout=TIMEOUT_MS)
        assert "journal has no record" in stray.inner_text()
        page.wait_for_selector("#roll figure img", timeout=TIMEOUT_MS)
        assert page.locator("#roll figure").count() == 1
        assert page.locator("#roll figure.hit").count() == 1  # the slip behind the finding
        assert page.locator("#host tbody tr.hit").count() == 1  # the host has it...
        assert "empty" in page.locator("#journal tbody").inner_text()  # ...the journal not
        assert page.locator(".finding-card[data-code='LOST_RECORD']").count() == 1
        assert page.locator("#diagram g.edge.from-any.lit").count() == 1  # power_lost
        page.screenshot(path=str(artifacts / "studio-stray-receipt.png"), full_page=True,
                        animations="disabled")
        assert problems == []
    finally:
        err = studio.stop()
    assert studio.process.returncode == 0, err


@pytest.mark.slow
def test_a_report_opened_from_disk(browser: Any, artifacts: Path, nightly_run: Path) -> None:
    report = write_report_html(nightly_run)
    page = browser.new_page()
    problems = _watch(page)
    page.goto(report.resolve().as_uri())
    page.wait_for_selector("#tl-chart svg rect.item", timeout=TIMEOUT_MS)
    assert page.locator("#tl-chart svg path.mark").count() == 40  # every finding marked
    # the receipts behind findings are pictures; the others their text, a picture on request
    behind = page.locator(".ledger tr.has-finding figure.slip")
    assert behind.count() > 0
    assert page.locator(".ledger tr.has-finding figure.slip img").count() == behind.count()
    assert page.locator(".ledger figure.slip img").count() == behind.count()
    assert page.locator(".ledger figure.slip pre.paper").count() == 52 - behind.count()
    assert page.evaluate("Array.from(document.images).every(i => i.complete && "
                         "i.naturalWidth > 500)")
    text_slip = page.locator(".ledger figure.slip:has(pre.paper)").first
    text_slip.locator("button.draw").click()
    drawn = text_slip.locator("img")
    assert drawn.count() == 1
    assert drawn.is_visible()
    assert page.evaluate("(f) => f.querySelector('img').naturalWidth > 200",
                         text_slip.element_handle())
    assert not text_slip.locator("pre.paper").is_visible()
    story = page.locator("article.story").first.inner_text()
    assert "20 blank slips" in story
    assert "spooler" in story
    assert "02:00:00" in story
    page.screenshot(path=str(artifacts / "report-top.png"))
    page.click("article.story button.show-rows")  # light up the rows of the story
    assert page.locator(".ledger tr.focus").count() == 20
    page.screenshot(path=str(artifacts / "report-rows.png"))
    page.locator("#timeline").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "report-timeline.png"))
    assert problems == []


@pytest.mark.slow
def test_replay_reaches_the_blank_slips(browser: Any, artifacts: Path,
                                        nightly_run: Path) -> None:
    studio = Studio("--replay", str(nightly_run), "--speed", "0")
    try:
        page = browser.new_page()
        problems = _watch(page)
        page.goto(studio.url)
        page.wait_for_selector("#replay-controls:not([hidden])", timeout=TIMEOUT_MS)
        page.click("#btn-next-finding")
        page.wait_for_selector(".finding-card[data-code='BLANK_RECEIPT']", timeout=TIMEOUT_MS)
        assert page.locator("#roll figure").count() == 31  # thirty slips, then a blank one
        page.screenshot(path=str(artifacts / "studio-replay.png"), full_page=True,
                        animations="disabled")
        assert problems == []
    finally:
        studio.stop()


@pytest.mark.slow
def test_a_big_report_pages_its_rows(browser: Any, tmp_path: Path) -> None:
    """A 250-sale day: receipts as text, the ledger and the trace a page at a time."""
    from terminal_sim.harness.run import run_scenario
    from tests.terminal_sim.reporting.test_report_html_big_day import scaled_day

    run_scenario(scaled_day(250), out_dir=tmp_path / "run")
    page = browser.new_page()
    problems = _watch(page)
    page.goto((tmp_path / "run" / "report.html").resolve().as_uri())
    page.wait_for_selector("#trace-rows tr", timeout=TIMEOUT_MS)
    visible = page.locator(".ledger tr.row:visible")
    assert visible.count() == 100
    assert page.locator("#trace-rows tr").count() == 200
    assert page.locator("#ev-201").count() == 0
    page.click('.pager[data-table="ledger"] button.next')
    assert visible.count() == 100
    assert page.locator(".ledger tr.row").nth(100).is_visible()
    assert not page.locator(".ledger tr.row").first.is_visible()
    page.click('.pager[data-table="trace"] button.next')
    assert page.locator("#ev-201").is_visible()
    page.click("#only-findings")  # no findings on a happy day: no row left
    assert visible.count() == 0
    assert problems == []
