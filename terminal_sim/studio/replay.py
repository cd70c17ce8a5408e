"""Replay: step through any run directory's trace on the studio page.

:class:`Replay` keeps a position in the trace (how many records have happened) and
shows the run as it stood then: the terminal's state, the receipts printed so far, the
books, and the findings whose paper and books had parted by then. It plays forward at
``speed`` times virtual time, or steps record by record, or jumps to the next finding.

The books at a moment are rebuilt from the artifacts: the journal from the trace's
journal writes (less what a power cut lost and what eviction dropped), the host ledger
and the back office from their rows' own timestamps. A host transaction changed later
(voided, reversed) shows the status its response code gave until the change.
"""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import Any

from terminal_sim.errors import ConfigurationError
from terminal_sim.reporting.i18n import Catalogue
from terminal_sim.reporting.receipt_images import ReceiptArt
from terminal_sim.reporting.run_view import RunView, Slip, load_run_dir
from terminal_sim.studio.snapshot import SnapshotBuilder
from terminal_sim.studio.validate import REPLAY_ACTIONS, check

__all__ = ["Replay"]


class Replay:
    """A finished run, replayed."""

    mode = "replay"

    def __init__(self, run_dir: str | Path, *, speed: float = 1.0, lang: str = "en") -> None:
        if speed < 0:
            raise ConfigurationError(f"speed: at least 0, got {speed}")
        self._ = Catalogue(lang)
        self.view: RunView = load_run_dir(run_dir)
        self.run_dir = Path(run_dir)
        self.speed = float(speed)
        self.paused = True  # a trainer presses play
        self.position = 0  # records that have happened
        self.cursor = 0.0  # virtual ms the replay clock shows
        self.message = self._("Replay of {name}: press play or step", name=self.view.name)
        self._times = [int(r["t"]) for r in self.view.trace]
        self._index = {int(r["id"]): i for i, r in enumerate(self.view.trace)}
        self.builder = SnapshotBuilder(ReceiptArt(), lang)
        self.builder.cached_view("replay", lambda: self.view)
        self._journal_rows = {(r["terminal_id"], r["stan"]): r for r in self.view.journal}

    @property
    def total(self) -> int:
        return len(self.view.trace)

    # -- the clock -------------------------------------------------------------------------

    def tick(self, real_ms: float) -> None:
        if self.paused or self.speed <= 0:
            return
        end = self._times[-1] if self._times else 0
        self.cursor = min(self.cursor + real_ms * self.speed, float(end))
        self.position = bisect.bisect_right(self._times, int(self.cursor))
        if self.position >= self.total:
            self.paused = True
            self.message = self._("end of the run")

    def _seek(self, position: int) -> None:
        self.position = max(0, min(position, self.total))
        self.cursor = float(self._times[self.position - 1]) if self.position else 0.0

    # -- actions ---------------------------------------------------------------------------

    def act(self, action: dict[str, Any]) -> str:
        name = str(check(action, REPLAY_ACTIONS, "replay action")["action"])
        if name == "play":
            self.paused = False
            if self.position >= self.total:
                self._seek(0)
            self.message = self._("playing at {speed}x", speed=f"{self.speed:g}")
        elif name == "pause":
            self.paused = True
            self.message = self._("paused")
        elif name == "step":
            self.paused = True
            self._seek(self.position + int(action.get("delta", 1)))
            self.message = self._("record {position} of {total}", position=self.position,
                                  total=self.total)
        elif name == "seek":
            self.paused = True
            self._seek(int(action.get("position", 0)))
            self.message = self._("record {position} of {total}", position=self.position,
                                  total=self.total)
        elif name == "next_finding":
            self._next_finding()
        elif name == "speed":
            speed = float(action.get("speed", 1.0))  # bounds checked with the action
            self.speed = speed
            self.message = self._("replay at {speed}x", speed=f"{speed:g}")
        else:
            raise ConfigurationError(f"unknown replay action {name!r}")
        return self.message

    def _next_finding(self) -> None:
        """Jump to just after the next record where a finding's paper and books part."""
        ahead = sorted({self._index[f["diverged_id"]] for f in self.builder.all_findings(
            self.view) if f["diverged_id"] in self._index
            and self._index[f["diverged_id"]] >= self.position})
        if not ahead:
            self.message = self._("no more findings ahead")
            return
        self.paused = True
        self._seek(ahead[0] + 1)
        self.message = self._("a finding: paper and books part here")

    # -- the run at the position ------------------------------------------------------------

    def _journal_at(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        amounts: dict[tuple[str, str], tuple[Any, Any]] = {}
        for record in records:
            data = record.get("data") or {}
            terminal = record.get("terminal") or ""
            stan = data.get("stan") or ""
            if stan and data.get("amount") is not None:
                amounts[(terminal, stan)] = (data.get("amount"), data.get("currency") or "EUR")
            if record["kind"] == "effect" and record["name"].startswith("journal_") and stan:
                key = (terminal, stan)
                known = self._journal_rows.get(key, {})
                amount, currency = amounts.get(key, (known.get("amount_minor"),
                                                     known.get("currency", "EUR")))
                rows[key] = {**known, "terminal_id": terminal, "stan": stan,
                             "type": data.get("type") or known.get("type", ""),
                             "state": data.get("state") or "", "amount_minor": amount,
                             "currency": currency, "synced_vt": -1}
            elif record["kind"] == "fault" and record["name"] in ("power_cut", "restart"):
                for lost in data.get("lost") or []:
                    rows.pop((terminal, str(lost).split(":")[0]), None)
            elif record["kind"] == "sync" and record["name"] == "evict":
                for evicted in data.get("stans") or []:
                    rows.pop((terminal, evicted), None)
            elif record["kind"] == "sync" and data.get("marked_synced"):
                for synced in data.get("stans") or []:
                    if (terminal, synced) in rows:
                        rows[(terminal, synced)]["synced_vt"] = record["t"]
        return sorted(rows.values(), key=lambda r: (r["terminal_id"], r["stan"]))

    def _view_at(self, t: int, records: list[dict[str, Any]]) -> RunView:
        host = []
        for row in self.view.host:
            if row["received_vt"] > t:
                continue
            if row["updated_vt"] > t:  # changed later: show what its reply said then
                row = {**row, "status": "approved" if row.get("response_code") == "00"
                       else "declined"}
            host.append(row)
        backoffice = None if self.view.backoffice is None else [
            r for r in self.view.backoffice if r["received_vt"] <= t]
        return RunView(self.view.report, records, self._slips_at(records),
                       self._journal_at(records), host,
                       [m for m in self.view.host_messages if m["vt"] <= t], backoffice,
                       self.view.start, self.view.run_dir)

    def _slips_at(self, records: list[dict[str, Any]]) -> list[Slip]:
        last = records[-1]["id"] if records else 0
        return [s for s in self.view.slips if s.print_id is not None and s.print_id <= last]

    def config(self) -> dict[str, Any]:
        report = self.view.report
        return {"mode": self.mode, "profile": report.get("profile", "?"),
                "seed": report.get("seed", "?"), "scenario": self.view.name,
                "run_dir": str(self.run_dir), "total": self.total, "cards": [],
                "crash_points": [], "currencies": [], "lang": self._.lang}

    def snapshot(self, since: int = 0, slips_from: int = 0) -> dict[str, Any]:
        records = self.view.trace[:self.position]
        t = records[-1]["t"] if records else 0
        now = max(t, int(self.cursor))
        at = self._view_at(now, records)
        if since > (records[-1]["id"] if records else 0):
            since = 0  # stepped back: the page starts its log again
        data = self.builder.build(self.view, since=since, slips_from=slips_from, now=now,
                                  trace=records, slips=at.slips, books=at,
                                  findings_until=records[-1]["id"] if records else 0)
        # host-side records carry no terminal state: the last one that does
        last = next((r for r in reversed(records) if r.get("state")), None) or {}
        state = str(last.get("state") or "off")
        data.update({
            "mode": self.mode,
            "speed": self.speed,
            "paused": self.paused,
            "terminal": last.get("terminal") or ", ".join(
                self.view.report.get("terminals") or []),
            "state": state,
            "powered": state != "off",
            "message": self.message,
            "position": self.position,
            "total": self.total,
            "restart_log": since == 0,
            "faults": {},
        })
        return data
