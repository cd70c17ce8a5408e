"""The pytest plugin: its fixtures, and scenario files collected and run as tests.

Inner pytest runs use pytester (in-process, fast); the JUnit acceptance check, the
entry-point check and the example run pytest in a subprocess, as CI would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from terminal_sim.plugins.registry import known_fault_names
from tests.support import ROOT

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True, scope="module")
def _builtin_faults_loaded_in_this_process() -> None:
    # pytester forgets the modules an inner run imported, not the fault registry they
    # registered into: were faults.* first imported by an inner run, the next inner run
    # would import them again and register every fault twice ("registered twice")
    known_fault_names()

REPO = ROOT
SCENARIOS = REPO / "scenarios"
PLUGIN = ("-p", "terminal_sim.testing.pytest_plugin")


@pytest.fixture(autouse=True)
def _faults_loaded_outside_inner_runs() -> None:
    """pytester drops the modules an inner run imported when the run ends; the fault
    registry outlives it, so fault modules first imported inside one run were imported
    again by the next and registered twice (a failure that depended on test order).
    Loading them out here keeps them across inner runs."""
    from terminal_sim.plugins.registry import known_fault_names

    known_fault_names()

FIXTURE_TESTS = '''
import datetime as dt

import pytest

from terminal_sim.errors import ConfigurationError
from terminal_sim.iso import codec
from terminal_sim.iso.messages import HostReply, HostRequest
from terminal_sim.sim.session import Session


def test_default_simulation(simulation):
    assert isinstance(simulation, Session)
    assert simulation.sim.profile.name == "naive" and simulation.sim.seed == 0
    simulation.sale(1250)
    simulation.settle()
    assert [r.facts.outcome for r in simulation.receipts()] == ["APPROVED"]


@pytest.mark.terminal_sim(profile="robust", seed=7, terminals=["T0000001", "T0000002"])
def test_marker_options(simulation):
    assert simulation.sim.profile.name == "robust" and simulation.sim.seed == 7
    assert sorted(simulation.sim.nodes) == ["T0000001", "T0000002"]


@pytest.mark.parametrize("simulation", ["robust", {"profile": "naive", "seed": 3}],
                         indirect=True)
def test_indirect_parameter(simulation, request):
    expected = {"robust": ("robust", 0), "naive": ("naive", 3)}
    name = simulation.sim.profile.name
    assert (name, simulation.sim.seed) == expected[name]


def test_inject_applies_to_the_simulation(simulation, inject):
    dip = inject("power-dip", at="sale/after:print", limit=1)
    simulation.sale(1250)
    simulation.settle()
    assert dip.trigger.fired == 1
    assert "STRAY_RECEIPT" in [f.code for f in simulation.findings()]


def test_inject_names_the_known_faults(inject):
    with pytest.raises(ConfigurationError, match="unknown fault 'power-cut'; known: "):
        inject("power-cut")


def test_virtual_printer(virtual_printer):
    virtual_printer.text("HELLO TERMINAL\\n")
    virtual_printer.cut()
    assert "HELLO TERMINAL" in virtual_printer.receipts[0].text


@pytest.mark.terminal_sim(seed=5)
def test_acquirer_with_its_ledger(acquirer):
    request = HostRequest("0200", "sale", "000001", "T0000001", "M00000000000001", 1250,
                          "EUR", dt.datetime(2026, 1, 5, 8, 0), pan="4111111111111111",
                          expiry="2912")
    answer = acquirer.handle(codec.encode(request.to_fields()), 0, dt.datetime(2026, 1, 5))
    assert HostReply.from_fields(codec.decode(answer)).response_code == "00"
    assert [(r["stan"], r["status"]) for r in acquirer.ledger.transactions()] == [
        ("000001", "approved")]


@pytest.mark.terminal_sim(artifacts=True)
def test_artifacts_under_tmp_path(simulation, tmp_path):
    simulation.sale(990)
    simulation.settle()
    simulation.close()
    assert (tmp_path / "terminal-sim" / "trace.jsonl").exists()
'''


def test_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixtures=FIXTURE_TESTS)
    result = pytester.runpytest(*PLUGIN, "--strict-markers")
    result.assert_outcomes(passed=9)


def test_command_line_profile(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_profile(simulation):
            assert simulation.sim.profile.name == "robust"
    """)
    pytester.runpytest(*PLUGIN, "--terminal-sim-profile=robust").assert_outcomes(passed=1)
    wrong = pytester.runpytest(*PLUGIN, "--terminal-sim-profile=paranoid")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    wrong.stderr.fnmatch_lines(["*--terminal-sim-profile=paranoid: unknown profile; choose "
                                "one of: naive, robust*"])


def test_unknown_option_says_the_known_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.terminal_sim(profle="robust")
        def test_typo(simulation):
            pass
    """)
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown terminal-sim option(s) profle; known: profile, "
                                 "seed*"])


def copy_scenarios(target: Path, *names: str) -> None:
    for name in names:
        shutil.copy(SCENARIOS / f"{name}.yaml", target / f"{name}.yaml")


def test_only_scenario_files_are_collected(pytester: pytest.Pytester) -> None:
    copy_scenarios(pytester.path, "happy-day")
    nested = pytester.mkdir("more")
    copy_scenarios(nested, "rogue-reprint")
    pytester.makefile(".yml", ci="jobs:\n  test:\n    runs-on: ubuntu-latest\n")
    pytester.makefile(".yaml", config="name: not-a-scenario\nseed: 1\n")
    result = pytester.runpytest(*PLUGIN, "--collect-only", "-q")
    # the inner run's order is random too (pytest-randomly loads there as well)
    collected = {line for line in result.outlines if "::" in line}
    assert collected == {"happy-day.yaml::happy-day", "more/rogue-reprint.yaml::rogue-reprint"}
    result.stdout.fnmatch_lines(["*2 tests*"])
    # named on the command line, a YAML file is taken for a scenario whatever it holds
    named = pytester.runpytest(*PLUGIN, "config.yaml")
    named.assert_outcomes(failed=1)
    named.stdout.fnmatch_lines(["*invalid scenario: *config.yaml:1: (document): "
                                "'workload' is a required property*"])


def test_malformed_scenario_is_a_failing_item(pytester: pytest.Pytester) -> None:
    copy_scenarios(pytester.path, "happy-day")
    pytester.makefile(".yaml", broken=(
        'name: broken\nseed: 1\nworkload:\n  sales:\n'
        '    - {at: "08:05", amount: 1250, card: visa-nope}\n'))
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*invalid scenario: *broken.yaml:5: workload.sales.0.card: "
                                 "unknown test card 'visa-nope'*"])


def test_unmet_expectation_fails_with_the_findings_and_the_trace(
        pytester: pytest.Pytester) -> None:
    text = (SCENARIOS / "late-host-reply.yaml").read_text(encoding="utf-8")
    assert "  DUPLICATE_CHARGE: 1\n" in text
    pytester.makefile(".yaml", late=text.replace("  DUPLICATE_CHARGE: 1\n",
                                                 "  DUPLICATE_CHARGE: 0\n"))
    artifacts = pytester.path / "artifacts"
    result = pytester.runpytest(*PLUGIN, f"--terminal-sim-artifacts={artifacts}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*scenario 'late-host-reply' (*late.yaml, seed *, profile naive): 1 of * "
        "expectation(s) not met",
        "  expected DUPLICATE_CHARGE == 0, found 1",
        "    - sale * was charged 2 times by the host*",
        f"trace:  {artifacts / 'late-host-reply' / 'trace.jsonl'}",
    ])
    assert (artifacts / "late-host-reply" / "report.json").exists()


def test_scenario_collection_can_be_switched_off(pytester: pytest.Pytester) -> None:
    copy_scenarios(pytester.path, "happy-day")
    pytester.makeini("[pytest]\nterminal_sim_scenarios = false\n")
    result = pytester.runpytest(*PLUGIN, "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def run_pytest(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300, env={**os.environ, **env},
                          check=False)


def test_junit_report_has_one_test_case_per_scenario(tmp_path: Path) -> None:
    suite = tmp_path / "scenarios"
    suite.mkdir()
    copy_scenarios(suite, "happy-day")
    text = (SCENARIOS / "power-dip-print-before-save.yaml").read_text(encoding="utf-8")
    broken = text.replace("STRAY_RECEIPT: \">= 1\"", "STRAY_RECEIPT: 0")
    assert broken != text
    (suite / "power-dip-print-before-save.yaml").write_text(broken, encoding="utf-8")
    junit = tmp_path / "out.xml"
    done = run_pytest([str(suite), f"--junitxml={junit}", *PLUGIN, "-p", "no:cacheprovider",
                       f"--basetemp={tmp_path / 'runs'}"], tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert sorted(str(c.get("name")) for c in cases) == ["happy-day", "power-dip-print-before-save"]
    failures = [f for c in cases for f in c.findall("failure")]
    assert len(failures) == 1
    message = failures[0].get("message", "")
    assert "expected STRAY_RECEIPT == 0, found " in message
    trace = Path(message.split("trace:", 1)[1].split()[0])
    assert trace.name == "trace.jsonl"
    assert trace.exists()
    assert str(tmp_path / "runs") in str(trace)


def test_the_recommended_entry_point_coexists_with_dash_p(tmp_path: Path) -> None:
    # the pyproject line we recommend, as an installed distribution would declare it:
    # with that entry-point name, an explicit -p terminal_sim.testing.pytest_plugin stays harmless
    dist = tmp_path / "site" / "terminal_sim_entry_check-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: terminal-sim-entry-check\n"
                                   "Version: 0.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[pytest11]\nterminal_sim.testing.pytest_plugin = terminal_sim.testing.pytest_plugin\n",
        encoding="utf-8")
    copy_scenarios(tmp_path, "happy-day")
    path = os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")])
    for extra in ([], list(PLUGIN)):
        done = run_pytest(["happy-day.yaml", "-q", "-p", "no:cacheprovider", *extra],
                          tmp_path, PYTHONPATH=path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 passed" in done.stdout


@pytest.mark.slow
def test_the_example_finds_the_stray_receipt_and_robust_passes() -> None:
    done = run_pytest(["examples/test_find_stray_receipt.py", "-q", "-p", "no:cacheprovider"],
                      REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
