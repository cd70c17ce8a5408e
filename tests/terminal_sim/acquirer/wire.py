"""An ISO 8583 client independent of ours: pyiso8583's ``default_ascii`` spec and ``struct``.

A test of the server does not pass because both ends share a bug in our codec or framing.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Mapping

import iso8583
from iso8583.specs import default_ascii


class Wire:
    """An ISO 8583 client built on pyiso8583 and struct only."""

    @staticmethod
    def frame(fields: Mapping[str, str]) -> bytes:
        raw, _ = iso8583.encode(dict(fields), default_ascii)
        return struct.pack(">H", len(raw)) + bytes(raw)

    @staticmethod
    def recv_exact(sock: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError(f"closed after {len(data)} of {size} bytes")
            data += chunk
        return data

    def read(self, sock: socket.socket) -> dict[str, str]:
        (size,) = struct.unpack(">H", self.recv_exact(sock, 2))
        fields, _ = iso8583.decode(self.recv_exact(sock, size), default_ascii)
        return {str(key): str(value) for key, value in fields.items()}

    # the socket timeouts below keep a test from hanging on a lost reply; they are
    # generous, as a shared machine can be slow: none is a time limit the server must meet
    def connect(self, address: tuple[str, int], timeout: float = 60.0) -> socket.socket:
        sock = socket.create_connection(address, timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def exchange(self, address: tuple[str, int], fields: Mapping[str, str]) -> dict[str, str]:
        with self.connect(address) as sock:
            sock.sendall(self.frame(fields))
            return self.read(sock)

    @staticmethod
    def echo(stan: str = "000001", terminal_id: str = "T0000001") -> dict[str, str]:
        return {"t": "0800", "7": "0105090000", "11": stan, "41": terminal_id, "70": "301"}

    @staticmethod
    def sale(stan: str = "000001", terminal_id: str = "T0000001", amount: int = 1250,
             pan: str = "4111111111111111") -> dict[str, str]:
        return {"t": "0200", "2": pan, "3": "000000", "4": f"{amount:012d}",
                "7": "0105090000", "11": stan, "12": "090000", "13": "0105", "14": "2912",
                "22": "071", "25": "00", "41": terminal_id, "42": "M00000000000001",
                "49": "978"}

    @staticmethod
    def closed_by_peer(sock: socket.socket, timeout: float = 60.0) -> bool:
        """True when the peer closes (EOF or reset) within ``timeout``."""
        sock.settimeout(timeout)
        try:
            return sock.recv(1) == b""
        except ConnectionResetError:
            return True
