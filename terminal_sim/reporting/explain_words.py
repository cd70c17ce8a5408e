"""One trace record in plain words, in each language of :mod:`terminal_sim.reporting.explain_text`.

:class:`RecordWords` knows what every kind of record in ``trace.jsonl`` means (events,
effects, faults, notes, sync and host records) and says it in a short clause without
its time: "the host approved STAN 000005 (ISO 8583 0210, response 00, RRN ...)". A record
it has no words for is still told, by its kind, name and fields. The stories of
:mod:`terminal_sim.reporting.explain` and the trace tables of the pages are made of these clauses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from terminal_sim.base.money import format_amount
from terminal_sim.base.ranges import runs_text
from terminal_sim.errors import ConfigurationError
from terminal_sim.reporting.explain_text import ARTICLES, EN
from terminal_sim.reporting.i18n import Catalogue

__all__ = ["RecordWords", "ranges"]

#: Fields whose values are words of the simulation (a journal state, a fault's effect, a
#: reason), said in the reader's language: translated in the context of the field's name.
_VALUE_FIELDS = frozenset({"state", "status", "effect", "reason", "why", "kind"})

#: Values the simulation builds around an identifier, and the msgid that says each.
_PATTERNS = (
    (re.compile(r"(?P<trigger>\S+) not accepted in state (?P<state>\S+)"),
     "{trigger} not accepted in state {state}"),
    (re.compile(r"late or stray reply for STAN (?P<stan>\S+)"),
     "late or stray reply for STAN {stan}"),
    (re.compile(r"(?P<fault>\S+) on (?P<state>request|reply) (?P<mti>\S+)"),
     "{fault} on {state} {mti}"),
    (re.compile(r"declined (?P<rc>\S+)"), "declined {rc}"),
    (re.compile(r"(?P<state>.+) after printing"), "{state} after printing"),
)


class RecordWords:
    """Words for trace records in ``lang``; ``slip_refs`` names the receipt each print
    record made (trace id -> ``T0000001#3``)."""

    def __init__(self, lang: str = "en", slip_refs: dict[int, str] | None = None) -> None:
        self.lang = lang
        self._ = Catalogue(lang)  # raises ConfigurationError for a language it does not know
        self._slip_refs = dict(slip_refs or {})

    def w(self, key: str, **fields: Any) -> str:
        for name in _VALUE_FIELDS.intersection(fields):
            if isinstance(fields[name], str) and fields[name]:
                fields[name] = self.value(name, fields[name])
        return self._(EN[key]).format(**fields)

    def value(self, field: str, text: str) -> str:
        """A word of the simulation (``field`` ``state``, ``status``, ``effect``, ``reason``,
        ``why`` or ``kind``) in this language: translated in the field's context, or, for
        the few sentences the simulation builds around an identifier, by their pattern."""
        context = "state" if field == "status" else field
        words = self._.in_context(context, text)
        if words != text or self.lang == "en":
            return words
        for pattern, msgid in _PATTERNS:
            match = pattern.fullmatch(text)
            if match is not None:
                found = match.groupdict()
                return self._(msgid, **{k: self._.in_context("state", v) if k == "state"
                                         else v for k, v in found.items()})
        return text

    def effect(self, text: str) -> str:
        """What a fault did (its recorded ``effect``), in words of this language."""
        return self.value("effect", text) if text else text

    def finding_line(self, finding: dict[str, Any]) -> str:
        """One line on what a finding is: the reconciler's own summary in English, what
        its code means in another language (the summary is built in English)."""
        if self.lang == "en":
            return str(finding.get("summary", ""))
        return self._.in_context("finding", str(finding.get("code", "")))

    def summary(self, name: str, effect: str) -> str:
        """The registry's one-line summary of fault ``name``, in this language."""
        text = _fault_summary(name, effect)
        return self._.in_context("summary", text) if text else text

    @property
    def period(self) -> str:
        return self.w("period")

    @staticmethod
    def _money(amount: Any, currency: Any) -> str:
        return format_amount(amount, currency, missing="?")

    def _article(self, word: str) -> str:
        plain, vowel = ARTICLES
        return self._.in_context("article", vowel if word[:1].upper() in "AEIOU" else plain)

    # -- one record in words ----------------------------------------------------------------

    def describe(self, record: dict[str, Any]) -> str:
        """What one trace record means, in a short clause (no time)."""
        kind, name = record["kind"], record["name"]
        data: dict[str, Any] = record.get("data") or {}
        stan = data.get("stan") or ""
        amount = self._money(data.get("amount"), data.get("currency") or "EUR")
        last4 = str(data.get("pan") or "")[-4:] or "?"
        if kind == "event":
            return self._describe_event(record, name, data, stan, amount, last4)
        if kind == "effect":
            return self._describe_effect(record, name, data, stan, amount)
        if kind == "fault":
            return self._describe_fault(record, name, data)
        if kind == "note":
            return self._describe_note(name, data, stan)
        if kind == "sync":
            stans = ", ".join(data.get("stans") or []) or "-"
            if name == "push":
                return self.w("sync_push", stans=stans)
            if name == "push_failed":
                key = ("sync_push_failed_marked" if data.get("marked_synced")
                       and not data.get("acked") else "sync_push_failed")
                return self.w(key, stans=stans, reason=data.get("reason") or "?")
            if name == "evict":
                return self.w("sync_evict", stans=stans)
        if kind == "host":
            if name == "connection_closed":
                return self.w("host_connection_closed", reason=data.get("reason") or "?")
            if name == "no_reply":
                return self.w("host_no_reply")
        return self._other(record)

    def _other(self, record: dict[str, Any]) -> str:
        data = record.get("data") or {}
        details = ", ".join(f"{k} {v}" for k, v in sorted(data.items())
                            if isinstance(v, str | int | float) and k != "pan")
        return self.w("other_record", kind=record["kind"], name=record["name"],
                      details=f" ({details})" if details else "")

    def _describe_event(self, record: dict[str, Any], name: str, data: dict[str, Any],
                        stan: str, amount: str, last4: str) -> str:
        if name == "sale_requested":
            return self.w("sale_requested", last4=last4, amount=amount,
                          sale_id=data.get("sale_id", "?"))
        if name == "void_requested":
            return self.w("void_requested")
        if name == "reprint_requested":
            return self.w("reprint_requested")
        if name == "card_read":
            if data.get("ok"):
                return self.w("card_read_ok", last4=last4)
            return self.w("card_read_failed", reason=data.get("reason") or "?")
        if name == "host_reply":
            mti, rc = data.get("mti", "0210"), data.get("rc", "?")
            if not record.get("crash_point"):  # the core took no step: late or stray
                return self.w("host_late", stan=stan, mti=mti, rc=rc)
            if rc == "00":
                return self.w("host_approved", stan=stan, mti=mti, rrn=data.get("rrn") or "-")
            return self.w("host_declined", stan=stan, mti=mti, rc=rc)
        if name == "reversal_reply":
            return self.w("reversal_reply", stan=stan, mti=data.get("mti", "0410"))
        if name == "totals_reply":
            return self.w("totals_reply", rc=data.get("rc", "?"))
        if name == "timer_expired":
            return self.w("timer_expired")
        if name == "power_on":
            return self.w("power_on")
        if name == "print_done":
            if not data.get("ok", True):
                return self.w("print_done_failed", status=data.get("status") or "?")
            return self.w("print_done")
        return self._other(record)

    def _describe_effect(self, record: dict[str, Any], name: str, data: dict[str, Any],
                         stan: str, amount: str) -> str:
        if name == "print":
            return self._print_clause(record, data)
        if name.startswith("send_"):
            mti = data.get("mti", "?")
            if "reversal" in name:
                return self.w("send_reversal", stan=data.get("original_stan") or stan, mti=mti,
                              reason=data.get("reason") or "-")
            if name == "send_totals":
                return self.w("send_totals", mti=mti)
            return self.w("send", kind=data.get("kind") or name[5:], stan=stan, mti=mti,
                          amount=amount)
        if name.startswith("journal_"):
            state = data.get("state") or "?"
            key = {"journal_commit": "journal_commit", "journal_intent": "journal_intent",
                   "journal_receipt": "journal_receipt",
                   "journal_recovery": "journal_recovery"}.get(name, "journal_other")
            return self.w(key, stan=stan, state=state)
        if name == "queue_reversal":
            return self.w("queue_reversal", stan=stan, reason=data.get("reason") or "-")
        if name == "read_card":
            return self.w("read_card")
        if name == "start_timer" and isinstance(data.get("delay_ms"), int):
            return self.w("start_timer", seconds=f"{data['delay_ms'] / 1000:g}")
        if name == "cancel_timer":
            return self.w("cancel_timer")
        return self._other({"kind": "effect", "name": name, "data": data})

    def _print_clause(self, record: dict[str, Any], data: dict[str, Any]) -> str:
        outcome = str(data.get("outcome") or "")
        ref = self._slip_refs.get(int(record.get("id") or 0), "?")
        if not outcome and data.get("stan") in (None, ""):
            return self.w("print_blank", ref=ref)
        amount = data.get("amount")
        amount_part = (" " + self._money(amount, data.get("currency") or "EUR")
                       if isinstance(amount, int) else "")
        stan = data.get("stan") or ""
        return self.w("print", article=self._article(outcome), outcome=outcome,
                      amount_part=f" ({amount_part.strip()})" if amount_part else "",
                      stan_part=f" STAN {stan}" if stan else "", ref=ref)

    def _describe_fault(self, record: dict[str, Any], name: str, data: dict[str, Any]) -> str:
        effect = str(data.get("effect") or "")
        words = self._fault_words().get(name)
        text = words(record, data) if words is not None else None
        if text is not None:
            return text
        if name.startswith("link-") and data.get("mti"):
            return self.w("fault_link", mti=data["mti"], stan=data.get("stan") or "-",
                          summary=self.summary(name, effect))
        return self.w("fault_other", fault=data.get("fault", name),
                      summary=self.summary(name, effect))

    def _fault_words(self) -> dict[str, Callable[[dict[str, Any], dict[str, Any]], str | None]]:
        """Per fault (or power record), its own sentence; ``None`` falls back to the
        generic one."""
        return {
            "power-dip": self._power_dip_words,
            "power_cut": self._power_cut_words,
            "restart": lambda _record, _data: self.w("restart"),
            "maintenance-update": self._update_words,
            "cold-card-reader": self._cold_reader_words,
            "sync-failure": self._sync_words,
            "operator-reprint": self._reprint_words,
            "printer-power-loss": self._printer_power_words,
            "printer-paper-out": self._paper_out_words,
            "printer-cover-open": lambda _record, _data: self.w("fault_cover"),
        }

    def _power_dip_words(self, record: dict[str, Any], data: dict[str, Any]) -> str:
        point = record.get("crash_point") or data.get("crash_point")
        if not point:
            return self.w("fault_power_dip", crash_point="-")
        if str(point).endswith("during:print"):
            return self.w("fault_power_dip_mid_print")
        return self.w("fault_power_dip", crash_point=point)

    def _power_cut_words(self, record: dict[str, Any], data: dict[str, Any]) -> str:
        if str(record.get("crash_point") or "").startswith("operator:"):
            return self.w("operator_pull_plug")
        lost = data.get("lost") or []
        if lost:
            return self.w("power_cut_lost", lost=", ".join(lost))
        return self.w("power_cut")

    def _update_words(self, record: dict[str, Any], data: dict[str, Any]) -> str:
        jobs = data.get("jobs_damaged")
        if jobs is not None:
            return self.w("fault_update_spooler", terminal=record["terminal"],
                          count=len(jobs), jobs=ranges(jobs))
        return self.w("fault_update", terminal=record["terminal"],
                      effect=str(data.get("effect") or ""))

    def _cold_reader_words(self, _record: dict[str, Any], data: dict[str, Any]) -> str:
        chance = data.get("failure_chance")
        return self.w("fault_cold", temperature=data.get("temperature_c", "?"),
                      chance=f"{chance:.0%}" if isinstance(chance, float) else "?")

    def _sync_words(self, _record: dict[str, Any], data: dict[str, Any]) -> str | None:
        key = {"sync fail": "fault_sync_fail", "sync drop": "fault_sync_drop",
               "sync lag": "fault_sync_lag"}.get(str(data.get("effect") or ""))
        if key is None:
            return None
        return self.w(key, stans=", ".join(data.get("stans") or []) or "-")

    def _reprint_words(self, _record: dict[str, Any], data: dict[str, Any]) -> str:
        keyed = data.get("keyed_amount")
        part = f" ({self._money(keyed, 'EUR')})" if isinstance(keyed, int) else ""
        return self.w("fault_reprint", amount_part=part)

    def _printer_power_words(self, _record: dict[str, Any], data: dict[str, Any]) -> str:
        if "bytes_printed" in data:
            return self.w("fault_printer_power", printed=data["bytes_printed"],
                          lost=data.get("bytes_lost", "?"))
        return self.w("fault_printer_dark", lost=data.get("bytes_lost", "?"))

    def _paper_out_words(self, _record: dict[str, Any], data: dict[str, Any]) -> str:
        if "bytes_lost" in data:
            return self.w("fault_paper_lost", lost=data["bytes_lost"])
        return self.w("fault_paper_out")

    def _describe_note(self, name: str, data: dict[str, Any], stan: str) -> str:
        if name == "spooler_resumed_job":
            key = "spooler_resumed_empty" if data.get("empty") else "spooler_resumed"
            return self.w(key, job=data.get("job_id", "?"))
        if name == "customer_retries":
            return self.w("customer_retries", attempt=data.get("attempt", "?"),
                          why=data.get("why") or "?")
        if name == "ignored":
            return self.w("ignored", reason=data.get("reason") or "?")
        if name == "event_lost":
            return self.w("event_lost", trigger=data.get("trigger") or "?")
        if name == "reply_lost":
            return self.w("reply_lost", stan=stan or "?")
        if name in ("printer_refilled", "printer_cover_closed", "printer_power_restored"):
            return self.w(name)
        return self._other({"kind": "note", "name": name, "data": data})

def _fault_summary(name: str, effect: str) -> str:
    """The registry's one-line summary of a fault (what it does), else what it recorded."""
    from terminal_sim.plugins.registry import fault_class

    try:
        return str(fault_class(name).summary) or effect
    except ConfigurationError:  # a third-party fault no longer installed: its own words
        return effect or name


def ranges(values: Iterable[int]) -> str:
    """``11-30`` for a run of consecutive numbers, ``3, 5, 7-9`` otherwise (sorted, once)."""
    return runs_text(sorted(set(values))) or "-"
