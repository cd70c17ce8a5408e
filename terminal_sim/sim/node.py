"""One simulated terminal: its core, its ports, and the loop that runs effects.

:meth:`TerminalNode.deliver` hands an event to the core and performs the returned
effects in order. Between two effects lies a crash point; each is announced to the
node's crash-point observers (the fault layer), which may cut the power there by
raising :class:`~terminal_sim.errors.PowerLost`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from terminal_sim.clock import VirtualClock
from terminal_sim.core.effects import (
    CancelTimer,
    Effect,
    PrintSlip,
    ReadCard,
    SendToHost,
    StartTimer,
    WriteJournal,
)
from terminal_sim.core.events import (
    CardRead,
    Event,
    HostReplied,
    PowerOn,
    PrintDone,
    SaleRequested,
    TimerExpired,
    VoidRequested,
)
from terminal_sim.core.events import (
    PowerLost as PowerLostEvent,
)
from terminal_sim.core.lifecycle import TerminalCore
from terminal_sim.errors import PowerLost
from terminal_sim.iso.messages import HostReply
from terminal_sim.journal import TerminalJournal
from terminal_sim.sim.ports import AcquirerLink, CardReader, ReceiptPrinter
from terminal_sim.sim.scheduler import Scheduled, Scheduler
from terminal_sim.sim.trace import Trace

CrashObserver = Callable[["TerminalNode", str], None]

#: The flow an event starts when the terminal has nothing in flight.
_FLOW_OF_TRIGGER = {
    "sale_requested": "sale",
    "void_requested": "void",
    "power_on": "power_on",
    "power_lost": "power",
}

#: Pause between two queued customer actions at one terminal (the next customer steps up).
NEXT_CUSTOMER_MS = 4_000
#: How long a terminal stays dark after a power cut before it boots again.
REBOOT_MS = 30_000


@dataclass(slots=True)
class Ports:
    reader: CardReader
    link: AcquirerLink
    journal: TerminalJournal
    printer: ReceiptPrinter


class TerminalNode:
    """Runs one :class:`TerminalCore` against its ports inside the simulation."""

    def __init__(self, core: TerminalCore, ports: Ports, *, scheduler: Scheduler,
                 clock: VirtualClock, trace: Trace) -> None:
        self.core = core
        self.ports = ports
        self.scheduler = scheduler
        self.clock = clock
        self.trace = trace
        self.crash_observers: list[CrashObserver] = []
        self.timers: dict[str, Scheduled] = {}
        self.backlog: deque[Event] = deque()
        self.powered = False
        self.power_cuts = 0

    @property
    def terminal_id(self) -> str:
        return self.core.terminal_id

    # -- customers and operators ---------------------------------------------------------

    def request(self, event: SaleRequested | VoidRequested) -> None:
        """A customer or operator action; it waits its turn if the terminal is busy."""
        self.backlog.append(event)
        self._serve_backlog()

    def _serve_backlog(self) -> None:
        if self.backlog and self.powered and self.core.state == "idle":
            self.deliver(self.backlog.popleft())

    # -- the effect loop -----------------------------------------------------------------

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to the core and perform its effects; a power cut stops them."""
        core = self.core
        flight = core.current
        flow = flight.kind if flight is not None else _FLOW_OF_TRIGGER.get(event.trigger, "idle")
        effects = core.handle(event, self.clock.now(), self.clock.wall())
        point = f"{flow}/after:{event.trigger}" if effects else None
        self.trace.write(self.clock.now(), core.terminal_id, core.state, "event", event.trigger,
                         flow=flow, crash_point=point, data=event.trace_data() or None)
        if core.ignored:
            self.trace.write(self.clock.now(), core.terminal_id, core.state, "note", "ignored",
                             reason=core.ignored)
        try:
            if point is not None:
                self._crash_point(point)
            self._perform(flow, effects)
        except PowerLost as cut:
            self.power_cut(cut.crash_point)
            return
        if self.core.state == "idle" and self.backlog:
            self.scheduler.after(NEXT_CUSTOMER_MS, self._serve_backlog)

    def _perform(self, flow: str, effects: list[Effect]) -> None:
        printed: PrintDone | None = None
        for effect in effects:
            point = f"{flow}/after:{effect.step}"
            self.trace.write(self.clock.now(), self.core.terminal_id, self.core.state, "effect",
                             effect.step, flow=flow, crash_point=point,
                             data=effect.trace_data() or None)
            result = self._execute(effect)
            if result is not None:
                printed = result
            self._crash_point(point)
        if printed is not None:
            done = printed
            self.scheduler.after(0, lambda: self.deliver(done))

    def _execute(self, effect: Effect) -> PrintDone | None:
        now = self.clock.now()
        if isinstance(effect, ReadCard):
            result = self.ports.reader.read(effect.card, now)
            event = CardRead(effect.sale_id, result.card, result.reason)
            self.scheduler.after(result.delay_ms, lambda: self.deliver(event))
        elif isinstance(effect, SendToHost):
            self.ports.link.send(self.terminal_id, effect.request, self._on_reply)
        elif isinstance(effect, StartTimer):
            self._cancel(effect.timer)
            expired = TimerExpired(effect.timer, effect.token)
            self.timers[effect.timer] = self.scheduler.after(
                effect.delay_ms, lambda: self.deliver(expired))
        elif isinstance(effect, CancelTimer):
            self._cancel(effect.timer)
        elif isinstance(effect, WriteJournal):
            self.ports.journal.commit(effect.entry, now)
        elif isinstance(effect, PrintSlip):
            return self.ports.printer.print(effect.slip)
        else:  # a new effect type must be taught to the runtime, not ignored
            raise TypeError(f"no port performs {type(effect).__name__}")
        return None

    def _on_reply(self, reply: HostReply) -> None:
        if self.powered:
            self.deliver(HostReplied(reply))
        else:
            self.trace.write(self.clock.now(), self.terminal_id, self.core.state, "note",
                             "reply_lost", reason="terminal is off", stan=reply.stan)

    def _cancel(self, timer: str) -> None:
        running = self.timers.pop(timer, None)
        if running is not None:
            running.cancel()

    def _crash_point(self, name: str) -> None:
        for observer in self.crash_observers:
            observer(self, name)

    # -- power ---------------------------------------------------------------------------

    def power_on(self) -> None:
        """Boot: the core learns from the journal what survived."""
        self.powered = True
        self.deliver(PowerOn(self.ports.journal.last_approved_sale()))
        self._serve_backlog()

    def power_cut(self, at: str, *, reboot_after_ms: int = REBOOT_MS) -> None:
        """Power is gone at crash point ``at``: volatile state, timers, unsynced writes."""
        now = self.clock.now()
        self.powered = False
        self.power_cuts += 1
        for timer in list(self.timers):
            self._cancel(timer)
        lost = self.ports.journal.power_loss(now)
        self.ports.link.drop_connection(self.terminal_id)
        power_off = getattr(self.ports.printer.device, "power_loss", None)
        if callable(power_off):
            power_off()
        self.core.handle(PowerLostEvent(), now, self.clock.wall())
        self.trace.write(now, self.terminal_id, self.core.state, "fault", "power_cut",
                         crash_point=at, lost=[f"{stan}:{state}" for stan, state in lost])
        self.scheduler.after(reboot_after_ms, self._restore_power)

    def _restore_power(self) -> None:
        power_on = getattr(self.ports.printer.device, "power_on", None)
        if callable(power_on):
            power_on()
        self.power_on()
