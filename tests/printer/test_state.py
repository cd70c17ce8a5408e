"""Printer state and the Epson status bytes, checked against python-escpos's own readers."""

from __future__ import annotations

import itertools
import json

import pytest

from printer.errors import PrinterConfigurationError
from printer.state import PaperLevel, PrinterState
from printer.virtual import VirtualPrinter

FLAGS = ("cover_open", "online", "drawer_pin_high", "feed_button_pressed",
         "waiting_online_recovery", "recoverable_error", "autocutter_error",
         "unrecoverable_error", "auto_recoverable_error")


def every_state() -> list[PrinterState]:
    states = []
    for paper in PaperLevel:
        for flag in (None, *FLAGS):
            state = PrinterState(paper=paper)
            if flag is not None:
                setattr(state, flag, not getattr(state, flag))
            states.append(state)
    return states


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, (0x12, 0x12, 0x12, 0x12, 0x00, 0x00)),
        ({"paper": "near-end"}, (0x12, 0x12, 0x12, 0x1E, 0x03, 0x00)),
        ({"paper": "out"}, (0x1A, 0x32, 0x12, 0x7E, 0x0F, 0x00)),
        ({"cover_open": True}, (0x1A, 0x16, 0x12, 0x12, 0x00, 0x00)),
        ({"online": False}, (0x1A, 0x12, 0x12, 0x12, 0x00, 0x00)),
        ({"drawer_pin_high": True}, (0x16, 0x12, 0x12, 0x12, 0x00, 0x01)),
        ({"feed_button_pressed": True}, (0x5A, 0x1A, 0x12, 0x12, 0x00, 0x00)),
        ({"waiting_online_recovery": True}, (0x32, 0x12, 0x12, 0x12, 0x00, 0x00)),
        ({"recoverable_error": True}, (0x1A, 0x52, 0x16, 0x12, 0x00, 0x00)),
        ({"autocutter_error": True}, (0x1A, 0x52, 0x1A, 0x12, 0x00, 0x00)),
        ({"unrecoverable_error": True}, (0x1A, 0x52, 0x32, 0x12, 0x00, 0x00)),
        ({"auto_recoverable_error": True}, (0x1A, 0x52, 0x52, 0x12, 0x00, 0x00)),
    ],
)
def test_status_bytes(changes: dict[str, object], expected: tuple[int, ...]) -> None:
    state = PrinterState(**changes)  # type: ignore[arg-type]
    replies = [state.realtime_status(n) for n in (1, 2, 3, 4)]
    replies += [state.transmit_status(1), state.transmit_status(2)]
    assert tuple(reply[0] for reply in replies) == expected
    assert state.transmit_status(49) == replies[4]
    assert state.transmit_status(50) == replies[5]


def test_fixed_bits_in_every_state() -> None:
    for state in every_state():
        for n in (1, 2, 3, 4):
            (value,) = state.realtime_status(n)
            assert value & 0x93 == 0x12, (state, n)  # bits 1, 4 on; 0, 7 off
        for n in (1, 2):
            (value,) = state.transmit_status(n)
            assert value & 0x90 == 0, (state, n)  # GS r replies have bit 4 off


def test_no_power_no_answer() -> None:
    state = PrinterState()
    state.power_off()
    assert [state.realtime_status(n) for n in (1, 2, 3, 4)] == [b""] * 4
    assert state.transmit_status(1) == b""
    assert state.blocked_reason() == "power off"
    assert state.power_cycles == 1
    state.power_off()  # already off: not another cycle
    state.power_on()
    assert state.power_cycles == 1
    assert state.realtime_status(1) == b"\x12"


def test_other_requests_get_no_answer() -> None:
    state = PrinterState()
    assert state.realtime_status(5) == b""
    assert state.transmit_status(4) == b""


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"paper": "near-end"}, None),  # printing goes on near the end of the roll
        ({"paper": "out"}, "paper out"),
        ({"cover_open": True, "paper": "out"}, "cover open"),
        ({"online": False}, "offline"),
        ({"autocutter_error": True}, "error: autocutter"),
        ({"feed_button_pressed": True}, "feed button pressed"),
        ({"powered": False, "cover_open": True}, "power off"),
    ],
)
def test_blocked_reason(changes: dict[str, object], reason: str | None) -> None:
    assert PrinterState(**changes).blocked_reason() == reason  # type: ignore[arg-type]


def test_paper_accepts_strings_and_rejects_nonsense() -> None:
    state = PrinterState(paper="near-end")
    assert state.paper is PaperLevel.NEAR_END
    state.paper = "out"  # a fault may assign the plain string
    assert state.paper_level is PaperLevel.OUT
    assert state.roll_paper_status() == 0x7E
    with pytest.raises(PrinterConfigurationError, match="'ok', 'near-end', 'out'"):
        PrinterState(paper="low")
    with pytest.raises(PrinterConfigurationError):
        state.paper = "empty"
    assert state.paper is PaperLevel.OUT


def test_every_assignment_moves_the_revision() -> None:
    state = PrinterState()
    revisions = [state.revision]
    state.cover_open = True
    revisions.append(state.revision)
    state.power_off()
    revisions.append(state.revision)
    state.cover_open = True  # the same value: still a new revision
    revisions.append(state.revision)
    assert revisions == sorted(set(revisions))


def test_to_dict_is_json() -> None:
    state = PrinterState(paper="near-end", cover_open=True)
    assert json.loads(json.dumps(state.to_dict()))["paper"] == "near-end"
    assert list(state.to_dict()) == [*("paper", "cover_open", "online", "powered"),
                                     *FLAGS[2:], "power_cycles"]


# -- against python-escpos's own readers --------------------------------------------------


@pytest.fixture(scope="module")
def printer() -> VirtualPrinter:
    return VirtualPrinter()


@pytest.mark.parametrize(
    ("changes", "paper_status", "online"),
    [
        ({}, 2, True),
        ({"paper": "near-end"}, 1, True),
        ({"paper": "out"}, 0, False),
        ({"cover_open": True}, 2, False),
        ({"online": False}, 2, False),
        ({"autocutter_error": True}, 2, False),
        ({"drawer_pin_high": True}, 2, True),
        ({"powered": False}, 2, False),  # no answer: python-escpos assumes paper
    ],
)
def test_python_escpos_reads_the_state(
    printer: VirtualPrinter, changes: dict[str, object], paper_status: int, online: bool
) -> None:
    printer.clear()
    printer.power_on()
    for name, value in PrinterState().to_dict().items():
        if name != "power_cycles":
            setattr(printer.state, name, value)
    for name, value in changes.items():
        setattr(printer.state, name, value)
    assert printer.paper_status() == paper_status
    assert printer.is_online() is online
    assert printer._read() == b""  # noqa: SLF001 (python-escpos read every reply)


def test_every_state_agrees_with_python_escpos(printer: VirtualPrinter) -> None:
    levels = {PaperLevel.OK: 2, PaperLevel.NEAR_END: 1, PaperLevel.OUT: 0}
    for state, powered in itertools.product(every_state(), (True, False)):
        printer.clear()
        for name, value in state.to_dict().items():
            if name != "power_cycles":
                setattr(printer.state, name, value)
        printer.state.powered = powered
        expected_paper = levels[state.paper_level] if powered else 2
        assert printer.paper_status() == expected_paper
        assert printer.is_online() is (powered and not state.offline)
