"""``OUT/campaign.sqlite``: a campaign's outcomes, streamed in as they arrive.

One row per run, keyed by (scenario order, seed), with the :class:`Outcome` as JSON and
two columns to count by (``failed``, ``error``). The file is in WAL mode and rows are
committed in small groups (:data:`COMMIT_EVERY`), so an interrupted campaign (Ctrl-C, a
crashed client, a lost scheduler) keeps what it finished and ``--resume`` continues it.
A ``meta`` table holds the campaign's **fingerprint** (its scenarios' names, paths and
texts, its seeds, profile and swarm switch): a store of another campaign is refused.

The aggregates of ``campaign.json`` are read back from here in one ordered pass, so the
client holds no list of outcomes however many seeds the campaign has. Without an output
directory the store lives in memory (``:memory:``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from terminal_sim.base.ranges import runs_text
from terminal_sim.errors import ConfigurationError, JournalError
from terminal_sim.harness.campaign_job import Outcome
from terminal_sim.harness.swarm import Intensity
from terminal_sim.scenario.loader import Scenario
from terminal_sim.stores.sqlite import open_read_write

__all__ = ["COMMIT_EVERY", "STORE_NAME", "CampaignStore", "fingerprint", "outcome_from_json",
           "outcome_to_json"]

STORE_NAME = "campaign.sqlite"
#: Rows per commit: small groups, so an interruption loses at most this many runs' work.
COMMIT_EVERY = 32
_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (
    ord INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    error INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (ord, seed)
);
"""


def fingerprint(scenarios: Sequence[Scenario], seeds: Sequence[int], profile: str | None,
                swarm: bool) -> str:
    """What makes two campaigns the same one (a stored campaign resumes only its own)."""
    data = {
        "store": _SCHEMA_VERSION,
        "scenarios": [[s.name, s.path, hashlib.sha256(s.source.encode()).hexdigest()]
                      for s in scenarios],
        "seeds": runs_text(sorted(seeds), separator=","),
        "profile": profile,
        "swarm": swarm,
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def outcome_to_json(outcome: Outcome) -> str:
    data = dict(vars(outcome))
    data["intensities"] = [i.to_dict() for i in outcome.intensities]
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def outcome_from_json(text: str) -> Outcome:
    data: dict[str, Any] = json.loads(text)
    data["keys"] = [tuple(key) for key in data["keys"]]
    data["intensities"] = [
        Intensity(i["index"], i["fault"], i["factor"],
                  {k: tuple(v) for k, v in i["params"].items()})
        for i in data["intensities"]]
    return Outcome(**data)


class CampaignStore:
    """The outcomes of one campaign, in SQLite (see the module docstring)."""

    def __init__(self, path: str | Path | None, print_: str, *, resume: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self._pending = 0
        self._closed = False
        try:
            if self.path is not None and not resume:
                for suffix in ("", "-wal", "-shm"):  # a new campaign starts from nothing
                    self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = open_read_write(":memory:" if self.path is None else self.path,
                                       journal_mode="WAL", synchronous="NORMAL")
            self._db.executescript(_SCHEMA)
            stored = self._db.execute("SELECT value FROM meta WHERE key = 'fingerprint'"
                                      ).fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"{self.path}: cannot open the campaign store ({exc})") from exc
        if stored is None:
            self._db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (print_,))
        elif stored[0] != print_:
            self._db.close()
            raise ConfigurationError(
                f"--resume: {self.path} holds another campaign (other scenarios, seeds, "
                "profile or swarm setting); resume with the same arguments, or start "
                "afresh without --resume")
        self._db.execute("BEGIN")

    # -- writing -----------------------------------------------------------------------------

    def add(self, outcome: Outcome) -> None:
        """Store one outcome; committed with the next :data:`COMMIT_EVERY`."""
        self._db.execute("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?, ?)",
                         (outcome.order, outcome.seed, int(outcome.failed),
                          int(outcome.error is not None), outcome_to_json(outcome)))
        self._pending += 1
        if self._pending >= COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._pending = 0
        self._db.execute("BEGIN")

    def close(self) -> None:
        """Commit what is left and close (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._db.close()

    # -- reading -----------------------------------------------------------------------------

    def finished(self, order: int, seed: int) -> bool:
        return self._db.execute("SELECT 1 FROM outcomes WHERE ord = ? AND seed = ?",
                                (order, seed)).fetchone() is not None

    def count(self, *, order: int | None = None, failed: bool | None = None,
              error: bool | None = None) -> int:
        where, args = self._where(order, failed, error)
        row = self._db.execute(f"SELECT COUNT(*) FROM outcomes{where}", args).fetchone()
        return int(row[0])

    def outcomes(self, *, order: int | None = None, failed: bool | None = None
                 ) -> Iterator[Outcome]:
        """The stored outcomes in (scenario order, seed) order, one at a time."""
        where, args = self._where(order, failed, None)
        cursor = self._db.execute(f"SELECT outcome FROM outcomes{where} ORDER BY ord, seed",
                                  args)
        for (text,) in cursor:
            yield outcome_from_json(text)

    def seeds(self, order: int, *, failed: bool) -> list[int]:
        return [row[0] for row in self._db.execute(
            "SELECT seed FROM outcomes WHERE ord = ? AND failed = ? ORDER BY seed",
            (order, int(failed)))]

    @staticmethod
    def _where(order: int | None, failed: bool | None, error: bool | None
               ) -> tuple[str, tuple[int, ...]]:
        clauses, args = [], []
        for column, value in (("ord", order), ("failed", failed), ("error", error)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(int(value))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)
