"""The exception tree of the printer package.

Every error the printer package raises on purpose derives from :class:`PrinterError`;
errors of the libraries underneath (python-escpos, pyserial, Pillow, the OS) are
translated at the edge with ``raise ... from`` so callers catch these and keep the
original as ``__cause__``::

    PrinterError
    ├── PrinterConfigurationError  a bad option: printer URL, paper level, columns, font ...
    ├── EscPosError                an ESC/POS stream is malformed (reason, offset)
    ├── SymbolDataError            data a barcode or QR code cannot hold (also ValueError)
    └── PrinterUnavailable         the printer a URL names cannot be reached (also OSError)

The package knows nothing of its users: ``terminal_sim.errors`` re-exports
:class:`EscPosError`, and the ``pos-sim`` CLI maps :class:`PrinterConfigurationError`
to exit code 2 like its own configuration errors.
"""

from __future__ import annotations

__all__ = [
    "EscPosError",
    "PrinterConfigurationError",
    "PrinterError",
    "PrinterUnavailable",
    "SymbolDataError",
]


class PrinterError(Exception):
    """Base class of every error the printer package raises on purpose."""


class PrinterConfigurationError(PrinterError):
    """An option is not one the printer knows; the message says what is accepted."""


class SymbolDataError(PrinterError, ValueError):
    """Data a barcode or QR code cannot hold (a CODE128 byte outside its code set, more
    than a QR code takes). Also a ``ValueError``: it is a bad value, as Python knows it."""


class EscPosError(PrinterError):
    """An ESC/POS byte stream is malformed.

    ``offset`` is the absolute byte offset of the command in the stream (``None`` when
    unknown), ``reason`` a short human explanation.
    """

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{reason}{where}")


class PrinterUnavailable(PrinterError, OSError):
    """The printer a URL names could not be reached (refused, no such device ...)."""
