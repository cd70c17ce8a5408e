"""A receipt printer as a device: an ESC/POS interpreter, a virtual printer, real ones.

=======================  ==================================================================
module                   what it is
=======================  ==================================================================
``interpreter``          ESC/POS bytes read back as paper (a package split by concern:
                         dispatch, text and code pages, graphics, symbols, status)
``roll``, ``state``      the paper that came out; the printer's hardware state
``virtual``              :class:`~printer.virtual.VirtualPrinter`, a python-escpos printer
                         printing to a simulated roll
``urls``                 printers by URL (``virtual://``, ``tcp://``, ``serial://`` ...)
``servers``              a simulated printer on TCP or a pseudo-terminal
``render``               receipts as PNG or HTML (with ``glyphs``, ``symbology``, ``pcf``;
                         the bitmap fonts ship in ``printer/fonts``)
``capture``              a captured stream replayed with the printer's power and paper
                         changes: the paper that really came out
``pan_check``            card numbers on paper, checked against a masking policy
``errors``               the package's exception tree
=======================  ==================================================================

The names a user reaches for are exported here (``from printer import VirtualPrinter``,
``open_printer``, ``parse``, ``receipt_to_png``, the exceptions ...), lazily (PEP 562): each
is imported from its module on first use, so ``import printer`` stays cheap (no
python-escpos, no Pillow) and has no side effects; python-escpos (~200 ms, a root logger
configured) is imported when a printer is first made.

The package knows nothing of the terminal that prints on it (what a slip says is the
terminal's business: ``terminal_sim.receipts``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (it costs milliseconds)
if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from typing import Any

    from printer.capture import Capture, replay
    from printer.errors import (
        EscPosError,
        PrinterConfigurationError,
        PrinterError,
        PrinterUnavailable,
        SymbolDataError,
    )
    from printer.filing import ReceiptSink
    from printer.interpreter import EscPosInterpreter, parse
    from printer.pan_check import check_receipt
    from printer.render import receipt_to_html, receipt_to_png, roll_to_html, roll_to_png
    from printer.roll import Receipt, Roll
    from printer.servers import DeviceServer
    from printer.state import PrinterState
    from printer.urls import open_printer, register_scheme
    from printer.virtual import VirtualPrinter

_EXPORTS = {  # name: the module defining it
    "VirtualPrinter": "printer.virtual",
    "Capture": "printer.capture",
    "replay": "printer.capture",
    "open_printer": "printer.urls",
    "register_scheme": "printer.urls",
    "parse": "printer.interpreter",
    "EscPosInterpreter": "printer.interpreter",
    "Roll": "printer.roll",
    "Receipt": "printer.roll",
    "PrinterState": "printer.state",
    "DeviceServer": "printer.servers",
    "ReceiptSink": "printer.filing",
    "receipt_to_png": "printer.render",
    "receipt_to_html": "printer.render",
    "roll_to_png": "printer.render",
    "roll_to_html": "printer.render",
    "check_receipt": "printer.pan_check",
    "PrinterError": "printer.errors",
    "PrinterConfigurationError": "printer.errors",
    "EscPosError": "printer.errors",
    "PrinterUnavailable": "printer.errors",
    "SymbolDataError": "printer.errors",
}

__all__ = [  # the keys of _EXPORTS (a literal list: type checkers read it)
    "Capture",
    "DeviceServer",
    "EscPosError",
    "EscPosInterpreter",
    "PrinterConfigurationError",
    "PrinterError",
    "PrinterState",
    "PrinterUnavailable",
    "Receipt",
    "ReceiptSink",
    "Roll",
    "SymbolDataError",
    "VirtualPrinter",
    "check_receipt",
    "open_printer",
    "parse",
    "receipt_to_html",
    "receipt_to_png",
    "register_scheme",
    "replay",
    "roll_to_html",
    "roll_to_png",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'printer' has no attribute {name!r}")
    value = getattr(__import__(module, fromlist=[name]), name)
    globals()[name] = value  # the next look-up does not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS} - {"TYPE_CHECKING"})
