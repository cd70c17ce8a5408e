"""The three framings: byte layouts written out by hand, errors with offset and reason."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.cli.main import main
from terminal_sim.errors import ConfigurationError, FrameError
from terminal_sim.iso.framing import FRAMINGS, Frame, get_framing, swap_tpdu


def test_layouts() -> None:
    assert get_framing("binary").encode(b"0800x") == b"\x00\x050800x"
    assert get_framing("ascii").encode(b"0800x") == b"00050800x"
    tpdu = get_framing("tpdu", tpdu="6000010002")
    assert tpdu.encode(b"0800x") == b"\x00\x0a\x60\x00\x01\x00\x020800x"


def test_tpdu_reply_swaps_source_and_destination() -> None:
    framing = get_framing("tpdu")
    request = framing.decode(b"\x00\x07\x60\x00\x07\x00\x03ab")
    assert request == Frame(b"ab", b"\x60\x00\x07\x00\x03")
    assert framing.reply(b"cd", request) == b"\x00\x07\x60\x00\x03\x00\x07cd"
    assert swap_tpdu(b"\x60\x12\x34\x56\x78") == b"\x60\x56\x78\x12\x34"


@pytest.mark.parametrize(("name", "stream", "offset", "reason"), [
    ("ascii", b"0002ab00x2cd", 6, "not 4 ASCII digits"),
    ("ascii", b"0000", 0, "allowed 1.."),
    ("tpdu", b"\x00\x05\x60\x00\x00\x00\x00", 0, "too few for a 5-byte TPDU"),
    ("tpdu", b"\x00\x06\x61\x00\x00\x00\x00a", 2, "TPDU starts with 61"),
    ("binary", b"\x00\x01a\x00\x00", 3, "allowed 1.."),
])
def test_malformed_frames_name_offset_and_reason(name: str, stream: bytes, offset: int,
                                                 reason: str) -> None:
    decoder = get_framing(name).decoder()
    frames, error = decoder.split_frames(stream)
    assert error is not None
    assert error.offset == offset
    assert reason in str(error)
    assert decoder.pending == 0
    for frame in frames:  # what came before the bad header is still delivered
        assert frame.payload


@pytest.mark.parametrize("name", FRAMINGS)
def test_strict_decode_refuses_trailing_and_truncated(name: str) -> None:
    framing = get_framing(name)
    framed = framing.encode(b"abc")
    assert framing.decode(framed).payload == b"abc"
    with pytest.raises(FrameError, match="trailing"):
        framing.decode(framed + b"x")
    with pytest.raises(FrameError, match="truncated"):
        framing.decode(framed[:-1])


@given(st.sampled_from(FRAMINGS),
       st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=6), st.data())
def test_any_split_reassembles(name: str, messages: list[bytes], data: st.DataObject) -> None:
    framing = get_framing(name)
    stream = b"".join(framing.encode(m) for m in messages)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=8)))
    decoder = framing.decoder()
    out: list[bytes] = []
    last = 0
    for cut in [*cuts, len(stream)]:
        out += decoder.feed(stream[last:cut])
        last = cut
    assert out == messages


def test_unknown_framing_and_bad_tpdu_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="unknown framing"):
        get_framing("bcd")
    with pytest.raises(ConfigurationError, match="TPDU"):
        get_framing("tpdu", tpdu="7000010000")
    with pytest.raises(ConfigurationError, match="hex"):
        get_framing("tpdu", tpdu="zz")


def test_ascii_framing_refuses_what_4_digits_cannot_announce() -> None:
    with pytest.raises(FrameError, match="exceeds 9999"):
        get_framing("ascii").encode(b"x" * 10_000)


def test_acquirer_spec_prints_fields_rules_and_framings() -> None:
    result = CliRunner().invoke(main, ["acquirer", "spec"])
    assert result.exit_code == 0, result.output
    for needle in ("0200", "0410", "Luhn", "94", "duplicate window", "tpdu", "field  11"):
        assert needle in result.output, needle


@pytest.mark.parametrize("name", ["tpdu", "ascii"])
def test_a_run_over_another_framing_ends_as_over_the_default(name: str) -> None:
    """The simulated link in the profile's ``link_framing``: same findings, same books."""
    import dataclasses

    from terminal_sim.scenario.loader import load_scenario
    from terminal_sim.sim.simulation import Simulation
    from tests.support import SCENARIOS

    scenario = load_scenario(SCENARIOS / "late-host-reply.yaml")
    framed = dataclasses.replace(scenario, profile_settings={
        **scenario.profile_settings, "link_framing": name})
    plain = Simulation(scenario, profile="robust").run()
    other = Simulation(framed, profile="robust").run()
    assert other.report["findings"] == plain.report["findings"]
    assert other.report["counts"] == plain.report["counts"]


def test_the_live_link_speaks_the_framing_of_its_url() -> None:
    from terminal_sim.acquirer.client import exchange, framing_of_url
    from terminal_sim.acquirer.server import ServerThread
    from tests.terminal_sim.acquirer.conftest import make_host

    framing = framing_of_url("tcp://127.0.0.1:1?framing=tpdu&tpdu=6000090001")
    assert framing is not None
    assert framing.tpdu.hex() == "6000090001"
    assert framing_of_url("tcp://127.0.0.1:1") is None
    with pytest.raises(ConfigurationError, match="unknown option"):
        framing_of_url("tcp://127.0.0.1:1?frame=tpdu")
    with ServerThread(make_host(), framing=framing) as running:
        reply = exchange(*running.address, {"t": "0800", "7": "0105090000", "11": "000001",
                                            "41": "T0000001", "70": "301"},
                         timeout=60, framing=framing)
    assert (reply["t"], reply["39"], reply["11"]) == ("0810", "00", "000001")
