"""Firmware profiles: orderings and recovery policies over the same core, as data.

``naive`` reproduces what field terminals do: it prints and then saves, prints a slip
for a card it could not read, and gives up on a silent host without telling it.
``robust`` persists the intent and STAN before it sends and journals before it prints.
Each safeguard is one setting, so a scenario can switch one off to show what it protects.

A slip owed stays owed (``reprint_missing``): robust keeps every approved record whose
receipt did not print and tries again, first ``reprint_retry_ms`` later, then on a backoff
that doubles up to five minutes (``REPRINT_BACKOFF_CAP_MS``), for the whole day, and two
seconds after any slip prints (the printer is back). A try the printer explains when asked
(DLE EOT, ``check_printer_status``: paper out, cover open, offline, also right after a job
it died in) is a wait for someone to refill, close or power it, not a failure: it never
counts. Only a failure the printer does not explain counts against
``reprint_max_attempts``; after that many the terminal stops with an alert and the slips
stay owed (a liveness failure). A timer that runs out while the terminal is busy with a
customer is not a try either. What is owed lives in RAM; at power-on the journal says
again what is owed (approved records without ``receipt=printed``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from terminal_sim.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class Profile:
    """One firmware's behaviour."""

    name: str
    #: write the journal record before the receipt is printed (paper is irreversible)
    journal_before_print: bool
    #: write a ``pending`` record with the STAN before the request leaves the terminal
    persist_intent: bool
    #: print a slip when the card cannot be read (field behaviour; the slip has no record)
    print_error_slips: bool
    #: SQLite ``synchronous`` of the journal: FULL syncs every commit, NORMAL (WAL) does not
    journal_synchronous: str
    #: the admin menu's print key prints a slip even when there is no sale to reprint
    reprint_without_sale: bool = True
    #: the print spooler drops a job it has no data for instead of printing it blank
    spooler_skips_empty_jobs: bool = False
    #: ask the printer for its status (DLE EOT) before printing, and again after
    check_printer_status: bool = False
    #: mark a record synced only when the back office acknowledged it
    sync_requires_ack: bool = False
    #: local eviction may drop records the back office never received
    evict_unsynced: bool = True
    #: local eviction may drop records of the open batch (not yet settled with the host)
    evict_open_batch: bool = True
    #: back the journal up before an update's migration and put back what it dropped
    verify_migration: bool = False
    #: records the terminal keeps locally (0: no limit)
    journal_capacity: int = 0
    #: how often the terminal pushes final records to the back office
    sync_interval_ms: int = 300_000
    #: on a host timeout, queue a reversal (0400, then 0420/0421 until acknowledged)
    reverse_on_timeout: bool = False
    #: a reply that is no valid answer to its request (unknown response code, another
    #: MTI, an amount not echoed: a corrupted reply, nothing protects it) is an unknown
    #: outcome, reversed like a timeout; otherwise its response code is taken as it reads
    distrust_invalid_replies: bool = False
    #: MAC every message to the host (ISO 8583 field 64, or 128 beside a secondary
    #: bitmap) and take a reply whose MAC is missing or does not verify as no valid answer;
    #: the host rejects a request whose MAC fails (63) and books nothing
    mac_messages: bool = False
    #: attempts after which a queued reversal is abandoned (0: retry until settlement,
    #: which forces a last attempt; an abandoned reversal is a liveness failure)
    reversal_max_attempts: int = 30
    #: at power-on, reverse every sale whose intent was persisted but never finished
    recover_on_boot: bool = False
    #: reprint (marked DUPLICATE) an approved sale, refund or void whose receipt did not print
    reprint_missing: bool = False
    #: how long to wait before trying a failed print again (the first wait of a backoff
    #: that doubles up to five minutes)
    reprint_retry_ms: int = 60_000
    #: after this many reprint rounds that failed for a reason the printer does not
    #: explain, the terminal stops and shows an alert (0: never); paper out, cover open
    #: or printer offline are waited out and never counted
    reprint_max_attempts: int = 20
    #: send the day's totals to the host (0500) at the end of the day
    settle_at_end_of_day: bool = False
    #: how long the terminal waits for the host before it gives up
    host_timeout_ms: int = 15_000
    #: framing of the link to the host: ``binary`` (2-byte length), ``tpdu`` (2-byte
    #: length + 5-byte TPDU) or ``ascii`` (4-digit length); see terminal_sim.iso.framing
    link_framing: str = "binary"

    def with_settings(self, **settings: Any) -> Profile:
        """A copy with some settings changed; unknown names are a ``ConfigurationError``."""
        kinds = {f.name: f.type for f in fields(self)}
        unknown = sorted(set(settings) - set(kinds))
        if unknown:
            raise ConfigurationError(
                f"unknown profile setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(kinds))}"
            )
        for name, value in settings.items():
            wanted = {"bool": bool, "int": int, "str": str}.get(str(kinds[name]), object)
            if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
                raise ConfigurationError(f"{name}: expected {wanted.__name__}, got {value!r}")
            if isinstance(value, int) and not 0 <= value <= 10**9:
                raise ConfigurationError(f"{name}: {value} is out of range (0 to 10**9)")
        if settings.get("journal_synchronous", "FULL") not in ("FULL", "NORMAL"):
            raise ConfigurationError("journal_synchronous: FULL or NORMAL")
        if settings.get("link_framing", "binary") not in LINK_FRAMINGS:
            raise ConfigurationError(f"link_framing: one of {', '.join(LINK_FRAMINGS)}")
        return replace(self, **settings)


#: the framings of terminal_sim.iso.framing (the core names them, the link implements them)
LINK_FRAMINGS = ("binary", "tpdu", "ascii")

PROFILES: dict[str, Profile] = {
    "naive": Profile(
        name="naive",
        journal_before_print=False,
        persist_intent=False,
        print_error_slips=True,
        journal_synchronous="NORMAL",
    ),
    "robust": Profile(
        name="robust",
        journal_before_print=True,
        persist_intent=True,
        print_error_slips=False,
        journal_synchronous="FULL",
        check_printer_status=True,
        spooler_skips_empty_jobs=True,
        reprint_without_sale=False,
        reverse_on_timeout=True,
        distrust_invalid_replies=True,
        mac_messages=True,
        recover_on_boot=True,
        reprint_missing=True,
        settle_at_end_of_day=True,
        sync_requires_ack=True,
        evict_unsynced=False,
        evict_open_batch=False,
        verify_migration=True,
        reversal_max_attempts=0,
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}"
        ) from None
