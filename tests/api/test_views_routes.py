"""The view, report and diff routes serve what `tomgraph view`, `report` and `diff` produce."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from graph.db import Database
from graph.sync import delete_scenario
from loaders import load_bundle
from queries.catalog import load_catalog
from tests.api.conftest import REPO, ApiClient
from visualizations.report import build_report

AS_OF = "2026-11-23"


def test_view_page_is_a_self_contained_html_page(api: ApiClient, insurer: str) -> None:
    response = api.get(f"/scenarios/{insurer}/view", params={"focus": "m-uw-risk-score", "depth": 1}, key="reader")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "m-uw-risk-score" in response.text
    assert "<script src=" not in response.text and "https://" not in response.text.split("<body")[0]


def test_view_json_lists_the_focus_and_its_neighbours(api: ApiClient, insurer: str) -> None:
    response = api.get(
        f"/scenarios/{insurer}/view",
        params={"focus": "m-uw-risk-score", "depth": 1, "format": "json", "as_of": AS_OF},
        key="reader",
    )
    assert response.status_code == 200
    ids = {n["id"] for n in response.json()["nodes"]}
    assert {"m-uw-risk-score", "r-uw-head", "d-policy"} <= ids


def test_view_of_an_unknown_focus_is_404(api: ApiClient, insurer: str) -> None:
    response = api.get(f"/scenarios/{insurer}/view", params={"focus": "m-nope"}, key="reader")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_view_of_an_unknown_kind_is_422(api: ApiClient, insurer: str) -> None:
    response = api.get(f"/scenarios/{insurer}/view", params={"kinds": "spaceships"}, key="reader")
    assert response.status_code == 422


def test_reports_latest_and_by_date_as_json_and_html(api: ApiClient, db: Database, scenario: str) -> None:
    load_bundle(db, REPO / "examples" / "insurer", scenario)
    assert api.get(f"/scenarios/{scenario}/reports/latest", key="reader").status_code == 404
    built = build_report(db, load_catalog(), scenario, dt.date.fromisoformat(AS_OF))
    latest = api.get(f"/scenarios/{scenario}/reports/latest", key="reader")
    assert latest.status_code == 200
    assert latest.json()["as_of"] == AS_OF
    assert latest.json()["counts"] == json.loads(json.dumps(built["counts"]))
    by_date = api.get(f"/scenarios/{scenario}/reports/{AS_OF}", key="reader", headers={"Accept": "text/html"})
    assert by_date.status_code == 200 and by_date.headers["content-type"].startswith("text/html")
    assert "Gap report" in by_date.text
    assert api.get(f"/scenarios/{scenario}/reports/2026-01-05", key="reader").status_code == 404


def test_diff_route_answers_as_the_command(api: ApiClient, db: Database) -> None:
    a, b = f"t-{uuid.uuid4().hex[:10]}", f"t-{uuid.uuid4().hex[:10]}"
    load_bundle(db, REPO / "examples" / "insurer", a)
    load_bundle(db, REPO / "examples" / "insurer-target", b)
    try:
        response = api.get(f"/diff/{a}/{b}", params={"as_of": AS_OF}, key="reader")
        assert response.status_code == 200
        body = response.json()
        assert len(body["findings"]["fixed"]) == 22
        assert len(body["moves"]) == 2
        assert api.get(f"/diff/{a}/t-missing", key="reader").status_code == 404
    finally:
        delete_scenario(db, a)
        delete_scenario(db, b)
