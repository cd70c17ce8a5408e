"""``pos-sim acquirer``: help texts, bad options, and rules files."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from terminal_sim.acquirer.rules import NO_REPLY, OutcomeRules, load_rules
from terminal_sim.cli.acquirer_commands import acquirer
from terminal_sim.errors import ConfigurationError


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["serve", "-h"]])
def test_help(args: list[str]) -> None:
    result = CliRunner().invoke(acquirer, args)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_serve_help_names_its_options() -> None:
    output = CliRunner().invoke(acquirer, ["serve", "--help"]).output
    for option in ("--host", "--port", "--ledger", "--seed", "--rules", "--max-frame"):
        assert option in output
    assert "127.0.0.1" in output


def test_port_and_ledger_are_required() -> None:
    result = CliRunner().invoke(acquirer, ["serve"])
    assert result.exit_code == 2
    assert "--port" in result.output


def test_a_bad_rules_file_is_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("message_overrides: {0400: no-reply}\n")  # unquoted: YAML reads 256
    result = CliRunner().invoke(acquirer, ["serve", "--port", "0", "--ledger",
                                           str(tmp_path / "h.sqlite"), "--rules", str(rules)])
    assert result.exit_code == 2
    assert "quote it" in result.output
    assert "Traceback" not in result.output


def test_a_busy_port_is_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(acquirer, ["serve", "--port", str(port), "--ledger",
                                               str(tmp_path / "h.sqlite")])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_an_unopenable_ledger_is_exit_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(acquirer, ["serve", "--port", "0", "--ledger",
                                           str(tmp_path / "no" / "such" / "h.sqlite")])
    assert result.exit_code == 1
    assert "cannot open host ledger" in result.output


# -- rules as data -----------------------------------------------------------------------


def test_rules_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text('terminal_overrides: {"T0000009": "no-reply"}\n'
                    'message_overrides: {"0400": "no-reply", "0500": "96"}\n'
                    'cards: {"4242424242424242": "05"}\n')
    rules = load_rules(path)
    assert rules.decide(terminal_id="T0000009", pan="", amount_minor=100) == NO_REPLY
    assert rules.decide(terminal_id="T0000001", pan="4242424242424242", amount_minor=100) == "05"
    assert rules.decide(terminal_id="T0000001", pan="4000000000000002", amount_minor=100) == "05"
    assert rules.decide(terminal_id="T0000001", pan="", amount_minor=151) == "51"  # defaults
    assert rules.override_for("0400") == NO_REPLY
    assert rules.override_for("0420") is None
    assert rules.decide(terminal_id="T0000001", pan="", amount_minor=100, mti="0500") == "96"


def test_amount_endings_replace_the_defaults() -> None:
    rules = OutcomeRules.from_mapping({"amount_endings": {"13": "13"}})
    assert rules.decide(terminal_id="T0000001", pan="", amount_minor=113) == "13"
    assert rules.decide(terminal_id="T0000001", pan="", amount_minor=151) == "00"


@pytest.mark.parametrize(("data", "message"), [
    ({"colour": {}}, "unknown key"),
    ({"cards": {"4111111111111111": 5}}, "quoted 2-character"),
    ({"cards": {4111111111111111: "05"}}, "quote it"),
    ({"terminal_overrides": {"T1": "05"}}, "8-character terminal id"),
    ({"message_overrides": ["0400"]}, "expected a mapping"),
    (["cards"], "expected a mapping"),
])
def test_bad_rules_are_configuration_errors(data: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        OutcomeRules.from_mapping(data)  # type: ignore[arg-type]
    assert "4111111111111111" not in str(caught.value)  # never a full PAN, even in errors


def test_unreadable_or_invalid_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("cards: {: [\n")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_rules(broken)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_rules(empty) == OutcomeRules()
