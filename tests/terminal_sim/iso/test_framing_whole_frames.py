"""A decoder handed one whole frame per call (its shortcut: no copy into the buffer)
answers exactly as when it is handed the same stream a byte at a time, or in chunks of
several frames."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.errors import FrameError
from terminal_sim.iso.framing import FRAMINGS, Frame, FrameDecoder, get_framing

Outcome = tuple[list[Frame], tuple[str, int | None] | None, int, int]


def feed_all(decoder: FrameDecoder, chunks: list[bytes]) -> Outcome:
    frames: list[Frame] = []
    for chunk in chunks:
        got, error = decoder.split_frames(chunk)
        frames += got
        if error is not None:
            return frames, (str(error), error.offset), decoder.consumed, decoder.pending
    return frames, None, decoder.consumed, decoder.pending


@given(st.sampled_from(FRAMINGS),
       st.lists(st.binary(min_size=1, max_size=120), max_size=5),
       st.sampled_from([b"", b"\x00\x00", b"\xff\xff", b"99", b"00x", b"\x00\x05ab"]),
       st.integers(1, 10_000), st.data())
def test_whole_frames_decode_as_bytes_do(name: str, messages: list[bytes], tail: bytes,
                                         max_size: int, data: st.DataObject) -> None:
    framing = get_framing(name)
    frames = [framing.encode(m) for m in messages] + ([tail] if tail else [])
    # chunks of one or more whole frames (each cut falls between two frames)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(frames) - 1)))))
    chunks = [b"".join(frames[a:b]) for a, b in zip([0, *cuts], [*cuts, len(frames)],
                                                      strict=True)]
    stream = b"".join(frames)
    single = feed_all(framing.decoder(max_size=max_size),
                      [stream[i:i + 1] for i in range(len(stream))])
    assert feed_all(framing.decoder(max_size=max_size), frames) == single
    assert feed_all(framing.decoder(max_size=max_size), [c for c in chunks if c]) == single


def test_a_bad_header_in_a_whole_chunk_is_reported_with_its_offset() -> None:
    decoder = get_framing("binary").decoder(max_size=10)
    frames, error = decoder.split_frames(b"\x00\x02ok")
    assert frames == [Frame(b"ok", b"")]
    frames, error = decoder.split_frames(b"\x00\x20" + b"x" * 32)
    assert frames == []
    assert isinstance(error, FrameError)
    assert error.offset == 4
