"""Slips rendered from several threads at once come out as they do from one thread."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Callable

from terminal_sim.core.slips import Slip
from terminal_sim.receipts.layout import render_job
from terminal_sim.receipts.layout_zh import render_job_zh

THREADS = 8
JOBS_PER_THREAD = 60


def _slip(number: int) -> Slip | None:
    if number % 17 == 0:
        return None  # the frame of a job whose data is gone
    kind = ("sale", "refund", "void", "error")[number % 4]
    return Slip(
        kind, ("APPROVED", "DECLINED", "NOT COMPLETED")[number % 3],
        ("CAFE", "Café Zürich", "北京咖啡")[number % 3], f"M{number:06d}", f"T{number:07d}",
        dt.datetime(2026, 1, 5) + dt.timedelta(seconds=number * 37),
        None if number % 11 == 0 else 125 * number, ("EUR", "CNY", "JPY")[number % 3],
        masked_pan="************1111" if number % 2 else "",
        stan=f"{number:06d}" if number % 5 else "", rrn=f"R{number:011d}",
        approval_code=f"A{number % 1000:05d}", response_code="00" if number % 3 else "05",
        message="" if number % 4 else "PLEASE RETAIN", copy_label="DUPLICATE" * (number % 7 == 0),
    )


def _render(number: int) -> bytes:
    render: Callable[[Slip | None], bytes] = render_job_zh if number % 2 else render_job
    return render(_slip(number))


def _numbers(thread: int) -> range:
    return range(thread * JOBS_PER_THREAD, (thread + 1) * JOBS_PER_THREAD)


def test_eight_threads_render_the_bytes_of_one() -> None:
    expected = {n: _render(n) for t in range(THREADS) for n in _numbers(t)}
    got: dict[int, bytes] = {}
    start = threading.Barrier(THREADS)

    def work(thread: int) -> None:
        start.wait()
        for number in _numbers(thread):
            got[number] = _render(number)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: a shared device shows at once
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    wrong = sorted(n for n in expected if got.get(n) != expected[n])
    assert wrong == []
    assert len(set(expected.values())) > THREADS * JOBS_PER_THREAD // 2  # varied content
