"""The trainer's terminal: one live :class:`~terminal_sim.sim.session.Session` behind buttons.

:class:`LiveTerminal` turns the page's actions into Session calls (present a card,
void, reprint, pull the plug, switch faults on and off, arm a power dip at a crash
point, move the clock) and the Session into the JSON the page draws
(:mod:`terminal_sim.studio.snapshot`). It is not thread-safe on its own: the server holds
one lock around every call, the clock ticker's included.

The faults are the registry's, installed the way a scenario installs them:

=================  ==========================================================
control            fault
=================  ==========================================================
cold weather       ``cold-card-reader`` at -20 °C (90 % of reads fail); off:
                   removed
break the sync     ``sync-failure`` (mode ``fail``); off: removed
paper out          ``printer-paper-out`` at the next print; off: removed and a
                   new roll put in
tonight's update   ``maintenance-update`` (``spooler-replay``) at the next 02:00;
                   off: called off
power dip          ``power-dip`` at the chosen crash point, once
pull the plug      ``Session.pull_plug`` / ``plug_in``
=================  ==========================================================
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from terminal_sim.base.cards import TEST_CARDS
from terminal_sim.base.money import CURRENCIES
from terminal_sim.errors import ConfigurationError, TerminalSimError
from terminal_sim.plugins.faults import Fault
from terminal_sim.reporting.i18n import Catalogue
from terminal_sim.reporting.receipt_images import ReceiptArt
from terminal_sim.reporting.report_html import write_report_html
from terminal_sim.reporting.run_view import view_of_session
from terminal_sim.sim.session import Session
from terminal_sim.studio.snapshot import SnapshotBuilder
from terminal_sim.studio.validate import (
    LIVE_ACTIONS,
    MAX_ADVANCE_MS,
    ActionError,
    check,
    minor_units,
)

__all__ = ["LiveTerminal", "discover_crash_points"]

#: Most the ticker advances in one step, so a stalled server does not replay an hour.
MAX_TICK_MS = 60_000
CARD_NAMES = tuple(card.name for card in TEST_CARDS)
UPDATE_HOUR = 2  # tonight's update runs at 02:00, as field updates do
COLD_C = -20.0


def discover_crash_points(profile: str, seed: int = 0) -> list[str]:
    """Every crash point one approved sale passes, in order, on ``profile``.

    Found by running one sale in a throwaway session and listening at its crash
    points: what the profile really does, not a list kept by hand.
    """
    probe = Session(profile=profile, seed=seed)
    seen: list[str] = []

    def listen(_node: Any, point: str) -> None:
        if point not in seen:
            seen.append(point)

    node = probe.node()
    node.crash_observers.append(listen)
    probe.sale(1000, card="visa-approve")
    probe.settle(limit_ms=120_000)
    node.crash_observers.remove(listen)
    return [p for p in seen if p.startswith("sale/")]


class LiveTerminal:
    """A session a trainer drives from the page."""

    mode = "live"

    def __init__(self, *, profile: str = "naive", seed: int = 0, speed: float = 1.0,
                 out_dir: str | Path | None = None, lang: str = "en") -> None:
        if speed < 0:
            raise ConfigurationError(f"speed: at least 0, got {speed}")
        self._ = Catalogue(lang)
        self.profile = profile
        self.seed = seed
        self.speed = float(speed)
        self.paused = False
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.crash_points = discover_crash_points(profile, seed)
        self._art = ReceiptArt()
        self.session = self._fresh()

    def _fresh(self) -> Session:
        """A new session, and the page's memory of faults and messages reset with it."""
        session = Session(profile=self.profile, seed=self.seed, out_dir=self.out_dir)
        self.faults: dict[str, Fault] = {}
        self.dip: Fault | None = None
        self.dip_at = ""
        self.update_at: int | None = None
        self._carry = 0.0  # virtual ms owed by the ticker below one whole ms
        self.builder = SnapshotBuilder(self._art, self._.lang)
        self.message = self._("Ready: present a card")
        return session

    # -- the clock -------------------------------------------------------------------------

    def tick(self, real_ms: float) -> None:
        """``real_ms`` of wall time passed: move virtual time ``speed`` times as far."""
        if self.paused or self.speed <= 0 or self.session.closed:
            return
        owed = real_ms * self.speed + self._carry
        step = int(owed)
        self._carry = owed - step
        if step > 0:
            self.session.advance(min(step, MAX_TICK_MS))

    # -- actions ---------------------------------------------------------------------------

    def act(self, action: dict[str, Any]) -> str:
        """Perform one action from the page; returns a line for the terminal's screen."""
        action = check(action, LIVE_ACTIONS)
        handler = getattr(self, f"_do_{action['action']}")
        try:
            self.message = str(handler(action))
        except ActionError:
            raise
        except (TerminalSimError, ValueError) as exc:
            raise ConfigurationError(str(exc)) from exc
        return self.message

    def _do_sale(self, action: dict[str, Any]) -> str:
        currency = str(action.get("currency") or "EUR")
        if currency not in CURRENCIES:
            raise ActionError("currency", f"one of {', '.join(CURRENCIES)}")
        minor = minor_units(action.get("amount"), CURRENCIES[currency][1])
        card = str(action.get("card") or "visa-approve")
        if card not in CARD_NAMES:
            raise ActionError("card", f"a test card: {', '.join(CARD_NAMES)}")
        sale_id = self.session.sale(minor, currency, card)
        return self._("{sale_id}: card presented", sale_id=sale_id)

    def _do_void(self, _action: dict[str, Any]) -> str:
        self.session.void()
        return self._("void requested")

    def _do_reprint(self, action: dict[str, Any]) -> str:
        raw = action.get("amount")
        keyed = minor_units(raw, 2) if raw not in (None, "") else None
        self.session.reprint(keyed)
        return self._("print key pressed")

    def _do_plug(self, action: dict[str, Any]) -> str:
        if action.get("on"):
            self.session.plug_in()
            return self._("plugged in")
        self.session.pull_plug()
        return self._("plug pulled")

    def _do_fault(self, action: dict[str, Any]) -> str:
        which = str(action.get("fault", ""))
        on = bool(action.get("on"))
        if which not in ("cold", "sync", "paper", "update"):
            raise ActionError("fault", "one of cold, sync, paper, update")
        current = self.faults.pop(which, None)
        if current is not None:
            self.session.remove(current)
            if which == "paper":
                self._refill()
            if which == "update":
                self.update_at = None
        if not on:
            return self._("{which}: off", which=self._.in_context("fault", which))
        if which == "cold":
            fault = self.session.inject("cold-card-reader", temperature_c=COLD_C)
        elif which == "sync":
            fault = self.session.inject("sync-failure", mode="fail")
        elif which == "paper":
            fault = self.session.inject("printer-paper-out")
        else:
            at = self._tonight()
            fault = self.session.inject("maintenance-update", time=at // 1000,
                                        mode="spooler-replay")
            self.update_at = at
        self.faults[which] = fault
        return self._("{which}: on", which=self._.in_context("fault", which))

    def _refill(self) -> None:
        node = self.session.node()
        state = node.ports.printer.device.state
        if str(state.paper) != "ok":
            state.paper = "ok"
            node.note("printer_refilled")

    def _tonight(self) -> int:
        """Virtual ms of the next 02:00 (seconds resolution: the fault takes seconds)."""
        sim = self.session.sim
        wall = sim.clock.wall()
        target = wall.replace(hour=UPDATE_HOUR, minute=0, second=0, microsecond=0)
        if target <= wall:
            target += dt.timedelta(days=1)
        return self.session.now + int((target - wall).total_seconds() * 1000)

    def _do_dip(self, action: dict[str, Any]) -> str:
        point = str(action.get("at") or "")
        if self.dip is not None:
            self.session.remove(self.dip)
            self.dip, self.dip_at = None, ""
        if not point:
            return self._("power dip disarmed")
        if point not in self.crash_points:
            raise ActionError("at", f"unknown crash point {point[:200]!r}; known: "
                                    f"{', '.join(self.crash_points)}")
        self.dip = self.session.inject("power-dip", at=point, limit=1)
        self.dip_at = point
        return self._("power dip armed at {point}", point=point)

    def _do_speed(self, action: dict[str, Any]) -> str:
        speed = float(action.get("speed", 1.0))  # bounds checked with the action
        self.speed = speed
        return self._("clock at {speed}x", speed=f"{speed:g}")

    def _do_pause(self, action: dict[str, Any]) -> str:
        self.paused = bool(action.get("paused", not self.paused))
        return self._("clock paused") if self.paused else self._("clock running")

    def _do_advance(self, action: dict[str, Any]) -> str:
        ms = int(action.get("ms") or 0)
        if not 0 < ms <= MAX_ADVANCE_MS:
            raise ActionError("ms", f"from 1 to {MAX_ADVANCE_MS}")
        self.session.advance(ms)
        return self._("clock moved on {seconds} s", seconds=ms // 1000)

    def _do_morning(self, _action: dict[str, Any]) -> str:
        """Jump to 08:00 the next morning (the staff come in and find the paper)."""
        wall = self.session.sim.clock.wall()
        target = (wall + dt.timedelta(days=1)).replace(hour=8, minute=0, second=0,
                                                       microsecond=0)
        if wall.hour < 8:
            target = wall.replace(hour=8, minute=0, second=0, microsecond=0)
        self.session.advance(int((target - wall).total_seconds() * 1000))
        return self._("good morning: 08:00")

    def _do_reset(self, _action: dict[str, Any]) -> str:
        self.save()  # release its files before the next one takes them over
        self.session = self._fresh()
        return self._("a fresh terminal")

    # -- what the page shows ---------------------------------------------------------------

    def save(self) -> Path | None:
        """Finish the session; with an ``out_dir``, write its artifacts and report.html."""
        session = self.session
        if session.closed:
            return None
        result = session.close()
        if self.out_dir is None:
            return None
        write_report_html(self.out_dir, result, lang=self._.lang)
        return self.out_dir

    def config(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "profile": self.profile,
            "seed": self.seed,
            "cards": [card.name for card in TEST_CARDS],
            "crash_points": self.crash_points,
            "currencies": sorted(CURRENCIES),
            "lang": self._.lang,
        }

    def snapshot(self, since: int = 0, slips_from: int = 0) -> dict[str, Any]:
        session = self.session
        node = session.node()
        # the evidence changes with the trace, and the host ledger between a request and
        # its reply (the host's side is not traced): rebuild the view when either grew
        key = (len(session.sim.trace.records), session.sim.ledger.count())
        view = self.builder.cached_view(key, lambda: view_of_session(session))
        data = self.builder.build(view, since=since, slips_from=slips_from, now=session.now)
        data.update({
            "mode": self.mode,
            "speed": self.speed,
            "paused": self.paused,
            "terminal": node.terminal_id,
            "state": node.core.state,
            "powered": node.powered,
            "message": self.message,
            "faults": {
                **{name: name in self.faults for name in ("cold", "sync", "paper", "update")},
                "update_at": (self.builder.when(view, self.update_at)
                              if self.update_at is not None else None),
                "dip_at": self.dip_at if self.dip is not None and self.dip.trigger.fired == 0
                else "",
            },
        })
        return data

