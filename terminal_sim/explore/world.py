"""Worlds from a seed: whole scenarios for ``pos-sim explore``.

World number ``i`` of explore seed ``s`` is drawn from its own seed
``derive_seed(s, "explore/world/{i}")`` (:mod:`terminal_sim.base.seeds`: integers only,
the same on every Python, host and ``PYTHONHASHSEED``), and each part of it (terminals,
workload, faults, profile settings) from a stream of its own under that seed. A world is
a scenario dict that :func:`~terminal_sim.scenario.loader.parse_scenario` accepts:

* 1 to 4 terminals at 1 to 3 merchants;
* a day of 30 minutes to 10 hours: sales (1 to 8 per terminal), refunds and voids at
  random times, amounts, currencies and test cards (:data:`~terminal_sim.base.cards.TEST_CARDS`);
* swarm testing: each registered fault (third-party entry points included) is enabled
  with probability 1/2, with 1 or 2 instances, each with random parameters and trigger
  (:mod:`terminal_sim.explore.draw`); the operator's actions are the ``operator-reprint``
  fault;
* some of the profile's tunable settings (:data:`PROFILE_RANGES`), never its safeguards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from terminal_sim.base.cards import TEST_CARDS
from terminal_sim.base.money import CURRENCIES
from terminal_sim.base.seeds import Stream, derive_seed
from terminal_sim.explore.draw import DAY_START_HOUR, DayPlan, clock_text, draw_fault
from terminal_sim.plugins.registry import fault_class, known_fault_names

__all__ = ["MAX_INSTANCES", "PROFILE_RANGES", "START_DATE", "World", "generate_world",
           "world_seed"]

START_DATE = "2026-03-02"
#: The profile's tunables and the range explored (each drawn with probability 1/4).
PROFILE_RANGES: dict[str, tuple[int, int]] = {
    "journal_capacity": (1, 60),
    "sync_interval_ms": (30_000, 900_000),
    "reprint_retry_ms": (5_000, 300_000),
    "reprint_max_attempts": (1, 30),
    "host_timeout_ms": (2_000, 60_000),
}
#: Instances of one enabled fault in a world: 1 to this many.
MAX_INSTANCES = 2
_MERCHANTS = ("CORNER CAFE", "HARDWARE STORE", "CITY BAKERY")
_CARD_WEIGHTS = {"approve": 8, "other": 1}


@dataclass(frozen=True)
class World:
    """One generated scenario."""

    seed: int  # the explore seed
    index: int  # its number under that seed
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data["name"])

    def to_yaml(self) -> str:
        return dump_yaml(self.data)


def dump_yaml(data: dict[str, Any]) -> str:
    """A scenario dict as YAML, keys in the order written."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=88)


def world_seed(seed: int, index: int) -> int:
    """The seed world ``index`` of explore seed ``seed`` is drawn from."""
    return derive_seed(seed, f"explore/world/{index}")


def generate_world(seed: int, index: int, profile: str) -> World:
    """World ``index`` of explore seed ``seed``, for ``profile`` (which only names it)."""
    root = world_seed(seed, index)

    def stream(part: str) -> Stream:
        return Stream(derive_seed(root, part), part)

    terminals = _terminals(stream("terminals"))
    ids = tuple(t["id"] for t in terminals)
    day_s = stream("day").between(1800, 36_000)
    data: dict[str, Any] = {
        "name": f"explore-{seed}-{index}",
        "description": f"pos-sim explore --seed {seed}, world {index}",
        "seed": root % 2**31,
        "profile": profile,
    }
    settings = _settings(stream("profile"))
    if settings:
        data["profile_settings"] = settings
    data["start"] = f"{START_DATE}T{DAY_START_HOUR:02d}:00:00"
    data["terminals"] = terminals
    data["workload"] = _workload(stream("workload"), ids, day_s)
    data["faults"] = _faults(stream("faults"), DayPlan(ids, day_s))
    return World(seed, index, data)


def _terminals(stream: Stream) -> list[dict[str, Any]]:
    count = stream.weighted([1, 2, 3, 4], [4, 3, 2, 1])
    merchants = stream.between(1, min(3, count))
    terminals = []
    for number in range(1, count + 1):
        merchant = 1 if number == 1 else stream.between(1, merchants)
        terminals.append({"id": f"T{number:07d}", "merchant_id": f"M{merchant:014d}",
                          "merchant_name": _MERCHANTS[merchant - 1]})
    return terminals


def _settings(stream: Stream) -> dict[str, int]:
    return {name: stream.between(low, high) for name, (low, high) in PROFILE_RANGES.items()
            if stream.chance(0.25)}


def _item(stream: Stream, ids: tuple[str, ...], day_s: int) -> dict[str, Any]:
    cards = [card.name for card in TEST_CARDS]
    weights = [_CARD_WEIGHTS["approve" if name.endswith("-approve") else "other"]
               for name in cards]
    currencies = sorted(CURRENCIES)
    currency = "EUR" if stream.chance(0.7) else stream.pick(currencies)
    return {"at": stream.between(0, day_s), "terminal": stream.pick(ids),
            "amount": stream.between(1, 50_000), "currency": currency,
            "card": stream.weighted(cards, weights)}


def _workload(stream: Stream, ids: tuple[str, ...], day_s: int) -> dict[str, Any]:
    sales = [_item(stream, ids, day_s) for _ in range(len(ids) * stream.between(1, 8))]
    refunds = [_item(stream, ids, day_s) for _ in range(stream.weighted([0, 1, 2, 3],
                                                                        [4, 3, 2, 1]))]
    voids: list[dict[str, Any]] = [
        {"at": stream.between(0, day_s), "terminal": stream.pick(ids)}
        for _ in range(stream.weighted([0, 1, 2], [5, 3, 2]))]
    workload: dict[str, Any] = {}
    for key, items in (("sales", sales), ("refunds", refunds), ("voids", voids)):
        if items:
            items.sort(key=lambda item: (item["at"], item["terminal"]))
            workload[key] = [{**item, "at": clock_text(int(item["at"]))} for item in items]
    if stream.chance(0.5):  # a cashier who presents a failed purchase again
        first = stream.between(5, 120)
        workload["cashier"] = {"retry": True,
                               "retry_after_s": [first, first + stream.between(0, 300)],
                               "max_retries": stream.between(1, 3)}
    return workload


def _faults(stream: Stream, plan: DayPlan) -> list[dict[str, Any]]:
    faults = []
    for name in known_fault_names():
        if not stream.chance(0.5):
            continue
        cls = fault_class(name)
        for _ in range(stream.between(1, MAX_INSTANCES)):
            entry = draw_fault(name, cls, plan, stream)
            if entry is not None:
                faults.append(entry)
    return faults
