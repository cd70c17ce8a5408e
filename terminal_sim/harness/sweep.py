"""Crash-point enumeration and the power-dip sweep: prove a firmware profile safe.

A *lifecycle* is a tiny day that exercises one flow (a sale, a void, a refund, a
reversal of a sale, void or refund after a lost reply, the end-of-day settlement).
:func:`crash_points` runs each one clean and records every crash point it passes, in
order: the list is read off the code as it runs, never written by hand. :func:`sweep`
then runs each lifecycle once per crash point with a power dip there (single dips)
and, for each crash point the recovery passes after that dip, once more with a second
dip there (pairs). Every run is reconciled; a robust profile must show no forbidden finding
and must drain its queues (liveness) once the dips stop.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from terminal_sim.base.cards import Card, catalog_card
from terminal_sim.base.clock import DEFAULT_EPOCH
from terminal_sim.errors import ConfigurationError
from terminal_sim.scenario.loader import FaultSpec, SaleSpec, Scenario, TerminalSpec, VoidSpec
from terminal_sim.sim.simulation import Simulation

FORBIDDEN = ("LOST_RECORD", "ORPHAN_AUTHORIZATION", "DUPLICATE_CHARGE")
TERMINAL = "T0000001"


def _sale(at_s: int, amount: int = 1250, kind: str = "sale") -> SaleSpec:
    card = catalog_card("visa-approve")
    return SaleSpec(at_s * 1000, TERMINAL, amount, "EUR", Card(card.pan, label=card.name),
                    kind=kind)


#: lifecycle -> (sales, voids, faults that shape the flow)
LIFECYCLES: dict[str, tuple[tuple[SaleSpec, ...], tuple[VoidSpec, ...], tuple[FaultSpec, ...]]]
LIFECYCLES = {
    "sale": ((_sale(10),), (), ()),
    "void": ((_sale(10),), (VoidSpec(120_000, TERMINAL),), ()),
    "reversal": ((_sale(10),), (),
                 (FaultSpec("link-drop-reply", {"message": "0210", "nth": 1}, None),)),
    "refund": ((_sale(10), _sale(90, 400, "refund")), (), ()),
    # a void and a refund whose reply is lost: each is reversed, like a sale
    "void-reversal": ((_sale(10),), (VoidSpec(120_000, TERMINAL),),
                      (FaultSpec("link-drop-reply", {"message": "0210", "nth": 2}, None),)),
    "refund-reversal": ((_sale(10), _sale(90, 400, "refund")), (),
                        (FaultSpec("link-drop-reply", {"message": "0210", "nth": 2}, None),)),
    "declined": ((_sale(10, 1251),), (), ()),
    "two-sales": ((_sale(10), _sale(90, 700)), (), ()),
}


def lifecycle_scenario(name: str, profile: str, settings: dict[str, Any] | None = None,
                       faults: tuple[FaultSpec, ...] = ()) -> Scenario:
    try:
        sales, voids, shaping = LIFECYCLES[name]
    except KeyError:
        raise ConfigurationError(f"unknown lifecycle {name!r}; known: "
                                 f"{', '.join(LIFECYCLES)}") from None
    return Scenario(
        path=f"<lifecycle {name}>", name=f"lifecycle-{name}", description="", seed=1,
        profile=profile, profile_settings=dict(settings or {}), start=DEFAULT_EPOCH,
        terminals=(TerminalSpec(TERMINAL, "M00000000000001", "SWEEP SHOP"),),
        sales=sales, voids=voids, generate=None, faults=shaping + faults, expect=())


@dataclass
class Observed:
    """One run: the crash points passed (in order) and what reconciliation found."""

    points: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    liveness: list[str] = field(default_factory=list)
    cut_at: list[int] = field(default_factory=list)  # index in points of each power cut


def run_lifecycle(name: str, profile: str, settings: dict[str, Any] | None = None,
                  faults: tuple[FaultSpec, ...] = ()) -> Observed:
    """Run one lifecycle, recording crash points, findings and liveness."""
    sim = Simulation(lifecycle_scenario(name, profile, settings, faults))
    observed = Observed()
    sim.build()
    for node in sim.nodes.values():
        # first observer: it sees every point, even the one a dip then fires at
        node.crash_observers.insert(0, lambda _n, point: observed.points.append(point))
        cut = node.power_cut

        def recording_cut(*args: Any, _cut: Callable[..., None] = cut,
                          **kwargs: Any) -> None:
            observed.cut_at.append(len(observed.points))
            _cut(*args, **kwargs)

        node.power_cut = recording_cut  # type: ignore[method-assign]
    try:
        sim.play()
        result = sim.finish()
    finally:
        sim.close_trace()
    observed.findings = [f.to_dict() for f in result.findings]
    observed.liveness = list(result.liveness)
    return observed


def crash_points(profile: str, settings: dict[str, Any] | None = None
                 ) -> dict[str, list[str]]:
    """Every crash point of every lifecycle, in the order a clean run passes them,
    including those of power-on recovery (reached by one dip in the sale flow)."""
    found: dict[str, list[str]] = {}
    for name in LIFECYCLES:
        found[name] = _unique(run_lifecycle(name, profile, settings).points)
    recovery: list[str] = []
    for point in found["sale"]:
        dipped = run_lifecycle("sale", profile, settings, (_dip(point, 1),))
        after = dipped.points[dipped.cut_at[0]:] if dipped.cut_at else []
        recovery += [p for p in after if p.split("/")[0] in ("power_on", "reversal")]
    found["recovery"] = _unique(recovery)
    return found


def _unique(points: list[str]) -> list[str]:
    return list(dict.fromkeys(points))


def _dip(point: str, nth: int, kind: str = "power") -> FaultSpec:
    return FaultSpec("power-dip", {"at": point, "nth": nth, "down_s": 30, "kind": kind}, None)


def _forbidden(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bad = []
    for finding in findings:
        if finding["code"] in FORBIDDEN:
            bad.append(finding)
        elif finding["code"] == "STRAY_RECEIPT":
            receipt = finding["evidence"].get("receipt") or {}
            if receipt.get("outcome") == "APPROVED":
                bad.append(finding)
    return bad


@dataclass
class SweepResult:
    profile: str
    cut: str
    synchronous: str
    points: dict[str, list[str]]
    runs: int = 0
    findings: Counter[str] = field(default_factory=Counter)
    by_crash_point: dict[str, Counter[str]] = field(default_factory=dict)
    forbidden: list[dict[str, Any]] = field(default_factory=list)
    liveness: list[dict[str, Any]] = field(default_factory=list)

    @property
    def crash_point_count(self) -> int:
        return len({p for points in self.points.values() for p in points})

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "cut": self.cut,
            "synchronous": self.synchronous,
            "crash_points": self.crash_point_count,
            "lifecycles": {k: len(v) for k, v in self.points.items()},
            "runs": self.runs,
            "findings": dict(sorted(self.findings.items())),
            "forbidden": len(self.forbidden),
            "forbidden_examples": self.forbidden[:10],
            "liveness_failures": self.liveness[:20],
            "by_crash_point": {k: dict(sorted(v.items()))
                               for k, v in sorted(self.by_crash_point.items())},
        }


def sweep(profile: str, *, cut: str = "power", synchronous: str | None = None,
          pairs: bool = True, on_run: Callable[[], None] | None = None) -> SweepResult:
    """Power-dip every crash point of every lifecycle (and pairs with recovery)."""
    settings: dict[str, Any] = {}
    if synchronous is not None:
        settings["journal_synchronous"] = synchronous
    from terminal_sim.core.profiles import get_profile

    effective = get_profile(profile).with_settings(**settings)
    points = crash_points(profile, settings)
    result = SweepResult(profile, cut, effective.journal_synchronous, points)
    for lifecycle, plan in _plans(points, profile, settings, cut, pairs):
        label, faults = plan
        observed = run_lifecycle(lifecycle, profile, settings, faults)
        result.runs += 1
        codes = Counter(f["code"] for f in observed.findings)
        result.findings.update(codes)
        result.by_crash_point.setdefault(label, Counter()).update(codes)
        for finding in _forbidden(observed.findings):
            result.forbidden.append({"lifecycle": lifecycle, "dips": label,
                                     "code": finding["code"], "summary": finding["summary"]})
        for problem in observed.liveness:
            result.liveness.append({"lifecycle": lifecycle, "dips": label, "problem": problem})
        if on_run is not None:
            on_run()
    return result


def _plans(points: dict[str, list[str]], profile: str, settings: dict[str, Any], cut: str,
           pairs: bool) -> Iterator[tuple[str, tuple[str, tuple[FaultSpec, ...]]]]:
    for lifecycle, names in points.items():
        if lifecycle == "recovery":
            continue
        for point in names:
            first = _dip(point, 1, cut)
            yield lifecycle, (point, (first,))
            if not pairs:
                continue
            single = run_lifecycle(lifecycle, profile, settings, (first,))
            if not single.cut_at:
                continue
            after = single.points[single.cut_at[0]:]
            seen: Counter[str] = Counter(single.points[:single.cut_at[0]])
            offered: set[str] = set()
            for second in after:
                seen[second] += 1
                flow = second.split("/")[0]
                if flow in ("power_on", "reversal") and second not in offered:
                    offered.add(second)
                    nth = seen[second]
                    yield lifecycle, (f"{point} + {second}",
                                      (first, dataclasses.replace(
                                          _dip(second, nth, cut),
                                          params={**_dip(second, nth, cut).params,
                                                  "probability": 1.0})))


def sweep_count(points: dict[str, list[str]]) -> int:
    return sum(len(v) for k, v in points.items() if k != "recovery")
