"""Staged loads (graph/sync.py): every load that changes something is written as a new version
under a physical name of its own, in batches, and switched in with one small transaction.
(`load_tx_max_rows=1`, which used to force staging, is kept here: it must not change anything.)"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import cli.main
import graph.sync
from graph.consistent import consistent_view
from graph.db import Database
from graph.dump import dump_scenario
from graph.history import Content, HistoryPolicy, materialize, physical_name, read_content, versions
from graph.settings import Settings
from graph.sync import SyncResult, conflict_message, delete_scenario, leftovers
from loaders import Limits, limits_from, load_bundle
from tests.bundles import SMALL_BUNDLE, write_yaml
from tests.children import LoaderChild

REPO = Path(__file__).resolve().parents[2]
CURRENT, TARGET = REPO / "examples" / "insurer", REPO / "examples" / "insurer-target"
STAGED = Limits(load_tx_max_rows=1)
DAY_1 = date(2026, 1, 1)


def read_content_of(db: Database, physical: str) -> Content:
    return db.execute_read(lambda tx: read_content(tx, physical))


def _summary(result: SyncResult) -> dict[str, Any]:
    out = result.as_dict()
    del out["seconds"], out["scenario"]
    return out


def _meta(db: Database, scenario: str) -> dict[str, Any]:
    rows = db.read(
        "MATCH (s:Scenario {name: $s}) RETURN s.entity_count AS entities, s.relationship_count AS relationships, "
        "s.bundle_digest AS digest, s.lock AS lock",
        {"s": scenario},
    )
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def other(db: Database, scenario: str) -> Any:
    name = f"{scenario}-ref"
    yield name
    delete_scenario(db, name)


def test_the_setting_reaches_the_loader(test_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.model_fields["load_tx_max_rows"].default == 2_000_000 == Limits().load_tx_max_rows
    monkeypatch.setenv("TOMGRAPH_LOAD_TX_MAX_ROWS", "7")
    assert limits_from(Settings()).load_tx_max_rows == 7
    monkeypatch.setenv("TOMGRAPH_LOAD_TX_MAX_ROWS", "0")
    with pytest.raises(ValidationError):
        Settings()


def test_a_staged_load_equals_the_one_transaction_load(db: Database, scenario: str, other: str) -> None:
    # A first load, then a sync over it that creates, updates and removes.
    for path in (CURRENT, TARGET):
        staged = load_bundle(db, path, scenario, limits=STAGED)
        plain = load_bundle(db, path, other)
        assert staged.staged and plain.staged
        assert _summary(staged) == _summary(plain)
        assert dump_scenario(db, scenario) == dump_scenario(db, other)
        assert _meta(db, scenario) == _meta(db, other)
        assert leftovers(db, scenario) == 0


def test_a_staged_load_in_many_batches(
    db: Database, scenario: str, other: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graph.sync, "BATCH_SIZE", 7)
    monkeypatch.setattr(graph.sync, "DELETE_BATCH_SIZE", 5)
    load_bundle(db, CURRENT, scenario, limits=STAGED)
    steps: list[tuple[int, int]] = []
    result = load_bundle(db, TARGET, scenario, limits=STAGED, progress=lambda d, t: steps.append((d, t)))
    total = steps[0][1]
    assert result.staged and total > 50 and steps == [(d, total) for d in range(1, total + 1)]
    assert leftovers(db, scenario) == 0
    load_bundle(db, CURRENT, other)
    plain = load_bundle(db, TARGET, other)
    assert _summary(result) == _summary(plain)
    assert dump_scenario(db, scenario) == dump_scenario(db, other)


def test_sync_removal_works_staged(db: Database, scenario: str, other: str) -> None:
    # The target adds entities to the current model; going back removes them.
    load_bundle(db, TARGET, scenario, limits=STAGED)
    result = load_bundle(db, CURRENT, scenario, limits=STAGED)
    assert result.staged and sum(c.removed for c in result.entities.values()) > 0
    assert sum(c.removed for c in result.relationships.values()) > 0
    load_bundle(db, CURRENT, other)
    assert dump_scenario(db, scenario) == dump_scenario(db, other)


def test_a_staged_reload_changes_nothing_and_writes_nothing(db: Database, scenario: str) -> None:
    first = load_bundle(db, CURRENT, scenario, limits=STAGED)
    before = dump_scenario(db, scenario)
    ids = db.read(
        "MATCH (n:Entity {scenario: $s}) RETURN elementId(n) AS e ORDER BY e", {"s": physical_name(db, scenario)}
    )
    progress: list[tuple[int, int]] = []
    second = load_bundle(db, CURRENT, scenario, limits=STAGED, progress=lambda d, t: progress.append((d, t)))
    assert first.changed and not second.changed and not second.staged
    assert second.as_dict()["entities"] == {} and second.as_dict()["relationships"] == {}
    assert progress == [(0, 0)]  # not a single batch written
    assert dump_scenario(db, scenario) == before
    # the very same nodes: nothing was rewritten or moved
    assert (
        db.read(
            "MATCH (n:Entity {scenario: $s}) RETURN elementId(n) AS e ORDER BY e", {"s": physical_name(db, scenario)}
        )
        == ids
    )
    assert len(versions(db, scenario)) == 1  # no new version either
    assert leftovers(db, scenario) == 0


def _plant_leftovers(db: Database, scenario: str) -> None:
    db.write(
        "CREATE (:Entity:Unit {scenario: $a, id: 'u1', name: 'x'})-[:PART_OF]->(:Entity:Unit {scenario: $a, id: 'u2'}) "
        "CREATE (:Entity:Role {scenario: $b, id: 'r1', name: 'y'})",
        {"a": f"{scenario}~stage-dead", "b": f"{scenario}~old-dead"},
    )


def test_delete_scenario_removes_leftovers(db: Database, scenario: str) -> None:
    load_bundle(db, CURRENT, scenario, limits=STAGED)
    _plant_leftovers(db, scenario)
    neighbour = f"{scenario}x"  # a scenario whose name starts with this one's: untouched
    load_bundle(db, CURRENT, neighbour)
    try:
        assert leftovers(db, scenario) == 3
        delete_scenario(db, scenario)
        assert leftovers(db, scenario) == 0
        assert db.read("MATCH (n:Entity {scenario: $s}) RETURN count(n) AS n", {"s": scenario}) == [{"n": 0}]
        assert db.read("MATCH (s:Scenario {name: $s}) RETURN count(s) AS n", {"s": scenario}) == [{"n": 0}]
        assert len(dump_scenario(db, neighbour)["nodes"]) > 0
    finally:
        delete_scenario(db, neighbour)


def test_a_load_removes_leftovers_first(db: Database, scenario: str, other: str) -> None:
    load_bundle(db, CURRENT, scenario)
    _plant_leftovers(db, scenario)
    result = load_bundle(db, CURRENT, scenario)  # not staged, and no change: still cleans
    assert not result.changed and leftovers(db, scenario) == 0
    load_bundle(db, CURRENT, other)
    assert dump_scenario(db, scenario) == dump_scenario(db, other)


@pytest.mark.parametrize("point", ["staging", "switched"])
def test_a_killed_staged_loader_leaves_the_old_or_the_new_version(
    db: Database, scenario: str, other: str, cli_env: dict[str, str], point: str
) -> None:
    load_bundle(db, CURRENT, scenario, effective=DAY_1)
    before = dump_scenario(db, scenario)
    load_bundle(db, TARGET, other)
    new = dump_scenario(db, other)
    child = LoaderChild("tests.loaders._staged_child", [str(TARGET), scenario, point], cli_env)
    child.wait_for(point)
    child.kill()
    assert dump_scenario(db, scenario) == (before if point == "staging" else new)
    # Staging: invisible garbage, until a load finds its lease run out. Switched: nothing left
    # over, and the old version is history.
    assert (leftovers(db, scenario) > 0) == (point == "staging")
    assert len(versions(db, scenario)) == (1 if point == "staging" else 2)
    result = load_bundle(db, TARGET, scenario, limits=STAGED, history=HistoryPolicy(lease_s=0, grace_s=0))
    assert leftovers(db, scenario) == 0
    assert dump_scenario(db, scenario) == new
    assert result.changed == (point == "staging")
    assert dump_scenario(db, scenario, DAY_1) == before  # and the old version is still readable


def test_a_load_that_switches_in_during_another_ones_staging_comes_before_it(
    tmp_path: Path, db: Database, scenario: str, other: str
) -> None:
    load_bundle(db, CURRENT, scenario, effective=DAY_1)
    small = write_yaml(SMALL_BUNDLE, tmp_path / "small.yaml")

    def other_load_meanwhile(done: int, total: int) -> None:
        if done == 1:  # between step 1 (read, diff) and step 3 (the switch)
            assert leftovers(db, scenario) > 0
            load_bundle(db, small, scenario, effective=DAY_1)  # leaves the running load's staging alone

    load_bundle(db, TARGET, scenario, limits=STAGED, progress=other_load_meanwhile, effective=DAY_1)
    # Both loads are versions, in the order they switched in; the later one is in force.
    assert [v.seq for v in versions(db, scenario)] == [1, 2, 3]
    load_bundle(db, TARGET, other)
    assert dump_scenario(db, scenario) == dump_scenario(db, other)
    assert leftovers(db, scenario) == 0
    # The delta of version 2 leads back from version 3 (not from version 1, which the staged
    # load had compared with): rebuilding version 2 gives the small bundle.
    load_bundle(db, small, other)
    middle = materialize(db, scenario, 2, HistoryPolicy())
    assert read_content_of(db, middle) == read_content_of(db, physical_name(db, other))


def test_a_conflict_is_one_line_and_exit_1_from_tomgraph_load(
    tmp_path: Path,
    db: Database,
    scenario: str,
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_bundle(db, CURRENT, scenario)
    small = write_yaml(SMALL_BUNDLE, tmp_path / "small.yaml")
    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TOMGRAPH_LOAD_TX_MAX_ROWS", "1")
    monkeypatch.setattr(cli.main, "_context", None)
    real_load = cli.main.load_bundle

    def load_with_another_meanwhile(*args: Any, progress: Any = None, **kwargs: Any) -> SyncResult:
        assert kwargs["limits"].load_tx_max_rows == 1

        def meanwhile(done: int, total: int) -> None:
            if done == 1:
                # Another load that takes this one's staging for a dead loader's (lease 0).
                real_load(db, small, scenario, history=HistoryPolicy(lease_s=0))

        return real_load(*args, progress=meanwhile, **kwargs)

    monkeypatch.setattr(cli.main, "load_bundle", load_with_another_meanwhile)
    monkeypatch.setattr(sys, "argv", ["tomgraph", "load", str(TARGET), "--scenario", scenario, "--quiet"])
    with pytest.raises(SystemExit) as exit_:
        cli.main.main()
    assert exit_.value.code == 1
    assert capsys.readouterr().err.strip() == f"error: {conflict_message(scenario)}"


def test_a_reader_during_staging_sees_the_old_version(db: Database, scenario: str) -> None:
    load_bundle(db, CURRENT, scenario)
    before = dump_scenario(db, scenario)
    seen: list[dict[str, Any]] = []

    def read_meanwhile(done: int, total: int) -> None:
        if done == total - 1:  # everything staged, the switch next
            with consistent_view(db, scenario) as view:
                nodes = view.read(
                    "MATCH (n:Entity {scenario: $s}) RETURN n.id AS id, labels(n) AS labels, n.name AS name",
                    {"s": view.physical},
                )
                rels = view.read(
                    "MATCH (a:Entity {scenario: $s})-[r]->(b:Entity) RETURN type(r) AS type, a.id AS a, b.id AS b",
                    {"s": view.physical},
                )
                staged = db.read(
                    "MATCH (n:Entity) WHERE n.scenario STARTS WITH $p RETURN count(n) AS n", {"p": scenario + "~"}
                )
            seen.append({"nodes": nodes, "rels": rels, "staged": staged[0]["n"]})

    load_bundle(db, TARGET, scenario, limits=STAGED, progress=read_meanwhile)
    assert len(seen) == 1
    assert seen[0]["staged"] > 0
    assert sorted((n["id"], sorted(n["labels"]), n.get("name")) for n in seen[0]["nodes"]) == sorted(
        (n["id"], n["labels"], n.get("name")) for n in before["nodes"]
    )
    assert sorted((r["type"], r["a"], r["b"]) for r in seen[0]["rels"]) == before["relationships"]
    assert dump_scenario(db, scenario) != before
