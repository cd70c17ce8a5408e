"""A captured byte stream read back with what happened to the printer while it came in.

The bytes a printer was sent are not all paper: bytes that arrive while it has no power
are dropped, and nothing prints while the paper is out or the cover open. A byte stream
alone does not say when that was; whoever captured it may. A :class:`Capture` is a
printer's stream together with those moments, as (byte offset, change) pairs in stream
order, ``change`` one of :data:`CHANGES`; :func:`replay` feeds the stream to the ESC/POS
interpreter and makes each change at its offset, as the printer lived it, so the roll is
the paper that came out (a job cut by a power loss ends truncated, jobs sent into the dark
are not receipts).

``pos-sim printer render RUN_DIR`` gets its captures from the application that embeds the
``printer`` command group (see :data:`printer.commands.RUN_READER`): this package knows no
run directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from printer.errors import PrinterConfigurationError

if TYPE_CHECKING:
    from printer.interpreter import EscPosInterpreter
    from printer.roll import Roll
    from printer.state import PrinterState

__all__ = ["CHANGES", "Capture", "replay"]


#: what may happen to a printer between two bytes
CHANGES = ("power_off", "power_on", "paper_out", "paper_ok", "cover_open", "cover_closed")


@dataclass(frozen=True, slots=True)
class Capture:
    """One printer's stream: ``name`` (e.g. a terminal id), the bytes, the changes of its
    state at byte offsets, and the print width and power-on text mode it printed with."""

    name: str
    data: bytes
    changes: tuple[tuple[int, str], ...] = ()
    columns: int = 48
    chinese: bool = False

    def __post_init__(self) -> None:
        offsets = [offset for offset, _ in self.changes]
        if offsets != sorted(offsets) or any(not 0 <= o <= len(self.data) for o in offsets):
            raise PrinterConfigurationError(
                f"capture {self.name}: changes must be at offsets 0..{len(self.data)} in "
                f"order, not {offsets}")
        unknown = sorted({change for _, change in self.changes} - set(CHANGES))
        if unknown:
            raise PrinterConfigurationError(
                f"capture {self.name}: unknown change(s) {unknown}; known: {sorted(CHANGES)}")


def replay(capture: Capture, *, columns: int | None = None) -> Roll:
    """The paper that came out of the printer of ``capture`` (at ``columns``, default the
    capture's own)."""
    from printer.interpreter import EscPosInterpreter
    from printer.state import PrinterState

    state = PrinterState()
    interpreter = EscPosInterpreter(columns=columns or capture.columns, state=state,
                                    chinese_mode=capture.chinese)
    position = 0
    for offset, change in capture.changes:
        interpreter.feed(capture.data[position:offset])
        position = offset
        _apply(change, interpreter, state)
    interpreter.feed(capture.data[position:])
    return interpreter.finish()


def _apply(change: str, interpreter: EscPosInterpreter, state: PrinterState) -> None:
    if change == "power_off":
        interpreter.power_loss()  # noticed at once: the receipt in progress is cut
    elif change == "power_on":
        interpreter.power_on()
    elif change in ("paper_out", "paper_ok"):
        state.paper = change.removeprefix("paper_")
    else:
        state.cover_open = change == "cover_open"
