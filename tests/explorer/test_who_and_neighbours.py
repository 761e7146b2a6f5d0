"""`GET .../who` and `GET .../neighbours` on examples/insurer, over the real app and Neo4j."""

from __future__ import annotations

from graph.db import Database
from graph.history import physical_name
from tests.api.conftest import ApiClient

MODEL = "m-uw-risk-score"


def test_who_names_every_right_on_a_model_with_roles_people_and_vacancies(api: ApiClient, insurer: str) -> None:
    answer = api.get(f"/scenarios/{insurer}/entities/{MODEL}/who", key="reader").json()

    rights = {r["right"]: r for r in answer["rights"]}
    assert list(rights) == ["ownership", "change_approval", "deployment_approval", "shutdown"]
    assert [(h["role"]["id"], [p["id"] for p in h["people"]]) for h in rights["ownership"]["holders"]] == [
        ("r-uw-head", ["p-ana-ortiz"])
    ]
    assert rights["change_approval"]["holders"] == []
    assert rights["change_approval"]["sentence"] == "Nobody is named to approve its changes."
    deploy = rights["deployment_approval"]
    assert [(h["role"]["id"], h["vacant"]) for h in deploy["holders"]] == [("r-model-risk-head", True)]
    assert deploy["people"] == []
    assert deploy["sentence"] == (
        "Approves its deployments: Head of Model Risk (r-model-risk-head), a role nobody holds. "
        "Nobody can act on it today."
    )
    assert rights["shutdown"]["people"] == ["p-ana-ortiz"]
    assert [h["role"]["id"] for h in rights["shutdown"]["holders"]] == ["r-model-risk-head", "r-uw-head"]
    assert answer["sentences"][0] == (
        f"Life & health underwriting risk score ({MODEL}) is a model in scenario '{insurer}'."
    )


def test_who_on_a_kind_without_rights_says_so_and_unknown_ids_are_404(api: ApiClient, insurer: str) -> None:
    answer = api.get(f"/scenarios/{insurer}/entities/p-ana-ortiz/who", key="reader").json()
    assert answer["rights"] == []
    assert answer["sentences"][0].endswith("No decision rights are held over a person.")
    missing = api.get(f"/scenarios/{insurer}/entities/m-nope/who", key="reader")
    assert (missing.status_code, missing.json()["detail"]) == (404, f"no entity 'm-nope' in scenario '{insurer}'")


def test_neighbours_match_the_graph_and_collapse_big_kinds(api: ApiClient, insurer: str, db: Database) -> None:
    expected = db.read(
        "MATCH (:Entity {scenario: $s, id: $id})-[r]-(m:Entity) RETURN m.id AS id, count(r) AS rels",
        {"s": physical_name(db, insurer), "id": MODEL},
    )
    answer = api.get(f"/scenarios/{insurer}/entities/{MODEL}/neighbours?limit=100", key="reader").json()
    listed = {n["id"]: len(n["relationships"]) for g in answer["groups"] for n in g["items"]}
    assert listed == {r["id"]: r["rels"] for r in expected}
    assert answer["total"] == len(expected)
    assert all(not g["collapsed"] for g in answer["groups"])

    small = api.get(f"/scenarios/{insurer}/entities/{MODEL}/neighbours?limit=1", key="reader").json()
    roles = next(g for g in small["groups"] if g["kind"] == "roles")
    assert roles["collapsed"] and roles["items"] == []
    assert roles["count"] == sum(1 for r in expected if r["id"].startswith("r-"))


def test_neighbours_filter_by_kind_relationship_and_findings(api: ApiClient, insurer: str) -> None:
    base = f"/scenarios/{insurer}/entities/{MODEL}/neighbours"
    only = api.get(f"{base}?kinds=data_domains&rels=CONSUMES", key="reader").json()
    assert [(g["kind"], [n["id"] for n in g["items"]]) for g in only["groups"]] == [
        ("data_domains", ["d-customer", "d-health", "d-policy"])
    ]
    assert {r["type"] for g in only["groups"] for n in g["items"] for r in n["relationships"]} == {"CONSUMES"}
    with_findings = api.get(f"{base}?open_only=true&limit=100", key="reader").json()
    assert with_findings["total"] > 0
    assert all(n["open"] > 0 for g in with_findings["groups"] for n in g["items"])
    bad = api.get(f"{base}?kinds=models,planets", key="reader")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kinds"


def test_who_shows_a_right_held_through_a_delegation_only_while_it_is_in_force(api: ApiClient, insurer: str) -> None:
    """examples/insurer: change approval of m-health-pricing is delegated from r-mv-lead to
    p-liam-byrne from 2026-11-01 to 2026-12-31 (dl-mv-leave-pricing)."""

    def change_approval(as_of: str) -> dict:
        answer = api.get(f"/scenarios/{insurer}/entities/m-health-pricing/who?as_of={as_of}", key="reader").json()
        return next(r for r in answer["rights"] if r["right"] == "change_approval")

    during = change_approval("2026-12-31")
    delegated = [h for h in during["holders"] if h["delegation"]]
    assert [(h["role"]["id"], [p["id"] for p in h["people"]], h["delegation"]) for h in delegated] == [
        ("r-mv-lead", ["p-liam-byrne"], "dl-mv-leave-pricing")
    ]
    assert "p-liam-byrne" in during["people"]
    assert "by delegation dl-mv-leave-pricing from" in during["sentence"]

    after = change_approval("2027-01-01")
    assert [h for h in after["holders"] if h["delegation"]] == []
    assert "p-liam-byrne" not in after["people"]
