"""The words of the stories ``pos-sim explain`` and the pages tell, by key.

:data:`EN` maps a key to its English ``msgid``: a ``str.format`` template over named
fields; a key ending in ``_n`` is the form for several alike records told as one. The
translations of these msgids are in the one message catalogue of the tool
(:mod:`terminal_sim.reporting.i18n`, ``terminal_sim/locale/*/LC_MESSAGES/terminal_sim.po``),
so wording is changed (or a language added) there.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # -- time ---------------------------------------------------------------------------
    "at": "At {when}",
    "when_wall": "{wall} (T+{virtual})",
    "when_virtual": "T+{virtual}",
    "next_day": "{time} the next day",
    "on_day": "{time} on {date}",
    "sentence": "{at}, {text}.",
    # -- customers and the terminal -----------------------------------------------------
    "sale_requested": "a customer presented a card ending {last4} for {amount} (sale {sale_id})",
    "void_requested": "the operator asked to void the last sale",
    "reprint_requested": "someone asked the terminal for a reprint",
    "card_read_ok": "the card ending {last4} was read",
    "card_read_failed": "the card reader could not read the card ({reason})",
    "send": "the terminal sent the {kind} request for STAN {stan} to the host "
            "(ISO 8583 {mti}, {amount})",
    "send_reversal": "the terminal sent a reversal of STAN {stan} to the host (ISO 8583 {mti}, "
                     "reason {reason})",
    "send_totals": "the terminal sent its end-of-day totals to the host (ISO 8583 {mti})",
    "host_approved": "the host approved STAN {stan} (ISO 8583 {mti}, response 00, RRN {rrn})",
    "host_declined": "the host declined STAN {stan} (ISO 8583 {mti}, response {rc})",
    "host_late": "the host's reply for STAN {stan} (ISO 8583 {mti}, response {rc}) reached a "
                 "terminal that had stopped waiting: it was ignored",
    "reversal_reply": "the host confirmed the reversal of STAN {stan} (ISO 8583 {mti})",
    "totals_reply": "the host answered the end-of-day totals (response {rc})",
    "timer_expired": "the terminal stopped waiting for the host's reply",
    "read_card": "the terminal asked the card reader for the card",
    "start_timer": "the terminal started waiting for the host's reply ({seconds} s at most)",
    "cancel_timer": "the terminal stopped its timer: the reply was in",
    "print_done": "the printer took the slip",
    "print": "the printer printed {article} '{outcome}' slip{amount_part}{stan_part}: {ref}",
    "print_blank": "the printer fed paper and cut: {ref} came out blank",
    "print_n": "the printer printed {count} '{outcome}' slips",
    "print_done_failed": "the printer reported it could not print ({status})",
    "journal_commit": "the journal saved STAN {stan} as {state}",
    "journal_intent": "the journal saved the intent of STAN {stan} before sending it (pending)",
    "journal_receipt": "the journal noted that the receipt of STAN {stan} printed",
    "journal_recovery": "at boot the journal recorded STAN {stan} as {state}",
    "journal_other": "the journal wrote STAN {stan} ({state})",
    "queue_reversal": "the terminal queued a reversal of STAN {stan} (reason {reason})",
    "power_on": "the terminal booted",
    # -- faults -------------------------------------------------------------------------
    "fault_power_dip": "the power failed at crash point {crash_point}",
    "fault_power_dip_mid_print": "the power failed in the middle of printing",
    "power_cut": "the terminal went dark",
    "power_cut_lost": "the terminal went dark and lost journal writes not yet on disk ({lost})",
    "restart": "the terminal restarted for the update (a restart keeps committed journal "
               "writes)",
    "operator_pull_plug": "someone pulled the terminal's plug",
    "fault_update_spooler": "a maintenance update restarted terminal {terminal} and discarded "
                            "the data of the {count} print jobs its spooler kept (jobs {jobs})",
    "fault_update": "a maintenance update restarted terminal {terminal} ({effect})",
    "fault_cold": "the card reader was at {temperature} °C and failed the read "
                  "({chance} chance of failing)",
    "fault_sync_fail": "the sync of STANs {stans} to the back office failed",
    "fault_sync_drop": "the batch with STANs {stans} was lost on its way to the back office",
    "fault_sync_lag": "the batch with STANs {stans} was held up on its way to the back office",
    "fault_reprint": "someone pressed the print key in the admin menu{amount_part}",
    "fault_printer_power": "the printer lost power mid-job ({printed} bytes printed, {lost} lost)",
    "fault_printer_dark": "a job went to a printer without power ({lost} bytes lost)",
    "fault_paper_out": "the printer ran out of paper",
    "fault_paper_lost": "a job went to a printer with no paper ({lost} bytes lost)",
    "fault_cover": "the printer's cover was opened",
    "fault_link": "the network failed the {mti} of STAN {stan}: {summary}",
    "fault_other": "the {fault} fault struck: {summary}",
    # -- notes and background work --------------------------------------------------------
    "spooler_resumed": "the print spooler resumed job {job} and sent it to the printer",
    "spooler_resumed_empty": "the print spooler resumed job {job}, whose data was gone: the "
                             "printer fed paper and cut",
    "spooler_resumed_empty_n": "the print spooler resumed {count} jobs whose data was gone "
                               "(jobs {jobs}): for each the printer fed paper and cut",
    "customer_retries": "the customer tried again (attempt {attempt}: {why})",
    "ignored": "the terminal ignored it ({reason})",
    "event_lost": "a '{trigger}' was lost: the terminal was off",
    "reply_lost": "the host's reply for STAN {stan} was lost: the terminal was off",
    "printer_refilled": "someone put a new paper roll in",
    "printer_cover_closed": "the printer's cover was closed",
    "printer_power_restored": "the printer's power came back",
    "sync_push": "the sync agent sent STANs {stans} to the back office",
    "sync_push_failed": "the sync of STANs {stans} to the back office failed ({reason})",
    "sync_push_failed_marked": "the sync of STANs {stans} to the back office failed ({reason}), "
                               "and the terminal marked them synced all the same",
    "sync_evict": "the terminal evicted STANs {stans} from its own journal",
    "host_connection_closed": "the host closed the connection ({reason})",
    "host_no_reply": "the host sent no reply",
    "other_record": "{kind} '{name}'{details}",
    # -- the story ----------------------------------------------------------------------
    "title_one": "Finding #{number}: {code}",
    "title_group": "{what}: {codes}; findings {numbers}",
    "title_single": "{what}: {codes}; finding {numbers}",
    "what_n": "{count} × {code}",
    "what_stan": "STAN {stan} at {terminal}",
    "what_stans": "STANs {stans} at {terminal}",
    "what_totals": "the end-of-day totals of {terminal}",
    "diverge": "That is where paper and books part",
    "holds": "The customer holds {paper}",
    "holds_n": "The customer side holds {paper}",
    "charged": "; their card is charged {amount}",
    "first_of": "Take the first, {what}: the card is charged {amount}",
    "first_of_free": "Take the first, {what}",
    "books": "The books say: {journal}; {host}; {backoffice}",
    "books_none_n": "The books (journal, host ledger, back office) have no transaction for "
                    "any of them",
    "no_paper": "no receipt",
    "paper_blank": "a blank slip ({ref})",
    "paper_blank_n": "{count} blank slips ({first} to {last})",
    "paper_truncated": "a receipt cut off mid-print ({ref})",
    "paper_slip": "{article} '{outcome}' slip{amount_part}{stan_part} ({ref})",
    "paper_slips_n": "{count} '{outcome}' slips ({first} to {last})",
    "paper_copies": "{first}, and {more} more",
    "journal_none": "the journal has no record",
    "journal_row": "the journal has STAN {stan} as {state} ({amount})",
    "host_none": "the host ledger has no transaction",
    "host_row": "the host ledger has STAN {stan} {status} ({amount}, response {rc})",
    "backoffice_none": "the back office has no record",
    "backoffice_absent": "there is no back office in this run",
    "backoffice_row": "the back office has STAN {stan} as {state} ({amount})",
    "totals": "At the end of the day the books total {books} and the host {host}; {count} "
              "STAN(s) are on one side only ({stans})",
    "cause": "Cause: the {fault} fault ({effect}) at {when}",
    "cause_at_point": "Cause: the {fault} fault ({effect}) at crash point {crash_point}, "
                      "at {when}",
    "cause_n": "Cause: the {fault} fault ({effect}), {count} times from {first} to {last}",
    "cause_none": "No fault was involved: it follows from how the {profile} firmware orders "
                  "its steps",
    "also": "The same evidence is also reported as {others}",
    "alike": "It is one of {count} alike ({code} findings {numbers})",
    "more_steps": "{count} more events are in the trace",
    "header": "{scenario} (seed {seed}, profile {profile}): {findings} finding(s), told as "
              "{stories} story(ies)",
    "no_findings": "{scenario} (seed {seed}, profile {profile}): no findings: paper, "
                   "journal, host ledger and back office agree",
    "no_journal": "The run has no journal (the application under test keeps it): nothing "
                  "was judged against the books; pos-sim lab reconcile brings its export",
    "story_of": "Story {number} of {total}: {title}",
    "period": ".",
}

#: Articles before a slip's outcome ("an 'APPROVED' slip"), translated in the context
#: ``article`` (a language without articles says what it counts slips with, or nothing).
ARTICLES: tuple[str, str] = ("a", "an")
