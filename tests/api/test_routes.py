"""Every route of rest.md on examples/insurer, and every error status in problem+json."""

from __future__ import annotations

import json
from datetime import date

from tests.api.conftest import INSURER, REPO, ApiClient

EXPECTED_FINDINGS = json.loads((REPO / "examples" / "insurer.expected-findings.json").read_text())
INSURER_AS_OF = "2026-11-23"


def _models_in_bundle() -> list[str]:
    return sorted(
        line.split(":", 1)[1].strip()
        for line in (INSURER / "models.yaml").read_text().splitlines()
        if line.startswith("- id:")
    )


def test_scenarios_list_names_counts_and_load_time(api: ApiClient, insurer: str) -> None:
    response = api.get("/scenarios", key="reader")
    assert response.status_code == 200
    mine = [s for s in response.json()["scenarios"] if s["name"] == insurer]
    assert len(mine) == 1
    assert mine[0]["entity_count"] == 153 and mine[0]["relationship_count"] == 426
    assert date.fromisoformat(mine[0]["loaded_at"][:10]) <= date.today()


def test_entities_are_paged_by_id_and_filtered_by_kind_and_text(api: ApiClient, insurer: str) -> None:
    ids: list[str] = []
    cursor = None
    while True:
        page = api.get(
            f"/scenarios/{insurer}/entities",
            params={"kind": "models", "limit": 3, **({"cursor": cursor} if cursor else {})},
        ).json()
        assert all(item["kind"] == "models" for item in page["items"])
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == _models_in_bundle()
    found = api.get(f"/scenarios/{insurer}/entities", params={"q": "FRAUD"}).json()["items"]
    assert [i["id"] for i in found] == sorted(i["id"] for i in found)
    assert {"m-fraud-score", "uc-fraud-detection"} <= {i["id"] for i in found}
    assert all("fraud" in (i["id"] + (i["name"] or "")).lower() for i in found)


def test_entities_of_an_unknown_kind_are_a_422_naming_kind(api: ApiClient, insurer: str) -> None:
    response = api.get(f"/scenarios/{insurer}/entities?kind=spaceships")
    assert response.status_code == 422
    assert [(e["place"], e["field"]) for e in response.json()["errors"]] == [("query", "kind")]


def test_an_entity_has_its_fields_and_every_relationship_in_and_out(api: ApiClient, insurer: str) -> None:
    body = api.get(f"/scenarios/{insurer}/entities/m-fraud-score", key="reader").json()
    assert body["kind"] == "models" and body["name"] == "Claims fraud score"
    assert body["fields"] == {
        "description": "Flags suspicious claims and auto-declines fast-track payment for the top decile.",
        "first_use": "2024-02-12",
        "human_oversight": "none",
        "last_reviewed": "2026-04-21",
        "operator_role": "provider",
        "properties.inventory_id": "MI-0012",
        "risk_tier": "high",
        "stage": "production",
    }
    outgoing = {(r["type"], r["via"], r["entity"]["id"], r["dependency"]) for r in body["outgoing"]}
    assert outgoing == {
        ("CONSUMES", "models.consumes", "d-claims", True),
        ("CONSUMES", "models.consumes", "d-fraud-intel", True),
        ("CONSUMES", "models.consumes", "d-customer", True),
        ("DEPENDS_ON", "models.depends_on", "m-claims-triage", True),
        ("DEPENDS_ON", "models.depends_on", "s-claims-platform", True),
        ("DEPENDS_ON", "models.depends_on", "s-ml-platform", True),
        ("IN_UNIT", "models.unit", "u-fraud", False),
    }
    incoming = {(r["type"], r["via"], r["entity"]["id"]) for r in body["incoming"]}
    assert {
        ("OWNS", "models.owner", "r-fraud-lead"),
        ("DEVELOPS", "models.developers", "r-ds-lead"),
        ("APPROVES_CHANGE", "models.change_approvers", "r-mv-lead"),
        ("CAN_SHUT_DOWN", "models.shutdown_authority", "r-claims-head"),
        ("USES", "use_cases.models", "uc-fraud-detection"),
        ("APPLIES_TO", "controls.applies_to", "c-fraud-audit"),
        ("REQUESTED_BY", "access.consumer", "a-fraud-claims"),
    } <= incoming
    assert [(r["type"], r["entity"]["id"]) for r in body["incoming"]] == sorted(
        (r["type"], r["entity"]["id"]) for r in body["incoming"]
    )


def test_paths_are_the_shortest_over_any_relationship(api: ApiClient, insurer: str) -> None:
    body = api.get(f"/scenarios/{insurer}/paths", params={"from": "v-riskwise", "to": "r-uw-head"}).json()
    assert body == {
        "scenario": insurer,
        "from": "v-riskwise",
        "to": "r-uw-head",
        "max": 6,
        "paths": [
            {
                "length": 1,
                "nodes": [
                    {"id": "v-riskwise", "kind": "vendors", "name": "RiskWise Analytics"},
                    {"id": "r-uw-head", "kind": "roles", "name": "Head of Underwriting"},
                ],
                "relationships": [{"type": "OWNS", "start": "r-uw-head", "end": "v-riskwise"}],
            }
        ],
        "truncated": False,
    }
    two = api.get(f"/scenarios/{insurer}/paths", params={"from": "k-fraud-savings", "to": "m-fraud-score"}).json()
    assert {p["length"] for p in two["paths"]} == {2}
    middles = [p["nodes"][1]["id"] for p in two["paths"]]
    assert middles == sorted(middles) and {"r-fraud-lead", "uc-fraud-detection"} <= set(middles)


def test_paths_need_two_different_existing_entities(api: ApiClient, insurer: str) -> None:
    same = api.get(f"/scenarios/{insurer}/paths", params={"from": "m-churn", "to": "m-churn"})
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "to"
    missing = api.get(f"/scenarios/{insurer}/paths", params={"from": "m-churn", "to": "m-nope"})
    assert missing.status_code == 404
    no_from = api.get(f"/scenarios/{insurer}/paths", params={"to": "m-churn"})
    assert no_from.status_code == 422 and no_from.json()["errors"][0] == {
        "place": "query",
        "field": "from",
        "message": "Field required",
    }


def test_checks_list_the_catalog(api: ApiClient) -> None:
    checks = api.get("/checks", key="reader").json()["checks"]
    ids = [c["id"] for c in checks]
    assert {"model-without-owner", "data-ownership-deadlock", "kpi-without-owner"} <= set(ids)
    assert len(ids) == len(set(ids)) >= 25
    assert all(c["cypher"] and c["severity"] in ("critical", "high", "medium", "low") for c in checks)


def test_findings_are_the_examples_expected_findings(api: ApiClient, insurer: str) -> None:
    body = api.get(f"/scenarios/{insurer}/findings", params={"as_of": INSURER_AS_OF}, key="reader").json()
    assert body["scenario"] == insurer and body["as_of"] == INSURER_AS_OF
    got = [{k: f[k] for k in ("check", "severity", "subjects", "accountable")} for f in body["findings"]]
    assert got == EXPECTED_FINDINGS
    assert all("waived" not in f for f in body["findings"])


def test_findings_filter_by_check_and_by_severity(api: ApiClient, insurer: str) -> None:
    critical = api.get(f"/scenarios/{insurer}/findings", params={"as_of": INSURER_AS_OF, "severity": "critical"})
    assert {f["severity"] for f in critical.json()["findings"]} == {"critical"}
    assert len(critical.json()["findings"]) == sum(f["severity"] == "critical" for f in EXPECTED_FINDINGS)
    high = api.get(f"/scenarios/{insurer}/findings", params={"as_of": INSURER_AS_OF, "severity": "high"}).json()
    assert {f["severity"] for f in high["findings"]} == {"critical", "high"}
    one = api.get(
        f"/scenarios/{insurer}/findings",
        params={"as_of": INSURER_AS_OF, "check": ["kpi-without-owner", "vendor-without-owner"]},
    ).json()
    assert {f["check"] for f in one["findings"]} == {
        f["check"] for f in EXPECTED_FINDINGS if f["check"] in ("kpi-without-owner", "vendor-without-owner")
    }


def test_findings_errors(api: ApiClient, insurer: str) -> None:
    unknown = api.get(f"/scenarios/{insurer}/findings", params={"check": "no-such-check"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"place": "query", "field": "check", "message": "unknown check id: no-such-check"}
    ]
    bad_date = api.get(f"/scenarios/{insurer}/findings", params={"as_of": "yesterday"})
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["field"] == "as_of"
    missing = api.get("/scenarios/never-loaded/findings")
    assert missing.status_code == 404 and missing.json()["detail"] == "scenario 'never-loaded' has not been loaded"


def test_unknown_routes_and_methods_are_problems_too(api: ApiClient) -> None:
    response = api.get("/no/such/route")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert response.json()["type"] == "urn:tomgraph:problem:not-found"
    response = api.request("DELETE", "/scenarios")
    assert response.status_code == 405 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:tomgraph:problem:method-not-allowed"


def test_an_invalid_scenario_name_is_a_422_naming_the_path_parameter(api: ApiClient) -> None:
    response = api.get("/scenarios/..bad/entities")
    assert response.status_code == 422
    assert response.json()["errors"][0]["place"] == "path" and response.json()["errors"][0]["field"] == "s"
