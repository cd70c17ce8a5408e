"""Shrinking: deterministic, same reason, within the issue's size bounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from terminal_sim.explore.judge import judge_world
from terminal_sim.explore.output import minimal_text, write_exploration
from terminal_sim.explore.runner import explore
from terminal_sim.explore.shrink import shrink
from terminal_sim.explore.world import generate_world
from terminal_sim.scenario.loader import parse_scenario


def _items(data: dict[str, Any]) -> int:
    return sum(len(data["workload"].get(k, [])) for k in ("sales", "refunds", "voids"))


def _big_world() -> dict[str, Any]:
    for index in range(100):
        data = generate_world(11, index, "naive").data
        names = [f["name"] for f in data["faults"]]
        if (len(data["terminals"]) >= 3 and _items(data) >= 10 and "power-dip" in names
                and len(names) >= 6):
            return data
    raise AssertionError("no big world among the first 100")


def _fails(data: dict[str, Any]) -> bool:
    """A fake failure: a power dip and a sale at the second terminal, after 09:00."""
    return (any(f["name"] == "power-dip" for f in data["faults"])
            and any(s["terminal"] == "T0000002" and s["at"] >= "09:00"
                    for s in data["workload"].get("sales", [])))


def test_a_fake_failure_shrinks_to_what_it_needs() -> None:
    data = _big_world()
    data["workload"]["sales"].append({"at": "10:00:00", "terminal": "T0000002",
                                      "amount": 500, "card": "visa-approve"})
    shrunk = shrink(data, _fails)
    minimal = shrunk.data
    assert _fails(minimal)
    assert [f["name"] for f in minimal["faults"]] == ["power-dip"]
    assert _items(minimal) == 1
    assert minimal["terminals"] == [
        t for t in data["terminals"] if t["id"] == "T0000002"]
    # the rest is back to default; `until` stays: it is what makes the world heal
    assert minimal["faults"][0].keys() <= {"name", "at", "time", "until"}
    assert "profile_settings" not in minimal
    assert any("faults" in note for note in shrunk.removed)
    assert shrink(data, _fails).data == minimal  # deterministic
    parse_scenario(yaml.safe_dump(minimal), "minimal.yaml")
    assert data["faults"] != minimal["faults"]  # the input is not changed


def test_shrinking_stops_at_its_budget() -> None:
    seen = []

    def fails(data: dict[str, Any]) -> bool:
        seen.append(data)
        return True

    shrunk = shrink(_big_world(), fails, budget=4)
    assert shrunk.runs == 4 == len(seen)


def fake_judge(run_dir: Path) -> list[str]:
    """Fails every world whose scenario holds a sale at the first terminal."""
    scenario = yaml.safe_load((run_dir / "scenario.yaml").read_text(encoding="utf-8"))
    sales = scenario["workload"].get("sales", [])
    return ["fake:first-terminal"] if any(s["terminal"] == "T0000001" for s in sales) else []


def test_a_judge_s_reason_is_judged_and_shrunk(tmp_path: Path) -> None:
    found = explore("robust", 5, runs=1, judges=[fake_judge], shrink_budget=12)
    [failure] = found.failures
    assert failure.reason == "fake:first-terminal"
    assert failure.minimal is not None
    assert _items(failure.minimal) < _items(failure.scenario)
    assert "fake:first-terminal" in judge_world(failure.minimal, "robust", [fake_judge]).reasons
    data = write_exploration(found, tmp_path)
    assert data["failing"][0]["minimal"] == "failures/fake-first-terminal-0000/minimal.yaml"
    text = (tmp_path / data["failing"][0]["minimal"]).read_text(encoding="utf-8")
    assert text == minimal_text(failure, "robust", 5)
    assert text.startswith("# Minimal scenario of world 0 (explore-5-0)")
    parse_scenario(text, "minimal.yaml")
    assert (tmp_path / data["failing"][0]["dir"] / "reproduce.sh").read_text(
        encoding="utf-8").endswith("pos-sim run minimal.yaml --profile robust --out run\n")


def test_shrinking_keeps_a_world_healing() -> None:
    """``until`` and a ``lasting`` duration are never dropped: without them a fault would
    last for ever, and a liveness failure would have another cause."""
    data = _big_world()
    data["faults"] = [{"name": "printer-paper-out", "refill_s": 600, "until": "09:00:00",
                       "probability": 0.5}]
    minimal = shrink(data, lambda candidate: bool(candidate.get("faults"))).data
    assert minimal["faults"] == [{"name": "printer-paper-out", "refill_s": 600,
                                  "until": "09:00:00"}]
