"""What a live terminal keeps between runs, and which host rows belong to one run.

A real terminal's STAN counter is non-volatile: it survives a reboot, a new day and a
new batch, so the acquirer, which keys its transactions by (terminal id, STAN), never
sees a number twice from one terminal (until the counter wraps after 999,999). A live
run keeps it in a small file per terminal, :class:`StanStore`, in the *terminal state
directory* (``pos-sim run --terminal-state DIR``; by default beside the acquirer's
ledger given by ``--host-ledger``: ``host.sqlite`` -> ``host.terminals/``). The file is
written atomically (a temporary file, then ``os.replace``) before each message leaves,
so even a killed run leaves the counter past every number it used.

The acquirer's ledger may hold the rows of many runs (one ``acquirer serve`` for a day
of runs). :func:`run_stans` names the STANs one run used (from the counter at its first
boot, recorded in its trace, to the counter at its end), and :func:`copy_host_rows`
writes the ledger rows with those STANs into the run folder's own ``host.sqlite``, in
the schema a simulated run writes, so the run folder is complete by itself: ``pos-sim
explain``, ``recover``, ``audit`` and ``replay`` read it like any other run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from terminal_sim.acquirer.ledger import HostLedger
from terminal_sim.errors import ConfigurationError
from terminal_sim.evidence.artifacts import read_rows

#: STANs run from 000001 to 999999, then wrap to 000001 (``TerminalCore.next_stan``)
STAN_MAX = 999_999

#: the trace note a live boot writes: ``data.stan_base`` is each terminal's counter then
BOOT_NOTE = "live_boot"


def default_state_dir(host_ledger: Path) -> Path:
    """``/x/host.sqlite`` -> ``/x/host.terminals``: the terminals beside their acquirer."""
    return host_ledger.with_name(f"{host_ledger.stem}.terminals")


class StanStore:
    """One JSON file per terminal (``<terminal id>.json``) holding ``last_stan``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._saved: dict[str, int] = {}

    def _file(self, terminal_id: str) -> Path:
        if not terminal_id or not terminal_id.isalnum():
            raise ConfigurationError(f"terminal id {terminal_id!r} cannot name a state file")
        return self.directory / f"{terminal_id}.json"

    def load(self, terminal_id: str) -> int:
        """The last STAN this terminal used in an earlier run; 0 for a new terminal."""
        path = self._file(terminal_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"{path}: unreadable terminal state: {exc}") from exc
        stan = data.get("last_stan") if isinstance(data, dict) else None
        if not isinstance(stan, int) or isinstance(stan, bool) or not 0 <= stan <= STAN_MAX:
            raise ConfigurationError(f"{path}: last_stan must be 0..{STAN_MAX}, not {stan!r}")
        self._saved[terminal_id] = stan
        return stan

    def save(self, terminal_id: str, last_stan: int) -> None:
        """Keep ``last_stan`` (atomically; nothing written when it did not change)."""
        if self._saved.get(terminal_id) == last_stan:
            return
        path = self._file(terminal_id)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".tmp")
            partial.write_text(json.dumps({"terminal_id": terminal_id, "last_stan": last_stan})
                               + "\n", encoding="utf-8")
            os.replace(partial, path)
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot keep the terminal's STAN: {exc}") from exc
        self._saved[terminal_id] = last_stan


class StanKeepingLink:
    """Wraps the acquirer link: the terminal's counter is on disk before a message leaves."""

    def __init__(self, inner: Any, store: StanStore, counter: Callable[[str], int]) -> None:
        self.inner = inner
        self.store = store
        self.counter = counter

    def send(self, terminal_id: str, request: Any, deliver: Callable[[Any], None]) -> None:
        self.store.save(terminal_id, self.counter(terminal_id))
        self.inner.send(terminal_id, request, deliver)

    def drop_connection(self, terminal_id: str) -> None:
        self.inner.drop_connection(terminal_id)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def run_stans(base: int, last: int) -> frozenset[str]:
    """The STANs a counter went through from ``base`` (exclusive) to ``last``, wrapping."""
    used = (last - base) % STAN_MAX
    return frozenset(f"{(base + step - 1) % STAN_MAX + 1:06d}" for step in range(1, used + 1))


def host_rows_of_run(ledger: Path, stans: Mapping[str, frozenset[str]]
                     ) -> list[dict[str, Any]]:
    """The ledger's transactions (with their ``reply``) of the terminals and STANs given."""
    rows = read_rows(ledger, "SELECT * FROM transactions "
                             "ORDER BY received_vt, terminal_id, stan, mti_class")
    return [r for r in rows if r.get("stan") in stans.get(str(r.get("terminal_id")), ())]


def host_messages_of_run(ledger: Path, stans: Mapping[str, frozenset[str]]
                         ) -> list[dict[str, Any]]:
    rows = read_rows(ledger, "SELECT * FROM messages ORDER BY seq")
    return [r for r in rows if r.get("stan") in stans.get(str(r.get("terminal_id")), ())]


def copy_host_rows(ledger: Path | None, stans: Mapping[str, frozenset[str]], target: Path) -> None:
    """Write this run's ledger rows (transactions and messages) to ``target``, a new
    host ledger in the schema of :class:`~terminal_sim.acquirer.ledger.HostLedger`
    (empty without a ``ledger``: the run had none to read)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    copy = HostLedger(target)
    try:
        with copy.atomic():
            for txn in host_rows_of_run(ledger, stans) if ledger else []:
                copy.record(txn)
            for message in host_messages_of_run(ledger, stans) if ledger else []:
                copy.log(*(message.get(k, "") for k in _MESSAGE_FIELDS))
    finally:
        copy.close()


_MESSAGE_FIELDS = ("vt", "direction", "mti", "terminal_id", "stan", "response_code", "detail")


def first_boot_bases(records: Iterable[Mapping[str, Any]]) -> dict[str, int] | None:
    """Each terminal's STAN counter at the first boot of a run folder, from its trace."""
    for record in records:
        if record.get("kind") == "note" and record.get("name") == BOOT_NOTE:
            data = record.get("data")
            bases = data.get("stan_base") if isinstance(data, dict) else None
            if isinstance(bases, dict):
                return {str(k): int(v) for k, v in bases.items()}
    return None
