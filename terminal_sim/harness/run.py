"""A whole run with every artifact: the simulation's, then the report page and the
scenario's copy that the layers above the simulation add.

:func:`run_scenario` is what ``pos-sim run``, the campaign, replay, the pytest plugin and
the tests call. The simulation (:mod:`terminal_sim.sim.simulation`) writes the evidence
(:data:`~terminal_sim.sim.simulation.RUN_ARTIFACTS`); this module adds ``report.html``
(the reporting layer) and ``scenario.yaml`` (what :mod:`terminal_sim.harness.replay`
re-runs), so the simulation imports neither.
"""

from __future__ import annotations

from pathlib import Path

from terminal_sim.harness.out_dir import OutputKind
from terminal_sim.reporting.report_html import REPORT_NAME, write_report_html
from terminal_sim.scenario.loader import Scenario
from terminal_sim.sim.simulation import RUN_ARTIFACTS, RunResult, Simulation

#: The scenario's source text, kept in every run directory so the run can be repeated.
SCENARIO_COPY = "scenario.yaml"

#: Every file a run directory holds, in the order a replay compares them.
ARTIFACTS = (*RUN_ARTIFACTS, REPORT_NAME, SCENARIO_COPY)

#: What ``pos-sim recover`` adds beside a run's evidence (``recovery.json`` at the top is
#: where versions before 0.x wrote it, in place).
RECOVERED_DIR = "recovered"

#: A run directory as ``--out`` sees it: a previous one is replaced as a whole.
RUN_OUTPUT = OutputKind("run directory",
                        frozenset((*ARTIFACTS, RECOVERED_DIR, "recovery.json")), "report.json")

__all__ = ["ARTIFACTS", "RECOVERED_DIR", "RUN_OUTPUT", "SCENARIO_COPY", "run_scenario",
           "write_run_extras", "write_scenario_copy"]


def write_scenario_copy(scenario: Scenario, out_dir: str | Path) -> Path | None:
    """Write ``scenario.source`` to ``out_dir/scenario.yaml``; ``None`` (nothing written)
    for a scenario built in code, which has no source text."""
    if not scenario.source:
        return None
    target = Path(out_dir) / SCENARIO_COPY
    target.write_text(scenario.source, encoding="utf-8", newline="\n")
    return target


def write_run_extras(result: RunResult, *, scenario_copy: bool = True, lang: str = "en") -> None:
    """Add ``scenario.yaml`` (unless ``scenario_copy`` is false, or the scenario was built
    in code and has no source) and ``report.html`` (in ``lang``) to the run directory of
    ``result``; nothing when the run had none."""
    if result.out_dir is None:
        return
    if scenario_copy:
        write_scenario_copy(result.scenario, result.out_dir)
    write_report_html(result.out_dir, result, lang=lang)


def run_scenario(scenario: Scenario, *, seed: int | None = None, profile: str | None = None,
                 out_dir: str | Path | None = None, lang: str = "en") -> RunResult:
    """Run ``scenario`` once; with ``out_dir``, write every artifact of :data:`ARTIFACTS`
    (``report.html`` in ``lang``: the only artifact the language changes)."""
    result = Simulation(scenario, seed=seed, profile=profile, out_dir=out_dir).run()
    write_run_extras(result, lang=lang)
    return result
