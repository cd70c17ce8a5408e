"""The ISO 8583 spec of the terminal <-> acquirer link, and how each field is used.

The spec is pyiso8583's ``default_ascii`` (ISO 8583:1987, ASCII, no header), unchanged:
:data:`DEVIATIONS` is where a change would be written down, and it is empty. pyiso8583
checks lengths, not content: a numeric field may carry letters on the wire, so the
typed readers of :mod:`terminal_sim.iso.messages` check digits themselves and name the
field when they refuse. On the wire each message is preceded by a 2-byte big-endian
length, or another framing (:mod:`terminal_sim.iso.framing`). Every reply echoes fields
3, 7, 11, 41 and 42 of its request when they are well-formed (:data:`ECHOED`), format
errors included; :data:`MESSAGE_FIELDS` lists the fields per message type.

Messages (request -> reply; ``x1`` is the repeat of an advice ``x0``):

==========  ===================================================================
MTI         use
==========  ===================================================================
0100/0110   authorization (rules decide, like a sale; not part of the totals)
0200/0210   financial: sale, void, refund, by processing code (field 3)
0220/0230   financial advice: a sale the terminal approved offline, forwarded
            later (store-and-forward); the host accepts it (``00``)
0221        repeat of an 0220 (same STAN), answered 0230
0400/0410   reversal: cancel the transaction named in field 90
0420/0430   reversal advice (store-and-forward of a reversal); 0421 its repeat
0500/0510   reconciliation: terminal totals against host totals, ``95`` when out
            of balance
0800/0810   network management: ``001`` sign-on, ``002`` sign-off, ``301`` echo
==========  ===================================================================

Field use:

=====  ==========================  =============================================================
field  name                        use
=====  ==========================  =============================================================
t      MTI                         see the message table above
2      PAN (LLVAR)                 sent by the terminal only; never logged or stored in full:
                                   the host ledger keeps the masked PAN and a token
3      processing code             ``000000`` purchase, ``020000`` void, ``200000`` refund;
                                   a reversal carries the processing code of its original
4      amount, transaction         12 digits, minor units of field 49
7      transmission date/time      MMDDhhmmss, wall clock of the sender; echoed in 0810
11     STAN                        6 digits, unique per terminal per message; with field 41 and
                                   the message class (MTI digits 1-2: 01, 02, 04, 05) it is the
                                   idempotency key of the host
12/13  local time / date           hhmmss / MMDD of the terminal
14     expiry                      YYMM
22     POS entry mode              ``071`` contactless chip, ``051`` chip, ``901`` magstripe
25     POS condition code          ``00`` normal (n2 in the 1987 spec: no room for a reason)
37     RRN                         12 characters, assigned by the host, echoed by the terminal
                                   on voids and reversals
38     approval code               6 characters, assigned by the host when approved; in an
                                   0220 advice the terminal's own offline approval code
39     response code               ``00`` approved; ``05``, ``51``, ``54``, ``43`` declines;
                                   ``12`` invalid (e.g. a late original after its reversal, a
                                   retransmission of a reversed sale); ``14`` invalid card
                                   number (Luhn); ``30`` format error; ``91``/``96`` host
                                   trouble; ``94`` duplicate transmission (a STAN reused with
                                   other content); ``95`` reconciliation out of balance; ``63``
                                   security violation (the request's MAC does not verify)
41     terminal id                 8 characters
42     merchant id                 15 characters
49     currency                    ISO 4217 numeric
60     reserved national (LLLVAR)  reversals: the message reason code, 4 digits, ``4021``
                                   timeout waiting for the response (the 1993 standard puts the
                                   reason in field 25; the 1987 field 25 is n2, so field 60)
70     network management code     ``001`` sign-on, ``002`` sign-off, ``301`` echo test
74/86  credits number / amount     0500/0510: refunds that stand (approved, not reversed)
75/87  credits reversal no./amt    0500/0510: refunds reversed; informational, not compared
76/88  debits number / amount      0500/0510: sales that stand (approved, not voided/reversed)
77/89  debits reversal no./amt     0500/0510: sales voided or reversed; informational
64     MAC                         when no field above 64 is present (see "MAC" below)
90     original data elements      voids/reversals: original MTI(4) + STAN(6) + date/time(10)
                                   + acquirer id(11, zeros) + forwarder id(11, zeros); a
                                   reversal without field 90 reverses the message with its own
                                   STAN (the same-STAN convention)
128    MAC                         when a field above 64 is present (secondary bitmap)
=====  ==========================  =============================================================

Counts (74-77) are n10, amounts (86-89) n16, both zero-padded. The host compares only the
standing totals (74, 76, 86, 88) of the terminal's open batch; the 0510 carries the host's
eight values back so the terminal can show the difference.

MAC (:mod:`terminal_sim.iso.mac`; a terminal whose profile has ``mac_messages``): the
MAC is HMAC-SHA256 over every byte of the encoded message before the MAC field (MTI,
bitmaps with the MAC bit set, all other fields), truncated to 8 bytes and written as 16
upper-case hex characters, the fixed length ``default_ascii`` declares for fields 64 and
128. The MAC field is the last of the message: 128 when a field above 64 is present
(reversals' 90, 0500's 74-89, 0800's 70), else 64. The key is a *test key* derived from
the terminal id (field 41), like the test cards. The host verifies a MAC when one is
present: a message whose MAC does not verify books nothing and is answered ``63``; the
reply to a MACed message is MACed; a message without MAC is processed as before. The
terminal takes a reply whose MAC is missing or does not verify as no valid answer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from iso8583.specs import default_ascii

# the texts of response codes are the terminal's (its slips say them): one table, the core's
from terminal_sim.core.messages import RC_APPROVED as RC_APPROVED
from terminal_sim.core.messages import REASON_INVALID_RESPONSE as REASON_INVALID_RESPONSE
from terminal_sim.core.messages import REASON_TIMEOUT as REASON_TIMEOUT
from terminal_sim.core.messages import RESPONSE_TEXT as RESPONSE_TEXT
from terminal_sim.core.messages import response_text as response_text

#: Changes from ``default_ascii``, as data: field -> the properties that differ, and why.
DEVIATIONS: dict[str, dict[str, Any]] = {}

SPEC: dict[str, dict[str, Any]] = copy.deepcopy(default_ascii)
for _field, _change in DEVIATIONS.items():
    SPEC[_field].update(_change)

#: Processing codes (field 3).
PROC_PURCHASE = "000000"
PROC_VOID = "020000"
PROC_REFUND = "200000"

#: Network management information codes (field 70).
NET_SIGN_ON = "001"
NET_SIGN_OFF = "002"
NET_ECHO = "301"
NETWORK_CODES: dict[str, str] = {NET_SIGN_ON: "sign-on", NET_SIGN_OFF: "sign-off",
                                 NET_ECHO: "echo"}

#: Message reason codes (field 60 of reversals), from the ISO 8583:1993 4000 series.
REASON_CUSTOMER_CANCELLATION = "4000"

#: Response codes (field 39) the simulator gives a meaning to.
RC_INVALID_TRANSACTION = "12"
RC_UNABLE_TO_LOCATE = "25"
RC_FORMAT_ERROR = "30"
RC_OUT_OF_BALANCE = "95"
RC_SECURITY_VIOLATION = "63"
RC_INVALID_CARD = "14"
RC_DUPLICATE = "94"

#: Fields every reply echoes from its request when the request's value is well-formed,
#: format errors included (a client matches replies on terminal id + STAN): field ->
#: (check, what it must look like).
ECHOED: dict[str, tuple[Callable[[str], bool], str]] = {
    "3": (lambda v: len(v) == 6 and v.isascii() and v.isdigit(), "6 digits"),
    "7": (lambda v: len(v) == 10 and v.isascii() and v.isdigit(), "10 digits"),
    "11": (lambda v: len(v) == 6 and v.isascii() and v.isdigit(), "6 digits"),
    "41": (lambda v: len(v) == 8, "8 characters"),
    "42": (lambda v: len(v) == 15, "15 characters"),
}


def echo_of(fields: Mapping[str, str], names: tuple[str, ...] = tuple(ECHOED)) -> dict[str, str]:
    """The fields of ``names`` (default all of :data:`ECHOED`) a reply to ``fields``
    echoes: those present and well-formed."""
    return {name: fields[name] for name in names
            if name in fields and ECHOED[name][0](fields[name])}


#: Per request MTI: (fields of the request, fields of its reply); ``*`` marks a mandatory
#: field, ``?`` one sent when it applies. ``pos-sim acquirer spec`` prints this table.
MESSAGE_FIELDS: dict[str, tuple[str, str]] = {
    "0100": ("2* 3* 4* 7* 11* 12 13 14 22 25 41* 42? 49*",
             "0110: 3 4 7 11* 37 38? 39* 41* 42? 49"),
    "0200": ("2? 3* 4* 7* 11* 12 13 14? 22 25 37? 41* 42? 49* 90? (void: 37 90, no 2)",
             "0210: 3 4 7 11* 37 38? 39* 41* 42? 49"),
    "0220": ("2 3* 4* 7* 11* 12 13 14 22 25 38 41* 42? 49*",
             "0230: 3 4 7 11* 37 38 39* 41* 42? 49"),
    "0400": ("3* 4* 7* 11* 12 13 22 25 37? 41* 42? 49* 60? 90?",
             "0410: 3 4 7 11* 37 39* 41* 42? 49"),
    "0420": ("as 0400 (0421: its repeat)", "0430: as 0410"),
    "0500": ("7* 11* 41* 42? 74* 75 76* 77 86* 87 88* 89",
             "0510: 7 11* 39* 41* 42? 74-77 86-89"),
    "0800": ("7 11 41 70*", "0810: 7 11 39* 41 42? 70"),
    "malformed": ("a request MTI that decodes, a field that fails its check",
                  "x+10: 3 7 11 41 42 as far as well-formed, 39=30"),
}
