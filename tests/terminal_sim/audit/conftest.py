"""Real runs the auditor tests read (run once per session, never modified)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from terminal_sim.harness.run import run_scenario
from terminal_sim.scenario.loader import load_scenario
from tests.support import SCENARIOS

_HEAD = """
seed: 11
start: "2026-01-08T11:00:00"
terminals:
  - {id: T0000004, merchant_id: "M00000000000004", merchant_name: HARDWARE STORE}
"""

#: Worlds the shipped scenarios do not have: a void or refund lost by a power dip right
#: after the host approved it, and a reversal outage that outlasts a retry queue capped at
#: 30 attempts, and (found by pos-sim explore) an orphan whose failed record the journal
#: evicted after the back office got it.
WORLDS = {
    "lost-void": _HEAD + """
workload:
  sales:
    - {at: "11:01", amount: 1500, currency: EUR, card: visa-approve}
    - {at: "11:03", amount: 2500, currency: EUR, card: visa-approve}
  voids:
    - {at: "11:05"}
  refunds:
    - {at: "11:08", amount: 700, currency: EUR, card: visa-approve}
faults:
  - {name: power-dip, at: "void/after:host_reply", down_s: 30}
""",
    "lost-refund": _HEAD + """
workload:
  sales:
    - {at: "11:01", amount: 1500, currency: EUR, card: visa-approve}
  refunds:
    - {at: "11:08", amount: 700, currency: EUR, card: visa-approve}
faults:
  - {name: power-dip, at: "refund/after:host_reply", down_s: 30}
""",
    "reversal-outage": _HEAD + """
profile_settings: {reversal_max_attempts: 30}  # robust alone never gives up
workload:
  sales:
    - {at: "11:01", amount: 1500, currency: EUR, card: visa-approve}
    - {at: "11:03", amount: 2500, currency: EUR, card: visa-approve}
faults:
  - {name: link-drop-reply, message: "0210", nth: 2}
  - {name: link-drop-request, from: "11:03:10"}
""",
    "evicted-orphan": _HEAD.replace("seed: 11", "seed: 5") + """
profile_settings: {journal_capacity: 2, sync_interval_ms: 60000}
workload:
  sales:
    - {at: "11:01", amount: 1500, currency: EUR, card: visa-approve}
    - {at: "11:10", amount: 2500, currency: EUR, card: visa-approve}
    - {at: "11:20", amount: 3500, currency: EUR, card: visa-approve}
    - {at: "11:30", amount: 4500, currency: EUR, card: visa-approve}
faults:
  - {name: link-drop-reply, message: "0210", nth: 1}
""",
}

RunDir = Callable[[str, str], Path]


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """``run_dir(name, profile)``: the run directory of a shipped scenario (or one of
    :data:`WORLDS`) under ``profile``, run once per session."""
    cache: dict[tuple[str, str], Path] = {}

    def get(name: str, profile: str) -> Path:
        if (name, profile) not in cache:
            source = SCENARIOS / f"{name}.yaml"
            if name in WORLDS:
                source = tmp_path_factory.mktemp("worlds") / f"{name}.yaml"
                source.write_text(f"name: {name}\n" + WORLDS[name], encoding="utf-8")
            target = tmp_path_factory.mktemp(f"audit-{name}-{profile}")
            run_scenario(load_scenario(source), profile=profile, out_dir=target)
            cache[(name, profile)] = target
        return cache[(name, profile)]

    return get
