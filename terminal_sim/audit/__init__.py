"""The independent auditor: a second oracle over a run's raw artifacts.

It shares no code with the reconciler (:mod:`terminal_sim.evidence`) or the simulator:
an import-linter contract in ``pyproject.toml`` forbids it. It reads the three SQLite
files with its own SQL (read-only, immutable), the trace, and the paper read back from
``receipts.bin`` by the printer package's ESC/POS interpreter; ``report.json`` only to
say whether the reconciler agrees.

=============================  ========================================================
module                         job
=============================  ========================================================
``artifacts``                  reading the raw artifacts (exit-2 errors: StoreUnreadable)
``slips``, ``paper``           the paper: jobs of receipts.bin, slip text (en, zh-CN)
``books``                      what each source says a (terminal, STAN) stands for
``money``, ``work``            the invariants
``agreement``                  invariant -> finding codes, the disagreements
``audit``                      :func:`audit_run_dir`
=============================  ========================================================

Public API: ``audit_run_dir(path) -> Audit``; :class:`Audit` (``invariants``, ``holds``,
``agrees_with_report``, ``disagreements``, ``to_dict()``); :class:`Invariant` (``name``,
``holds``, ``evidence``).
"""

from terminal_sim.audit.audit import INVARIANTS, audit_run_dir
from terminal_sim.audit.model import Audit, Invariant

__all__ = ["INVARIANTS", "Audit", "Invariant", "audit_run_dir"]
