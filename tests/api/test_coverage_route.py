"""GET /scenarios/{s}/coverage answers obligations.md's JSON; obligation-unmet findings are waivable over REST."""

from __future__ import annotations

import json

from graph.db import Database
from loaders import load_bundle
from tests.api.conftest import REPO, ApiClient

EXPECTED = REPO / "examples" / "insurer-governed.expected-coverage.json"


def test_coverage_route_gives_the_expected_coverage(api: ApiClient, insurer: str) -> None:
    response = api.get(
        f"/scenarios/{insurer}/coverage", params={"framework": "eu-ai-act", "as_of": "2026-11-23"}, key="reader"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k != "crosswalk"} == {
        **json.loads(EXPECTED.read_text()),
        "scenario": insurer,
    }
    by_unit = api.get(
        f"/scenarios/{insurer}/coverage", params={"framework": "eu-ai-act", "as_of": "2026-11-23", "by": "unit"}
    ).json()
    assert sum(u["applicable"] for u in by_unit["units"]) == sum(
        o["applicable"] for o in body["frameworks"][0]["obligations"]
    )


def test_coverage_route_errors(api: ApiClient, insurer: str) -> None:
    assert api.get(f"/scenarios/{insurer}/coverage", params={"framework": "dora"}).status_code == 422
    assert api.get("/scenarios/never-loaded/coverage").status_code == 404
    assert api.get(f"/scenarios/{insurer}/coverage", key=None).status_code == 401


def test_a_waiver_accepts_the_unmet_obligations_of_its_subject(api: ApiClient, db: Database, scenario: str) -> None:
    load_bundle(db, REPO / "examples" / "insurer-governed", scenario)
    waiver = {
        "check": "obligation-unmet",
        "subjects": ["m-uw-risk-score"],
        "accepted_by": "r-uw-head",
        "reason": "FRIA and training booked for Q1",
        "expires": "2027-03-31",
    }
    assert api.put(f"/scenarios/{scenario}/waivers", json=[waiver], key="editor").status_code == 200
    findings = api.get(
        f"/scenarios/{scenario}/findings", params={"check": "obligation-unmet", "as_of": "2026-11-23"}
    ).json()["findings"]
    waived = sorted((f["subjects"][0], f["details"]["obligation"]) for f in findings if f.get("waived"))
    assert waived == [("m-uw-risk-score", "art26-2"), ("m-uw-risk-score", "art27")]
    assert len(findings) == 12
