"""The zh-CN receipt: a UnionPay-style 签购单 rendered from a :class:`Slip` through python-escpos.

:func:`print_slip_zh` writes to any ``escpos.Escpos`` (the :class:`VirtualPrinter`,
python-escpos's ``Network``/``Serial``/``Dummy``, a printer from
:func:`printer.urls.open_printer`); :func:`read_slip_zh` reads the printed text back into
the same :class:`~terminal_sim.receipts.layout.SlipFacts` as the English
:func:`~terminal_sim.receipts.layout.read_slip`, so reconciliation does not care which
language the paper is in. Both use :data:`LABELS_ZH`.

**Chinese text on the wire.** python-escpos's magic encoder knows single-byte code pages
only: it cannot write GB 2312/GB18030. Chinese-market printers print double-byte text in
their Chinese mode, entered with ``FS &`` and left with ``FS .``. So every line with
Chinese in it goes out through ``_raw`` as ``FS &`` + the line encoded in GB18030 + ``FS .``
(ASCII characters in that mode are single bytes, as in GB18030 itself); lines of ASCII
only, styles (``set``), the QR code and the cut go through python-escpos as usual. The
interpreter decodes ``FS & ... FS .`` as GB18030, two columns a character.

Layout (32 columns; a Chinese character takes two)::

         银联POS签购单
          持卡人存根
    --------------------------------
    商户名称: 街角咖啡
    商户编号:        M00000000000001
    终端编号:               T0000001
    --------------------------------
    卡号:           ************1111
    交易类型:                   消费
    凭证号:                   000123
    授权码:                   A1B2C3
    参考号:             600508000123
    日期时间:    2026/01/05 08:05:00
    金额:                  RMB 12.50
    --------------------------------
            交易成功
    持卡人签名:

    ________________________________
    本人确认以上交易,
    同意将其记入本卡账户

The card number is the slip's masked PAN: at most the last four digits.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from terminal_sim.base.guards import printable
from terminal_sim.base.money import CURRENCIES
from terminal_sim.core.slips import Slip
from terminal_sim.receipts.device import job_device, write_raw
from terminal_sim.receipts.layout import SlipFacts

__all__ = ["LABELS_ZH", "WIDTH", "display_width", "print_slip_zh", "read_slip_zh",
           "render_job_zh"]

WIDTH = 32
FS_CHINESE_ON = b"\x1c\x26"  # FS &
FS_CHINESE_OFF = b"\x1c\x2e"  # FS .

LABELS_ZH = {
    "merchant_name": "商户名称",
    "merchant": "商户编号",
    "terminal": "终端编号",
    "card": "卡号",
    "kind": "交易类型",
    "stan": "凭证号",
    "auth": "授权码",
    "rrn": "参考号",
    "date": "日期时间",
    "amount": "金额",
    "response": "应答码",
    "signature": "持卡人签名",
}
TITLE = "银联POS签购单"
COPY = "持卡人存根"
CONSENT = "本人确认以上交易,\n同意将其记入本卡账户"  # 32 columns: two lines

_KINDS = {"sale": "消费", "void": "消费撤销", "refund": "退货", "error": "交易失败"}
_OUTCOMES = {"APPROVED": "交易成功", "DECLINED": "交易拒绝", "NOT COMPLETED": "交易未完成",
             "CARD UNREADABLE": "读卡失败", "TIMEOUT": "交易超时"}
_COPIES = {"DUPLICATE": "重打印凭证"}
_CURRENCY_SHOWN = {"CNY": "RMB"}  # what UnionPay slips print for the yuan


def display_width(text: str) -> int:
    """Columns ``text`` takes on the printer: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _clip(text: str, width: int) -> str:
    out, used = [], 0
    for char in text:
        used += display_width(char)
        if used > width:
            break
        out.append(char)
    return "".join(out)


def _pair(label: str, value: str, width: int) -> str:
    value = printable(value, None)  # host text never reaches the printer as a command
    left = f"{label}:"
    gap = max(1, width - display_width(left) - display_width(value))
    return f"{left}{' ' * gap}{value}\n"


def _amount_text(minor: int, currency: str) -> str:
    exponent = CURRENCIES.get(currency, ("", 2))[1]
    sign = "-" if minor < 0 else ""
    major, rest = divmod(abs(minor), 10**exponent)
    number = f"{major}.{rest:0{exponent}d}" if exponent else str(major)
    return f"{_CURRENCY_SHOWN.get(currency, currency)} {sign}{number}"


def _emit(device: Any, text: str) -> None:
    """Write ``text``: in the printer's Chinese mode (raw GB18030) when it has non-ASCII."""
    if text.isascii():
        device.text(text)
    else:
        write_raw(device, FS_CHINESE_ON + text.encode("gb18030") + FS_CHINESE_OFF)


def print_slip_zh(device: Any, slip: Slip, *, width: int = WIDTH) -> None:
    """Render ``slip`` as a zh-CN 签购单 on ``device`` (an ``escpos.Escpos``) and cut."""
    rule = "-" * width + "\n"
    device.set(align="center", bold=True, double_height=True, double_width=False)
    _emit(device, TITLE + "\n")
    device.set(align="center", bold=False, normal_textsize=True)
    _emit(device, (_COPIES.get(slip.copy_label, slip.copy_label) or COPY) + "\n")
    device.set(align="left")
    name = _clip(slip.merchant_name, width - display_width(LABELS_ZH["merchant_name"]) - 2)
    _emit(device, rule
          + f"{LABELS_ZH['merchant_name']}: {name}\n"
          + _pair(LABELS_ZH["merchant"], slip.merchant_id, width)
          + _pair(LABELS_ZH["terminal"], slip.terminal_id, width)
          + rule)
    body = ""
    if slip.masked_pan:
        body += _pair(LABELS_ZH["card"], slip.masked_pan, width)
    body += _pair(LABELS_ZH["kind"], _KINDS.get(slip.kind, slip.kind), width)
    for key, value in (("stan", slip.stan), ("auth", slip.approval_code), ("rrn", slip.rrn)):
        if value:
            body += _pair(LABELS_ZH[key], value, width)
    body += _pair(LABELS_ZH["date"], slip.printed_at.strftime("%Y/%m/%d %H:%M:%S"), width)
    _emit(device, body)
    if slip.amount_minor is not None and slip.currency:
        device.set(bold=True)
        _emit(device, _pair(LABELS_ZH["amount"], _amount_text(slip.amount_minor,
                                                              slip.currency), width))
        device.set(bold=False)
    tail = ""
    if slip.response_code and slip.response_code != "00":
        tail += _pair(LABELS_ZH["response"], slip.response_code, width)
    if slip.message:
        tail += _clip(slip.message, width) + "\n"
    _emit(device, tail + rule)
    device.set(align="center", bold=True)
    _emit(device, _OUTCOMES.get(slip.outcome, slip.outcome) + "\n")
    device.set(align="left", bold=False)
    if slip.kind != "error" and slip.outcome == "APPROVED":
        _emit(device, f"{LABELS_ZH['signature']}:\n\n\n" + "_" * width + "\n")
        _emit(device, CONSENT + "\n")
    if slip.stan:
        device.set(align="center")
        device.qr(f"TSIM:{slip.terminal_id}:{slip.stan}:{slip.rrn}", native=True, size=4)
        device.set(align="left")
    device.cut()


def render_job_zh(slip: Slip | None, width: int = WIDTH) -> bytes:
    """The ESC/POS bytes of one zh-CN print job: ``ESC @``, the slip, the cut."""
    device = job_device()
    if slip is not None:
        print_slip_zh(device, slip, width=width)
    else:
        device.ln(6)
        device.cut()
    return bytes(device.output)


_LINE = re.compile(r"^(\S[^:]*?):\s*(.*?)\s*$")
_AMOUNT = re.compile(r"^([A-Z]{3})\s+(-?)(\d+)(?:\.(\d+))?$")


def read_slip_zh(text: str) -> SlipFacts:
    """Parse the text of a printed zh-CN slip; fields that are not on paper stay empty.

    The outcome and kind come back in the English layout's terms (``"APPROVED"``,
    ``"sale"``), the amount in minor units with the ISO currency (``RMB`` is ``CNY``).
    """
    values: dict[str, Any] = {}
    by_label = {label: key for key, label in LABELS_ZH.items()}
    kinds = {zh: kind for kind, zh in _KINDS.items()}
    outcomes = {zh: outcome for outcome, zh in _OUTCOMES.items()}
    copies = {zh: copy for copy, zh in _COPIES.items()}
    fields = {"terminal": "terminal_id", "merchant": "merchant_id", "date": "printed_at",
              "card": "masked_pan", "auth": "approval_code", "response": "response_code",
              "stan": "stan", "rrn": "rrn"}
    for raw in text.splitlines():
        line = raw.strip()
        if line in copies:
            values["copy_label"] = copies[line]
            continue
        if line in outcomes and "outcome" not in values:
            values["outcome"] = outcomes[line]
            continue
        match = _LINE.match(line)
        if match is None:
            continue
        label, value = match.groups()
        key = by_label.get(label)
        if key == "kind":
            values["kind"] = kinds.get(value, value)
        elif key == "amount":
            amount = _AMOUNT.match(value)
            if amount is not None:
                shown, sign, major, minor = amount.groups()
                currency = {v: k for k, v in _CURRENCY_SHOWN.items()}.get(shown, shown)
                units = int(major + (minor or ""))
                values["amount_minor"] = -units if sign else units
                values["currency"] = currency
        elif key == "date":
            values["printed_at"] = value.replace("/", "-")
        elif key in fields:
            values[fields[key]] = value
    return SlipFacts(**values)
