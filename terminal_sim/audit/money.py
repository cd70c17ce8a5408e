"""The money invariants: conservation, abandoned approvals, duplicate charges, settlement.

Keys are (terminal id, STAN). The merchant's books for a key are its journal record, or,
when the journal no longer has it (evicted after it was synced), its back-office record.

* ``conservation``: for every key the host's standing amount equals the books'; a key
  the journal says it synced has the same standing in the back office; and per terminal
  and currency the totals agree (an entry with ``stan`` "").
* ``abandoned_approval_reversed``: every approval the host still holds (standing sale,
  void or refund) for a key the terminal abandoned (no record in the books, or one that
  does not stand: ``pending``, ``failed``, ``declined``, ``reversed``) was reversed at
  the host. "Reported" is not enough for the customer: a reversal still queued (``saf``
  row ``pending``) or given up (``given-up``) leaves the charge in place, so the entry
  fails and names the queue's state (``saf``) for whoever decides what to do.
* ``no_duplicate_charge``: one sale intent, at most one sale approval standing at the host.
  The intent is the ``sale_id`` the trace's ``send_*`` effect carried with the STAN (a
  cashier's retry of the same sale keeps it), else the journal record's ``sale_id``; a
  cashier's retry (a ``cashier_retry`` note) belongs to the intent of its first attempt.
* ``settlement_balanced``: every settlement (host type ``settlement``) is ``balanced``,
  and the totals the terminal sent in its 0500 (fields 74/76/86/88: refunds and sales
  that stand) equal the host's own batch, counted here from its transactions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from terminal_sim.audit.artifacts import RunArtifacts
from terminal_sim.audit.books import Standing, book_standing, host_standing
from terminal_sim.audit.model import Invariant

__all__ = ["abandoned_approval_reversed", "conservation", "no_duplicate_charge",
           "settlement_balanced"]

Key = tuple[str, str]
_FIELD = re.compile(r"\b(\d{2})=(\d+)")


def _view(standing: Standing | None) -> dict[str, object] | None:
    return None if standing is None else standing.describe()


def _books(run: RunArtifacts) -> tuple[dict[Key, Standing], dict[Key, Standing],
                                        dict[Key, Standing]]:
    journal = book_standing(run.journal)
    backoffice = book_standing(run.backoffice)
    books = {**backoffice, **journal}
    return journal, backoffice, books


def _entry(key: Key, book: str, host: Standing | None, journal: Standing | None,
           backoffice: Standing | None, what: str) -> dict[str, Any]:
    some = host or journal or backoffice
    return {"terminal_id": key[0], "stan": key[1], "type": some.type if some else "",
            "amount_minor": some.amount_minor if some else 0,
            "currency": some.currency if some else "", "book": book,
            "host": _view(host), "journal": _view(journal), "backoffice": _view(backoffice),
            "what": what}


def _totals(host: dict[Key, Standing], books: dict[Key, Standing]) -> list[dict[str, Any]]:
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (terminal, _), standing in host.items():
        sums[(terminal, standing.currency)][0] += standing.net_minor
    for (terminal, _), standing in books.items():
        sums[(terminal, standing.currency)][1] += standing.net_minor
    return [{"terminal_id": terminal, "stan": "", "currency": currency, "book": "totals",
             "host_net_minor": at_host, "books_net_minor": in_books,
             "what": f"terminal totals: host {at_host}, books {in_books}"}
            for (terminal, currency), (at_host, in_books) in sorted(sums.items())
            if at_host != in_books]


def conservation(run: RunArtifacts) -> Invariant:
    host = host_standing(run.host)
    journal, backoffice, books = _books(run)
    synced = {(r.terminal_id, r.stan) for r in run.journal
              if r.synced_vt >= 0 and r.updated_vt <= r.synced_vt}
    evidence: list[dict[str, Any]] = []
    for key in sorted(set(host) | set(books)):
        at_host, in_books = host.get(key), books.get(key)
        host_net = at_host.net_minor if at_host else 0
        books_net = in_books.net_minor if in_books else 0
        if host_net != books_net:
            # "evicted": the journal let the record go and only the back office has it;
            # a money mismatch either way (the back office's own gaps are "backoffice")
            book = "journal" if key in journal else "evicted" if key in backoffice else "none"
            evidence.append(_entry(key, book, at_host, journal.get(key), backoffice.get(key),
                                   f"host stands for {host_net}, the books for {books_net}"))
        # a back-office gap is its own loss, whether or not the money also disagrees
        if key in synced and (key not in backoffice
                                or backoffice[key].net_minor != journal[key].net_minor):
            evidence.append(_entry(key, "backoffice", at_host, journal.get(key),
                                   backoffice.get(key),
                                   "synced, but the back office does not stand for it"))
    evidence.extend(_totals(host, books))
    return Invariant("conservation", not evidence, evidence)


def abandoned_approval_reversed(run: RunArtifacts) -> Invariant:
    host = host_standing(run.host)
    journal, backoffice, books = _books(run)
    saf = {(row.terminal_id, row.stan): row for row in run.saf}
    evidence: list[dict[str, Any]] = []
    for key, at_host in sorted(host.items()):
        in_books = books.get(key)
        if at_host.net_minor == 0 or (in_books is not None and in_books.net_minor != 0):
            continue
        queued = saf.get(key)
        entry = _entry(key, "journal" if key in journal else "none", at_host,
                       journal.get(key), backoffice.get(key),
                       "the host holds the approval, the terminal abandoned it, "
                       "no reversal reached the host")
        entry["saf"] = None if queued is None else {"state": queued.state,
                                                    "attempts": queued.attempts}
        evidence.append(entry)
    return Invariant("abandoned_approval_reversed", not evidence, evidence)


def _intents(run: RunArtifacts) -> dict[Key, str]:
    intents = {(r.terminal_id, r.stan): r.sale_id for r in run.journal if r.sale_id}
    for record in run.trace:
        data = record.get("data")
        if (record.get("kind") == "effect" and str(record.get("name", "")).startswith("send_")
                and isinstance(data, dict) and data.get("stan") and data.get("sale_id")):
            intents[(str(record.get("terminal", "")), str(data["stan"]))] = str(data["sale_id"])
    # a cashier who presents the purchase again makes a new sale id for the same intent:
    # the trace's ``cashier_retry`` note names the first attempt it repeats
    first_of: dict[tuple[str, str], str] = {}
    for record in run.trace:
        data = record.get("data")
        if (record.get("kind") == "note" and record.get("name") == "cashier_retry"
                and isinstance(data, dict) and data.get("sale_id") and data.get("retry_of")):
            terminal = str(record.get("terminal", ""))
            root = str(data["retry_of"])
            first_of[(terminal, str(data["sale_id"]))] = first_of.get((terminal, root), root)
    return {key: first_of.get((key[0], sale_id), sale_id) for key, sale_id in intents.items()}


def no_duplicate_charge(run: RunArtifacts) -> Invariant:
    intents = _intents(run)
    charges: dict[tuple[str, str], list[Key]] = defaultdict(list)
    amounts: dict[Key, int] = {}
    for row in run.host:
        key = (row.terminal_id, row.stan)
        if row.type == "sale" and row.status == "approved" and key in intents:
            charges[(row.terminal_id, intents[key])].append(key)
            amounts[key] = row.amount_minor
    evidence = [{"terminal_id": terminal, "stan": keys[-1][1], "sale_id": sale_id,
                 "stans": [stan for _, stan in keys],
                 "amounts_minor": [amounts[key] for key in keys],
                 "what": f"sale {sale_id} stands approved {len(keys)} times at the host"}
                for (terminal, sale_id), keys in sorted(charges.items()) if len(keys) > 1]
    return Invariant("no_duplicate_charge", not evidence, evidence)


def _claimed(run: RunArtifacts, terminal: str, stan: str) -> dict[str, int]:
    for message in run.host_messages:
        if (message["mti"], message["terminal_id"], message["stan"]) == ("0500", terminal, stan):
            return {number: int(value) for number, value in _FIELD.findall(message["detail"])}
    return {}


def settlement_balanced(run: RunArtifacts) -> Invariant:
    evidence: list[dict[str, Any]] = []
    for row in run.host:
        if row.type != "settlement":
            continue
        batch = [r for r in run.host if r.terminal_id == row.terminal_id and r.batch == row.batch]
        sales = [r.amount_minor for r in batch if r.type == "sale" and r.status == "approved"]
        refunds = [r.amount_minor for r in batch if r.type == "refund" and r.status == "approved"]
        host = {"74": len(refunds), "76": len(sales), "86": sum(refunds), "88": sum(sales)}
        claimed = _claimed(run, row.terminal_id, row.stan)
        terminal = {number: claimed.get(number, 0) for number in host}
        if row.status != "balanced" or terminal != host:
            evidence.append({
                "terminal_id": row.terminal_id, "stan": row.stan, "batch": row.batch,
                "status": row.status, "response_code": row.response_code,
                "terminal_totals": terminal, "host_totals": host,
                "what": f"settlement of batch {row.batch} is {row.status}"})
    return Invariant("settlement_balanced", not evidence, evidence)
