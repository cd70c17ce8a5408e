"""The lab's control API: faults round-trip, bad faults named, strangers refused."""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from terminal_sim.cli.main import main
from terminal_sim.lab import LabClient, LabConfig, LabRequestError, LabSession
from terminal_sim.lab.faults import LAB_FAULTS, validate_fault


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 9))  # no packet is sent: only a route is chosen
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


@pytest.mark.parametrize(("spec", "field"), [
    ({"name": "printer-paper-oot"}, "name"),
    ({"name": "printer-paper-out", "refill_s": "soon"}, "refill_s"),
    ({"name": "printer-paper-out", "refil_s": 3}, "refil_s"),
    ({"name": "link-drop-reply", "message": "200"}, "message"),
    ({"name": "link-latency", "delay_ms": -5}, "delay_ms"),
    ({"name": "link-drop-reply", "probability": 2.0}, "probability"),
    ({"name": "acquirer-decline", "code": "too long"}, "code"),
    ({"name": "acquirer-host-down", "mode": "sulk"}, "mode"),
    ({"name": "printer-power-loss", "at_byte": -1}, "at_byte"),
    ({"name": "printer-cover-open", "printer": "p9"}, "printer"),
    ({"name": "link-slicer", "nth": 0}, "nth"),
    ({"name": "acquirer-decline", "code": "ZZ", "limit": 2}, "code"),  # no code it knows
    ({"name": "acquirer-decline", "code": "00"}, "code"),  # an approval is no decline
    ({"name": "acquirer-decline", "code": "91", "limit": -5}, "limit"),  # would never fire
    ({"name": "acquirer-decline", "limit": 0}, "limit"),
    ({"name": "link-drop-reply", "limit": 0}, "limit"),
])
def test_bad_faults_get_400_naming_the_field(pos_lab: LabSession, spec: dict[str, object],
                                              field: str) -> None:
    with pytest.raises(LabRequestError) as caught:
        pos_lab.client.request("POST", "/faults", spec)
    assert caught.value.status == 400
    assert caught.value.field == field, caught.value.message
    assert pos_lab.client.faults() == []


def test_every_lab_fault_validates_with_its_defaults() -> None:
    for name in LAB_FAULTS:
        assert validate_fault({"name": name})[0] == name


def test_cli_fault_add_list_remove_round_trip(pos_lab: LabSession) -> None:
    host, port = pos_lab.control.address if pos_lab.control else ("", 0)
    control = ["--control", f"{host}:{port}"]
    runner = CliRunner()
    added = runner.invoke(main, ["lab", "fault", "add", "link-drop-reply", "message=0200",
                                 "limit=1", *control])
    assert added.exit_code == 0, added.output
    fault_id = added.output.strip()
    listed = runner.invoke(main, ["lab", "fault", "list", "--json", *control])
    faults = json.loads(listed.output)
    assert [(f["id"], f["name"], f["message"], f["limit"]) for f in faults] == [
        (fault_id, "link-drop-reply", "0200", 1)]
    removed = runner.invoke(main, ["lab", "fault", "remove", fault_id, *control])
    assert removed.exit_code == 0, removed.output
    assert json.loads(runner.invoke(main, ["lab", "fault", "list", "--json",
                                           *control]).output) == []
    again = runner.invoke(main, ["lab", "fault", "remove", fault_id, *control])
    assert again.exit_code == 2
    assert "no active fault" in again.output
    bad = runner.invoke(main, ["lab", "fault", "add", "printer-paper-out", "refill_s=soon",
                               *control])
    assert bad.exit_code == 2
    assert "field: refill_s" in bad.output
    state = json.loads(runner.invoke(main, ["lab", "state", *control]).output)
    assert state["printers"][0]["state"]["paper"] == "ok"


def test_a_wrong_host_header_is_refused(pos_lab: LabSession) -> None:
    host, port = pos_lab.control.address if pos_lab.control else ("", 0)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("GET", "/faults", headers={"Host": f"attacker.example:{port}"})
    response = connection.getresponse()
    assert response.status == 403
    connection.close()


def test_non_loopback_clients_need_the_token(tmp_path: Path) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    for token in (None, "s3cret-token"):
        config = LabConfig(out=tmp_path / f"lab-{token}", printers=(), acquirer=None)
        with LabSession(config, control=("0.0.0.0", 0), token=token) as lab:
            port = lab.control.address[1] if lab.control else 0
            with pytest.raises(LabRequestError) as caught:
                LabClient((address, port)).faults()
            assert caught.value.status == 403
            assert LabClient(("127.0.0.1", port)).faults() == []  # loopback: always
            if token is not None:
                assert LabClient((address, port), token=token).faults() == []
                with pytest.raises(LabRequestError):
                    LabClient((address, port), token="wrong-token").faults()


def test_post_needs_json(pos_lab: LabSession) -> None:
    host, port = pos_lab.control.address if pos_lab.control else ("", 0)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("POST", "/faults", body=b"name=printer-paper-out",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert connection.getresponse().status == 415
    connection.close()
