"""Message authentication codes on the terminal <-> acquirer link (fields 64 and 128).

Construction (documented in :mod:`terminal_sim.iso.spec`): HMAC-SHA256 with the
terminal's key over the encoded message up to the MAC field, that is every byte of the
message (MTI, bitmaps with the MAC bit set, all fields) except the MAC's own 16
characters, which are the last of the message (the MAC field is the highest field
present: 128 when the message has a secondary bitmap, else 64). The MAC is the first 8
bytes of the HMAC, as 16 upper-case hex characters: ``default_ascii`` declares both
fields fixed length 16, ASCII.

The key is a **test key**, like the test cards: derived from the terminal id
(:func:`terminal_key`), known to the terminal and the mock acquirer alike; a real
terminal holds a key injected under a key-management scheme (DUKPT, master/session).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from terminal_sim.iso import codec

#: Length of the MAC field's value (fields 64 and 128 of ``default_ascii``: fixed, 16).
MAC_LENGTH = 16
#: Placeholder the MAC field carries while the message is encoded for MACing.
_PLACEHOLDER = "0" * MAC_LENGTH
#: The test key derivation's label: key = SHA-256(label, 0x1f, terminal id).
TEST_KEY_LABEL = "terminal-sim test MAC key"


def terminal_key(terminal_id: str) -> bytes:
    """The (test) MAC key of ``terminal_id``."""
    return hashlib.sha256(f"{TEST_KEY_LABEL}\x1f{terminal_id}".encode()).digest()


def mac_field(fields: Mapping[str, str]) -> str:
    """The field that carries the MAC: ``128`` when a field above 64 is present, else ``64``."""
    data = [int(name) for name in fields if name.isdigit() and name not in ("1", "64", "128")]
    return "128" if any(number > 64 for number in data) else "64"


def compute(data: bytes, key: bytes) -> str:
    """The MAC of ``data`` under ``key``: truncated HMAC-SHA256, 16 hex characters."""
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:MAC_LENGTH].upper()


def seal(fields: Mapping[str, str]) -> bytes:
    """The wire bytes of ``fields`` with a MAC under the key of its terminal (field 41)."""
    unsealed = {name: value for name, value in fields.items() if name not in ("64", "128")}
    unsealed[mac_field(unsealed)] = _PLACEHOLDER
    encoded = codec.encode(unsealed)
    body = encoded[:-MAC_LENGTH]
    return body + compute(body, terminal_key(fields.get("41", ""))).encode("ascii")


def verify(message: bytes, fields: Mapping[str, str]) -> bool | None:
    """Whether the MAC of ``message`` (decoded as ``fields``) verifies; None without a MAC.

    A MAC in the wrong field (64 beside a secondary bitmap, or both) does not verify.
    """
    present = [name for name in ("64", "128") if name in fields]
    if not present:
        return None
    if present != [mac_field(fields)] or len(message) <= MAC_LENGTH:
        return False
    body, mac = message[:-MAC_LENGTH], message[-MAC_LENGTH:]
    if mac.decode("ascii", "replace") != fields[present[0]]:
        return False
    return hmac.compare_digest(compute(body, terminal_key(fields.get("41", ""))).encode("ascii"),
                               mac)


__all__ = ["MAC_LENGTH", "TEST_KEY_LABEL", "compute", "mac_field", "seal", "terminal_key",
           "verify"]
