"""What ``pos-sim replay`` checks of a live run, which cannot be replayed byte for byte.

A live run ran in real time against a real acquirer over a socket: when each message
arrived, the host's clock, RRNs and approval codes, and the STANs the terminal's counter
had reached came from outside the seed. Running its scenario again cannot give the same
bytes, so a replay of a live run (``report.json`` has a ``live`` section) says so and
checks instead what can be checked:

``scenario``
    ``scenario.yaml`` is there and is the scenario ``report.json`` names.
``findings``
    the findings reconciled again from the recorded artifacts alone (the roll read back
    from ``receipts.bin``, the journal, the run's copy of the host rows in
    ``host.sqlite``, the back office, the trace) are the findings of ``report.json``:
    the folder is self-contained, and ``explain`` and ``recover`` see what the report saw.
``host rows``
    every row of ``host.sqlite`` is of one of the run's terminals and within the STANs
    the run used (``report.json``'s ``live.stans``): no other run's transactions.
``sales``
    the scenario run again in simulation (same seed and profile) asks for the same sales:
    each sale in the live journal has the amount its number has in the simulated one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from terminal_sim.evidence.artifacts import load_evidence, read_rows
from terminal_sim.evidence.reconcile import Reconciler
from terminal_sim.harness.live_state import run_stans

#: the checks, in order, with what each means (shown by ``pos-sim replay``)
LIVE_CHECKS = {
    "scenario": "scenario.yaml is the scenario report.json names",
    "findings": "the findings reconciled again from the artifacts equal report.json's",
    "host rows": "host.sqlite holds only this run's terminals and STANs",
    "sales": "the sales are the scenario's, as a simulation of it asks for them",
}

#: why a live run is not compared byte for byte
NOT_BYTE_FOR_BYTE = ("a live run (real time, a real acquirer over TCP) cannot be replayed "
                     "byte for byte: its times, RRNs, approval codes and STANs came from "
                     "outside the seed")

Problem = tuple[str, str, list[str]]  # (check, where, detail)


def _finding_keys(findings: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((str(f.get("code")), str(f.get("terminal_id")), str(f.get("stan")))
                  for f in findings)


def _check_findings(run_dir: Path, report: dict[str, Any]) -> list[Problem]:
    again = [f.to_dict() for f in Reconciler(load_evidence(run_dir)).findings()]
    recorded, derived = _finding_keys(report.get("findings", [])), _finding_keys(again)
    if recorded == derived:
        return []
    only_report = [k for k in recorded if k not in derived]
    only_artifacts = [k for k in derived if k not in recorded]
    return [("findings", f"{len(recorded)} in report.json, {len(derived)} from the artifacts",
             [f"only in report.json: {only_report}",
              f"only from the artifacts: {only_artifacts}"])]


def _check_host_rows(run_dir: Path, report: dict[str, Any]) -> list[Problem]:
    stans = {}
    for terminal_id, span in (report.get("live", {}).get("stans") or {}).items():
        first, last = int(span["first"]), int(span["last"])
        stans[terminal_id] = run_stans(first - 1, last)
    rows = read_rows(run_dir / "host.sqlite", "SELECT terminal_id, stan, type, amount_minor "
                                             "FROM transactions ORDER BY terminal_id, stan")
    strangers = [f"{r['terminal_id']} {r['stan']} {r['type']} {r['amount_minor']}"
                 for r in rows if r["stan"] not in stans.get(r["terminal_id"], ())]
    if not strangers:
        return []
    return [("host rows", f"{len(strangers)} rows of host.sqlite are not this run's",
             strangers[:5])]


def _sale_number(sale_id: str) -> str:
    """``T1-B0001-0007`` (live) and ``T1-0007`` (simulated) -> ``T1-0007``."""
    head, _, number = sale_id.rpartition("-")
    terminal, _, boot = head.rpartition("-")
    return f"{terminal}-{number}" if boot.startswith("B") and terminal else sale_id


def _check_sales(run_dir: Path, simulated_journal: list[dict[str, Any]]) -> list[Problem]:
    asked = {r["sale_id"]: r["amount_minor"] for r in simulated_journal
             if r.get("type") == "sale" and r.get("sale_id")}
    live = read_rows(run_dir / "journal.sqlite",
                     "SELECT sale_id, amount_minor FROM records WHERE type = 'sale' "
                     "ORDER BY terminal_id, stan")
    wrong = [f"{r['sale_id']}: {r['amount_minor']} live, {asked[_sale_number(r['sale_id'])]} "
             "in simulation" for r in live if r["sale_id"]
             and asked.get(_sale_number(r["sale_id"]), r["amount_minor"]) != r["amount_minor"]]
    if not wrong:
        return []
    return [("sales", f"{len(wrong)} sales differ from the scenario's", wrong[:5])]


def check_live_run(run_dir: Path, report: dict[str, Any],
                   simulate: Callable[[], list[dict[str, Any]]]) -> list[Problem]:
    """The problems the checks of :data:`LIVE_CHECKS` find in the live run ``run_dir``
    (the scenario check is :func:`~terminal_sim.harness.replay.scenario_of_run`'s, done
    by the caller); ``simulate`` runs the scenario in memory and returns its journal."""
    return [*_check_findings(run_dir, report), *_check_host_rows(run_dir, report),
            *_check_sales(run_dir, simulate())]
