"""A load makes a scenario equal to its bundle: isolated, synced, idempotent, all or nothing."""

from __future__ import annotations

import copy
import json
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from graph.consistent import consistent_view
from graph.db import Database
from graph.dump import dump_scenario
from graph.history import physical_name
from graph.sync import ScenarioNameError, delete_scenario
from loaders import load_bundle
from tests.bundles import SMALL_BUNDLE, write_json, write_yaml


def _without(bundle: dict[str, Any], section: str, entity_id: str) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    out[section] = [item for item in out[section] if item["id"] != entity_id]
    return out


def test_scenarios_are_isolated(tmp_path: Path, db: Database, scenario: str) -> None:
    other = f"{scenario}-target"
    load_bundle(db, write_yaml(SMALL_BUNDLE, tmp_path / "a.yaml"), scenario)
    before = dump_scenario(db, scenario)
    smaller = _without(SMALL_BUNDLE, "kpis", "k-cycle")
    smaller["use_cases"][0].pop("kpis")
    load_bundle(db, write_yaml(smaller, tmp_path / "b.yaml"), other)
    try:
        assert dump_scenario(db, scenario) == before
        assert len(dump_scenario(db, other)["nodes"]) == len(before["nodes"]) - 1
    finally:
        delete_scenario(db, other)


def test_reload_of_the_same_bundle_changes_nothing(tmp_path: Path, db: Database, scenario: str) -> None:
    path = write_yaml(SMALL_BUNDLE, tmp_path / "a.yaml")
    first = load_bundle(db, path, scenario)
    before = dump_scenario(db, scenario)
    second = load_bundle(db, path, scenario)
    assert first.changed
    assert not second.changed
    assert second.as_dict()["entities"] == {} and second.as_dict()["relationships"] == {}
    assert dump_scenario(db, scenario) == before


def test_sync_removes_what_the_bundle_no_longer_has(tmp_path: Path, db: Database, scenario: str) -> None:
    load_bundle(db, write_yaml(SMALL_BUNDLE, tmp_path / "a.yaml"), scenario)
    changed = _without(SMALL_BUNDLE, "controls", "c-mon")
    changed["models"][0]["change_approvers"] = ["r-ceo"]
    changed["units"][1]["name"] = "Underwriting & Pricing"
    result = load_bundle(db, write_yaml(changed, tmp_path / "b.yaml"), scenario)
    assert result.as_dict()["entities"] == {
        "Control": {"created": 0, "updated": 0, "removed": 1},
        "Unit": {"created": 0, "updated": 1, "removed": 0},
    }
    assert result.as_dict()["relationships"] == {
        "APPLIES_TO": {"created": 0, "updated": 0, "removed": 1},
        "APPROVES_CHANGE": {"created": 1, "updated": 0, "removed": 1},
        "OPERATES": {"created": 0, "updated": 0, "removed": 1},
    }
    approvers = db.read(
        "MATCH (r:Role {scenario: $s})-[:APPROVES_CHANGE]->(:Model {id: 'm-score'}) RETURN r.id AS id",
        {"s": physical_name(db, scenario)},
    )
    assert approvers == [{"id": "r-ceo"}]
    assert db.read("MATCH (c:Control {scenario: $s}) RETURN count(c) AS n", {"s": physical_name(db, scenario)}) == [
        {"n": 0}
    ]


def test_an_id_that_changes_kind_is_replaced(tmp_path: Path, db: Database, scenario: str) -> None:
    load_bundle(db, write_yaml(SMALL_BUNDLE, tmp_path / "a.yaml"), scenario)
    changed = _without(SMALL_BUNDLE, "kpis", "k-cycle")
    changed["use_cases"][0].pop("kpis")
    changed["units"].append({"id": "k-cycle", "name": "Now a unit"})
    result = load_bundle(db, write_yaml(changed, tmp_path / "b.yaml"), scenario)
    assert result.entities["Kpi"].removed == 1 and result.entities["Unit"].created == 1
    labels = db.read(
        "MATCH (n:Entity {scenario: $s, id: 'k-cycle'}) RETURN labels(n) AS l", {"s": physical_name(db, scenario)}
    )
    assert [sorted(r["l"]) for r in labels] == [["Entity", "Unit"]]


def test_hostile_scenario_name_is_refused(tmp_path: Path, db: Database) -> None:
    with pytest.raises(ScenarioNameError):
        load_bundle(db, write_yaml(SMALL_BUNDLE, tmp_path / "a.yaml"), "x'}) DETACH DELETE n //")


def big_bundle(units: int, seed: int = 1) -> dict[str, Any]:
    """A bundle large enough that loading it takes a few seconds."""
    rng = random.Random(seed)
    bundle: dict[str, Any] = {"units": [], "roles": [], "people": []}
    for i in range(units):
        unit: dict[str, Any] = {"id": f"u{i}", "name": f"Unit {i}"}
        if i:
            unit["parent"] = f"u{rng.randrange(i)}"
        bundle["units"].append(unit)
        bundle["roles"].append({"id": f"r{i}", "name": f"Role {i}", "unit": f"u{i}"})
        bundle["people"].append({"id": f"p{i}", "name": f"Person {i}", "holds": [f"r{i}", f"r{rng.randrange(units)}"]})
    return bundle


def _load_in_child(path: Path, scenario: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "load", str(path), "--scenario", scenario, "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_loader_leaves_the_old_scenario(
    tmp_path: Path, db: Database, scenario: str, cli_env: dict[str, str], seed: int
) -> None:
    load_bundle(db, write_yaml(SMALL_BUNDLE, tmp_path / "old.yaml"), scenario)
    before = dump_scenario(db, scenario)
    big = write_json(big_bundle(20_000), tmp_path / "big.json")
    # The child prints `step D/N` after each written batch; killing it after a batch before the
    # last one kills it inside the transaction, before any commit can have been sent. (A kill
    # timed by the clock could land after the commit on a fast machine.)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._load_child", str(big), scenario],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    kill_at: int | None = None
    for line in child.stdout:
        if line.startswith("step "):
            done, total = (int(n) for n in line.split()[1].split("/"))
            kill_at = kill_at or random.Random(seed).randrange(1, total)
            if done == kill_at:
                break
    assert kill_at is not None and child.poll() is None, "the child ended before it wrote a batch"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert dump_scenario(db, scenario) == before
    result = load_bundle(db, big, scenario)
    assert result.entity_count == 60_000


def test_two_loads_of_one_scenario_do_not_interleave(
    tmp_path: Path, db: Database, scenario: str, cli_env: dict[str, str]
) -> None:
    a = big_bundle(8_000, seed=1)
    b = big_bundle(8_000, seed=2)
    for unit in b["units"]:
        unit["name"] += " (b)"
    paths = [write_json(a, tmp_path / "a.json"), write_json(b, tmp_path / "b.json")]
    children = [_load_in_child(p, scenario, cli_env) for p in paths]
    outcomes = [c.wait(timeout=300) for c in children]
    assert outcomes == [0, 0]
    names = {
        r["n"] for r in db.read("MATCH (u:Unit {scenario: $s}) RETURN u.name AS n", {"s": physical_name(db, scenario)})
    }
    parents = dump_scenario(db, scenario)["relationships"]
    expected = {json.dumps(sorted(x)) for x in (_rels_of(a), _rels_of(b))}
    # The result is exactly one of the two bundles, never a mix.
    assert all(n.endswith(" (b)") for n in names) or not any(n.endswith(" (b)") for n in names)
    assert json.dumps(sorted([list(r) for r in parents])) in expected


def _rels_of(bundle: dict[str, Any]) -> list[list[str]]:
    rels = []
    for unit in bundle["units"]:
        if "parent" in unit:
            rels.append(["PART_OF", unit["id"], unit["parent"]])
    for role in bundle["roles"]:
        rels.append(["IN_UNIT", role["id"], role["unit"]])
    for person in bundle["people"]:
        for role in dict.fromkeys(person["holds"]):
            rels.append(["HOLDS", person["id"], role])
    return rels


COUNT = "MATCH (n:Entity {scenario: $s}) RETURN count(n) AS n"


def test_concurrent_reader_never_sees_a_half_loaded_scenario(tmp_path: Path, db: Database, scenario: str) -> None:
    path = write_json(big_bundle(10_000), tmp_path / "big.json")
    counts: list[int] = []
    done = threading.Event()

    def count() -> int:
        # As every reader does: resolve the scenario to the version in force, then read it.
        with consistent_view(db, scenario) as view:
            if not view.found:
                return 0
            return int(view.read(COUNT, {"s": view.physical})[0]["n"])

    def read_counts() -> None:
        while not done.is_set():
            counts.append(count())

    reader = threading.Thread(target=read_counts)
    reader.start()
    try:
        load_bundle(db, path, scenario)
    finally:
        done.set()
        reader.join()
    counts.append(count())
    assert set(counts) <= {0, 30_000}
    assert counts[-1] == 30_000
