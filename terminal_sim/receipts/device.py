"""The device slips are rendered on: one python-escpos ``Dummy`` per thread.

Building a ``Dummy`` rebuilds python-escpos's code-page table (~100 us of a ~280 us
receipt), so each thread keeps one and clears it between jobs. One per thread, never one
per process: two threads rendering on one printer object interleave their bytes.
"""

from __future__ import annotations

import threading
from typing import Any

from printer.escpos_loader import escpos_module

__all__ = ["job_device", "write_raw"]

_per_thread = threading.local()


def job_device() -> Any:
    """This thread's ``Dummy``, emptied, after ``ESC @`` (the start of a print job)."""
    device = getattr(_per_thread, "device", None)
    if device is None:
        escpos_module()  # python-escpos imported quietly, before escpos.printer
        from escpos.printer import Dummy

        device = _per_thread.device = Dummy()
    device.clear()
    device.hw("INIT")
    # ESC @ resets the printer to code page 0: make the encoder announce its page again
    device.magic.encoding = None
    return device


def write_raw(device: Any, data: bytes) -> None:
    """Send ``data`` as they are: python-escpos's ``_raw`` is its only way to do that."""
    device._raw(data)  # noqa: SLF001 (the Escpos API for raw bytes)
