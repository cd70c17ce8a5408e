"""The ISO 8583 spec of the terminal <-> acquirer link, and how each field is used.

The spec is pyiso8583's ``default_ascii`` (ISO 8583:1987, ASCII, no header), unchanged:
:data:`DEVIATIONS` is where a change would be written down, and it is empty.

Field use (request -> reply):

=====  ==========================  =============================================================
field  name                        use
=====  ==========================  =============================================================
t      MTI                         0200/0210 financial, 0100/0110 auth, 0400/0410 reversal,
                                   0420/0430 reversal advice, 0220/0230 advice, 0500/0510
                                   reconciliation, 0800/0810 network management
2      PAN (LLVAR)                 sent by the terminal only; never logged or stored in full:
                                   the host ledger keeps the masked PAN and a token
3      processing code             ``000000`` purchase, ``020000`` void, ``200000`` refund
4      amount, transaction         12 digits, minor units of field 49
7      transmission date/time      MMDDhhmmss, virtual wall clock of the sender
11     STAN                        6 digits, unique per terminal per message; with field 41 it
                                   is the idempotency key of the host
12/13  local time / date           hhmmss / MMDD of the terminal
14     expiry                      YYMM
22     POS entry mode              ``071`` contactless chip, ``051`` chip, ``901`` magstripe
25     POS condition code          ``00`` normal
37     RRN                         12 characters, assigned by the host, echoed on reversal
38     approval code               6 characters, assigned by the host when approved
39     response code               ``00`` approved; ``05``, ``51``, ``54``, ``43`` declines;
                                   ``30`` format error; ``91``/``96`` host trouble
41     terminal id                 8 characters
42     merchant id                 15 characters
49     currency                    ISO 4217 numeric
90     original data elements      reversals/voids: original MTI(4) + STAN(6) + date/time(10)
                                   + acquirer id(11, zeros) + forwarder id(11, zeros)
=====  ==========================  =============================================================
"""

from __future__ import annotations

import copy
from typing import Any

from iso8583.specs import default_ascii

#: Changes from ``default_ascii``, as data: field -> the properties that differ, and why.
DEVIATIONS: dict[str, dict[str, Any]] = {}

SPEC: dict[str, dict[str, Any]] = copy.deepcopy(default_ascii)
for _field, _change in DEVIATIONS.items():
    SPEC[_field].update(_change)

#: Processing codes (field 3).
PROC_PURCHASE = "000000"
PROC_VOID = "020000"
PROC_REFUND = "200000"

#: Response codes (field 39) the simulator gives a meaning to.
RC_APPROVED = "00"
RC_FORMAT_ERROR = "30"
RESPONSE_TEXT: dict[str, str] = {
    "00": "APPROVED",
    "05": "DO NOT HONOUR",
    "12": "INVALID TRANSACTION",
    "13": "INVALID AMOUNT",
    "14": "INVALID CARD NUMBER",
    "25": "UNABLE TO LOCATE RECORD",
    "30": "FORMAT ERROR",
    "43": "STOLEN CARD",
    "51": "INSUFFICIENT FUNDS",
    "54": "EXPIRED CARD",
    "91": "ISSUER UNAVAILABLE",
    "94": "DUPLICATE TRANSMISSION",
    "96": "SYSTEM MALFUNCTION",
}


def response_text(code: str) -> str:
    """A short human text for a response code, for slips and reports."""
    return RESPONSE_TEXT.get(code, f"DECLINED ({code})")
