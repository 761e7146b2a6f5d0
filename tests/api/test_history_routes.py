"""`at=` on the read routes and `GET /scenarios/{s}/history` (rest.md, "Added in v1.1")."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from graph.db import Database
from graph.dump import dump_scenario
from graph.history import HistoryPolicy
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.diff import diff_scenarios
from queries.runner import run_checks
from tests.api.conftest import ApiClient
from tests.readonly import ReadOnly

REPO = Path(__file__).resolve().parents[2]
CURRENT, TARGET = REPO / "examples" / "insurer", REPO / "examples" / "insurer-target"
MARCH, JUNE = date(2026, 3, 2), date(2026, 6, 1)
COUNT = "MATCH (n:Entity {scenario: $scenario}) RETURN count(n) AS n"


@pytest.fixture
def two_versions(db: Database, scenario: str) -> dict[str, Any]:
    load_bundle(db, CURRENT, scenario, effective=MARCH, history=HistoryPolicy(grace_s=0))
    load_bundle(db, TARGET, scenario, effective=JUNE, history=HistoryPolicy(grace_s=0))
    march, june = dump_scenario(db, scenario, MARCH), dump_scenario(db, scenario)
    only_june = sorted({n["id"] for n in june["nodes"]} - {n["id"] for n in march["nodes"]})
    return {"march": march, "june": june, "only_june": only_june[0]}


def _count(api: ApiClient, scenario: str, at: date | None = None) -> int:
    query = f"?at={at.isoformat()}" if at else ""
    response = api.post(f"/scenarios/{scenario}/query{query}", json={"cypher": COUNT}, key="reader")
    assert response.status_code == 200, response.text
    return int(response.json()["rows"][0]["n"])


def test_history_lists_the_versions(api: ApiClient, scenario: str, two_versions: dict[str, Any]) -> None:
    response = api.get(f"/scenarios/{scenario}/history", key="reader")
    assert response.status_code == 200
    body = response.json()
    assert body["scenario"] == scenario
    assert [(v["seq"], v["effective"], v["entity_count"]) for v in body["versions"]] == [
        (1, "2026-03-02", len(two_versions["march"]["nodes"])),
        (2, "2026-06-01", len(two_versions["june"]["nodes"])),
    ]
    assert body["versions"][1]["changes"]["entities"]
    assert api.get("/scenarios/never-loaded-x/history", key="reader").status_code == 404


def test_every_read_route_reads_the_version_in_force_at(
    api: ApiClient, db: Database, scenario: str, two_versions: dict[str, Any]
) -> None:
    new_id = two_versions["only_june"]
    assert _count(api, scenario, MARCH) == len(two_versions["march"]["nodes"])
    assert _count(api, scenario) == len(two_versions["june"]["nodes"])
    for path, status_march in (
        (f"/scenarios/{scenario}/entities/{new_id}", 404),
        (f"/scenarios/{scenario}/entities/{new_id}/dependencies", 404),
        (f"/scenarios/{scenario}/impact/{new_id}", 404),
    ):
        assert api.get(f"{path}?at=2026-03-10", key="reader").status_code == status_march, path
        assert api.get(f"{path}?at=2026-06-01", key="reader").status_code == 200, path
        assert api.get(path, key="reader").status_code == 200, path
    listed = api.get(f"/scenarios/{scenario}/entities?limit=1000&at=2026-03-10", key="reader").json()
    assert len(listed["items"]) == len(two_versions["march"]["nodes"])
    catalog = load_catalog()
    for at in (MARCH, JUNE):
        findings = api.get(f"/scenarios/{scenario}/findings?as_of=2026-07-01&at={at}", key="reader").json()
        expected = run_checks(db, catalog, scenario, date(2026, 7, 1), at=at)
        assert len(findings["findings"]) == len(expected["findings"])
    diff = api.get(f"/diff/{scenario}/{scenario}?at_a=2026-03-02&at_b=2026-06-01&as_of=2026-07-01", key="reader")
    assert diff.status_code == 200
    expected_diff = diff_scenarios(db, catalog, scenario, scenario, date(2026, 7, 1), at_a=MARCH, at_b=JUNE)
    assert diff.json()["counts"] == expected_diff["counts"]
    view = api.get(f"/scenarios/{scenario}/view?format=json&at=2026-03-10", key="reader")
    assert view.status_code == 200


def test_a_day_before_the_first_version_is_a_404_that_says_so(
    api: ApiClient, scenario: str, two_versions: dict[str, Any]
) -> None:
    response = api.get(f"/scenarios/{scenario}/entities?at=2026-01-01", key="reader")
    assert response.status_code == 404
    assert response.json()["detail"] == (
        f"scenario '{scenario}' had no version in force on 2026-01-01 (see `tomgraph history`)"
    )
    bad = api.get(f"/scenarios/{scenario}/entities?at=yesterday", key="reader")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "at"


def test_the_query_route_never_sees_a_staged_load(api: ApiClient, db: Database, scenario: str) -> None:
    load_bundle(db, CURRENT, scenario)
    before = _count(api, scenario)
    seen: list[int] = []

    def query_meanwhile(done: int, total: int) -> None:
        if done == total - 1:  # the new version staged, not yet switched in
            seen.append(_count(api, scenario))

    load_bundle(db, TARGET, scenario, progress=query_meanwhile)
    assert seen == [before]
    assert _count(api, scenario) != before


def test_a_load_through_the_api_takes_effective(api: ApiClient, scenario: str) -> None:
    response = api.put(
        f"/scenarios/{scenario}/bundle?effective=2026-02-02",
        content=b"units:\n  - id: u-a\n    name: A\n",
        headers={"Content-Type": "application/yaml"},
        key="editor",
    )
    assert response.status_code == 200, response.text
    history = api.get(f"/scenarios/{scenario}/history", key="reader").json()
    assert [v["effective"] for v in history["versions"]] == ["2026-02-02"]


MODEL = "m-uw-risk-score"


def _read_paths(scenario: str, at: str) -> list[str]:
    """The reads that landed beside history: the explorer's pages, maturity, plan, coverage, who,
    neighbours; each at `at` ('' for today)."""
    q = f"at={at}" if at else ""
    s = scenario
    return [
        f"/?scenario={s}&{q}",
        f"/?scenario={s}&kind=models&open_only=true&{q}",
        f"/ui/scenarios/{s}/entities/{MODEL}?{q}",
        f"/ui/scenarios/{s}/explore?focus={MODEL}&{q}",
        f"/ui/scenarios/{s}/findings?by=unit&{q}",
        f"/ui/diff/{s}/{s}?at_a=2026-03-10&{q}",
        f"/scenarios/{s}/maturity?by_unit=true&{q}",
        f"/plan/{s}/{s}?at_a=2026-03-10&{q}",
        f"/scenarios/{s}/coverage?by=unit&{q}",
        f"/scenarios/{s}/entities/{MODEL}/who?{q}",
        f"/scenarios/{s}/entities/{MODEL}/neighbours?{q}",
    ]


def test_the_explorer_maturity_plan_coverage_and_who_read_in_read_transactions(
    api: ApiClient, db: Database, scenario: str, two_versions: dict[str, Any]
) -> None:
    """With the API's synchronous driver (and the rebuilder) swapped for one whose every session
    is READ mode, every one of these reads still answers, and none tried to write (the async
    driver's reads run in READ sessions already). The March version was rebuilt by the fixture."""
    state = api.app.state
    sync_db, writer = state.sync_db, state.db.writer
    reader = ReadOnly(sync_db)
    state.sync_db = state.db.writer = reader
    try:
        for at in ("", "2026-03-10"):
            for path in _read_paths(scenario, at):
                response = api.get(path, key="reader")
                assert response.status_code == 200, (path, response.text[:500])
    finally:
        state.sync_db, state.db.writer = sync_db, writer
    assert reader.write_attempts == []


def test_the_explorer_and_the_new_routes_read_the_version_in_force_at(
    api: ApiClient, scenario: str, two_versions: dict[str, Any]
) -> None:
    new_id = two_versions["only_june"]
    for path in (
        f"/ui/scenarios/{scenario}/entities/{new_id}",
        f"/scenarios/{scenario}/entities/{new_id}/who",
        f"/scenarios/{scenario}/entities/{new_id}/neighbours",
    ):
        assert api.get(f"{path}?at=2026-03-10", key="reader").status_code == 404, path
        assert api.get(f"{path}?at=2026-06-01", key="reader").status_code == 200, path
    march = api.get(f"/?scenario={scenario}&q={new_id}&at=2026-03-10", key="reader").text
    june = api.get(f"/?scenario={scenario}&q={new_id}&at=2026-06-01", key="reader").text
    assert f"/entities/{new_id}?at=2026-03-10" not in march
    assert f"/entities/{new_id}?at=2026-06-01" in june
    units = {
        at: api.get(f"/scenarios/{scenario}/maturity?by_unit=true&at={at}", key="reader").json()
        for at in ("2026-03-10", "2026-06-01")
    }
    scopes = {at: [s["scope"] for s in body["scopes"]] for at, body in units.items()}
    march_units = {n["id"] for n in two_versions["march"]["nodes"] if "Unit" in n["labels"]}
    assert set(scopes["2026-03-10"][1:]) == march_units
    before = api.get(f"/scenarios/{scenario}/coverage?at=2026-01-01", key="reader")
    assert before.status_code == 404
    assert "had no version in force on 2026-01-01" in before.json()["detail"]
