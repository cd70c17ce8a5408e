"""The paper read back from printer bytes: both slip layouts, cut and lost jobs."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from terminal_sim.audit.artifacts import read_run_dir
from terminal_sim.audit.paper import read_paper
from terminal_sim.audit.slips import SlipText
from terminal_sim.core.slips import Slip
from terminal_sim.receipts.layout import render_job
from terminal_sim.receipts.layout_zh import render_job_zh
from tests.terminal_sim.audit.conftest import RunDir


def _slip(kind: str, outcome: str, currency: str, copy_label: str = "") -> Slip:
    return Slip(kind=kind, outcome=outcome, merchant_name="街角咖啡 CORNER", merchant_id="M1",
                terminal_id="T0000001", printed_at=dt.datetime(2026, 1, 5, 8, 5),
                amount_minor=1250, currency=currency, masked_pan="************1111",
                scheme="VISA", stan="000123", rrn="600508000123", approval_code="A1B2C3",
                response_code="00", copy_label=copy_label)


@pytest.mark.parametrize("render", [render_job, render_job_zh], ids=["en", "zh-CN"])
@pytest.mark.parametrize(("kind", "outcome", "copy"), [
    ("sale", "APPROVED", ""), ("refund", "APPROVED", ""), ("void", "APPROVED", ""),
    ("sale", "DECLINED", ""), ("sale", "APPROVED", "DUPLICATE")])
def test_a_printed_slip_reads_back(render: object, kind: str, outcome: str, copy: str) -> None:
    data = render(_slip(kind, outcome, "CNY", copy))  # type: ignore[operator]
    (paper,) = read_paper(data, [])
    assert paper.printed
    assert not paper.truncated
    assert paper.slip == SlipText(terminal_id="T0000001", stan="000123", kind=kind,
                                  outcome=outcome, amount_minor=1250, currency="CNY",
                                  copy=bool(copy))


def test_jobs_split_and_terminals_read_from_the_slips() -> None:
    first = render_job(_slip("sale", "APPROVED", "EUR"))
    blank = render_job(None)
    papers = read_paper(first + blank + first, [])
    assert [p.offset for p in papers] == [0, len(first), len(first) + len(blank)]
    assert [p.slip.terminal_id for p in papers] == ["T0000001", "", "T0000001"]


def test_what_the_printer_never_printed_is_not_on_paper(run_dir: RunDir) -> None:
    run = read_run_dir(run_dir("printer-powered-down-mid-job", "naive"))
    papers = read_paper(run.receipts_bin, run.trace)
    by_stan = {p.slip.stan: p for p in read_paper(run.receipts_bin, []) if p.slip.stan}
    faults = [r["data"] for r in run.trace if r["kind"] == "fault"]
    lost = {str(d["stan"]) for d in faults if "bytes_lost" in d and "bytes_printed" not in d}
    cut = {str(d["stan"]) for d in faults if "bytes_printed" in d}
    assert len(lost) == 3
    assert len(cut) == 1
    for paper in papers:
        stan = next(s for s, p in by_stan.items() if p.offset == paper.offset)
        assert paper.printed == (stan not in lost), json.dumps(paper.slip.__repr__())
        assert paper.truncated == (stan in cut)
    (truncated,) = [p for p in papers if p.truncated]
    assert truncated.slip.terminal_id == "T0000008"
    assert not truncated.slip.approved
