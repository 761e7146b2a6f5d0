"""GET /scenarios/{s}/maturity answers as the scorecard function (and the command)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from graph.db import Database
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.maturity.catalog import load_criteria
from queries.maturity.scorecard import scorecard
from tests.api.conftest import ApiClient
from tests.queries.test_maturity import STAGED


def test_maturity_route_answers_as_the_scorecard(api: ApiClient, db: Database, scenario: str, tmp_path: Path) -> None:
    (tmp_path / "staged.yaml").write_text(yaml.safe_dump(STAGED), encoding="utf-8")
    load_bundle(db, tmp_path / "staged.yaml", scenario)
    as_of = dt.date(2026, 11, 22)
    catalog = load_catalog()
    expected = scorecard(db, catalog, load_criteria(known_checks=catalog.ids()), scenario, as_of, by_unit=True)
    response = api.get(
        f"/scenarios/{scenario}/maturity", params={"by_unit": "true", "as_of": "2026-11-22"}, key="reader"
    )
    assert response.status_code == 200
    assert response.json() == expected
    one = api.get(f"/scenarios/{scenario}/maturity", params={"unit": "u-retail", "as_of": "2026-11-22"}, key="reader")
    assert [(s["scope"], s["stage"]) for s in one.json()["scopes"]] == [("u-retail", "initiate")]
    assert api.get(f"/scenarios/{scenario}/maturity", params={"unit": "u-nope"}, key="reader").status_code == 404
    assert api.get("/scenarios/t-missing/maturity", key="reader").status_code == 404
    both = api.get(f"/scenarios/{scenario}/maturity", params={"unit": "u-retail", "by_unit": "true"}, key="reader")
    assert both.status_code == 422


def test_plan_route_answers_as_the_function(api: ApiClient, db: Database) -> None:
    from graph.sync import delete_scenario
    from queries.plan import transition_plan
    from tests.api.conftest import REPO

    a, b = "t-plan-api-a", "t-plan-api-b"
    load_bundle(db, REPO / "examples" / "insurer", a)
    load_bundle(db, REPO / "examples" / "insurer-target", b)
    try:
        response = api.get(f"/plan/{a}/{b}", params={"as_of": "2026-11-23"}, key="reader")
        assert response.status_code == 200
        expected = transition_plan(db, load_catalog(), a, b, dt.date(2026, 11, 23))
        assert response.json() == expected
        assert api.get(f"/plan/{a}/t-missing", key="reader").status_code == 404
    finally:
        delete_scenario(db, a)
        delete_scenario(db, b)
