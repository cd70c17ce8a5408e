"""Encode and decode ISO 8583 messages with pyiso8583, with our errors and no mutation.

pyiso8583's ``encode()`` adds the bitmap to the dict it is given; :func:`encode` hands
it a copy. Its ``DecodeError``/``EncodeError`` carry the field and (for decoding) the
byte position: they become :class:`~terminal_sim.errors.Iso8583Error` with both.
"""

from __future__ import annotations

from collections.abc import Mapping

import iso8583

from terminal_sim.errors import Iso8583Error
from terminal_sim.iso.spec import SPEC


def encode(fields: Mapping[str, str]) -> bytes:
    """The wire bytes of a message (without the length frame)."""
    try:
        raw, _ = iso8583.encode(dict(fields), SPEC)
    except iso8583.EncodeError as exc:
        raise Iso8583Error(exc.msg, None, exc.field) from exc
    except (ValueError, TypeError, KeyError) as exc:  # e.g. a non-str value or unknown field
        raise Iso8583Error(f"unencodable message: {exc!r}", None, None) from exc
    return bytes(raw)


def decode(data: bytes) -> dict[str, str]:
    """The fields of a message; malformed bytes raise ``Iso8583Error`` with offset and field."""
    try:
        fields, _ = iso8583.decode(data, SPEC)
    except iso8583.DecodeError as exc:
        raise Iso8583Error(exc.msg, exc.pos, exc.field, exc.doc_dec) from exc
    except (ValueError, TypeError, IndexError) as exc:  # defensive: never leak an untyped error
        raise Iso8583Error(f"undecodable message: {exc}", 0, None) from exc
    return fields


def peek_mti(data: bytes) -> str | None:
    """The MTI when the first four bytes are digits, else None (for format-error replies)."""
    head = data[:4]
    if len(head) == 4 and head.isdigit():
        return head.decode("ascii")
    return None
