"""Symbologies: the bars of a barcode and the modules of a QR code, as a printer makes them.

CODE128 follows the printer: the data's ``{A``/``{B``/``{C`` code-set selections, ``{S``
shift, ``{1``..``{4`` FNC, ``{{`` a brace, set C one byte per digit pair; the pattern
table is the standard's (ISO/IEC 15417). EAN-13, EAN-8, UPC-A, CODE39, ITF, CODABAR,
GS1-128 and CODE128 AUTO use ``python-barcode``; QR codes ``qrcode``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from printer.errors import SymbolDataError

__all__ = ["barcode_modules", "code128_values", "qr_matrix"]

# ISO/IEC 15417 Code 128 symbol patterns, values 0..105 (bar/space widths), then STOP.
_C128_WIDTHS = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 "
    "112232 122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 "
    "311222 321122 321221 312212 322112 322211 212123 212321 232121 111323 131123 131321 "
    "112313 132113 132311 211313 231113 231311 112133 112331 132131 113123 113321 133121 "
    "313121 211331 231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 112412 122114 "
    "122411 142112 142211 241211 221114 413111 241112 134111 111242 121142 121241 114212 "
    "124112 124211 411212 421112 421211 212141 214121 412121 111143 111341 131141 114113 "
    "114311 411113 411311 113141 114131 311141 411131 211412 211214 211232 2331112"
)
_C128 = tuple(_C128_WIDTHS.split())
_C128_START = {"A": 103, "B": 104, "C": 105}
_C128_SWITCH = {"A": 101, "B": 100, "C": 99}  # value of "code A/B/C" (in sets other than it)
_C128_FNC = {  # {1..{4 in each set
    "A": {"1": 102, "2": 97, "3": 96, "4": 101},
    "B": {"1": 102, "2": 97, "3": 96, "4": 100},
    "C": {"1": 102},
}


def _widths_to_modules(widths: str) -> str:
    out = []
    for index, width in enumerate(widths):
        out.append(("1" if index % 2 == 0 else "0") * int(width))
    return "".join(out)


def _c128_value(char: int, code_set: str) -> int | None:
    if code_set == "A":
        if 32 <= char <= 95:
            return char - 32
        if 0 <= char < 32:
            return char + 64
        return None
    if 32 <= char <= 127:
        return char - 32
    return None


def code128_values(data: bytes) -> list[int]:
    """Symbol values (start, data, checksum, no stop) of printer CODE128 data.

    ``data`` is what ``GS k 73`` carries: it starts with a code-set selection
    (``{A``/``{B``/``{C``); raises :class:`~printer.errors.SymbolDataError` for data a
    printer refuses.
    """
    if len(data) < 2 or data[0] != 0x7B or chr(data[1]) not in _C128_START:
        raise SymbolDataError("CODE128 data must start with {A, {B or {C")
    code_set = chr(data[1])
    values = [_C128_START[code_set]]
    i = 2
    while i < len(data):
        byte = data[i]
        if byte == 0x7B and i + 1 < len(data) and data[i + 1] != 0x7B:
            command = chr(data[i + 1])
            i += 2
            if command in _C128_START:
                if command != code_set:
                    values.append(_C128_SWITCH[command])
                    code_set = command
            elif command == "S" and code_set in "AB" and i < len(data):
                other = "B" if code_set == "A" else "A"
                value = _c128_value(data[i], other)
                if value is None:
                    raise SymbolDataError(f"byte 0x{data[i]:02X} after shift is not in set {other}")
                values += [98, value]
                i += 1
            elif command in _C128_FNC[code_set]:
                values.append(_C128_FNC[code_set][command])
            else:
                raise SymbolDataError(f"unknown CODE128 command {{{command} in set {code_set}")
            continue
        if byte == 0x7B:  # "{{" is one brace
            i += 1
        if code_set == "C":
            if byte > 99:
                raise SymbolDataError(f"set C takes values 0..99, not {byte}")
            values.append(byte)
        else:
            value = _c128_value(byte, code_set)
            if value is None:
                raise SymbolDataError(f"byte 0x{byte:02X} is not in code set {code_set}")
            values.append(value)
        i += 1
    checksum = values[0] + sum(index * value for index, value in enumerate(values[1:], 1))
    values.append(checksum % 103)
    return values


def _code128_modules(data: bytes) -> str:
    return "".join(_widths_to_modules(_C128[v]) for v in code128_values(data)) + \
        _widths_to_modules(_C128[106])


def _code128_hri(data: bytes) -> str:
    out = []
    i = 2
    code_set = chr(data[1]) if len(data) > 1 else "B"
    while i < len(data):
        if data[i] == 0x7B and i + 1 < len(data):
            if data[i + 1] == 0x7B:
                out.append("{")
            elif chr(data[i + 1]) in _C128_START:
                code_set = chr(data[i + 1])
            i += 2
            continue
        out.append(f"{data[i]:02d}" if code_set == "C" else chr(data[i]))
        i += 1
    return "".join(ch if ch.isprintable() else " " for ch in out)


_PYBARCODE = {"EAN13": "ean13", "EAN8": "ean8", "UPC-A": "upca", "CODE39": "code39",
              "ITF": "itf", "CODABAR": "codabar", "GS1-128": "gs1_128",
              "CODE128 AUTO": "code128"}


def barcode_modules(symbology: str, data: bytes) -> tuple[str, str]:
    """The modules (``"1"`` bar, ``"0"`` space) and HRI text a printer makes of ``data``.

    Raises ``ValueError`` when the data is not valid for the symbology, and
    ``NotImplementedError`` for symbologies drawn as a label (UPC-E, CODE93, DataBar).
    """
    name = symbology.upper()
    if name == "CODE128":
        return _code128_modules(data), _code128_hri(data)
    kind = _PYBARCODE.get(name)
    if kind is None:
        raise NotImplementedError(f"{symbology} bars are not drawn")
    import barcode as pybarcode
    from barcode.errors import BarcodeError

    text = data.decode("ascii", "replace")
    options: dict[str, Any] = {}
    if kind == "ean13":
        text = text[:12]
    elif kind == "ean8":
        text = text[:7]
    elif kind == "upca":
        text = text[:11]
    elif kind == "code39":
        text = text.strip("*")
        options["add_checksum"] = False
    elif kind == "gs1_128":
        text = text.replace("(", "").replace(")", "")
    try:
        code = pybarcode.get(kind, text, options=options)
        modules = "".join(code.build())
        hri = code.get_fullcode()
    except (BarcodeError, ValueError, KeyError, TypeError) as exc:
        raise SymbolDataError(f"{symbology}: {exc}") from exc
    if kind == "code39":
        hri = "*" + text + "*"
    return modules, hri


@lru_cache(maxsize=256)
def qr_matrix(data: bytes, ec: str = "L") -> tuple[tuple[bool, ...], ...]:
    """The modules of a model 2 QR code of ``data`` (smallest version, best mask).

    Raises ``ValueError`` when ``data`` does not fit in any QR code version.
    """
    import qrcode
    import qrcode.constants
    from qrcode.exceptions import DataOverflowError

    levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
              "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
    code = qrcode.QRCode(error_correction=levels.get(ec, levels["L"]), box_size=1, border=0)
    code.add_data(data)
    try:
        code.make(fit=True)
    except DataOverflowError as exc:
        raise SymbolDataError(f"QR code: {exc}") from exc
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())
