"""Printer faults: paper out, cover open, printer power loss. They act on the printer the
way the world does (its state), and the printer answers status queries truthfully."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ClassVar

from terminal_sim.core.events import PrintDone
from terminal_sim.core.slips import Slip
from terminal_sim.plugins.faults import Fault, Param
from terminal_sim.plugins.host import FaultHost, FaultTerminal
from terminal_sim.plugins.ports import PrinterLine, PrintJobs


class _PrinterFault(Fault):
    """Each print job is an opportunity; when it fires, :meth:`strike` changes the printer."""

    def install(self, host: FaultHost) -> None:
        for terminal in self.targets(host):
            terminal.wrap_print_jobs(partial(_StrikeBeforeJob, fault=self, host=host,
                                             terminal=terminal))

    def strike(self, terminal: FaultTerminal, host: FaultHost) -> None:
        raise NotImplementedError

    #: the parameter that says how long the printer stays out after a strike
    heal_param: ClassVar[str] = ""

    def latest_ms(self) -> int:
        """A strike at the end of the window heals ``heal_param`` seconds later: the
        run must last until then (a refill after the day ended heals nothing)."""
        return heal_after(self, self.heal_param)

    @staticmethod
    def later(host: FaultHost, seconds: int | None, action: Callable[[], None]) -> None:
        if seconds is not None:
            host.after(seconds * 1000, action)


def heal_after(fault: Fault, param: str) -> int:
    """The end of ``fault``'s window plus the seconds ``param`` keeps the printer out
    (nothing more when the parameter is not set: then it never heals)."""
    end = Fault.latest_ms(fault)
    seconds = fault.values.get(param)
    return end + int(seconds) * 1000 if end and isinstance(seconds, int) else end


class _StrikeBeforeJob:
    """Wraps the printer's job entry: the fault may strike before each job."""

    def __init__(self, inner: PrintJobs, *, fault: _PrinterFault, host: FaultHost,
                 terminal: FaultTerminal) -> None:
        self.inner = inner
        self.fault = fault
        self.host = host
        self.terminal = terminal

    def print(self, slip: Slip) -> PrintDone:
        fault = self.fault
        if fault.trigger.fires(self.terminal.now(), fault.stream):
            fault.strike(self.terminal, self.host)
        return self.inner.print(slip)


class PrinterPaperOut(_PrinterFault):
    """The roll runs out before a print job; the printer prints nothing until it is
    refilled after ``refill_s`` seconds (never, when not given). It answers DLE EOT 4
    truthfully: a terminal that asks learns it; one that does not prints into the void.
    """

    name = "printer-paper-out"
    summary = "the paper runs out; nothing prints until refilled"
    heal_param = "refill_s"
    params: ClassVar[dict[str, Param]] = {
        "refill_s": Param(int, None, "seconds until someone refills the paper", low=0,
                          explore=(0, 3_600), lasting=True),
    }

    def install(self, host: FaultHost) -> None:
        super().install(host)
        for terminal in self.targets(host):  # jobs sent while the roll is empty vanish: say so
            terminal.wrap_printer_line(partial(_NoPaperWitness, fault=self, terminal=terminal))

    def strike(self, terminal: FaultTerminal, host: FaultHost) -> None:
        state = terminal.printer_device.state
        state.paper = "out"
        self.record(terminal, "paper out")

        def refill() -> None:
            state.paper = "ok"
            terminal.note("printer_refilled")

        self.later(host, self.values["refill_s"], refill)


class _NoPaperWitness:
    """Wraps the printer line: records each job sent while the roll is empty."""

    def __init__(self, inner: PrinterLine, *, fault: PrinterPaperOut,
                 terminal: FaultTerminal) -> None:
        self.inner = inner
        self.fault = fault
        self.terminal = terminal

    def send(self, data: bytes) -> None:
        fault = self.fault
        if fault.fired_at and str(self.terminal.printer_device.state.paper) == "out":
            fault.record(self.terminal, "job sent with no paper", bytes_lost=len(data))
        self.inner.send(data)


class PrinterCoverOpen(_PrinterFault):
    """The cover is opened before a print job and closed ``close_s`` seconds later; an
    open cover takes the printer offline (DLE EOT 1 bit 3, DLE EOT 2 bit 2)."""

    name = "printer-cover-open"
    summary = "the printer cover is open; the printer is offline until closed"
    heal_param = "close_s"
    params: ClassVar[dict[str, Param]] = {
        "close_s": Param(int, 60, "seconds until the cover is closed again", low=0,
                         explore=(0, 600)),
    }

    def strike(self, terminal: FaultTerminal, host: FaultHost) -> None:
        state = terminal.printer_device.state
        state.cover_open = True
        self.record(terminal, "cover open")

        def close() -> None:
            state.cover_open = False
            terminal.note("printer_cover_closed")

        self.later(host, self.values["close_s"], close)


class PrinterPowerLoss(Fault):
    """The printer (not the terminal) loses power in the middle of a job: the first
    ``print_fraction`` of the job is printed, the rest is lost, and so is everything
    sent during the ``down_s`` seconds it stays dark. The terminal is not told.
    """

    name = "printer-power-loss"
    summary = "the printer loses power mid-job; lines are silently lost"
    params: ClassVar[dict[str, Param]] = {
        "print_fraction": Param(float, 0.4, "share of the job printed before the cut",
                                low=0.0, high=1.0),
        "down_s": Param(int, 120, "seconds the printer stays without power", low=0,
                        explore=(0, 600)),
    }

    def latest_ms(self) -> int:
        """A cut at the end of the window: power comes back ``down_s`` later."""
        return heal_after(self, "down_s")

    def install(self, host: FaultHost) -> None:
        for terminal in self.targets(host):
            terminal.wrap_printer_line(partial(_PowerLossLine, fault=self, host=host,
                                               terminal=terminal))


class _PowerLossLine:
    """Wraps the printer line: the printer's power goes in the middle of a job."""

    def __init__(self, inner: PrinterLine, *, fault: PrinterPowerLoss, host: FaultHost,
                 terminal: FaultTerminal) -> None:
        self.inner = inner
        self.fault = fault
        self.host = host
        self.terminal = terminal

    def send(self, data: bytes) -> None:
        fault, terminal = self.fault, self.terminal
        device = terminal.printer_device
        if not device.state.powered and fault.fired_at:
            fault.record(terminal, "job sent to a printer without power", bytes_lost=len(data))
            self.inner.send(data)
            return
        if not fault.trigger.fires(terminal.now(), fault.stream):
            self.inner.send(data)
            return
        keep = int(len(data) * fault.values["print_fraction"])
        self.inner.send(data[:keep])
        device.power_loss()
        fault.record(terminal, "printer power lost mid-job", bytes_printed=keep,
                     bytes_lost=len(data) - keep)
        self.inner.send(data[keep:])  # the rest still travels down the cable, into nothing

        def back() -> None:
            device.power_on()
            terminal.note("printer_power_restored")

        self.host.after(fault.values["down_s"] * 1000, back)
