"""Framing of the link: how one ISO 8583 message is cut out of a TCP byte stream.

Three framings, by name (``pos-sim acquirer serve --framing``, the scenario's
``acquirer.framing``, ``?framing=`` of a live acquirer URL):

==========  ================================================================================
name        frame
==========  ================================================================================
``binary``  2-byte big-endian length of the message, then the message (the default)
``tpdu``    2-byte big-endian length of TPDU + message, a 5-byte TPDU, then the message. The
            TPDU is ID (``0x60``), destination address (2 bytes), source address (2 bytes);
            a host answers with source and destination swapped (:func:`swap_tpdu`)
``ascii``   4 ASCII digits giving the length of the message (``0123``), then the message
==========  ================================================================================

:class:`Framing` encodes (:meth:`Framing.encode`, :meth:`Framing.reply`) and decodes
(:meth:`Framing.decode` one-shot and strict; :meth:`Framing.decoder` incremental, for bytes
that arrive in any pieces). Every malformed frame is a :class:`~terminal_sim.errors.FrameError`
with the reason and the stream offset where it starts. :func:`frame`, :func:`unframe` and
:class:`FrameDecoder` without a framing are the ``binary`` framing.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal_sim.errors import ConfigurationError, FrameError

BINARY = "binary"
TPDU = "tpdu"
ASCII = "ascii"
#: Every framing, the default first.
FRAMINGS = (BINARY, TPDU, ASCII)

HEADER = 2
#: The largest message a 2-byte header can announce; hosts usually allow much less.
MAX_FRAME = 0xFFFF
TPDU_SIZE = 5
TPDU_ID = 0x60
#: The TPDU a terminal sends by default: ID 60, destination (host NII) 0001, source 0000.
DEFAULT_TPDU = bytes((TPDU_ID, 0x00, 0x01, 0x00, 0x00))


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: the ISO 8583 message, and the TPDU in front of it (or ``b""``)."""

    payload: bytes
    tpdu: bytes = b""


def swap_tpdu(tpdu: bytes) -> bytes:
    """The TPDU of the answer to a message that carried ``tpdu``: source and destination
    swapped, as a host does."""
    if len(tpdu) != TPDU_SIZE:
        raise FrameError(f"a TPDU is {TPDU_SIZE} bytes, got {len(tpdu)}", 0)
    return tpdu[:1] + tpdu[3:5] + tpdu[1:3]


@dataclass(frozen=True, slots=True)
class Framing:
    """One framing by name (:data:`FRAMINGS`); ``tpdu`` is what :meth:`encode` sends."""

    name: str = BINARY
    tpdu: bytes = DEFAULT_TPDU

    def __post_init__(self) -> None:
        if self.name not in FRAMINGS:
            raise ConfigurationError(
                f"unknown framing {self.name!r}; known: {', '.join(FRAMINGS)}")
        if len(self.tpdu) != TPDU_SIZE or self.tpdu[0] != TPDU_ID:
            raise ConfigurationError(
                f"a TPDU is {TPDU_SIZE} bytes starting with {TPDU_ID:02x}, "
                f"got {self.tpdu.hex()}")

    @property
    def header_size(self) -> int:
        """Bytes of the length header."""
        return 4 if self.name == ASCII else HEADER

    @property
    def prefix_size(self) -> int:
        """Bytes in front of the message: the length header and the TPDU."""
        return self.header_size + (TPDU_SIZE if self.name == TPDU else 0)

    @property
    def max_frame(self) -> int:
        """The largest message the header can announce."""
        if self.name == ASCII:
            return 9999
        return MAX_FRAME - (TPDU_SIZE if self.name == TPDU else 0)

    def encode(self, payload: bytes, tpdu: bytes | None = None) -> bytes:
        """``payload`` framed; ``tpdu`` (tpdu framing only) defaults to :attr:`tpdu`."""
        if not payload:
            raise FrameError("empty message cannot be framed", 0)
        if len(payload) > self.max_frame:
            raise FrameError(f"message of {len(payload)} bytes exceeds {self.max_frame}", 0)
        if self.name == ASCII:
            return f"{len(payload):04d}".encode("ascii") + payload
        if self.name == TPDU:
            head = self.tpdu if tpdu is None else tpdu
            return (len(payload) + TPDU_SIZE).to_bytes(HEADER, "big") + head + payload
        return len(payload).to_bytes(HEADER, "big") + payload

    def reply(self, payload: bytes, request: Frame) -> bytes:
        """The framed answer to ``request``: under the tpdu framing its TPDU swapped."""
        if self.name == TPDU:
            return self.encode(payload, swap_tpdu(request.tpdu))
        return self.encode(payload)

    def replies(self, requests: list[Frame], answers: list[bytes | None]) -> bytes:
        """The framed answers to ``requests`` (``None``: no answer), in order."""
        return b"".join(self.reply(answer, request)
                        for request, answer in zip(requests, answers, strict=True)
                        if answer is not None)

    def decoder(self, *, max_size: int | None = None) -> FrameDecoder:
        """An incremental decoder of this framing."""
        return FrameDecoder(max_size=max_size, framing=self)

    def decode(self, data: bytes, *, max_size: int | None = None) -> Frame:
        """The single frame in ``data``; anything else is a ``FrameError`` with the offset."""
        frames, error = self.decoder(max_size=max_size).split_frames(data)
        if error is not None:
            raise error
        if not frames:
            if len(data) < self.header_size:
                raise FrameError(f"frame of {len(data)} bytes has no complete length header",
                                 0)
            raise FrameError(f"message truncated: {len(data)} bytes hold no complete frame",
                             len(data))
        size = self.header_size + len(frames[0].tpdu) + len(frames[0].payload)
        if len(data) > size:
            raise FrameError(f"{len(data) - size} trailing bytes after the message", size)
        return frames[0]

    def announced(self, header: bytes, offset: int, max_size: int) -> int:
        """The message size the header announces (TPDU excluded); FrameError if illegal."""
        if self.name == ASCII:
            if not (header.isascii() and header.isdigit()):
                raise FrameError(f"length header {header!r} is not 4 ASCII digits", offset)
            size = int(header)
        else:
            size = int.from_bytes(header, "big")
            if self.name == TPDU:
                if size <= TPDU_SIZE:
                    raise FrameError(f"length header announces {size} bytes, too few for a "
                                     f"{TPDU_SIZE}-byte TPDU and a message", offset)
                size -= TPDU_SIZE
        if size == 0 or size > max_size:
            raise FrameError(f"length header announces {size} bytes (allowed 1..{max_size})",
                             offset)
        return size


#: The default framing.
DEFAULT_FRAMING = Framing()


def get_framing(name: str | None = None, *, tpdu: str | None = None) -> Framing:
    """The framing called ``name`` (default ``binary``); ``tpdu`` as 10 hex digits."""
    if tpdu is None:
        return Framing(name or BINARY)
    try:
        raw = bytes.fromhex(tpdu)
    except ValueError:
        raise ConfigurationError(f"TPDU {tpdu!r} is not 10 hex digits") from None
    return Framing(name or BINARY, raw)


def frame(payload: bytes) -> bytes:
    """``payload`` with its 2-byte length header (the ``binary`` framing)."""
    return DEFAULT_FRAMING.encode(payload)


def unframe(data: bytes, *, max_size: int = MAX_FRAME) -> bytes:
    """The single message in ``data`` (``binary`` framing); else a ``FrameError``."""
    return DEFAULT_FRAMING.decode(data, max_size=max_size).payload


class FrameDecoder:
    """Cuts a byte stream into messages; keeps a partial frame until the rest arrives."""

    def __init__(self, *, max_size: int | None = None,
                 framing: Framing = DEFAULT_FRAMING) -> None:
        self.framing = framing
        self.max_size = framing.max_frame if max_size is None else min(max_size,
                                                                       framing.max_frame)
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

    def feed_frames(self, data: bytes) -> list[Frame]:
        """:meth:`feed`, keeping each message's TPDU (:class:`Frame`)."""
        frames, error = self.split_frames(data)
        if error is not None:
            raise error
        return frames

    def split(self, data: bytes) -> tuple[list[bytes], FrameError | None]:
        """The messages completed by ``data``, and the framing error that ends the stream."""
        frames, error = self.split_frames(data)
        return [item.payload for item in frames], error

    def split_frames(self, data: bytes) -> tuple[list[Frame], FrameError | None]:
        """The frames completed by ``data``, and the framing error that ends the stream.

        After an error the decoder holds nothing: a byte stream with a bad header cannot
        be resynchronised, the connection has to go.
        """
        head = self.framing.header_size
        extra = TPDU_SIZE if self.framing.name == TPDU else 0
        if not self._buffer and not extra and len(data) > head:
            # the usual case: ``data`` is exactly one whole frame (no copy into the buffer)
            try:
                size = self.framing.announced(bytes(data[:head]), self._consumed,
                                               self.max_size)
            except FrameError:
                size = -1  # the general way below reports it
            if head + size == len(data):
                self._consumed += len(data)
                return [Frame(bytes(data[head:]), b"")], None
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= head:
            try:
                size = self.framing.announced(bytes(self._buffer[:head]), self._consumed,
                                               self.max_size)
                if extra and len(self._buffer) > head and self._buffer[head] != TPDU_ID:
                    raise FrameError(f"TPDU starts with {self._buffer[head]:02x}, "
                                     f"not {TPDU_ID:02x}", self._consumed + head)
            except FrameError as exc:
                self._buffer.clear()
                return frames, exc
            end = head + extra + size
            if len(self._buffer) < end:
                break
            frames.append(Frame(bytes(self._buffer[head + extra:end]),
                                bytes(self._buffer[head:head + extra])))
            del self._buffer[:end]
            self._consumed += end
        return frames, None

    @property
    def consumed(self) -> int:
        """Stream offset of the first byte not yet returned as part of a message."""
        return self._consumed

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buffer)
