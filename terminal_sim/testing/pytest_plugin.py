"""The pytest plugin: fixtures for developers, scenario files as tests for QA.

Installed with terminal-sim (entry point ``pytest11``); before that, or to be explicit,
``pytest -p terminal_sim.testing.pytest_plugin``. Switch it off with
``-p no:terminal_sim.testing.pytest_plugin``.

Fixtures
========

=====================  ==================================================================
fixture                what you get
=====================  ==================================================================
``simulation``         a fresh :class:`~terminal_sim.sim.session.Session`, closed afterwards
``inject``             ``inject(name, **params)``: a fault applied to ``simulation``
``virtual_printer``    a :class:`~printer.virtual.VirtualPrinter` (python-escpos API)
``acquirer``           a :class:`~terminal_sim.acquirer.host.MockAcquirer` over an
                       in-memory ledger (``acquirer.ledger``)
``pos_lab``            a running lab (:class:`~terminal_sim.lab.session.LabSession`: one
                       TCP printer, the acquirer, the control API, all on free loopback
                       ports, evidence under ``tmp_path/lab``): ``pos_lab.client`` adds
                       faults, ``pos_lab.acquirer`` and ``pos_lab.printer()`` are what
                       the application under test connects to; stopped afterwards
=====================  ==================================================================

``simulation`` is a naive terminal with seed 0 unless told otherwise, by (first match)

* indirect parametrization: ``@pytest.mark.parametrize("simulation", ["naive",
  "robust"], indirect=True)``, a profile name or a dict of the options below;
* the marker ``@pytest.mark.terminal_sim(profile="robust", seed=7)``;
* the command line: ``--terminal-sim-profile=robust``.

Options: ``profile``, ``seed``, ``terminals`` (ids), ``merchant_name``,
``profile_settings`` (dict) and ``artifacts`` (True: the session writes its trace,
stores and report under the test's ``tmp_path`` when it closes). ``acquirer`` takes
``seed`` from the marker too.

Scenario files
==============

``pytest scenarios/`` runs every scenario file as one test, named after the scenario:
it passes when the scenario's ``expect`` holds, and fails with the unmet expectations,
the findings behind them and the path of the trace. ``--junitxml`` then gives CI one
test case per scenario. A YAML file is taken for a scenario when it was named on the
command line, or when it has a top-level ``workload:`` key (so the other YAML of a
repository is left alone); a malformed one is a failing test with its
``file:line: field: reason``, not a collection error.

Each run writes its artifacts to a directory of its own: under pytest's temporary
directory (``--basetemp``) by default, or under ``--terminal-sim-artifacts=DIR``
(``DIR/<scenario name>/``) for CI to keep. The ini option ``terminal_sim_scenarios =
false`` stops the collection of scenario files.

This module imports only pytest and the standard library at import time: it is loaded
into every pytest run of an environment that has terminal-sim installed.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from printer.virtual import VirtualPrinter
    from terminal_sim.acquirer.host import MockAcquirer
    from terminal_sim.errors import ScenarioError
    from terminal_sim.lab.session import LabSession
    from terminal_sim.scenario.loader import Scenario
    from terminal_sim.sim.session import Session
    from terminal_sim.sim.simulation import RunResult

MARKER = "terminal_sim"
SESSION_OPTIONS = ("profile", "seed", "terminals", "merchant_name", "profile_settings",
                   "artifacts")
#: A scenario file, as opposed to any other YAML: a top-level ``workload`` key.
_SCENARIO_KEY = re.compile(rb"^workload\s*:", re.MULTILINE)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_ARTIFACT_DIRS = pytest.StashKey[list[Path]]()


# -- configuration -----------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("terminal-sim", "terminal-sim simulated payment terminal")
    group.addoption("--terminal-sim-profile", metavar="NAME", default=None,
                    help="firmware profile of the `simulation` fixture when a test does "
                         "not choose one (default: naive)")
    group.addoption("--terminal-sim-artifacts", metavar="DIR", default=None,
                    help="write each scenario file's artifacts to DIR/<scenario name>/ "
                         "(default: pytest's temporary directory)")
    parser.addini("terminal_sim_scenarios", type="bool", default=True,
                  help="collect terminal-sim scenario YAML files as tests (default: true)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(profile=..., seed=..., terminals=..., merchant_name=..., "
        "profile_settings=..., artifacts=False): options of the `simulation` and "
        "`acquirer` fixtures of terminal-sim")
    profile = config.getoption("--terminal-sim-profile")
    if profile is not None:
        from terminal_sim.core.profiles import PROFILES

        if profile not in PROFILES:
            raise pytest.UsageError(f"--terminal-sim-profile={profile}: unknown profile; "
                                    f"choose one of: {', '.join(PROFILES)}")
    config.stash[_ARTIFACT_DIRS] = []


# -- fixtures ----------------------------------------------------------------------------


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The options of this test's simulation: parameter, then marker, then command line."""
    options: dict[str, Any] = {}
    profile = request.config.getoption("--terminal-sim-profile")
    if profile is not None:
        options["profile"] = profile
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        if marker.args:
            raise pytest.UsageError(
                f"{request.node.nodeid}: @pytest.mark.{MARKER} takes keyword arguments only, "
                f"e.g. @pytest.mark.{MARKER}(profile='robust')")
        options.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, str):
        options["profile"] = param
    elif isinstance(param, dict):
        options.update(param)
    elif param is not None:
        raise pytest.UsageError(
            f"{request.node.nodeid}: parametrize `simulation` with profile names or dicts of "
            f"options ({', '.join(SESSION_OPTIONS)}), got {param!r}")
    unknown = sorted(set(options) - set(SESSION_OPTIONS))
    if unknown:
        raise pytest.UsageError(
            f"{request.node.nodeid}: unknown terminal-sim option(s) {', '.join(unknown)}; "
            f"known: {', '.join(SESSION_OPTIONS)}")
    return options


@pytest.fixture
def simulation(request: pytest.FixtureRequest) -> Iterator[Session]:
    """A fresh simulated terminal (a ``Session``), closed after the test."""
    from terminal_sim.sim.session import Session

    options = _options(request)
    if options.pop("artifacts", False):
        out_dir = Path(request.getfixturevalue("tmp_path")) / "terminal-sim"
        options["out_dir"] = out_dir
        request.node.user_properties.append(("terminal_sim_artifacts", str(out_dir)))
    if "terminals" in options:
        options["terminals"] = tuple(options["terminals"])
    session = Session(**options)
    yield session
    if not session.closed:
        session.close()


@pytest.fixture
def inject(simulation: Session) -> Callable[..., Any]:
    """``inject("power-dip", at="sale/after:print")``: a fault on ``simulation``; returns
    the fault (``simulation.remove(fault)`` switches it off)."""
    return simulation.inject


@pytest.fixture
def virtual_printer() -> VirtualPrinter:
    """A virtual receipt printer behind the python-escpos API."""
    from printer.virtual import VirtualPrinter

    return VirtualPrinter()


@pytest.fixture
def acquirer(request: pytest.FixtureRequest) -> Iterator[MockAcquirer]:
    """A mock acquirer over an in-memory host ledger (``acquirer.ledger``)."""
    from terminal_sim.acquirer.host import MockAcquirer
    from terminal_sim.acquirer.ledger import HostLedger
    from terminal_sim.base.seeds import SeedTree, derive_seed

    marker = request.node.get_closest_marker(MARKER)
    seed = int(marker.kwargs.get("seed", 0)) if marker is not None else 0
    ledger = HostLedger(":memory:")
    # the same streams a Simulation with this seed gives its host: same approval codes
    host = MockAcquirer(ledger, stream=SeedTree(seed).stream("acquirer"),
                        token_key=f"{derive_seed(seed, 'tokenization'):016x}")
    yield host
    ledger.close()


@pytest.fixture
def pos_lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LabSession]:
    """A lab for one test; ``@pytest.mark.terminal_sim(seed=..., printers=[...],
    framing=...)`` chooses its seed, printers (``"tcp://127.0.0.1:0"``, ``"serial"``) and
    the acquirer's framing (``"binary"``, ``"tpdu"``, ``"ascii"``)."""
    from terminal_sim.iso.framing import get_framing
    from terminal_sim.lab.lab import LabConfig
    from terminal_sim.lab.session import LabSession

    marker = request.node.get_closest_marker(MARKER)
    options = marker.kwargs if marker is not None else {}
    config = LabConfig(out=tmp_path / "lab",
                       printers=tuple(options.get("printers", ("tcp://127.0.0.1:0",))),
                       acquirer=("127.0.0.1", 0), seed=int(options.get("seed", 0)),
                       framing=get_framing(options.get("framing")))
    with LabSession(config) as session:
        yield session


# -- scenario files as tests -------------------------------------------------------------


def _looks_like_scenario(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)  # a scenario is small; a huge YAML file is not one
    except OSError:
        return False
    return _SCENARIO_KEY.search(head) is not None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    if not parent.config.getini("terminal_sim_scenarios"):
        return None
    if parent.session.isinitpath(file_path) or _looks_like_scenario(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One scenario YAML file: one test item."""

    def collect(self) -> Iterator[pytest.Item]:
        from terminal_sim.errors import ScenarioError
        from terminal_sim.scenario.loader import load_scenario

        try:
            scenario = load_scenario(self.path)
        except ScenarioError as error:  # malformed: a failing item that says where and why
            yield ScenarioItem.from_parent(self, name=self.path.stem, scenario=None,
                                           error=error)
            return
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario, error=None)


class ScenarioFailure(Exception):
    """A scenario ran and its expectations did not hold (or it could not be read)."""

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


class ScenarioItem(pytest.Item):
    """Runs one scenario; passes when its ``expect`` holds."""

    def __init__(self, *, scenario: Scenario | None, error: ScenarioError | None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.error = error
        self.out_dir: Path | None = None

    def runtest(self) -> None:
        if self.error is not None:
            raise ScenarioFailure(f"invalid scenario: {self.error}")
        if self.scenario is None:  # from_parent is only ever given one or the other
            raise ScenarioFailure("no scenario to run")
        from terminal_sim.harness.run import run_scenario

        self.out_dir = self._artifact_dir(self.scenario.name)
        result = run_scenario(self.scenario, out_dir=self.out_dir)
        if not result.passed:
            raise ScenarioFailure(self._unmet(result))
        # where a passing run left its artifacts: shown with -rP, -rA
        self.add_report_section("call", "terminal-sim", self._where())

    def _artifact_dir(self, name: str) -> Path:
        safe = _UNSAFE.sub("_", name).strip("._")[:60] or "scenario"
        root = self.config.getoption("--terminal-sim-artifacts")
        used = self.config.stash[_ARTIFACT_DIRS]
        if root is not None:
            target = Path(root) / safe
            n = 1
            while target in used:  # two files, one scenario name: keep both
                n += 1
                target = Path(root) / f"{safe}-{n}"
            target.mkdir(parents=True, exist_ok=True)
        else:
            target = _tmp_dir(self.config, f"scenario-{safe}")
        used.append(target)
        return target

    def _where(self) -> str:
        out = self.out_dir
        if out is None:
            return ""
        return f"trace:  {out / 'trace.jsonl'}\nreport: {out / 'report.json'}"

    def _unmet(self, result: RunResult) -> str:
        scenario = result.scenario
        expectations = result.report["expectations"]
        failed = [e for e in expectations if not e["passed"]]
        lines = [f"scenario {scenario.name!r} ({scenario.path}, seed {result.seed}, profile "
                 f"{result.profile.name}): {len(failed)} of {len(expectations)} "
                 "expectation(s) not met"]
        for expectation in failed:
            lines.append(f"  expected {expectation['code']} {expectation['expect']}, "
                         f"found {expectation['actual']}")
            behind = [f for f in result.findings if f.code == expectation["code"]]
            for finding in behind[:5]:
                lines.append(f"    - {finding.summary}")
            if len(behind) > 5:
                lines.append(f"    - ... and {len(behind) - 5} more in the report")
        lines.append(self._where())
        return "\n".join(lines)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        if isinstance(excinfo.value, ScenarioFailure):
            return excinfo.value.report
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario: {self.name}"


def _tmp_dir(config: pytest.Config, name: str) -> Path:
    # pytest's own factory: numbered per session, old sessions cleaned, --basetemp obeyed.
    # It is what the tmp_path_factory fixture returns; items cannot request fixtures.
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        return Path(factory.mktemp(name, numbered=True))
    return Path(tempfile.mkdtemp(prefix=f"terminal-sim-{name}-"))  # tmpdir plugin disabled


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    dirs = config.stash.get(_ARTIFACT_DIRS, [])
    if dirs:
        root = os.path.commonpath([str(d.parent) for d in dirs])
        terminalreporter.write_line(
            f"terminal-sim: artifacts of {len(dirs)} scenario run(s) under {root}")
