"""Driver of the interop test: py8583 (an ISO 8583 library the project does not use) as
the terminal, against ``pos-sim acquirer serve`` over TCP.

    python py8583_peer.py HOST PORT FRAMING      (py8583 importable, e.g. on PYTHONPATH)

Builds every request with py8583's encoder (its ``IsoSpec1987ASCII``: ASCII MTI, hex
bitmaps, ASCII fields, the 1987 field table), frames it by hand (binary, tpdu or ascii),
and decodes every reply with py8583's decoder in strict mode. A reply is accepted when it
decodes and py8583's encoder rebuilds the very bytes from what it decoded (nothing left
over, every field where the 1987 table puts it). Prints one JSON object per exchange:
``{"name", "ok", "error", "fields", "tpdu"}``; exit code 0 when every reply was accepted.
"""

from __future__ import annotations

import importlib
import json
import socket
import sys
from typing import Any

TPDU = bytes.fromhex("6000070003")
WHEN = "0105090000"
TERMINAL = "T0000042"
MERCHANT = "M00000000000042"


def _iso() -> Any:
    return importlib.import_module("py8583.py8583")


def _spec() -> Any:
    """A fresh ``IsoSpec1987ASCII`` (py8583 1.3's own default is never imported: pass it)."""
    return importlib.import_module("py8583.py8583spec").IsoSpec1987ASCII()


def build(fields: dict[int, str | int], mti: str, *, loose: tuple[int, ...] = ()) -> bytes:
    """Encode with py8583; ``loose`` fields are declared ``ans`` (a malformed message)."""
    py8583 = _iso()
    spec = _spec()
    for field in loose:
        spec.ContentType(field, "ans")
    message = py8583.Iso8583(IsoSpec=spec)
    message.MTI(mti)
    for field, value in fields.items():
        message.Field(field, 1)
        message.FieldData(field, value)
    return bytes(message.BuildIso())


def parse(payload: bytes) -> dict[str, str]:
    """Decode with py8583 (strict); refuse what its encoder does not rebuild byte for byte."""
    py8583 = _iso()
    message = py8583.Iso8583(IsoSpec=_spec())
    message.Strict(True)
    message.SetIsoContent(payload)
    fields: dict[str, str] = {"t": message.MTI()}
    bitmap = message.Bitmap()
    rebuilt = py8583.Iso8583(IsoSpec=_spec())
    rebuilt.MTI(message.MTI())
    for field in sorted(bitmap):
        if field != 1 and bitmap[field] == 1:
            value = message.FieldData(field)
            rebuilt.Field(field, 1)
            rebuilt.FieldData(field, value)
            width = message.ContentType(field) == "n" and _fixed_width(field)
            fields[str(field)] = f"{value:0{width}d}" if width else str(value)
    again = bytes(rebuilt.BuildIso())
    if again.lower() != payload.lower():  # py8583 writes the bitmap in lower case
        raise ValueError(f"py8583 does not rebuild the reply: {payload!r} -> {again!r}")
    return fields


def _fixed_width(field: int) -> int:
    table = _spec()
    fixed = table.LengthType(field) == importlib.import_module("py8583.py8583").LT.FIXED
    return int(table.MaxLength(field)) if fixed else 0


def frame(payload: bytes, framing: str) -> bytes:
    if framing == "ascii":
        return b"%04d" % len(payload) + payload
    if framing == "tpdu":
        return (len(payload) + 5).to_bytes(2, "big") + TPDU + payload
    return len(payload).to_bytes(2, "big") + payload


def recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def read_frame(sock: socket.socket, framing: str) -> tuple[bytes, bytes]:
    """(TPDU or b"", message) of the next reply."""
    if framing == "ascii":
        size = int(recv_exact(sock, 4).decode("ascii"))
    else:
        size = int.from_bytes(recv_exact(sock, 2), "big")
    body = recv_exact(sock, size)
    if framing == "tpdu":
        return body[:5], body[5:]
    return b"", body


def sale(stan: str, amount: int) -> dict[int, str | int]:
    return {2: "4111111111111111", 3: 0, 4: amount, 7: int(WHEN), 11: int(stan), 12: 90000,
            13: 105, 14: 2912, 22: 71, 25: 0, 41: TERMINAL, 42: MERCHANT, 49: 978}


def requests() -> list[tuple[str, bytes]]:
    approve = sale("000001", 1250)
    decline = sale("000002", 1205)  # amount ending 05: do not honour
    reversal = {k: v for k, v in approve.items() if k not in (2, 14)}
    reversal.update({11: 3, 60: "4021", 90: int("0200000001" + WHEN + "0" * 22)})
    advice = {**reversal, 11: 4}
    malformed = {**sale("000005", 1250), 4: "00000000AB12"}
    return [
        ("0800", build({7: int(WHEN), 11: 9, 41: TERMINAL, 70: 301}, "0800")),
        ("0200-approve", build(approve, "0200")),
        ("0200-decline", build(decline, "0200")),
        ("0400", build(reversal, "0400")),
        ("0420", build(advice, "0420")),
        ("malformed", build(malformed, "0200", loose=(4,))),
    ]


def main(host: str, port: int, framing: str) -> int:
    failures = 0
    with socket.create_connection((host, port), timeout=60) as sock:
        for name, payload in requests():
            sock.sendall(frame(payload, framing))
            result: dict[str, Any] = {"name": name, "ok": False, "error": "", "fields": {},
                                      "tpdu": ""}
            try:
                tpdu, reply = read_frame(sock, framing)
                result["tpdu"] = tpdu.hex()
                result["fields"] = parse(reply)
                result["ok"] = True
            except Exception as exc:  # noqa: BLE001 - the peer refused (any error): report
                result["error"] = f"{type(exc).__name__}: {exc}"
                failures += 1
            print(json.dumps(result), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
