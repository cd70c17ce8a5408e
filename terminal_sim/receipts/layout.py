"""The receipt layout: a :class:`~terminal_sim.core.slips.Slip` rendered through python-escpos.

:func:`print_slip` writes to any ``escpos.Escpos`` (our ``VirtualPrinter``, python-escpos's
``Network``/``Serial``/``Dummy``...). :func:`read_slip` is its inverse on the *text* the
printer produced, so reconciliation reads what is on paper, not what the terminal meant.
Both use the labels of :data:`LABELS`; change them together.

The card number on paper is the masked PAN of the slip: at most the last four digits.
QR codes are native (``GS ( k``): a raster QR costs ~20x more to generate.

Text goes through python-escpos's ``text()`` except for one case it handles at great
cost and no purpose: 7-bit ASCII once a code page is selected. ``MagicEncode.write``
then scans the text character by character for a character the page cannot encode
(every code page encodes ASCII as itself) and encodes it character by character into
exactly ``text.encode("ascii")``, in one ``_raw`` call: ~90 % of a receipt's cost.
:class:`_SlipWriter` sends those bytes itself. Before the first text of a job
python-escpos sorts every code page to pick one; which page it picks for ASCII depends
only on the pages it used before, so the choice is remembered per encoder and its
``ESC t`` sent the way python-escpos sends it. A style (``set()`` without a font) is the
bytes python-escpos wrote for the same arguments the first time (:func:`style_bytes`).
Such bytes are gathered and sent in one ``_raw`` call before python-escpos writes
anything else. Non-ASCII text, a disabled or unknown encoder and printer classes that
override ``text()`` or ``set()`` still go through python-escpos. The bytes are identical
(``tests/terminal_sim/receipts/test_layout_fast_text.py`` checks it).
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from dataclasses import dataclass
from functools import cache
from typing import Any

from printer.escpos_loader import escpos_module
from terminal_sim.base.guards import printable
from terminal_sim.base.money import Money
from terminal_sim.core.slips import Slip
from terminal_sim.receipts.device import job_device

WIDTH = 32  # characters: fits a 58 mm roll in font A, and an 80 mm one with margin

LABELS = {
    "terminal": "TID",
    "merchant": "MID",
    "date": "DATE",
    "card": "CARD",
    "amount": "AMOUNT",
    "stan": "STAN",
    "rrn": "RRN",
    "auth": "AUTH",
    "response": "RC",
}

_TITLES = {"sale": "SALE", "void": "VOID", "refund": "REFUND", "error": "CARD ERROR"}


def _pair(label: str, value: str, width: int) -> str:
    # a value can come from the host (RRN, approval code): a control byte in it would be
    # an ESC/POS command to the printer (FS swallows the next line), so it is shown escaped
    if not value.isprintable():
        value = printable(value, None)
    left = f"{label}:"
    gap = max(1, width - len(left) - len(value))
    return f"{left}{' ' * gap}{value}\n"


DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def date_text(when: dt.datetime) -> str:
    """``when.strftime(DATE_FORMAT)``: for a whole second of a year from 1000 on, without
    a time zone, ``isoformat(" ")`` writes the same text in a third of the time."""
    if (type(when) is dt.datetime and when.microsecond == 0 and when.tzinfo is None
            and when.year >= 1000):
        return when.isoformat(" ")
    return when.strftime(DATE_FORMAT)


@cache
def _escpos_text_method() -> Any:
    return escpos_module().Escpos.text


def _escpos_magic(device: Any) -> Any:
    """The encoder of ``device`` when ``device.text`` is python-escpos's ``Escpos.text``
    with its encoder switching pages as needed (not disabled); else None."""
    if getattr(type(device), "text", None) is not _escpos_text_method():
        return None
    magic = getattr(device, "magic", None)
    return magic if magic is not None and not magic.disabled else None


#: per python-escpos ``Encoder``: the page ``find_suitable_encoding`` picks for an ASCII
#: character, by the set of pages used before. That set is all the choice reads: it sorts
#: the pages (used ones first) and takes the first that encodes the character, and every
#: page that loads encodes ASCII (``Encoder.can_encode``).
_ASCII_PAGE: weakref.WeakKeyDictionary[Any, dict[frozenset[str], str]] = (
    weakref.WeakKeyDictionary())


def _select_ascii_page(magic: Any) -> bool:
    """What ``MagicEncode.write`` does before the first ASCII text of a job (no page
    selected): pick a page, note it used, send its ``ESC t`` command. False when no page
    fits (python-escpos then writes its default symbol: left to it)."""
    encoder = magic.encoder
    chosen = _ASCII_PAGE.setdefault(encoder, {})
    used = frozenset(encoder.used_encodings)
    page = chosen.get(used)
    if page is None:
        page = encoder.find_suitable_encoding("A")  # notes the page used itself
        if not page:
            return False
        chosen[used] = page
    else:
        encoder.used_encodings.add(page)
    magic.write_with_encoding(page, None)  # the page change alone
    return True


#: the ``set()`` calls of a slip, by name. No font is given: python-escpos's ``set`` then
#: reads nothing of its printer, and its bytes are a function of these arguments alone
STYLES: dict[str, dict[str, Any]] = {
    "title": {"align": "center", "bold": True, "double_height": True, "double_width": False},
    "body": {"align": "left", "bold": False, "normal_textsize": True},
    "centre bold": {"align": "center", "bold": True},
    "left plain": {"align": "left", "bold": False},
    "bold": {"bold": True},
    "plain": {"bold": False},
    "centre": {"align": "center"},
    "left": {"align": "left"},
}


class _Capture:
    """Takes what python-escpos's ``Escpos.set`` writes (``_raw`` is all it uses of a
    printer when no font is given)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def _raw(self, msg: bytes) -> None:
        self.data += msg


@cache
def style_bytes(name: str) -> bytes:
    """The bytes python-escpos's ``set(**STYLES[name])`` writes, made by it once."""
    capture = _Capture()
    escpos_module().Escpos.set(capture, **STYLES[name])
    return bytes(capture.data)


class _SlipWriter:
    """The texts and styles of one slip on ``device``, the way python-escpos writes them.

    With python-escpos's own ``text()`` and encoder in use (asked once per slip: nothing
    a slip sends changes them), 7-bit ASCII goes out as its bytes once a code page is
    selected, and the page selection of a job's first ASCII text is remembered (see the
    module docstring); with python-escpos's own ``set()``, a style goes out as the bytes
    it wrote for it once (:func:`style_bytes`). Those bytes are gathered and sent in one
    ``_raw`` call before anything else reaches the device (:meth:`flush`: before every
    python-escpos call and at the end), so the device receives the same bytes in the same
    order. ``fast=False`` makes every call through python-escpos (the reference).
    """

    __slots__ = ("_device", "_magic", "_parts", "_raw", "_sets")

    def __init__(self, device: Any, fast: bool) -> None:
        self._device = device
        self._magic = _escpos_magic(device) if fast else None
        self._sets = fast and getattr(type(device), "set", None) is escpos_module().Escpos.set
        self._raw = device._raw  # noqa: SLF001 (the Escpos API for raw bytes: write_raw)
        self._parts: list[bytes] = []

    def text(self, text: str) -> None:
        magic = self._magic
        if magic is not None and text.isascii() and magic.encoding is not None:
            self._parts.append(text.encode("ascii"))
            return
        self.flush()  # python-escpos writes now (a page change, or the text itself)
        if magic is not None and text.isascii() and text and _select_ascii_page(magic):
            self._parts.append(text.encode("ascii"))
        else:
            self._device.text(text)

    def style(self, name: str) -> None:
        if self._sets:
            self._parts.append(style_bytes(name))
        else:
            self.flush()
            self._device.set(**STYLES[name])

    def flush(self) -> None:
        """Send what was gathered (before python-escpos writes, and at the end)."""
        if self._parts:
            self._raw(b"".join(self._parts))
            self._parts.clear()


def print_slip(device: Any, slip: Slip, *, width: int = WIDTH, fast_text: bool = True) -> None:
    """Render ``slip`` on ``device`` (an ``escpos.Escpos``) and cut.

    Consecutive lines of one style go out in one ``text()`` call: python-escpos encodes
    text character by character per call, so fewer calls is most of the cost.
    ``fast_text=False`` sends every text through python-escpos's ``text()`` (the
    reference the fast path is checked against).
    """
    out = _SlipWriter(device, fast_text)
    text, style = out.text, out.style
    rule = "-" * width + "\n"
    style("title")
    text(f"{slip.merchant_name[:width]}\n")
    style("body")
    text(_pair(LABELS["merchant"], slip.merchant_id, width)
         + _pair(LABELS["terminal"], slip.terminal_id, width)
         + _pair(LABELS["date"], date_text(slip.printed_at), width)
         + rule)
    if slip.copy_label:
        style("centre bold")
        text(f"*** {slip.copy_label} ***\n")
        style("left plain")
    head = _pair(_TITLES.get(slip.kind, slip.kind.upper()), slip.scheme, width)
    if slip.masked_pan:
        head += _pair(LABELS["card"], slip.masked_pan, width)
    text(head)
    if slip.amount_minor is not None and slip.currency:
        style("bold")
        text(_pair(LABELS["amount"], Money(slip.amount_minor, slip.currency).format(), width))
        style("plain")
    text(rule)
    style("centre bold")
    text(f"{slip.outcome[:width]}\n")
    style("left plain")
    tail = f"{slip.message[:width]}\n" if slip.message else ""
    if slip.approval_code:
        tail += _pair(LABELS["auth"], slip.approval_code, width)
    if slip.response_code:
        tail += _pair(LABELS["response"], slip.response_code, width)
    if slip.rrn:
        tail += _pair(LABELS["rrn"], slip.rrn, width)
    if slip.stan:
        tail += _pair(LABELS["stan"], slip.stan, width)
    if tail:
        text(tail)
    style("centre")  # native QR cannot be centred by qr(); alignment can
    if slip.stan:
        out.flush()
        device.qr(f"TSIM:{slip.terminal_id}:{slip.stan}:{slip.rrn}", native=True, size=4)
    text("THANK YOU\n")
    style("left")
    out.flush()
    device.cut()


def render_job(slip: Slip | None, width: int = WIDTH, *, fast_text: bool = True) -> bytes:
    """The ESC/POS bytes of one print job: ``ESC @``, the slip, the cut.

    ``None`` renders the frame of a job whose data is gone: initialize, feed, cut:
    what a spooler sends when it replays a job it no longer has the content of.
    """
    device = job_device()
    if slip is not None:
        print_slip(device, slip, width=width, fast_text=fast_text)
    else:
        device.ln(6)
        device.cut()
    return bytes(device.output)


@dataclass(frozen=True, slots=True)
class SlipFacts:
    """What a printed slip says, read back from its text."""

    kind: str = ""
    outcome: str = ""
    terminal_id: str = ""
    merchant_id: str = ""
    printed_at: str = ""
    masked_pan: str = ""
    amount_minor: int | None = None
    currency: str = ""
    stan: str = ""
    rrn: str = ""
    approval_code: str = ""
    response_code: str = ""
    copy_label: str = ""

    @property
    def approved(self) -> bool:
        return self.outcome == "APPROVED"

    @property
    def has_transaction_data(self) -> bool:
        return bool(self.terminal_id or self.stan or self.amount_minor is not None)


#: a labelled line: what :func:`_labelled` reads (without a regular expression, whose lazy
#: value and trailing blanks cost ~0.4 us a line; tests hold the two equal)
_LINE = re.compile(r"^([A-Z ]+):\s+(.*?)\s*$")
_LABEL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ "
_AMOUNT = re.compile(r"^(-?)(\d+)(?:\.(\d+))? ([A-Z]{3})$")
_KINDS = {title: kind for kind, title in _TITLES.items()}


def _labelled(line: str) -> tuple[str, str] | None:
    """``_LINE.match(line).groups()`` (None when it does not match) of a line without
    a line break: a label of capitals and spaces, a colon, blanks, the value."""
    label, colon, rest = line.partition(":")
    if not colon or not label or label.strip(_LABEL_CHARS) or not rest[:1].isspace():
        return None
    return label, rest.strip()


def _amount(value: str) -> tuple[int | None, str]:
    match = _AMOUNT.match(value)
    if match is None:
        return None, ""
    sign, major, minor, currency = match.groups()
    minor = minor or ""
    units = int(major + minor) if minor else int(major)
    return (-units if sign else units), currency


_FIELD_OF_KEY = {"terminal": "terminal_id", "merchant": "merchant_id", "date": "printed_at",
                 "card": "masked_pan", "auth": "approval_code", "response": "response_code"}
#: a label on paper -> the field of SlipFacts it fills ("amount" fills two)
_FIELD_OF_LABEL = {label: _FIELD_OF_KEY.get(key, key) for key, label in LABELS.items()}


#: what a line of a slip says, by :func:`_read_line`: a field and its value, the kind of
#: slip, the amount and currency, a rule, a plain line (the outcome after two rules), or
#: nothing (an unknown label)
_FIELD, _KIND, _AMOUNT_LINE, _RULE, _PLAIN, _NOTHING = range(6)
_ReadLine = tuple[int, str, Any]
#: stripped line -> :func:`_read_line` of it: most lines of a day's slips are the same
#: few (labels with the merchant's, the terminal's, the card's values; rules; outcomes);
#: emptied when it holds ``_READ_LINES_KEPT``
_READ_LINES: dict[str, _ReadLine] = {}
_READ_LINES_KEPT = 4096


def _read_line(line: str) -> _ReadLine:
    """What a stripped, non-empty line says (a pure function of it, kept)."""
    if not line.strip("-"):  # a rule: dashes only
        read: _ReadLine = (_RULE, "", None)
    elif line.startswith("*** ") and line.endswith(" ***"):
        read = (_FIELD, "copy_label", line[4:-4])
    else:
        labelled = _labelled(line) if ":" in line else None  # no colon: no label
        if labelled is None:
            read = (_PLAIN, line, None)
        elif labelled[0] in _KINDS:
            read = (_KIND, _KINDS[labelled[0]], None)
        else:
            field = _FIELD_OF_LABEL.get(labelled[0])
            if field == "amount":
                read = (_AMOUNT_LINE, "", _amount(labelled[1]))
            else:
                read = (_NOTHING, "", None) if field is None else (_FIELD, field, labelled[1])
    if len(_READ_LINES) >= _READ_LINES_KEPT:
        _READ_LINES.clear()
    _READ_LINES[line] = read
    return read


def read_slip(text: str) -> SlipFacts:
    """Parse the text of a printed slip; fields that are not on paper stay empty."""
    values: dict[str, Any] = {}
    after_rule = 0
    kept = _READ_LINES
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        what, key, value = kept.get(line) or _read_line(line)
        if what == _FIELD:
            values[key] = value
        elif what == _KIND:
            if "kind" not in values:  # the first title says what the slip is
                values["kind"] = key
        elif what == _AMOUNT_LINE:
            values["amount_minor"], values["currency"] = value
        elif what == _RULE:
            after_rule += 1
        elif what == _PLAIN and after_rule == 2 and "outcome" not in values:
            values["outcome"] = line
    return SlipFacts(**values)
