"""The non-link faults, each on a small day: what it changes, and only that."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terminal_sim.sim.simulation import RunResult

Day = Callable[..., RunResult]


def codes(result: RunResult) -> list[str]:
    return sorted(f.code for f in result.findings)


def journal_view(result: RunResult) -> dict[str, str]:
    """STAN -> state, as the terminal's journal has it."""
    return {r["stan"]: r["state"] for r in result.evidence.journal}


def test_power_dip_during_print_truncates_the_receipt(day: Day) -> None:
    result = day("- {name: power-dip, at: sale/during:print, nth: 2, print_fraction: 0.3}")
    receipts = result.evidence.receipts
    assert [r.truncated for r in receipts].count(True) == 1
    assert "TRUNCATED_RECEIPT" in codes(result)


def test_power_dip_at_a_time_boots_again(day: Day) -> None:
    result = day("- {name: power-dip, time: '09:05', down_s: 60}")
    cuts = [r for r in result.evidence.trace if r["name"] == "power_cut"]
    boots = [r for r in result.evidence.trace if r["name"] == "power_on"]
    assert len(cuts) == 1
    assert len(boots) == 2


def test_robust_profile_keeps_the_record_when_power_goes_after_print(day: Day) -> None:
    result = day("- {name: power-dip, at: sale/after:print, nth: 2}", profile="robust")
    # robust journals before it prints: the receipt always has its record
    assert "STRAY_RECEIPT" not in codes(result)


def test_normal_synchronous_loses_a_recent_commit_on_power_loss(day: Day) -> None:
    naive = day("- {name: power-dip, at: sale/after:journal_commit, nth: 3}")
    lost = next(r for r in naive.evidence.trace if r["name"] == "power_cut")["data"]["lost"]
    assert "000003:approved" in lost  # committed, but not yet on disk
    robust = day("- {name: power-dip, at: sale/after:journal_commit, nth: 3}",
                 profile="robust")
    lost = next(r for r in robust.evidence.trace if r["name"] == "power_cut")["data"]["lost"]
    assert lost == []  # FULL: every commit is durable when it returns


def test_cold_reader_fails_reads_and_naive_prints_error_slips(day: Day) -> None:
    result = day("- {name: cold-card-reader, temperature_c: -30, failure_per_degree: 0.1}",
                 count=8)
    error_slips = [r for r in result.evidence.receipts if "CARD UNREADABLE" in r.text]
    assert error_slips
    assert "STRAY_RECEIPT" in codes(result)
    robust = day("- {name: cold-card-reader, temperature_c: -30, failure_per_degree: 0.1}",
                 count=8, profile="robust")
    assert not [r for r in robust.evidence.receipts if "CARD UNREADABLE" in r.text]


def test_warm_reader_is_not_affected(day: Day) -> None:
    result = day("- {name: cold-card-reader, temperature_c: 5}")
    assert codes(result) == []


def test_torn_card_fails_the_read(day: Day) -> None:
    result = day("- {name: torn-card, nth: 1}")
    reads = [r for r in result.evidence.trace if r["name"] == "card_read"]
    assert reads[0]["data"] == {"ok": False, "reason": "CARD REMOVED",
                                "sale_id": "T0000001-000001"}


def test_paper_out_naive_prints_into_the_void(day: Day) -> None:
    result = day("- {name: printer-paper-out, nth: 3}")
    assert len(result.evidence.receipts) == 2
    assert codes(result).count("MISSING_RECEIPT") == 4


def test_paper_out_robust_knows(day: Day) -> None:
    result = day("- {name: printer-paper-out, nth: 3}", profile="robust")
    done = [r for r in result.evidence.trace if r["name"] == "print_done"]
    assert any(r["data"]["status"] == "paper-out" for r in done)


def test_paper_refill_resumes_printing(day: Day) -> None:
    result = day("- {name: printer-paper-out, nth: 3, refill_s: 30}")
    assert codes(result).count("MISSING_RECEIPT") == 1


def test_cover_open_takes_the_printer_offline(day: Day) -> None:
    result = day("- {name: printer-cover-open, nth: 2, close_s: 30}", profile="robust")
    done = [r for r in result.evidence.trace if r["name"] == "print_done"]
    assert [r["data"]["status"] for r in done].count("offline") == 1


def test_clock_jump_shows_on_the_receipts(day: Day) -> None:
    result = day("- {name: clock-jump, time: '09:04', jump_s: -86400}")
    dates = [r.facts.printed_at[:10] for r in result.evidence.receipts]
    assert dates[0] == "2026-02-02"
    assert dates[-1] == "2026-02-01"


def test_operator_reprint_after_a_sale_is_a_harmless_duplicate(day: Day) -> None:
    result = day("- {name: operator-reprint, time: '09:30'}")
    copies = [r for r in result.evidence.receipts if r.facts.copy_label == "DUPLICATE"]
    assert len(copies) == 1
    assert codes(result) == []


def _migrated(result: RunResult) -> list[dict[str, Any]]:
    return [r["data"] for r in result.evidence.trace
            if r["kind"] == "fault" and r["data"].get("effect") == "journal migrated"]


def test_maintenance_journal_migration_loses_the_partial_page(day: Day) -> None:
    # the back office is unreachable until after the update: the journal is the only copy
    result = day("""
        - {name: sync-failure, mode: fail, until: '10:00'}
        - {name: maintenance-update, time: '09:30', mode: journal-migration, page_size: 4}
    """, count=6)
    assert [(m["copied"], m["stans"]) for m in _migrated(result)] == [
        (4, ["000005", "000006"])]
    assert sorted(journal_view(result)) == ["000001", "000002", "000003", "000004"]
    lost = sorted(f.stan for f in result.findings if f.code == "LOST_RECORD")
    assert lost == ["000005", "000006"]


def test_maintenance_journal_migration_after_sync_loses_nothing_for_good(day: Day) -> None:
    # the same migration, but the back office already has every record: none is lost
    result = day("- {name: maintenance-update, time: '09:30', mode: journal-migration, "
                 "page_size: 4}", count=6)
    assert sorted(journal_view(result)) == ["000001", "000002", "000003", "000004"]
    assert sorted(r["stan"] for r in result.evidence.backoffice or []) == [
        "000001", "000002", "000003", "000004", "000005", "000006"]
    assert codes(result) == []


def test_maintenance_parameters_only_restarts(day: Day) -> None:
    result = day("- {name: maintenance-update, time: '09:02', mode: parameters}")
    assert codes(result) == []
    assert any(r["name"] == "restart" for r in result.evidence.trace)


def test_a_printer_fault_lasts_until_it_heals() -> None:
    """Issue 13: the run lasts 30 minutes after a fault's last act; a printer fault's
    last act is its healing, ``refill_s``/``close_s``/``down_s`` after its window."""
    from terminal_sim.base.seeds import Stream
    from terminal_sim.plugins.registry import fault_class

    def latest(name: str, **given: Any) -> int:
        cls = fault_class(name)
        return cls(cls.validate({"until": "09:05", **given}), Stream(1, name)).latest_ms()

    window = latest("printer-paper-out")  # never refilled: nothing to add
    assert latest("printer-paper-out", refill_s=3000) == window + 3_000_000
    assert latest("printer-cover-open", close_s=600) == window + 600_000
    assert latest("printer-power-loss", down_s=120) == window + 120_000


def test_a_printer_that_never_heals_ends_the_day_with_the_slip_owed(day: Day) -> None:
    """Robust retries for the whole day and no longer: the run ends, and the slip it
    could not print is a liveness failure, not an endless loop."""
    result = day("- {name: printer-paper-out, nth: 3}", profile="robust")
    assert any("never reprinted: 000003" in p for p in result.liveness)
    notes = [r for r in result.evidence.trace if r["name"] == "reprint_day_over"]
    assert len(notes) == 1
    assert "MISSING_RECEIPT" in codes(result)
