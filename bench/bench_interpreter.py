"""Receipts interpreted per second against receipts generated per second by python-escpos.

    python bench/bench_interpreter.py [--duration 0.5] [--rounds 3]

Both halves of a print, measured in the same run on the same slips:

* ``generate``: python-escpos writing one receipt into its ``Dummy`` (reused, with
  ``clear()``: the cheap path) through our layout, ``terminal_sim.receipts.layout.render_job``
  (English: its ASCII text bypasses python-escpos's per-character encoder when the
  layout can) and ``terminal_sim.receipts.layout_zh.render_job_zh`` (zh-CN, raw GB18030 text);
  ``generate (escpos text())`` is the English slip with every text through
  python-escpos's own ``text()`` (a ``Dummy`` whose ``text`` is overridden);
* ``interpret``: a new :class:`~printer.interpreter.EscPosInterpreter` reading those
  bytes back into a receipt (``parse``), and one interpreter reused for a stream of
  receipts (``feed`` per receipt, as the virtual printer and the device server do);
* ``render``: the receipt drawn as a PNG (:func:`printer.render.receipt_png_bytes`), for
  scale: it is not on the print path.

Each cell is measured ``--rounds`` times for ``--duration`` seconds after a warm-up,
the rounds interleaved so a noisy moment hits all cells alike; the median is shown with
its ratio to ``generate``. The interpreter must not be the slow half against
python-escpos generating the receipt (``generate (escpos text())``, the comparison the
target names): the script exits with status 1 when it is. Our own layout's ASCII fast
path and the zh-CN slip's raw GB18030 bypass python-escpos; their ratios are reported,
not judged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from printer.interpreter import EscPosInterpreter, parse
from terminal_sim.core.slips import Slip
from terminal_sim.receipts.layout import render_job
from terminal_sim.receipts.layout_zh import render_job_zh


def _slips(count: int) -> list[Slip]:
    base = dt.datetime(2026, 1, 5, 8, 0, 0)
    return [
        Slip("sale", "APPROVED", "CORNER CAFE", "M00000000000001", "T0000001",
             base + dt.timedelta(seconds=37 * i), 150 + 97 * i, "EUR", "************1111",
             "VISA", f"{i + 1:06d}", f"6005080{i + 1:05d}", f"A{i:05d}", "00")
        for i in range(count)
    ]


def _rate(work: Callable[[int], object], duration: float) -> float:
    """Receipts per second: ``work(i)`` handles receipt i; run for ``duration`` seconds."""
    done = 0
    start = time.perf_counter()
    deadline = start + duration
    while True:
        for _ in range(50):
            work(done)
            done += 1
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def _print_table(results: dict[tuple[str, str], list[float]], rounds: int,
                 duration: float) -> bool:
    """Print the rates; True when the interpreter is slower than python-escpos's text()."""
    print(f"receipts per second (median of {rounds} x {duration:g} s), "
          f"Python {sys.version.split()[0]}")
    print(f"{'slip':<5}{'what':<28}{'receipts/s':>12}{'vs generate':>13}")
    slow = False
    for lang in ("en", "zh"):
        generated = statistics.median(results[(lang, "generate (our layout)")])
        for (cell_lang, what), rates in results.items():
            if cell_lang != lang:
                continue
            rate = statistics.median(rates)
            print(f"{lang:<5}{what:<28}{rate:>12,.0f}{rate / generated:>12.2f}x")
            if what.startswith("interpret") and lang == "en" and rate < statistics.median(
                    results[("en", "generate (escpos text())")]):
                slow = True
    return slow


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=0.5, help="seconds a cell")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    slips = _slips(64)
    jobs = {"en": [render_job(s) for s in slips], "zh": [render_job_zh(s) for s in slips]}
    makers = {"en": render_job, "zh": render_job_zh}
    stream = EscPosInterpreter()

    def feed(data: bytes) -> None:
        stream.feed(data)
        if stream.offset > 1_000_000:
            stream.clear()

    from printer.escpos_loader import escpos_module
    from printer.render import receipt_png_bytes
    from terminal_sim.receipts.layout import print_slip

    escpos_module()
    from escpos.printer import Dummy

    class PlainDummy(Dummy):  # type: ignore[misc]
        def text(self, txt: str) -> None:  # python-escpos's text(), no layout shortcut
            Dummy.text(self, txt)

    plain = PlainDummy()

    def generate_plain(slip: Slip) -> bytes:
        plain.clear()
        plain.hw("INIT")
        plain.magic.encoding = None
        print_slip(plain, slip)
        return bytes(plain.output)

    if parse(generate_plain(slips[0])).text != parse(jobs["en"][0]).text:
        raise SystemExit("the two ways of generating the English slip print different text")

    receipts = {lang: parse(jobs[lang][0]).receipts[0] for lang in jobs}
    cells: dict[tuple[str, str], Callable[[int], object]] = {}

    # one closure per cell, each over its own language's data (a function per kind of
    # work: a lambda in the loop would see the loop's last language)
    def generating(make: Callable[[Any], bytes]) -> Callable[[int], object]:
        return lambda i: make(slips[i % 64])

    def interpreting(read: Callable[[bytes], object],
                     data: list[bytes]) -> Callable[[int], object]:
        return lambda i: read(data[i % 64])

    def rendering(receipt: Any) -> Callable[[int], object]:
        return lambda _i: receipt_png_bytes(receipt)

    for lang in ("en", "zh"):
        data = jobs[lang]
        cells[(lang, "generate (our layout)")] = generating(makers[lang])
        if lang == "en":
            cells[(lang, "generate (escpos text())")] = generating(generate_plain)
        cells[(lang, "interpret (new parser)")] = interpreting(parse, data)
        cells[(lang, "interpret (stream)")] = interpreting(feed, data)
        cells[(lang, "render PNG")] = rendering(receipts[lang])

    for work in cells.values():  # warm-up: code pages, fonts, caches
        _rate(work, 0.05)
    results: dict[tuple[str, str], list[float]] = {key: [] for key in cells}
    for _ in range(args.rounds):
        for key, work in cells.items():
            duration = args.duration / 4 if key[1] == "render PNG" else args.duration
            results[key].append(_rate(work, duration))

    slow = _print_table(results, args.rounds, args.duration)
    size = {lang: sum(map(len, jobs[lang])) / len(jobs[lang]) for lang in jobs}
    print(f"bytes per receipt: en {size['en']:.0f}, zh {size['zh']:.0f}")
    if slow:
        print("the interpreter is the slow half against python-escpos text()")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
