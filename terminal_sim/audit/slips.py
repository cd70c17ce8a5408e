"""What a printed slip says, read from its text: the English and the zh-CN (GB18030) layout.

The auditor's own reading of the two layouts the terminal prints (it does not import the
layout modules: paper is evidence, and the reader must not share the writer's code).

English::

    MERCHANT NAME
    MID:  ...  TID: T0000001  DATE: ...
    --------------------------------
    SALE:                       VISA     (VOID:, REFUND:, CARD ERROR:)
    CARD:  ************1111
    AMOUNT:                29.97 EUR
    --------------------------------
    APPROVED                             (the outcome: first line after the 2nd rule)
    AUTH: ...  RC: ...  RRN: ...  STAN: 000001

zh-CN (银联 签购单): ``终端编号`` TID, ``凭证号`` STAN, ``交易类型`` 消费 / 消费撤销 / 退货 /
交易失败, ``金额`` "RMB 12.50" (RMB is CNY), the outcome after the third rule (交易成功 is
approved); a reprint says 重打印凭证 where the original says 持卡人存根.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SlipText", "read_slip_text"]

_EN_KINDS = {"SALE": "sale", "VOID": "void", "REFUND": "refund", "CARD ERROR": "error"}
_ZH_KINDS = {"消费": "sale", "消费撤销": "void", "退货": "refund", "交易失败": "error"}
_ZH_OUTCOMES = {"交易成功": "APPROVED", "交易拒绝": "DECLINED", "交易未完成": "NOT COMPLETED",
                "读卡失败": "CARD UNREADABLE", "交易超时": "TIMEOUT"}
_ZH_CURRENCIES = {"RMB": "CNY"}
_PAIR = re.compile(r"^(.+?):\s*(.*?)\s*$")
_EN_AMOUNT = re.compile(r"^(-?)(\d+)(?:\.(\d+))? ([A-Z]{3})$")
_ZH_AMOUNT = re.compile(r"^([A-Z]{3}) (-?)(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True, slots=True)
class SlipText:
    """The transaction facts on one slip; what is not on paper stays empty."""

    terminal_id: str = ""
    stan: str = ""
    kind: str = ""
    outcome: str = ""
    amount_minor: int | None = None
    currency: str = ""
    copy: bool = False

    @property
    def approved(self) -> bool:
        return self.outcome == "APPROVED"


def _minor(sign: str, major: str, minor: str | None) -> int:
    units = int(major + (minor or ""))
    return -units if sign else units


def _is_rule(line: str) -> bool:
    return bool(line) and set(line) == {"-"}


def _read_en(lines: list[str]) -> SlipText:
    values: dict[str, object] = {}
    rules = 0
    for line in lines:
        if _is_rule(line):
            rules += 1
            continue
        if line.startswith("*** ") and line.endswith(" ***"):
            values["copy"] = True
            continue
        pair = _PAIR.match(line)
        if rules == 2 and "outcome" not in values and line and pair is None:
            values["outcome"] = line
            continue
        if pair is None:
            continue
        label, value = pair.groups()
        if label in _EN_KINDS and "kind" not in values:
            values["kind"] = _EN_KINDS[label]
        elif label == "TID":
            values["terminal_id"] = value
        elif label == "STAN":
            values["stan"] = value
        elif label == "AMOUNT" and (amount := _EN_AMOUNT.match(value)) is not None:
            sign, major, minor, currency = amount.groups()
            values["amount_minor"], values["currency"] = _minor(sign, major, minor), currency
    return SlipText(**values)  # type: ignore[arg-type]


def _read_zh(lines: list[str]) -> SlipText:
    values: dict[str, object] = {"copy": any(line == "重打印凭证" for line in lines)}
    rules = 0
    for line in lines:
        if _is_rule(line):
            rules += 1
            continue
        if rules == 3 and line and "outcome" not in values:
            values["outcome"] = _ZH_OUTCOMES.get(line, line)
            continue
        pair = _PAIR.match(line)
        if pair is None:
            continue
        label, value = pair.groups()
        if label == "终端编号":
            values["terminal_id"] = value
        elif label == "凭证号":
            values["stan"] = value
        elif label == "交易类型":
            values["kind"] = _ZH_KINDS.get(value, value)
        elif label == "金额" and (amount := _ZH_AMOUNT.match(value)) is not None:
            currency, sign, major, minor = amount.groups()
            values["amount_minor"] = _minor(sign, major, minor)
            values["currency"] = _ZH_CURRENCIES.get(currency, currency)
    return SlipText(**values)  # type: ignore[arg-type]


def read_slip_text(text: str) -> SlipText:
    """The facts on a slip's printed text, in either layout (blank text: empty facts)."""
    lines = [line.strip() for line in text.splitlines()]
    if any(line.startswith("终端编号") for line in lines):
        return _read_zh(lines)
    return _read_en(lines)
