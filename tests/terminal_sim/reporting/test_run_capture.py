"""``pos-sim printer render`` of a run: the receipts the run printed, at the run's width."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image as PILImage

from printer.capture import replay
from printer.render import MARGIN, PAPER_58MM
from terminal_sim.cli.main import main
from terminal_sim.harness.run import run_scenario
from terminal_sim.reporting.run_capture import run_captures
from terminal_sim.scenario.loader import load_scenario
from tests.support import SCENARIOS

POWERED_DOWN = SCENARIOS / "printer-powered-down-mid-job.yaml"
_HEADER = re.compile(r"^===== (\S+)#\d+ bytes (\d+)-(\d+)((?: [A-Z]+)*) =====$", re.MULTILINE)


def _on_record(run: Path) -> list[tuple[str, int, int, bool, str]]:
    """(terminal, start, end, truncated, text) of each receipt in the run's receipts.txt."""
    text = (run / "receipts.txt").read_text(encoding="utf-8")
    headers = list(_HEADER.finditer(text))
    found = []
    for number, header in enumerate(headers):
        end = headers[number + 1].start() if number + 1 < len(headers) else len(text)
        found.append((header.group(1), int(header.group(2)), int(header.group(3)),
                      "TRUNCATED" in header.group(4), text[header.end() + 1:end].rstrip("\n")))
    return found


@pytest.fixture(scope="module")
def powered_down_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("powered-down")
    run_scenario(load_scenario(POWERED_DOWN), out_dir=out)
    return out


@pytest.mark.parametrize("target", ["receipts.bin", "."])
def test_render_of_a_run_gives_what_it_printed_at_its_width(
        powered_down_run: Path, tmp_path: Path, target: str) -> None:
    result = CliRunner().invoke(main, ["printer", "render", str(powered_down_run / target),
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    recorded = _on_record(powered_down_run)
    texts = [p.read_text(encoding="utf-8").rstrip("\n") for p in sorted(tmp_path.glob("*.txt"))]
    assert texts == [text for *_, text in recorded]
    assert any(truncated for _, _, _, truncated, _ in recorded)  # the job cut by the power loss
    assert "(32 columns)" in result.output
    assert PILImage.open(tmp_path / "0001.png").width == PAPER_58MM + 2 * MARGIN


def test_a_directory_that_is_no_run_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["printer", "render", str(tmp_path), "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "not a run directory" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.parametrize("scenario", sorted(SCENARIOS.rglob("*.yaml")), ids=lambda p: p.stem)
def test_every_scenario_replays_to_the_receipts_on_record(scenario: Path, tmp_path: Path) -> None:
    run_scenario(load_scenario(scenario), out_dir=tmp_path)
    captures = run_captures(tmp_path)
    assert captures is not None
    replayed = [(capture.name, receipt.start_offset, receipt.end_offset, receipt.truncated,
                 receipt.text) for capture in captures for receipt in replay(capture).receipts]
    assert replayed == _on_record(tmp_path)
