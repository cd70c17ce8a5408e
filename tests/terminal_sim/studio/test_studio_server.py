"""The studio's server and controllers, over real HTTP on 127.0.0.1 (no browser)."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from terminal_sim.sim.simulation import RunResult
from terminal_sim.studio.live import LiveTerminal
from terminal_sim.studio.replay import Replay
from terminal_sim.studio.server import StudioServer
from terminal_sim.studio.validate import minor_units


class Client:
    def __init__(self, server: StudioServer) -> None:
        self.port = server.port

    def request(self, method: str, path: str, body: Any = None, *,
                headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = None if body is None else (body if isinstance(body, bytes)
                                           else json.dumps(body).encode())
        sent = {"Content-Type": "application/json"} if body is not None else {}
        sent.update(headers or {})
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        kind = response.getheader("Content-Type", "")
        parsed = json.loads(raw) if kind.startswith("application/json") else raw.decode()
        return response.status, parsed, dict(response.getheaders())

    def act(self, **action: Any) -> dict[str, Any]:
        status, body, _ = self.request("POST", "/api/action", action)
        assert status == 200, body
        answer: dict[str, Any] = body
        return answer

    def state(self, since: int = 0, slips: int = 0) -> dict[str, Any]:
        status, body, _ = self.request("GET", f"/api/state?since={since}&slips={slips}")
        assert status == 200
        answer: dict[str, Any] = body
        return answer


@pytest.fixture
def live() -> Iterator[tuple[StudioServer, Client]]:
    # speed 0: the clock moves only when a test says so, so every answer is determined
    server = StudioServer(lambda: LiveTerminal(profile="naive", seed=3, speed=0), port=0)
    server.serve_in_thread()
    try:
        yield server, Client(server)
    finally:
        server.shutdown()


def test_the_page_is_served_on_loopback(live: tuple[StudioServer, Client]) -> None:
    server, client = live
    assert server.url.startswith("http://127.0.0.1:")
    status, page, headers = client.request("GET", "/")
    assert status == 200
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert 'id="btn-sale"' in page
    assert 'data-state="idle"' in page
    assert "http://" not in page
    assert "https://" not in page
    assert "sale/after:print" in page  # crash points found by running a sale


def test_a_power_dip_after_the_print_leaves_a_stray_receipt(
        live: tuple[StudioServer, Client]) -> None:
    _, client = live
    assert client.state()["state"] == "idle"
    assert client.act(action="dip", at="sale/after:print")["message"].startswith("power dip")
    assert client.state()["faults"]["dip_at"] == "sale/after:print"
    client.act(action="sale", amount="12.50", card="visa-approve")
    client.act(action="advance", ms=5_000)
    state = client.state()
    assert state["state"] == "off"
    assert not state["powered"]
    codes = {f["code"] for f in state["findings"]}
    assert {"STRAY_RECEIPT", "LOST_RECORD"} <= codes
    stray = next(f for f in state["findings"] if f["code"] == "STRAY_RECEIPT")
    assert any("sale/after:print" in s for s in stray["sentences"])
    assert state["slips_total"] == 1
    assert state["slips"][0]["src"].startswith("data:image/png")
    assert state["journal"] == []
    assert len(state["host"]) == 1
    assert state["host"][0]["key"] in stray["rows"]  # the page can light the row
    # the next poll carries only what is new
    again = client.state(since=state["trace_last"], slips=state["slips_total"])
    assert again["trace"] == []
    assert len(again["slips"]) == 1
    client.act(action="advance", ms=60_000)
    assert client.state()["state"] == "idle"  # rebooted after the dip


def test_fault_switches(live: tuple[StudioServer, Client]) -> None:
    _, client = live
    client.act(action="fault", fault="update", on=True)
    faults = client.state()["faults"]
    assert faults["update"]
    assert "02:00:00" in faults["update_at"]
    client.act(action="fault", fault="paper", on=True)
    client.act(action="sale", amount=990, card="visa-approve")
    client.act(action="advance", ms=5_000)
    state = client.state()
    assert state["faults"]["paper"]
    assert "MISSING_RECEIPT" in {f["code"] for f in state["findings"]}
    client.act(action="fault", fault="paper", on=False)
    assert not client.state()["faults"]["paper"]
    client.act(action="plug", on=False)
    assert client.state()["powered"] is False
    client.act(action="plug", on=True)
    assert client.state()["powered"] is True
    client.act(action="reset")
    assert client.state()["findings"] == []


def test_the_clock_runs_at_speed() -> None:
    server = StudioServer(lambda: LiveTerminal(seed=1, speed=100), port=0, tick_ms=20)
    server.serve_in_thread()
    try:
        client = Client(server)
        started = time.monotonic()
        first = client.state()["now"]
        time.sleep(0.3)
        moved = client.state()["now"] - first
        elapsed_ms = (time.monotonic() - started) * 1000
        # bounds from the real time measured here, not a guess of how busy the machine is:
        # the clock moves, and never faster than 100x (plus one tick of rounding)
        assert moved > 0
        assert moved <= elapsed_ms * 100 + 100 * 20
        client.act(action="pause", paused=True)
        paused_at = client.state()["now"]
        time.sleep(0.1)
        assert client.state()["now"] == paused_at
    finally:
        server.shutdown()


def test_refusals(live: tuple[StudioServer, Client]) -> None:
    _, client = live
    status, body, _ = client.request("POST", "/api/action", {"action": "teleport"})
    assert status == 400
    assert "unknown action" in body["error"]
    status, body, _ = client.request("POST", "/api/action", {"action": "dip", "at": "nowhere"})
    assert status == 400
    assert "unknown crash point" in body["error"]
    status, body, _ = client.request("POST", "/api/action", {"action": "sale", "amount": "x"})
    assert status == 400
    assert "amount" in body["error"]
    status, body, _ = client.request("POST", "/api/action", b"action=sale",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    status, body, _ = client.request("GET", "/", headers={"Host": "evil.example:80"})
    assert status == 403
    status, _, _ = client.request("GET", "/nowhere")
    assert status == 404


def test_amounts() -> None:
    assert minor_units("12.50", 2) == 1250
    assert minor_units("12,5", 2) == 1250
    assert minor_units("7", 2) == 700
    assert minor_units(990, 2) == 990
    for bad in ("", "1.234", "-3", "abc", "0"):
        with pytest.raises(Exception, match="amount"):
            minor_units(bad, 2)


def test_replay_steps_through_a_run(scenario_runs: dict[str, tuple[Path, RunResult]]) -> None:
    run_dir, result = scenario_runs["power-dip-print-before-save"]
    replay = Replay(run_dir, speed=0)
    start = replay.snapshot()
    assert start["position"] == 0
    assert start["findings"] == []
    assert start["slips_total"] == 0
    replay.act({"action": "next_finding"})  # stops right after the print
    at = replay.snapshot()
    assert {f["code"] for f in at["findings"]} == {"LOST_RECORD", "STRAY_RECEIPT"}
    assert at["slips_total"] == 5  # the stray slip is the fifth on the roll
    assert at["state"] == "completing"
    stans = [row["cells"][0] for row in at["journal"]]
    assert "000005" not in stans
    assert "000004" in stans
    replay.act({"action": "next_finding"})  # the power cut: the day's totals part too
    after = replay.snapshot()
    assert {f["code"] for f in after["findings"]} == {f.code for f in result.findings}
    assert after["position"] == at["position"] + 1
    replay.act({"action": "step", "delta": -2})
    assert replay.snapshot()["findings"] == []  # before the print they still agreed
    replay.act({"action": "seek", "position": replay.total})
    end = replay.snapshot()
    assert end["slips_total"] == len(result.evidence.receipts)
    assert len(end["journal"]) == len(result.evidence.journal)
    replay.act({"action": "seek", "position": 0})
    replay.act({"action": "speed", "speed": 10_000})
    replay.act({"action": "play"})
    replay.tick(1000)  # ten thousand virtual seconds
    assert replay.snapshot()["position"] > 0


def test_replay_over_http(scenario_runs: dict[str, tuple[Path, RunResult]]) -> None:
    run_dir, _ = scenario_runs["nightly-update-blank-receipts"]
    server = StudioServer(lambda: Replay(run_dir), port=0)
    server.serve_in_thread()
    try:
        client = Client(server)
        status, page, _ = client.request("GET", "/")
        assert status == 200
        assert '"mode": "replay"' in page
        client.act(action="seek", position=10_000)
        state = client.state()
        assert len(state["findings"]) == 40
        assert state["slips_total"] == 52
        status, answer, _ = client.request("POST", "/api/action", {"action": "sale"})
        assert status == 400
        assert "unknown replay action" in answer["error"]
    finally:
        server.shutdown()
