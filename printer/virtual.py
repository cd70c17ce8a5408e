"""``VirtualPrinter``: a python-escpos printer that prints to a simulated roll of paper.

It plugs in exactly like python-escpos's ``Dummy`` (``escpos/printer/dummy.py``): an
``Escpos`` subclass implementing ``_raw`` (every byte is kept in ``output`` and fed to an
:class:`~printer.interpreter.EscPosInterpreter`) and ``_read`` (the status bytes the
printer sent back, truthfully, from its :class:`~printer.state.PrinterState`). So
python-escpos's own ``paper_status()`` and ``is_online()`` work against it: 2 / 1 / 0 for
paper ok / near its end / out, False with the cover open or without power.

=================  ============================================================================
member             meaning
=================  ============================================================================
``output``         every byte received, like ``Dummy.output``
``receipts``       the receipts on the roll as if the stream ended now: the cut ones plus the
                   one in progress, marked truncated (feeding can go on afterwards)
``iter_receipts``  the same, built one at a time as they are read; ``iter_receipt_texts()``
                   gives only their text, offsets and flags, without building them
``roll``           the whole :class:`~printer.roll.Roll` (warnings, drawer pulses, buzzer ...)
``state``          the :class:`~printer.state.PrinterState` faults act upon
``clear()``        forget output and roll, keep the printer's modes (a fresh roll of paper)
``close()``        end the stream: an unfinished receipt stays truncated
``power_loss()``   cut the power mid-job: the receipt in progress ends truncated, bytes sent
``power_on()``     while unpowered are dropped (and counted), modes return to power-on
=================  ============================================================================

python-escpos builds its code-page maps anew for each printer object, on its first text
(~100 us): reuse one printer and call ``clear()`` between jobs; that is the cheap path.

python-escpos prints progress messages to stdout from ``barcode()`` and ``image()``; this
class keeps them out of the user's output by redirecting stdout for the duration of those
calls (so a ``print`` in another thread at that moment is lost too).

Importing this module does not import python-escpos (~200 ms, and a root logger
configured): the first ``VirtualPrinter(...)`` does, through
:func:`~printer.escpos_loader.escpos_module`, and makes ``VirtualPrinter`` objects
instances of a subclass of both this class and python-escpos's ``Escpos``, built once.
"""

from __future__ import annotations

import contextlib
import io
import threading
import types
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from printer.escpos_loader import escpos_module
from printer.interpreter import CodePages, EscPosInterpreter
from printer.interpreter.shelf import ReceiptText
from printer.roll import Receipt, Roll
from printer.state import PrinterState

__all__ = ["VirtualPrinter"]


def _escpos_class() -> Any:
    return escpos_module().Escpos


_pages_lock = threading.Lock()
_PAGES: dict[int, tuple[Any, CodePages]] = {}


def _profile_code_pages(profile: Any) -> CodePages:
    # The very tables python-escpos's MagicEncode encodes with: the profile's numbering and
    # the capability entries (python_encode codecs and data tables). Profiles of one model
    # share their codePages dict, so printers of one model share one CodePages.
    from escpos.codepages import CodePages as EscposCodePages

    pages = profile.codePages
    with _pages_lock:
        cached = _PAGES.get(id(pages))
        if cached is not None and cached[0] is pages:
            return cached[1]
        code_pages = CodePages(pages, EscposCodePages.data)
        _PAGES[id(pages)] = (pages, code_pages)
        return code_pages


_concrete_lock = threading.Lock()
# VirtualPrinter (or a subclass of it) -> its subclass that also derives from Escpos
_CONCRETE: dict[type[VirtualPrinter], type[VirtualPrinter]] = {}


def _concrete_class(cls: type[VirtualPrinter]) -> type[VirtualPrinter]:
    escpos = _escpos_class()
    if issubclass(cls, escpos):
        return cls
    with _concrete_lock:
        concrete = _CONCRETE.get(cls)
        if concrete is None:
            namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                         "__doc__": cls.__doc__}
            concrete = types.new_class(cls.__name__, (cls, escpos),
                                       exec_body=lambda body: body.update(namespace))
            _CONCRETE[cls] = concrete
        return concrete


class VirtualPrinter:
    """A simulated receipt printer behind the python-escpos API.

    ``profile`` is a python-escpos printer profile name; ``columns`` the print width in
    font A characters (48 on an 80 mm roll); ``chinese_mode`` makes double-byte (GB18030)
    text the power-on mode, as on Chinese-market printers, which is what python-escpos
    assumes when it writes Chinese text. Other keyword arguments go to ``Escpos``.
    """

    profile: Any  # set by Escpos.__init__

    if TYPE_CHECKING:
        # python-escpos's (untyped) Escpos API: text() for subclasses' super(), the rest
        # (set(), qr(), cut() ...) through __getattr__
        def text(self, txt: str) -> None: ...

        def __getattr__(self, name: str) -> Any: ...

    def __new__(cls, *args: Any, **kwargs: Any) -> VirtualPrinter:
        # python-escpos is imported here, on first use, not when this module is imported
        instance: VirtualPrinter = object.__new__(_concrete_class(cls))
        return instance

    def __init__(
        self,
        profile: str | None = None,
        *,
        state: PrinterState | None = None,
        columns: int = 48,
        chinese_mode: bool = False,
        **kwargs: Any,
    ) -> None:
        _escpos_class().__init__(self, profile, **kwargs)
        self.state = state if state is not None else PrinterState()
        self._output_list: list[bytes] = []
        self._replies = bytearray()
        self._interpreter = EscPosInterpreter(
            columns=columns,
            state=self.state,
            code_pages=_profile_code_pages(self.profile),
            chinese_mode=chinese_mode,
        )

    # -- the two methods python-escpos asks of a printer ------------------------------------

    def _raw(self, msg: bytes) -> None:
        """Receive bytes: keep them and let the printer act on them."""
        data = bytes(msg)
        self._output_list.append(data)
        reply = self._interpreter.feed(data)
        if reply:
            self._replies += reply

    def _read(self) -> bytes:
        """The bytes the printer sent back and nobody has read yet (empty when none)."""
        data = bytes(self._replies)
        self._replies.clear()
        return data

    # -- what came out ----------------------------------------------------------------------

    @property
    def output(self) -> bytes:
        """Every byte sent to this printer (since the last ``clear()``)."""
        return b"".join(self._output_list)

    @property
    def interpreter(self) -> EscPosInterpreter:
        return self._interpreter

    @property
    def roll(self) -> Roll:
        """The roll as if the stream ended now."""
        return self._interpreter.roll

    @property
    def receipts(self) -> list[Receipt]:
        """The receipts as if the stream ended now (the one in progress truncated)."""
        return list(self._interpreter.roll.receipts)

    def iter_receipts(self) -> Iterator[Receipt]:
        """:attr:`receipts` one at a time, built as they are read (a long roll is kept
        compactly; a reader that keeps none of them holds one receipt at a time)."""
        return self._interpreter.iter_receipts()

    def iter_receipt_texts(self) -> Iterator[ReceiptText]:
        """:attr:`receipts` as their text (offsets, cut, ``truncated``, ``text``,
        ``is_blank``), read off the kept lines without building the receipts."""
        return self._interpreter.iter_receipt_texts()

    def clear(self) -> None:
        """Forget the output, the roll and unread replies; keep the printer's modes.

        The printer keeps its code page, so python-escpos's memory of it stays right.
        """
        del self._output_list[:]
        self._replies.clear()
        self._interpreter.clear()

    def close(self) -> None:
        """End the stream (python-escpos also calls this from ``__del__``)."""
        interpreter = getattr(self, "_interpreter", None)  # __init__ may not have finished
        if interpreter is not None:
            interpreter.finish()

    # -- power ------------------------------------------------------------------------------

    def power_loss(self) -> None:
        """Cut the power now: the receipt in progress ends truncated."""
        self._interpreter.power_loss()

    def power_on(self) -> None:
        """Restore the power: the printer starts again in its power-on modes."""
        self._interpreter.power_on()

    # -- python-escpos methods that print to stdout ----------------------------------------

    def barcode(self, *args: Any, **kwargs: Any) -> None:
        """``Escpos.barcode``, without its "Using ... barcode renderer" message."""
        with contextlib.redirect_stdout(io.StringIO()):
            _escpos_class().barcode(self, *args, **kwargs)

    def image(self, *args: Any, **kwargs: Any) -> None:
        """``Escpos.image``, without its message about the profile's media width."""
        with contextlib.redirect_stdout(io.StringIO()):
            _escpos_class().image(self, *args, **kwargs)
