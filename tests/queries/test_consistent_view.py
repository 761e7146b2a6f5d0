"""A run of checks sees one version of its scenario, even with a load of it waiting (issue 3:
readers never see a half-loaded scenario; issue 8: two loads and a report at once)."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

from graph.consistent import consistent_view
from graph.db import Database
from graph.dump import dump_scenario
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.runner import run_checks, run_checks_in

REPO = Path(__file__).resolve().parents[2]
CURRENT, TARGET = REPO / "examples" / "insurer", REPO / "examples" / "insurer-target"
AS_OF = date(2026, 11, 22)


def _wait_until_blocked(db: Database, marker: str, timeout_s: float = 60.0) -> str:
    """Neo4j's own word that a transaction running `marker` waits on a lock."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for row in db.read("SHOW TRANSACTIONS YIELD currentQuery, status RETURN currentQuery, status"):
            if marker in (row["currentQuery"] or "") and row["status"].startswith("Blocked"):
                return str(row["status"])
        time.sleep(0.05)
    raise AssertionError("the load never waited on the scenario's lock")


def test_a_load_waits_for_a_view_and_the_view_sees_only_the_old_version(db: Database, scenario: str) -> None:
    load_bundle(db, CURRENT, scenario)
    before = dump_scenario(db, scenario)
    catalog = load_catalog()
    expected_before = run_checks(db, catalog, scenario, AS_OF)
    errors: list[BaseException] = []

    def load_target() -> None:
        try:
            load_bundle(db, TARGET, scenario)
        except BaseException as e:
            errors.append(e)

    with consistent_view(db, scenario) as view:
        loader = threading.Thread(target=load_target)
        loader.start()
        status = _wait_until_blocked(db, "SET s.lock = coalesce(s.lock, 0) + 1")
        inside = run_checks_in(view, catalog, AS_OF)
        assert loader.is_alive()
    loader.join(timeout=120)
    assert not loader.is_alive() and errors == []
    assert status.startswith("Blocked by")
    assert inside == expected_before
    after = run_checks(db, catalog, scenario, AS_OF)
    assert after != expected_before
    assert dump_scenario(db, scenario) != before


def test_a_view_of_a_scenario_that_was_never_loaded_says_so(db: Database) -> None:
    with consistent_view(db, "never-loaded-here") as view:
        assert view.found is False
    assert db.read("MATCH (s:Scenario {name: 'never-loaded-here'}) RETURN count(s) AS n") == [{"n": 0}]


def test_a_view_keeps_nothing_it_wrote(db: Database, scenario: str) -> None:
    load_bundle(db, CURRENT, scenario)
    before = dump_scenario(db, scenario)
    lock_before = db.read("MATCH (s:Scenario {name: $s}) RETURN s.lock AS lock", {"s": scenario})
    with consistent_view(db, scenario) as view:
        view.read("MATCH (m:Model {scenario: $s}) SET m.name = 'renamed'", {"s": scenario})
    assert dump_scenario(db, scenario) == before
    assert db.read("MATCH (s:Scenario {name: $s}) RETURN s.lock AS lock", {"s": scenario}) == lock_before
