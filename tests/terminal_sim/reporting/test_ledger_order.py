"""The report's rows of paper: receipts of one moment in roll order, by number."""

from __future__ import annotations

from terminal_sim.evidence.sources import PaperReceipt
from terminal_sim.receipts.layout import read_slip
from terminal_sim.reporting.run_view import RunView, Slip


def _blank(index: int) -> Slip:
    paper = PaperReceipt(terminal_id="T0000002", index=index, text="", truncated=False,
                         blank=True, start_offset=index * 10, end_offset=index * 10 + 9,
                         facts=read_slip(""))
    return Slip(paper, t=29_100_000)


def test_paper_of_one_moment_sorts_by_number_not_as_text() -> None:
    # a night's spooler replay: a dozen blank slips in the same virtual millisecond
    view = RunView(report={}, trace=[], slips=[_blank(i) for i in range(1, 13)], journal=[],
                   host=[], host_messages=[], backoffice=None)
    keys = [row.key for row in view.ledger_rows()]
    assert keys == [f"T0000002#{i}" for i in range(1, 13)]
