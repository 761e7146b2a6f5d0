"""A run of checks sees one version of its scenario, even while a load of it commits (issue 3:
readers never see a half-loaded scenario; issue 8: two loads and a report at once; issue 16:
without locks, in a transaction that refuses writes)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from neo4j.exceptions import ClientError

from graph.consistent import consistent_view
from graph.db import Database
from graph.dump import dump_scenario
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.runner import run_checks, run_checks_in

REPO = Path(__file__).resolve().parents[2]
CURRENT, TARGET = REPO / "examples" / "insurer", REPO / "examples" / "insurer-target"
AS_OF = date(2026, 11, 22)


def test_a_load_does_not_wait_for_a_view_and_the_view_sees_only_the_old_version(db: Database, scenario: str) -> None:
    load_bundle(db, CURRENT, scenario)
    before = dump_scenario(db, scenario)
    catalog = load_catalog()
    expected_before = run_checks(db, catalog, scenario, AS_OF)
    with consistent_view(db, scenario) as view:
        load_bundle(db, TARGET, scenario)  # commits while the view is open: no lock to wait for
        inside = run_checks_in(view, catalog, AS_OF)
        seen = view.read("MATCH (n:Entity {scenario: $s}) RETURN count(n) AS n", {"s": view.physical})
    assert inside == expected_before
    assert seen == [{"n": len(before["nodes"])}]
    after = run_checks(db, catalog, scenario, AS_OF)
    assert after != expected_before
    assert dump_scenario(db, scenario) != before


def test_a_view_of_a_scenario_that_was_never_loaded_says_so(db: Database) -> None:
    with consistent_view(db, "never-loaded-here") as view:
        assert view.found is False
    assert db.read("MATCH (s:Scenario {name: 'never-loaded-here'}) RETURN count(s) AS n") == [{"n": 0}]


def test_a_view_refuses_to_write(db: Database, scenario: str) -> None:
    load_bundle(db, CURRENT, scenario)
    before = dump_scenario(db, scenario)
    lock_before = db.read("MATCH (s:Scenario {name: $s}) RETURN s.lock AS lock", {"s": scenario})
    with pytest.raises(ClientError) as refused, consistent_view(db, scenario) as view:
        view.read("MATCH (m:Model {scenario: $s}) SET m.name = 'renamed'", {"s": view.physical})
    assert "read" in (refused.value.message or "").lower()
    assert dump_scenario(db, scenario) == before
    assert db.read("MATCH (s:Scenario {name: $s}) RETURN s.lock AS lock", {"s": scenario}) == lock_before
