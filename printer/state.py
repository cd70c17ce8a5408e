"""The hardware state of a receipt printer, and the status bytes it answers with.

A :class:`PrinterState` is plain data that the fault layer changes (paper near its end,
cover opened, power cut ...) and that the :class:`~printer.interpreter.EscPosInterpreter`
reads: to decide whether anything reaches paper, and to answer status requests exactly as
an Epson TM printer does. python-escpos's own ``Escpos.is_online()`` and
``Escpos.paper_status()`` read these bytes; the bit layout below is what makes them agree.

Status bytes (bit 0 is the least significant; every reply has bit 1 and bit 4 set and
bits 0 and 7 clear, which is how a host tells a ``DLE EOT`` reply from other data):

=====================  ===  ===========================================================
request                bit  meaning when set
=====================  ===  ===========================================================
``DLE EOT 1`` printer   2   drawer kick-out connector pin 3 is high
                        3   offline (any cause below; python-escpos ``RT_MASK_ONLINE``)
                        5   waiting for online recovery
                        6   the paper feed button is being pressed
``DLE EOT 2`` offline   2   cover is open
                        3   paper is being fed by the feed button
                        5   printing stopped: paper end
                        6   an error occurred (see ``DLE EOT 3``)
``DLE EOT 3`` error     2   recoverable (mechanical) error
                        3   autocutter error
                        5   unrecoverable error
                        6   automatically recoverable error (e.g. head overheated)
``DLE EOT 4`` paper    2,3  near-end sensor: paper near its end (both bits)
                       5,6  paper-end sensor: no paper (both bits; the near-end bits are
                            then set too, the near-end sensor sees no paper either)
``GS r 1`` paper       0,1  near-end sensor: paper near its end (bits 1 and 4 clear:
                       2,3  paper-end sensor: no paper          ``GS r`` is not real-time)
``GS r 2`` drawer       0   drawer kick-out connector pin 3 is high
=====================  ===  ===========================================================

So ``DLE EOT 4`` answers ``0x12`` with paper, ``0x1E`` near its end and ``0x7E`` without
paper, which python-escpos maps to ``paper_status()`` 2, 1 and 0 (masks 18, 30, 114).

A printer without power answers nothing: python-escpos then reports ``is_online()`` False
and, by its own convention, ``paper_status()`` 2.

A roll is endless unless ``roll_length`` (dots, 8 a millimetre) is set: then the
interpreter counts the paper each element takes (:meth:`PrinterState.use_paper`), the
near-end sensor trips in the roll's last tenth (at most 3 m) and past its length the
paper is out; :meth:`PrinterState.load_roll` puts a new roll in.

Power must be cut with :meth:`PrinterState.power_off`: it counts power cycles, so an
interpreter notices a cycle even when no byte arrived while the power was off.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from printer.errors import PrinterConfigurationError

__all__ = ["PaperLevel", "PrinterState"]

# Bits every DLE EOT reply carries: bit 1 and bit 4 fixed on, bits 0 and 7 fixed off.
_DLE_EOT_FIXED = 0x12
_REVISIONS = itertools.count(1)
_PRINTING_PAPER = ("ok", "near-end")  # PaperLevel values that let the printer print
_NEAR_END_DOTS = 3000 * 8  # 3 m at 8 dots a millimetre


class PaperLevel(StrEnum):
    """What the roll paper sensors see (a ``str``: ``"ok"``, ``"near-end"``, ``"out"``)."""

    OK = "ok"
    NEAR_END = "near-end"
    OUT = "out"


@dataclass(slots=True)
class PrinterState:
    """Paper, cover, switches, power and error flags of one printer.

    Plain mutable data: faults set the fields, the interpreter reads them when bytes
    arrive. ``paper`` accepts a :class:`PaperLevel` or its string value (stored as a
    :class:`PaperLevel`; anything else raises ``PrinterConfigurationError``). Every assignment
    bumps ``revision``, so a reader can tell in one comparison that nothing changed.
    """

    paper: PaperLevel | str = PaperLevel.OK
    cover_open: bool = False
    online: bool = True  # the host-side offline switch: False takes the printer offline
    powered: bool = True
    drawer_pin_high: bool = False  # drawer kick-out connector pin 3 (drawer sensor)
    feed_button_pressed: bool = False
    waiting_online_recovery: bool = False
    recoverable_error: bool = False
    autocutter_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False  # head overheated and the like; clears by itself
    power_cycles: int = 0  # incremented by power_off(); lets the interpreter see a dip
    roll_length: int | None = None  # dots of paper on a new roll (None: the roll never ends)
    paper_used: int = 0  # dots of this roll used (counted by use_paper(); no new revision)
    revision: int = field(default_factory=lambda: next(_REVISIONS), init=False, repr=False,
                          compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "paper":
            value = _paper_level(value)
        object.__setattr__(self, name, value)
        if name not in ("revision", "paper_used"):
            # The interpreter checks the state for every chunk of bytes: it only has to
            # look closer when the revision moved. Revisions never repeat in a process.
            object.__setattr__(self, "revision", next(_REVISIONS))

    # -- conditions ---------------------------------------------------------------------

    @property
    def paper_level(self) -> PaperLevel:
        """``paper`` as a :class:`PaperLevel` (for type checkers: it always is one)."""
        return _paper_level(self.paper)

    @property
    def has_error(self) -> bool:
        """Any of the error flags reported by ``DLE EOT 3``."""
        return (
            self.recoverable_error
            or self.autocutter_error
            or self.unrecoverable_error
            or self.auto_recoverable_error
        )

    @property
    def offline(self) -> bool:
        """The printer is offline: it receives data but does not print."""
        return (
            not self.online
            or self.cover_open
            or self.feed_button_pressed
            or self.paper_level is PaperLevel.OUT
            or self.has_error
        )

    def blocked_reason(self) -> str | None:
        """Why nothing reaches paper right now, or None when printing works.

        The first applicable reason in the order a technician would check them.
        """
        # Asked for every chunk of bytes the printer receives: answer the usual case fast.
        if (
            self.powered
            and self.online
            and self.paper in _PRINTING_PAPER
            and not self.cover_open
            and not self.feed_button_pressed
            and not self.has_error
        ):
            return None
        if not self.powered:
            return "power off"
        if self.cover_open:
            return "cover open"
        if self.paper_level is PaperLevel.OUT:
            return "paper out"
        if self.unrecoverable_error:
            return "error: unrecoverable"
        if self.autocutter_error:
            return "error: autocutter"
        if self.recoverable_error:
            return "error: recoverable"
        if self.auto_recoverable_error:
            return "error: auto-recoverable"
        if self.feed_button_pressed:
            return "feed button pressed"
        if not self.online:
            return "offline"
        return None

    # -- the roll -----------------------------------------------------------------------

    def use_paper(self, dots: int) -> None:
        """Feed ``dots`` of paper from a finite roll (nothing happens on an endless one).

        In the roll's last tenth (at most its last 3 m) the near-end sensor sees the end
        coming (``paper`` becomes near-end); past its length the paper is out.
        """
        if self.roll_length is None:
            return
        used = self.paper_used + dots
        object.__setattr__(self, "paper_used", used)
        left = self.roll_length - used
        level = self.paper_level
        if left <= 0:
            if level is not PaperLevel.OUT:
                self.paper = PaperLevel.OUT
        elif left <= min(self.roll_length // 10, _NEAR_END_DOTS) and level is PaperLevel.OK:
            self.paper = PaperLevel.NEAR_END

    @property
    def roll_ended(self) -> bool:
        """A finite roll is used up (what an operator notices and replaces)."""
        return self.roll_length is not None and self.paper_used >= self.roll_length

    def load_roll(self) -> None:
        """Put in a new roll: the paper is ok and none of it is used."""
        self.paper_used = 0
        self.paper = PaperLevel.OK

    # -- power --------------------------------------------------------------------------

    def power_off(self) -> None:
        """Cut the power: the printer forgets its modes and its unprinted data."""
        if self.powered:
            self.powered = False
            self.power_cycles += 1

    def power_on(self) -> None:
        """Restore the power: the printer starts in its power-on modes."""
        self.powered = True

    # -- status bytes -------------------------------------------------------------------

    def printer_status(self) -> int:
        """The ``DLE EOT 1`` byte."""
        value = _DLE_EOT_FIXED
        if self.drawer_pin_high:
            value |= 0x04
        if self.offline:
            value |= 0x08
        if self.waiting_online_recovery:
            value |= 0x20
        if self.feed_button_pressed:
            value |= 0x40
        return value

    def offline_cause(self) -> int:
        """The ``DLE EOT 2`` byte."""
        value = _DLE_EOT_FIXED
        if self.cover_open:
            value |= 0x04
        if self.feed_button_pressed:
            value |= 0x08
        if self.paper_level is PaperLevel.OUT:
            value |= 0x20
        if self.has_error:
            value |= 0x40
        return value

    def error_cause(self) -> int:
        """The ``DLE EOT 3`` byte."""
        value = _DLE_EOT_FIXED
        if self.recoverable_error:
            value |= 0x04
        if self.autocutter_error:
            value |= 0x08
        if self.unrecoverable_error:
            value |= 0x20
        if self.auto_recoverable_error:
            value |= 0x40
        return value

    def roll_paper_status(self) -> int:
        """The ``DLE EOT 4`` byte."""
        level = self.paper_level
        value = _DLE_EOT_FIXED
        if level is not PaperLevel.OK:
            value |= 0x0C
        if level is PaperLevel.OUT:
            value |= 0x60
        return value

    def realtime_status(self, n: int) -> bytes:
        """The reply to ``DLE EOT n`` (n = 1..4); empty without power or for another n."""
        if not self.powered:
            return b""
        if n == 1:
            return bytes((self.printer_status(),))
        if n == 2:
            return bytes((self.offline_cause(),))
        if n == 3:
            return bytes((self.error_cause(),))
        if n == 4:
            return bytes((self.roll_paper_status(),))
        return b""

    def transmit_status(self, n: int) -> bytes:
        """The reply to ``GS r n`` (n = 1, 49: paper; 2, 50: drawer); empty otherwise."""
        if not self.powered:
            return b""
        if n in (1, 49):
            level = self.paper_level
            value = 0
            if level is not PaperLevel.OK:
                value |= 0x03
            if level is PaperLevel.OUT:
                value |= 0x0C
            return bytes((value,))
        if n in (2, 50):
            return bytes((0x01 if self.drawer_pin_high else 0x00,))
        return b""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot (field order is stable)."""
        return {
            "paper": self.paper_level.value,
            "cover_open": self.cover_open,
            "online": self.online,
            "powered": self.powered,
            "drawer_pin_high": self.drawer_pin_high,
            "feed_button_pressed": self.feed_button_pressed,
            "waiting_online_recovery": self.waiting_online_recovery,
            "recoverable_error": self.recoverable_error,
            "autocutter_error": self.autocutter_error,
            "unrecoverable_error": self.unrecoverable_error,
            "auto_recoverable_error": self.auto_recoverable_error,
            "power_cycles": self.power_cycles,
        }


def _paper_level(value: PaperLevel | str) -> PaperLevel:
    if type(value) is PaperLevel:
        return value
    try:
        return PaperLevel(value)
    except ValueError:
        accepted = ", ".join(repr(level.value) for level in PaperLevel)
        raise PrinterConfigurationError(f"paper must be one of {accepted}, not {value!r}") from None
