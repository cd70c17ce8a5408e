"""The host's fast path through pyiso8583: the same bytes and fields, a fifth of the cost.

The link's spec (:data:`terminal_sim.iso.spec.SPEC`, pyiso8583's ``default_ascii``) has
ASCII fields only: fixed ones, and variable ones behind a 2- or 3-digit ASCII length.
For a message that is plainly well-formed under it, :func:`decode` and :func:`encode`
give exactly what :func:`terminal_sim.iso.codec.decode` and ``encode`` give (the same
dict, keys in the same order; the same bytes, bitmap in upper-case hex) with one pass
and no per-field bookkeeping. Anything else (a tertiary bitmap, a length prefix that is
not plain digits, non-ASCII data, a length out of range, trailing bytes, a value that is
not a string ...) goes to pyiso8583 through :mod:`terminal_sim.iso.codec`, which decides
and raises its :class:`~terminal_sim.errors.Iso8583Error`: the fast path never refuses
anything itself. ``tests/terminal_sim/acquirer/test_wirecodec.py`` holds the two paths
equal on random messages.
"""

from __future__ import annotations

from collections.abc import Mapping

from terminal_sim.iso import codec
from terminal_sim.iso.spec import SPEC


def _layout() -> tuple[dict[int, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Per field number (2..128, bitmaps excluded): (length digits, max length), for the
    fields the fast path handles (ASCII data and length, no padding)."""
    by_number: dict[int, tuple[int, int]] = {}
    for key, field in SPEC.items():
        if not key.isdigit() or key in ("1", "65") or not 2 <= int(key) <= 128:
            continue
        if (field["data_enc"], field.get("len_enc", "ascii")) != ("ascii", "ascii") or \
                field.get("left_pad") or field.get("right_pad") or \
                field.get("len_count", "bytes") != "bytes" or field["len_type"] not in (0, 2, 3):
            continue
        by_number[int(key)] = (int(field["len_type"]), int(field["max_len"]))
    return by_number, {str(number): shape for number, shape in by_number.items()}


_BY_NUMBER, _BY_KEY = _layout()
_FAST_SPEC = (SPEC["h"]["max_len"] == 0 and SPEC["t"]["data_enc"] == "ascii"
              and SPEC["p"]["data_enc"] == "ascii" and SPEC["1"]["data_enc"] == "ascii")
_HEX = frozenset(b"0123456789abcdefABCDEF")


def _present(bitmap: int, offset: int) -> list[int]:
    """The field numbers a 64-bit bitmap sets (bit 63 is field ``offset + 1``), ascending."""
    numbers = []
    while bitmap:
        top = bitmap.bit_length()
        numbers.append(offset + 65 - top)
        bitmap ^= 1 << (top - 1)
    return numbers


def decode(data: bytes) -> dict[str, str]:
    """The fields of a message, as :func:`terminal_sim.iso.codec.decode` gives them."""
    fields = _decode_fast(data) if _FAST_SPEC else None
    return fields if fields is not None else codec.decode(data)


def _decode_fast(data: bytes) -> dict[str, str] | None:
    size = len(data)
    if size < 20 or not data.isascii():
        return None
    primary = data[4:20]
    if not _HEX.issuperset(primary):
        return None
    fields = {"t": data[:4].decode("ascii"), "p": primary.decode("ascii")}
    bitmap = int(primary, 16)
    numbers = _present(bitmap, 0)
    index = 20
    if numbers and numbers[0] == 1:
        secondary = data[20:36]
        if len(secondary) != 16 or not _HEX.issuperset(secondary):
            return None
        fields["1"] = secondary.decode("ascii")
        extra = _present(int(secondary, 16), 64)
        if extra and extra[0] == 65:
            return None  # a tertiary bitmap: pyiso8583's business
        numbers = numbers[1:] + extra
        index = 36
    shapes = _BY_NUMBER
    for number in numbers:
        shape = shapes.get(number)
        if shape is None:
            return None
        digits, most = shape
        if digits:
            head = data[index:index + digits]
            if len(head) != digits or not head.isdigit():
                return None
            length = int(head)
            if length > most:
                return None
            index += digits
        else:
            length = most
        end = index + length
        if end > size:
            return None
        fields[str(number)] = data[index:end].decode("ascii")
        index = end
    return fields if index == size else None


def encode(fields: Mapping[str, str]) -> bytes:
    """The wire bytes of a message, as :func:`terminal_sim.iso.codec.encode` gives them."""
    encoded = _encode_fast(fields) if _FAST_SPEC else None
    return encoded if encoded is not None else codec.encode(fields)


def _encode_fast(fields: Mapping[str, str]) -> bytes | None:
    mti = fields.get("t")
    if not isinstance(mti, str) or len(mti) != 4 or not mti.isascii():
        return None
    shapes = _BY_KEY
    present: list[tuple[int, str]] = []
    for key, value in fields.items():
        if key == "t":
            continue
        shape = shapes.get(key)
        if shape is None or not isinstance(value, str) or not value.isascii():
            return None  # "p", "1", unknown keys, odd values: pyiso8583 decides
        digits, most = shape
        if (len(value) > most) if digits else (len(value) != most):
            return None
        present.append((int(key), value))
    present.sort()
    primary = secondary = 0
    for number, _ in present:
        if number > 64:
            secondary |= 1 << (128 - number)
        else:
            primary |= 1 << (64 - number)
    if secondary:
        primary |= 1 << 63
    parts = [mti, f"{primary:016X}"]
    if secondary:
        parts.append(f"{secondary:016X}")
    for number, value in present:
        digits = _BY_NUMBER[number][0]
        if digits:
            parts.append(f"{len(value):0{digits}d}")
        parts.append(value)
    return "".join(parts).encode("ascii")
