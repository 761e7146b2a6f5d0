"""PUT /scenarios/{s}/waivers: editors replace a scenario's accepted risks; findings show them."""

from __future__ import annotations

from tests.api.conftest import INSURER, ApiClient

WAIVER = {
    "check": "high-risk-without-human-oversight",
    "subjects": ["m-fraud-score"],
    "accepted_by": "r-cro",
    "reason": "Fraud referrals are reviewed by SIU before any payment is stopped.",
    "expires": "2027-06-30",
}


def _load(api: ApiClient, scenario: str) -> None:
    assert (
        api.put(f"/scenarios/{scenario}/bundle", content=(INSURER.parent / "insurer.yaml").read_bytes()).status_code
        == 200
    )


def test_a_waiver_marks_its_finding_until_it_expires(api: ApiClient, scenario: str) -> None:
    _load(api, scenario)
    response = api.put(f"/scenarios/{scenario}/waivers", json=[WAIVER], key="editor")
    assert response.status_code == 200 and response.json() == {"scenario": scenario, "waivers": 1}
    findings = api.get(
        f"/scenarios/{scenario}/findings", params={"check": WAIVER["check"], "as_of": "2026-11-23"}
    ).json()["findings"]
    assert [f["waived"] for f in findings] == [
        {"accepted_by": "r-cro", "reason": WAIVER["reason"], "expires": "2027-06-30"}
    ]
    later = api.get(f"/scenarios/{scenario}/findings", params={"check": WAIVER["check"], "as_of": "2027-07-01"}).json()
    assert "waived" not in later["findings"][0]
    assert later["expired_waivers"] == [{**WAIVER}]
    assert api.put(f"/scenarios/{scenario}/waivers", json=[], key="editor").json()["waivers"] == 0


def test_invalid_waivers_are_a_422_listing_each_problem_and_change_nothing(api: ApiClient, scenario: str) -> None:
    _load(api, scenario)
    api.put(f"/scenarios/{scenario}/waivers", json=[WAIVER])
    response = api.put(
        f"/scenarios/{scenario}/waivers",
        json=[
            {**WAIVER, "accepted_by": "r-nobody"},
            {**WAIVER, "check": "no-such-check"},
            {**WAIVER, "subjects": ["m-churn"], "accepted_by": "r-cro"},
            {**WAIVER, "subjects": ["m-churn"], "accepted_by": "r-cro"},
        ],
    )
    assert response.status_code == 422
    # every problem in one answer, the role the scenario lacks included (issue 13)
    assert response.json()["errors"] == [
        {"place": "body[0]", "field": "accepted_by", "message": f"'r-nobody' is not a role in scenario '{scenario}'"},
        {"place": "body[1]", "field": "check", "message": "unknown check id 'no-such-check'"},
        {"place": "body[3]", "field": "subjects", "message": "repeats the waiver at body[2]"},
    ]
    findings = api.get(f"/scenarios/{scenario}/findings", params={"check": WAIVER["check"], "as_of": "2026-11-23"})
    assert findings.json()["findings"][0]["waived"]["accepted_by"] == "r-cro"


def test_waiver_fields_are_validated_by_the_same_model_as_waivers_yaml(api: ApiClient, scenario: str) -> None:
    response = api.put(f"/scenarios/{scenario}/waivers", json=[{**WAIVER, "expires": "soon", "extra": 1}])
    assert response.status_code == 422
    assert {(e["place"], e["field"]) for e in response.json()["errors"]} == {("body", "0.expires"), ("body", "0.extra")}


def test_waivers_need_a_loaded_scenario_and_an_editor(api: ApiClient) -> None:
    assert api.put("/scenarios/never-loaded/waivers", json=[WAIVER]).status_code == 404
    assert api.put("/scenarios/never-loaded/waivers", json=[WAIVER], key="reader").status_code == 403
