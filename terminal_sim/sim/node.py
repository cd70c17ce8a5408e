"""One simulated terminal: its core, its ports, and the loop that runs effects.

:meth:`TerminalNode.deliver` hands an event to the core and performs the returned
effects in order. Between two effects lies a crash point; each is announced to the
node's crash-point observers (the fault layer), which may cut the power there by
raising :class:`~terminal_sim.errors.PowerLost`. The node also plays the world around
the terminal: customers queue, and retry a card the reader could not read.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from terminal_sim.core.effects import (
    CancelTimer,
    Effect,
    PrintSlip,
    QueueReversal,
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
    SaleRequested,
    SendFailed,
    TimerExpired,
    VoidRequested,
)
from terminal_sim.core.events import PowerLost as PowerLostEvent
from terminal_sim.core.lifecycle import REPRINT_TIMER, TerminalCore
from terminal_sim.core.messages import HostReply
from terminal_sim.errors import Iso8583Error, PowerLost, SimulationError
from terminal_sim.plugins.ports import CardReader, TerminalClock
from terminal_sim.sim.ports import AcquirerLink, ReceiptPrinter
from terminal_sim.sim.saf import REVERSAL_REPLIES, ReversalAgent
from terminal_sim.sim.scheduler import Scheduled, Scheduler
from terminal_sim.sim.settle import Settlement
from terminal_sim.sim.sync import SyncAgent
from terminal_sim.sim.trace import Trace
from terminal_sim.stores.journal import TerminalJournal

if TYPE_CHECKING:
    from terminal_sim.sim.workload import Cashier

CrashObserver = Callable[["TerminalNode", str], None]
ClockT = TypeVar("ClockT", bound=TerminalClock)

#: The flow an event starts when the terminal has nothing in flight.
_FLOW_OF_TRIGGER = {
    "sale_requested": "sale",
    "void_requested": "void",
    "refund_requested": "refund",
    "power_on": "power_on",
    "power_lost": "power",
}

#: Pause between two queued customer actions at one terminal (the next customer steps up).
NEXT_CUSTOMER_MS = 4_000
#: A customer whose card was not read presents it again after this long...
RETRY_CARD_MS = 5_000
#: ...at most this many times.
CARD_RETRIES = 2
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
                 clock: TerminalClock, trace: Trace) -> None:
        self.core = core
        self.ports = ports
        self.scheduler = scheduler
        self._clock = clock
        self.trace = trace
        self.crash_observers: list[CrashObserver] = []
        #: run at each boot before anything else (a fault's migration); may remove itself
        self.boot_hooks: list[Callable[[], None]] = []
        self.timers: dict[str, Scheduled] = {}
        self.backlog: deque[Event] = deque()
        self.sales: dict[str, tuple[SaleRequested, int]] = {}  # sale_id -> (request, tries)
        self.sync: SyncAgent | None = None
        self.saf: ReversalAgent | None = None
        self.settlement: Settlement | None = None
        self.powered = False
        self.power_cuts = 0
        #: the scenario's retrying cashier (``workload.cashier``), told of sales in trouble
        self.cashier: Cashier | None = None
        #: virtual time the open batch began (a balanced settlement closes a batch)
        self.batch_opened_vt = 0
        #: the day's end for reprint tries (None: no end); the last try is at that time
        self.reprint_until_ms: int | None = None

    @property
    def terminal_id(self) -> str:
        return self.core.terminal_id

    @property
    def clock(self) -> TerminalClock:
        """The terminal's own clock (the run's virtual clock unless a fault wrapped it)."""
        return self._clock

    def wrap_clock(self, wrap: Callable[[TerminalClock], ClockT]) -> ClockT:
        """Replace the terminal's clock by ``wrap(clock)``, a wrapper around it."""
        wrapper = wrap(self._clock)
        self._clock = wrapper
        return wrapper

    def note(self, name: str, **data: Any) -> int:
        """A trace record about this terminal that is neither event nor effect."""
        return self.trace.write(self.clock.now(), self.terminal_id, self.core.state, "note",
                                name, data=data or None)

    # -- customers and operators ---------------------------------------------------------

    def request(self, event: Event) -> None:
        """A customer or operator action; it waits its turn if the terminal is busy."""
        if isinstance(event, SaleRequested) and event.sale_id not in self.sales:
            self.sales[event.sale_id] = (event, 0)
        self.backlog.append(event)
        self._serve_backlog()

    def _serve_backlog(self) -> None:
        if self.backlog and self.powered and self.core.state == "idle":
            self.deliver(self.backlog.popleft())

    def _customer_retries(self, sale_id: str, why: str) -> None:
        """The customer tries the same purchase again (same sale id: one intent)."""
        known = self.sales.get(sale_id)
        if known is None or known[1] >= CARD_RETRIES:
            return
        request, tries = known
        self.sales[sale_id] = (request, tries + 1)
        self.note("customer_retries", sale_id=sale_id, attempt=tries + 2, why=why)
        self.scheduler.after(RETRY_CARD_MS, lambda: self.request(request))

    # -- the effect loop -----------------------------------------------------------------

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to the core and perform its effects; a power cut stops them."""
        if not self.powered and not isinstance(event, PowerOn):
            self.note("event_lost", trigger=event.trigger, reason="terminal is off")
            return
        core = self.core
        clock = self._clock
        trigger = event.trigger
        flight = core.current
        flow = flight.kind if flight is not None else _FLOW_OF_TRIGGER.get(trigger, "idle")
        effects = core.handle(event, clock.now(), clock.wall())
        # records of one transaction share its sale id, so findings can follow the chain
        context = flight or core.current
        sale_id = context.sale_id if context is not None else None
        point = f"{flow}/after:{trigger}" if effects else None
        data = event.trace_data()
        if sale_id and "sale_id" not in data:
            data = {**data, "sale_id": sale_id}
        self.trace.step(clock.now(), core.terminal_id, core.state, "event", trigger, flow,
                        point, data)
        if core.ignored:
            self.note("ignored", reason=core.ignored)
        try:
            if point is not None and self.crash_observers:
                self._crash_point(point)
            self._perform(flow, effects, sale_id)
        except PowerLost as cut:
            reboot = cut.reboot_after_ms if cut.reboot_after_ms is not None else REBOOT_MS
            self.power_cut(cut.crash_point, reboot_after_ms=reboot,
                           keeps_unsynced=cut.keeps_unsynced)
            return
        if isinstance(event, CardRead) and not event.ok:
            self._customer_retries(event.sale_id, "card not read")
        for effect in effects:  # "NOT COMPLETED": the customer pays again
            if (isinstance(effect, WriteJournal) and effect.purpose == "commit"
                    and effect.entry.type == "sale"):
                entry = effect.entry
                if self.cashier is not None:  # the scenario's cashier decides
                    self.cashier.sale_ended(self, entry.sale_id, entry.state,
                                            entry.response_code, entry.stan)
                elif entry.state == "failed":
                    self._customer_retries(entry.sale_id, "sale not completed")
        if core.state == "idle" and self.backlog:
            self.scheduler.after(NEXT_CUSTOMER_MS, self._serve_backlog)

    def _perform(self, flow: str, effects: list[Effect], sale_id: str | None) -> None:
        # what a port answered at once (print done, send failed): the core gets it after
        # the whole batch, as the next event, never in the middle of the batch
        outcome: Event | None = None
        core = self.core
        record = self.trace.step
        terminal_id = core.terminal_id
        for effect in effects:
            step = effect.step
            point = f"{flow}/after:{step}"
            data = effect.trace_data()
            if sale_id and "sale_id" not in data:
                data = {**data, "sale_id": sale_id}
            if isinstance(effect, PrintSlip):
                data = {**data, "at_byte": self.ports.printer.position}
            record(self._clock.now(), terminal_id, core.state, "effect", step, flow, point, data)
            run = _RUNNERS.get(type(effect))
            result = run(self, effect, flow) if run is not None else self._execute(effect, flow)
            if result is not None:
                outcome = result
            if self.crash_observers:
                self._crash_point(point)
        if outcome is not None:
            done = outcome
            self.scheduler.after(0, lambda: self.deliver(done))

    # -- one method per effect type (``_RUNNERS``); each returns what the port answered
    # at once, as the core's next event, or None

    def _read_card(self, effect: ReadCard, _flow: str) -> Event | None:
        result = self.ports.reader.read(effect.card, self._clock.now())
        event = CardRead(effect.sale_id, result.card, result.reason)
        self.scheduler.after(result.delay_ms, lambda: self.deliver(event))
        return None

    def _send_to_host(self, effect: SendToHost, _flow: str) -> Event | None:
        try:
            self.ports.link.send(self.terminal_id, effect.request, self.on_reply)
        except Iso8583Error as exc:  # it never left: the core must not wait for a reply
            return SendFailed(effect.request.stan, str(exc))
        return None

    def _queue_reversal(self, effect: QueueReversal, _flow: str) -> Event | None:
        if self.saf is None:
            raise SimulationError("this terminal has no store-and-forward agent")
        self.saf.enqueue(effect.stan, effect.reason, effect.original)
        return None

    def _start_timer(self, effect: StartTimer, _flow: str) -> Event | None:
        self._cancel(effect.timer)
        delay = self._timer_delay(effect, self._clock.now())
        if delay is None:
            return None
        timer, token = effect.timer, effect.token  # the event is made if the timer expires
        self.timers[timer] = self.scheduler.after(
            delay, lambda: self.deliver(TimerExpired(timer, token)))
        return None

    def _cancel_timer(self, effect: CancelTimer, _flow: str) -> Event | None:
        self._cancel(effect.timer)
        return None

    def _write_journal(self, effect: WriteJournal, _flow: str) -> Event | None:
        self.ports.journal.commit(effect.entry, self._clock.now())
        return None

    def _print_slip(self, effect: PrintSlip, flow: str) -> Event | None:
        self._crash_point(f"{flow}/during:print")
        return self.ports.printer.print(effect.slip)

    def _execute(self, effect: Effect, flow: str) -> Event | None:
        """An effect whose exact type ``_RUNNERS`` does not list: a subclass of one of the
        effect types, run as its base is; a new effect type must be taught to the
        runtime, not ignored."""
        for kind, run in _RUNNERS.items():
            if isinstance(effect, kind):
                return run(self, effect, flow)
        raise SimulationError(f"no port performs {type(effect).__name__}")

    def _timer_delay(self, effect: StartTimer, now: int) -> int | None:
        """The reprint timer runs for the whole day and no longer: its last try is at
        ``reprint_until_ms``; after that the slips stay owed (a liveness failure)."""
        until = self.reprint_until_ms
        if effect.timer != REPRINT_TIMER or until is None:
            return effect.delay_ms
        if now >= until:
            self.note("reprint_day_over", stans=[e.stan for e in self.core.reprints])
            return None
        return min(effect.delay_ms, until - now)

    def on_reply(self, reply: HostReply) -> None:
        """Every reply from the host: reversal acknowledgements go to the store-and-
        forward agent, settlement answers to the settlement, the rest to the core."""
        if not self.powered:
            self.note("reply_lost", reason="terminal is off", stan=reply.stan)
        elif reply.mti in REVERSAL_REPLIES and self.saf is not None:
            self.saf.on_reply(reply)
        elif reply.mti == "0510" and self.settlement is not None:
            self.settlement.on_reply(reply)
        else:
            self.deliver(HostReplied(reply))

    def clock_epoch(self) -> dt.datetime:
        """The calendar time this terminal shows for virtual time zero."""
        return self.clock.wall() - dt.timedelta(milliseconds=self.clock.now())

    def _cancel(self, timer: str) -> None:
        running = self.timers.pop(timer, None)
        if running is not None:
            running.cancel()

    def crash_point(self, name: str) -> None:
        """Announce a crash point (an observer may raise ``PowerLost``)."""
        for observer in self.crash_observers:
            observer(self, name)

    _crash_point = crash_point

    # -- power ---------------------------------------------------------------------------

    def power_on(self) -> None:
        """Boot: the spooler resumes its jobs, the core learns what the journal kept."""
        self.powered = True
        for hook in self.boot_hooks:
            hook()
        resumed = self.ports.printer.resume(
            lambda job, at: self.note("spooler_resumed_job", job_id=job.job_id, at_byte=at,
                                      kind=job.kind, empty=not job.data))
        dropped = [job.job_id for job in resumed if not job.data
                   and self.ports.printer.skip_empty_jobs]
        if dropped:
            self.note("spooler_dropped_empty_jobs", jobs_damaged=dropped)
        journal = self.ports.journal
        self.deliver(PowerOn(
            journal.last_approved_sale(),
            in_flight=tuple(journal.entries(state="pending")),
            # sales, refunds and voids alike: each approved one is owed its slip
            unprinted=tuple(journal.entries(state="approved", receipt=""))))
        if self.saf is not None and self.powered:
            self.saf.resume()
        self._serve_backlog()

    def power_cut(self, at: str, *, reboot_after_ms: int | None = REBOOT_MS,
                  keeps_unsynced: bool = False) -> None:
        """Power is gone at crash point ``at``: volatile state, timers, unsynced writes.

        ``keeps_unsynced`` is a process restart (a software update, a watchdog): the OS
        stays up, so committed journal writes survive even when not yet fsynced.
        """
        now = self.clock.now()
        self.powered = False
        self.power_cuts += 1
        flight = self.core.current
        if self.cashier is not None and flight is not None and flight.kind == "sale":
            self.cashier.power_cut(self, flight.sale_id, flight.stan)
        for timer in list(self.timers):
            self._cancel(timer)
        if self.saf is not None:
            self.saf.power_lost()
        journal = self.ports.journal
        lost = journal.process_kill() if keeps_unsynced else journal.power_loss(now)
        self.ports.link.drop_connection(self.terminal_id)
        power_off = getattr(self.ports.printer.device, "power_loss", None)
        if callable(power_off) and not keeps_unsynced:
            power_off()
        self.core.handle(PowerLostEvent(), now, self.clock.wall())
        self.trace.write(now, self.terminal_id, self.core.state, "fault",
                         "restart" if keeps_unsynced else "power_cut", crash_point=at,
                         data={"lost": [f"{stan}:{state}" for stan, state in lost],
                               "stans": sorted({stan for stan, _ in lost}) or None})
        if reboot_after_ms is not None:  # None: it stays dark until someone plugs it in
            self.scheduler.after(reboot_after_ms, self.restore_power)

    def restore_power(self) -> None:
        """Power is back (the printer too): boot."""
        if self.powered:
            return
        power_on = getattr(self.ports.printer.device, "power_on", None)
        if callable(power_on):
            power_on()
        self.power_on()


#: The method of :class:`TerminalNode` that performs each effect type.
_RUNNERS: dict[type[Effect], Callable[[TerminalNode, Any, str], Event | None]] = {
    ReadCard: TerminalNode._read_card,  # noqa: SLF001
    SendToHost: TerminalNode._send_to_host,  # noqa: SLF001
    QueueReversal: TerminalNode._queue_reversal,  # noqa: SLF001
    StartTimer: TerminalNode._start_timer,  # noqa: SLF001
    CancelTimer: TerminalNode._cancel_timer,  # noqa: SLF001
    WriteJournal: TerminalNode._write_journal,  # noqa: SLF001
    PrintSlip: TerminalNode._print_slip,  # noqa: SLF001
}

__all__ = ["CrashObserver", "Ports", "TerminalNode", "VoidRequested"]
