"""Length framing of the link: a 2-byte big-endian length header, then the message.

:class:`FrameDecoder` is incremental (bytes from TCP or a link fault arrive in any
pieces); :func:`unframe` is the strict one-shot form.
"""

from __future__ import annotations

from terminal_sim.errors import FrameError

HEADER = 2
#: The largest message a 2-byte header can announce; hosts usually allow much less.
MAX_FRAME = 0xFFFF


def frame(payload: bytes) -> bytes:
    """``payload`` with its length header."""
    if not payload:
        raise FrameError("empty message cannot be framed", 0)
    if len(payload) > MAX_FRAME:
        raise FrameError(f"message of {len(payload)} bytes exceeds {MAX_FRAME}", 0)
    return len(payload).to_bytes(HEADER, "big") + payload


def unframe(data: bytes, *, max_size: int = MAX_FRAME) -> bytes:
    """The single message in ``data``; anything else is a ``FrameError`` with the offset."""
    if len(data) < HEADER:
        raise FrameError(f"frame of {len(data)} bytes has no complete length header", 0)
    size = int.from_bytes(data[:HEADER], "big")
    if size == 0:
        raise FrameError("length header announces an empty message", 0)
    if size > max_size:
        raise FrameError(f"length header announces {size} bytes, limit is {max_size}", 0)
    if len(data) < HEADER + size:
        raise FrameError(
            f"message truncated: header announces {size} bytes, {len(data) - HEADER} present",
            len(data),
        )
    if len(data) > HEADER + size:
        raise FrameError(f"{len(data) - HEADER - size} trailing bytes after the message",
                         HEADER + size)
    return data[HEADER:]


class FrameDecoder:
    """Cuts a byte stream into messages; keeps a partial frame until the rest arrives."""

    def __init__(self, *, max_size: int = MAX_FRAME) -> None:
        self.max_size = max_size
        self._buffer = bytearray()
        self._consumed = 0  # stream offset of the buffer start, for error offsets

    def feed(self, data: bytes) -> list[bytes]:
        """Every message completed by ``data``; an illegal header raises ``FrameError``.

        The messages completed before the illegal header are lost with it; a server
        that must answer them uses :meth:`split`.
        """
        messages, error = self.split(data)
        if error is not None:
            raise error
        return messages

    def split(self, data: bytes) -> tuple[list[bytes], FrameError | None]:
        """The messages completed by ``data``, and the framing error that ends the stream.

        After an error the decoder holds nothing: a byte stream with a bad length header
        cannot be resynchronised, the connection has to go.
        """
        self._buffer += data
        messages: list[bytes] = []
        while len(self._buffer) >= HEADER:
            size = int.from_bytes(self._buffer[:HEADER], "big")
            if size == 0 or size > self.max_size:
                offset = self._consumed
                self._buffer.clear()
                return messages, FrameError(
                    f"length header announces {size} bytes (allowed 1..{self.max_size})", offset
                )
            if len(self._buffer) < HEADER + size:
                break
            messages.append(bytes(self._buffer[HEADER : HEADER + size]))
            del self._buffer[: HEADER + size]
            self._consumed += HEADER + size
        return messages, None

    @property
    def consumed(self) -> int:
        """Stream offset of the first byte not yet returned as part of a message."""
        return self._consumed

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buffer)
