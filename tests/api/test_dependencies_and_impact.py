"""The answers architects call the API for, exactly, on examples/insurer."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ApiClient


def _hit(entity_id: str, kind: str, name: str, *path: str) -> dict[str, Any]:
    return {"id": entity_id, "kind": kind, "name": name, "distance": len(path) - 1, "path": list(path)}


def test_upstream_dependencies_of_a_use_case_at_depth_2(api: ApiClient, insurer: str) -> None:
    response = api.get(f"/scenarios/{insurer}/entities/uc-claims-fast-track/dependencies?direction=upstream&depth=2")
    assert response.status_code == 200
    uc = "uc-claims-fast-track"
    assert response.json() == {
        "scenario": insurer,
        "id": uc,
        "direction": "upstream",
        "depth": 2,
        "total": 9,
        "items": [
            _hit("k-claims-cycle-time", "kpis", "Claims cycle time (simple claims)", uc, "k-claims-cycle-time"),
            _hit("m-claims-triage", "models", "Claims triage & routing", uc, "m-claims-triage"),
            _hit("w-claims-intake", "workflows", "First notice of loss & claims intake", uc, "w-claims-intake"),
            _hit("d-claims", "data_domains", "Claims data", uc, "m-claims-triage", "d-claims"),
            _hit("d-customer", "data_domains", "Customer master data", uc, "m-claims-triage", "d-customer"),
            _hit("d-policy", "data_domains", "Policy & quote data", uc, "w-claims-intake", "d-policy"),
            _hit(
                "m-claims-doc-extract",
                "models",
                "Claims document extraction",
                uc,
                "w-claims-intake",
                "m-claims-doc-extract",
            ),
            # format 1.1: the applications the triage model and the intake workflow run on
            _hit("s-claims-platform", "systems", "Claims platform", uc, "m-claims-triage", "s-claims-platform"),
            _hit(
                "s-ml-platform",
                "systems",
                "ML platform (feature store, model serving)",
                uc,
                "m-claims-triage",
                "s-ml-platform",
            ),
        ],
        "next_cursor": None,
    }


def test_downstream_dependencies_of_a_data_domain_at_depth_2(api: ApiClient, insurer: str) -> None:
    response = api.get(f"/scenarios/{insurer}/entities/d-health/dependencies?direction=downstream&depth=2")
    assert response.status_code == 200
    assert response.json() == {
        "scenario": insurer,
        "id": "d-health",
        "direction": "downstream",
        "depth": 2,
        "total": 6,
        "items": [
            _hit("m-health-pricing", "models", "Health premium pricing model", "d-health", "m-health-pricing"),
            _hit("m-uw-risk-score", "models", "Life & health underwriting risk score", "d-health", "m-uw-risk-score"),
            _hit("w-health-quote", "workflows", "Health quote & pricing", "d-health", "w-health-quote"),
            # format 1.1: the broker portal depends on the underwriting score
            _hit("s-broker-portal", "systems", "Broker portal", "d-health", "m-uw-risk-score", "s-broker-portal"),
            _hit(
                "uc-uw-automation",
                "use_cases",
                "Straight-through life & health underwriting",
                "d-health",
                "m-health-pricing",
                "uc-uw-automation",
            ),
            _hit(
                "w-new-business-uw",
                "workflows",
                "New-business underwriting (life & health)",
                "d-health",
                "m-uw-risk-score",
                "w-new-business-uw",
            ),
        ],
        "next_cursor": None,
    }


def test_impact_of_a_vendor_failing_grouped_by_kind(api: ApiClient, insurer: str) -> None:
    response = api.get(f"/scenarios/{insurer}/impact/v-riskwise")
    assert response.status_code == 200
    v = "v-riskwise"
    assert response.json() == {
        "scenario": insurer,
        "id": v,
        "kind": "vendors",
        "name": "RiskWise Analytics",
        "depth": 5,
        "total": 6,
        "counts": [
            {"kind": "models", "count": 2},
            {"kind": "systems", "count": 1},
            {"kind": "use_cases", "count": 1},
            {"kind": "workflows", "count": 2},
        ],
        "by_kind": {
            "models": [
                _hit("m-health-pricing", "models", "Health premium pricing model", v, "m-health-pricing"),
                _hit("m-uw-risk-score", "models", "Life & health underwriting risk score", v, "m-uw-risk-score"),
            ],
            "systems": [
                _hit("s-broker-portal", "systems", "Broker portal", v, "m-uw-risk-score", "s-broker-portal"),
            ],
            "use_cases": [
                _hit(
                    "uc-uw-automation",
                    "use_cases",
                    "Straight-through life & health underwriting",
                    v,
                    "m-health-pricing",
                    "uc-uw-automation",
                ),
            ],
            "workflows": [
                _hit("w-health-quote", "workflows", "Health quote & pricing", v, "m-health-pricing", "w-health-quote"),
                _hit(
                    "w-new-business-uw",
                    "workflows",
                    "New-business underwriting (life & health)",
                    v,
                    "m-uw-risk-score",
                    "w-new-business-uw",
                ),
            ],
        },
        "next_cursor": None,
    }


def test_dependency_pages_follow_the_cursor_to_exactly_the_whole_answer(api: ApiClient, insurer: str) -> None:
    base = f"/scenarios/{insurer}/entities/uc-claims-fast-track/dependencies?depth=5"
    whole = api.get(f"{base}&limit=1000").json()
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get(f"{base}&limit=2" + (f"&cursor={cursor}" if cursor else "")).json()
        assert page["total"] == whole["total"]
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == whole["items"]
    keys = [(h["distance"], h["kind"], h["id"]) for h in seen]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_impact_pages_keep_totals_per_kind_over_all_pages(api: ApiClient, insurer: str) -> None:
    first = api.get(f"/scenarios/{insurer}/impact/v-riskwise?limit=2").json()
    assert first["total"] == 6 and sum(len(v) for v in first["by_kind"].values()) == 2
    assert first["counts"] == [
        {"kind": "models", "count": 2},
        {"kind": "systems", "count": 1},
        {"kind": "use_cases", "count": 1},
        {"kind": "workflows", "count": 2},
    ]
    rest = api.get(f"/scenarios/{insurer}/impact/v-riskwise?limit=10&cursor={first['next_cursor']}").json()
    assert sum(len(v) for v in rest["by_kind"].values()) == 4 and rest["next_cursor"] is None


def test_depth_is_capped_at_5_and_direction_is_checked(api: ApiClient, insurer: str) -> None:
    for query, field in (("depth=6", "depth"), ("depth=0", "depth"), ("direction=sideways", "direction")):
        response = api.get(f"/scenarios/{insurer}/entities/m-fraud-score/dependencies?{query}")
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert [(e["place"], e["field"]) for e in response.json()["errors"]] == [("query", field)]


def test_a_tampered_cursor_is_a_422_naming_the_cursor(api: ApiClient, insurer: str) -> None:
    response = api.get(f"/scenarios/{insurer}/impact/v-riskwise?cursor=bm9wZQ")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"place": "query", "field": "cursor", "message": "not a cursor from a previous page of this listing"}
    ]


def test_missing_scenario_and_entity_are_404(api: ApiClient, insurer: str) -> None:
    for path, detail in (
        ("/scenarios/no-such/impact/v-riskwise", "scenario 'no-such' has not been loaded"),
        (f"/scenarios/{insurer}/impact/v-nope", f"no entity 'v-nope' in scenario '{insurer}'"),
        (f"/scenarios/{insurer}/entities/v-nope/dependencies", f"no entity 'v-nope' in scenario '{insurer}'"),
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json() == {
            "type": "urn:tomgraph:problem:not-found",
            "title": "Not found",
            "status": 404,
            "detail": detail,
        }
