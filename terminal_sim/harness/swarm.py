"""Swarm intensities: a scenario's faults scaled by a factor of their own per seed.

``pos-sim campaign --swarm`` turns this on (Groce et al., "Swarm testing", ISSTA 2012): each
seed scales each fault by its own factor, so a campaign visits weaker and stronger
versions of the scenario's faults rather than one fixed point. The factor of fault
number ``i`` named ``name`` for seed ``s`` is ``between(50, 200) / 100`` (0.50 to 2.00,
in steps of 0.01) drawn from the stream ``derive_seed(s, "campaign/swarm/{i}/{name}")``
(:mod:`terminal_sim.base.seeds`: integers only, the same on every Python and host, and
independent of the run's own streams). Scaled are the parameters the scenario **gives**
(defaults stay what they are: the scenario allows what it writes down):

* ``probability`` and ``*_fraction`` parameters (when given): ``min(1, value x factor)``;
* every other integer or decimal parameter of the fault (``delay_ms``, ``down_s``,
  ``temperature_c``, ``print_fraction``, ``count`` ...), integers rounded; not the trigger's
  schedule (``nth``, ``limit``, ``from``, ``until``, ``terminals``), times of day
  (``time``: text or seconds) and ``amount`` (a value keyed in, not an intensity).

A scaled value the fault's own validation refuses (``print_fraction`` must stay below 1)
keeps the scenario's value. The scaled scenario is written out as YAML (the source of
the run, as ``Scenario.source``), so a failing seed's command runs exactly it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from terminal_sim.base.seeds import Stream, derive_seed
from terminal_sim.errors import ConfigurationError
from terminal_sim.scenario.loader import FaultSpec, Scenario, parse_scenario

__all__ = ["NOT_SCALED", "SWARM_PERCENT", "Intensity", "swarm_scenario"]

#: The swarm factor in percent: drawn uniformly from this range (both ends included).
SWARM_PERCENT = (50, 200)
#: Parameters the swarm leaves alone: the trigger's schedule, and values that are not
#: intensities.
NOT_SCALED = frozenset({"nth", "limit", "from", "until", "terminals", "amount"})


@dataclass(frozen=True)
class Intensity:
    """How the swarm scaled one fault for one seed."""

    index: int
    fault: str
    factor: float
    #: parameter -> (the scenario's value, the value used)
    params: dict[str, tuple[Any, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "fault": self.fault, "factor": self.factor,
                "params": {k: list(v) for k, v in self.params.items()}}


class _KeepTimestamps(yaml.SafeLoader):
    """Timestamps stay the text they were written as (as the scenario loader does)."""


_KeepTimestamps.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


class _BlockDumper(yaml.SafeDumper):
    """Multi-line text (descriptions) as ``|`` blocks: the written scenario stays readable."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text and not any(line != line.rstrip() for line in
                                               text.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockDumper.add_representer(str, _represent_text)


def _factor_percent(seed: int, index: int, name: str) -> int:
    stream = Stream(derive_seed(seed, f"campaign/swarm/{index}/{name}"),
                    f"campaign/swarm/{index}/{name}")
    return stream.between(*SWARM_PERCENT)


def _scaled(value: float, percent: int, kinds: tuple[type, ...]) -> float:
    """``value`` x ``percent`` / 100: decimals to 6 places, integers rounded (half to
    even). Products and quotients of IEEE doubles are exact-rounded: the same everywhere."""
    if float in kinds:
        return round(value * percent / 100, 6)
    return round(value * percent / 100)


def _scale_fault(spec: FaultSpec, index: int, seed: int) -> Intensity | None:
    from terminal_sim.plugins.registry import fault_class

    cls = fault_class(spec.name)
    params = cls.all_params()
    knobs = []
    for key, value in spec.params.items():
        param = params.get(key)
        if param is None or key in NOT_SCALED or isinstance(value, bool):
            continue
        kinds = param.kind if isinstance(param.kind, tuple) else (param.kind,)
        if str in kinds or not isinstance(value, int | float):
            continue  # text, or a time of day given as seconds
        knobs.append((key, value, kinds))
    if not knobs:
        return None
    percent = _factor_percent(seed, index, spec.name)
    values = dict(spec.params)
    changed: dict[str, tuple[Any, Any]] = {}
    for key, value, kinds in knobs:
        new = _scaled(value, percent, kinds)
        if key == "probability" or key.endswith("_fraction"):
            new = min(1.0, new)
        if new == value:
            continue
        trial = {**values, key: new}
        try:
            cls.validate(trial)
        except ConfigurationError:
            continue  # the fault refuses the scaled value: keep the scenario's
        values = trial
        changed[key] = (value, new)
    if not changed:
        return None
    return Intensity(index, spec.name, percent / 100, changed)


def swarm_scenario(scenario: Scenario, seed: int) -> tuple[Scenario, list[Intensity]]:
    """``scenario`` with its faults scaled for ``seed`` (see the module docstring), and
    what was scaled. Unchanged (the same object) when nothing can be scaled."""
    intensities = [found for index, spec in enumerate(scenario.faults)
                   if (found := _scale_fault(spec, index, seed)) is not None]
    if not intensities:
        return scenario, []
    data = yaml.load(scenario.source, Loader=_KeepTimestamps)  # a SafeLoader
    if not isinstance(data, dict) or not isinstance(data.get("faults"), list):
        raise ConfigurationError(f"{scenario.path}: the swarm needs the scenario's source")
    for intensity in intensities:
        item = data["faults"][intensity.index]
        for key, (_, new) in intensity.params.items():
            item[key] = new
    factors = ", ".join(f"{i.fault} x{i.factor:.2f}" for i in intensities)
    header = (f"# {scenario.name} with swarm intensities for seed {seed} ({factors}),\n"
              f"# written by pos-sim campaign from {scenario.path}\n")
    text = header + yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True,
                              width=88)
    derived = parse_scenario(text, f"{scenario.path} (swarm, seed {seed})")
    return derived, intensities
