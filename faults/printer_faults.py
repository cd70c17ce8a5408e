"""Printer faults: paper out, cover open, printer power loss. They act on the printer the
way the world does (its state), and the printer answers status queries truthfully."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from terminal_sim.core.events import PrintDone
from terminal_sim.core.slips import Slip
from terminal_sim.plugins.faults import Fault, Param
from terminal_sim.plugins.registry import register

if TYPE_CHECKING:
    from terminal_sim.sim.node import TerminalNode
    from terminal_sim.sim.simulation import Simulation


class _PrinterFault(Fault):
    """Each print job is an opportunity; when it fires, :meth:`strike` changes the printer."""

    def install(self, sim: Simulation) -> None:
        for node in self.targets(sim):
            printer = node.ports.printer
            inner: Callable[[Slip], PrintDone] = printer.print

            def wrapped(slip: Slip, node: TerminalNode = node,
                        inner: Callable[[Slip], PrintDone] = inner) -> PrintDone:
                if self.trigger.fires(node.clock.now(), self.stream):
                    self.strike(node, sim)
                return inner(slip)

            printer.print = wrapped

    def strike(self, node: TerminalNode, sim: Simulation) -> None:
        raise NotImplementedError

    def later(self, sim: Simulation, seconds: int | None, action: Callable[[], None]) -> None:
        if seconds is not None:
            sim.scheduler.after(seconds * 1000, action)


@register
class PrinterPaperOut(_PrinterFault):
    """The roll runs out before a print job; the printer prints nothing until it is
    refilled after ``refill_s`` seconds (never, when not given). It answers DLE EOT 4
    truthfully: a terminal that asks learns it; one that does not prints into the void.
    """

    name = "printer-paper-out"
    summary = "the paper runs out; nothing prints until refilled"
    params: ClassVar[dict[str, Param]] = {
        "refill_s": Param(int, None, "seconds until someone refills the paper", low=0),
    }

    def install(self, sim: Simulation) -> None:
        super().install(sim)
        for node in self.targets(sim):  # jobs sent while the roll is empty vanish: say so
            printer = node.ports.printer
            inner: Callable[[bytes], None] = printer.send

            def send(data: bytes, node: TerminalNode = node,
                     inner: Callable[[bytes], None] = inner) -> None:
                if self.fired_at and str(node.ports.printer.device.state.paper) == "out":
                    self.record(node, "job sent with no paper", bytes_lost=len(data))
                inner(data)

            printer.send = send

    def strike(self, node: TerminalNode, sim: Simulation) -> None:
        state = node.ports.printer.device.state
        state.paper = "out"
        self.record(node, "paper out")

        def refill() -> None:
            state.paper = "ok"
            node.note("printer_refilled")

        self.later(sim, self.values["refill_s"], refill)


@register
class PrinterCoverOpen(_PrinterFault):
    """The cover is opened before a print job and closed ``close_s`` seconds later; an
    open cover takes the printer offline (DLE EOT 1 bit 3, DLE EOT 2 bit 2)."""

    name = "printer-cover-open"
    summary = "the printer cover is open; the printer is offline until closed"
    params: ClassVar[dict[str, Param]] = {
        "close_s": Param(int, 60, "seconds until the cover is closed again", low=0),
    }

    def strike(self, node: TerminalNode, sim: Simulation) -> None:
        state = node.ports.printer.device.state
        state.cover_open = True
        self.record(node, "cover open")

        def close() -> None:
            state.cover_open = False
            node.note("printer_cover_closed")

        self.later(sim, self.values["close_s"], close)


@register
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
        "down_s": Param(int, 120, "seconds the printer stays without power", low=0),
    }

    def install(self, sim: Simulation) -> None:
        for node in self.targets(sim):
            printer = node.ports.printer
            inner: Callable[[bytes], None] = printer.send

            def send(data: bytes, node: TerminalNode = node,
                     inner: Callable[[bytes], None] = inner) -> None:
                device = node.ports.printer.device
                if not device.state.powered and self.fired_at:
                    self.record(node, "job sent to a printer without power",
                                bytes_lost=len(data))
                    inner(data)
                    return
                if not self.trigger.fires(node.clock.now(), self.stream):
                    inner(data)
                    return
                keep = int(len(data) * self.values["print_fraction"])
                inner(data[:keep])
                device.power_loss()
                self.record(node, "printer power lost mid-job", bytes_printed=keep,
                            bytes_lost=len(data) - keep)
                inner(data[keep:])  # the rest still travels down the cable, into nothing

                def back() -> None:
                    device.power_on()
                    node.note("printer_power_restored")

                sim.scheduler.after(self.values["down_s"] * 1000, back)

            printer.send = send


