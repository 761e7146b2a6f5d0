"""The explorer's coverage and maturity pages and the authority paths in the graph explorer, on
examples/insurer-governed, in Debian's Chromium: what is on screen is what the JSON routes say."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from graph.db import Database
from graph.history import physical_name
from graph.sync import delete_scenario
from loaders import load_bundle
from queries.authority import effective_holders
from queries.catalog import load_catalog
from tests.api.conftest import ApiClient
from tests.browser import chromium
from tests.browser.chromium import BrowserPage
from tests.explorer.conftest import LiveApi, csp_errors_only, outside, sign_in
from visualizations.report import build_report, maturity_section

browser = chromium.browser
browser_page = chromium.browser_page

GOVERNED = Path(__file__).resolve().parents[2] / "examples" / "insurer-governed"
MODEL = "m-health-pricing"
SHOTS = Path(os.environ.get("TOMGRAPH_SCREENSHOTS", Path(tempfile.gettempdir()) / "tomgraph-explorer-shots"))
READY = "window.tomgraphExplorer && tomgraphExplorer.ready && tomgraphExplorer.busy === 0"


@pytest.fixture(scope="module")
def governed(db: Database) -> Iterator[str]:
    """examples/insurer-governed (policies, evidence, incidents, delegations) in a scenario of its own."""
    name = f"t-gov-{uuid.uuid4().hex[:10]}"
    load_bundle(db, GOVERNED, name)
    yield name
    delete_scenario(db, name)


def shot(page: BrowserPage, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(SHOTS / name), full_page=False)


def test_authority_paths_are_the_effective_holders_plus_deputies(api: ApiClient, governed: str, db: Database) -> None:
    answer = api.get(f"/scenarios/{governed}/entities/{MODEL}/authority", key="reader").json()
    paths = [
        (p["id"], x["right"], x["how"], [n["id"] for n in x["nodes"]]) for p in answer["people"] for x in p["paths"]
    ]

    today = date.today()
    for right in ("change_approval", "deployment_approval", "shutdown"):
        held = effective_holders(db, physical_name(db, governed), MODEL, right, today)
        via_roles_and_delegations = sorted(
            (person, nodes[-2], nodes[-3] if how == "delegation" else None)
            for person, r, how, nodes in paths
            if r == right and how in ("role", "delegation")
        )
        assert via_roles_and_delegations == sorted((h["holder"], h["giver"], h["delegation"]) for h in held), right
    deputies = db.read(
        "MATCH (m:Model {scenario: $s, id: $id})<-[:APPROVES_CHANGE|APPROVES_DEPLOYMENT|CAN_SHUT_DOWN]-(giver:Role) "
        "MATCH (p:Person)-[:HOLDS]->(d:Role)-[:DEPUTIZES_FOR]->(giver) "
        "RETURN DISTINCT p.id AS p, d.id AS d, giver.id AS g",
        {"s": physical_name(db, governed), "id": MODEL},
    )
    assert deputies, "the example gives the change approver and the shutdown role a deputy"
    assert sorted({(p, nodes[1], nodes[2]) for p, _r, how, nodes in paths if how == "deputy"}) == sorted(
        (d["p"], d["d"], d["g"]) for d in deputies
    )
    # The delegation of change approval to the model's own developer while the validator is on leave.
    liam = next(p for p in answer["people"] if p["id"] == "p-liam-byrne")
    delegated = next(x for x in liam["paths"] if x["how"] == "delegation")
    assert delegated["right"] == "change_approval"
    assert [n["id"] for n in delegated["nodes"]] == ["p-liam-byrne", "dl-mv-leave-pricing", "r-mv-lead", MODEL]
    assert delegated["relationships"] == [
        {"start": "dl-mv-leave-pricing", "type": "DELEGATED_TO", "end": "p-liam-byrne"},
        {"start": "r-mv-lead", "type": "DELEGATES", "end": "dl-mv-leave-pricing"},
        {"start": "r-mv-lead", "type": "APPROVES_CHANGE", "end": MODEL},
    ]
    # After the delegation ends, it no longer gives the right.
    later = api.get(f"/scenarios/{governed}/entities/{MODEL}/authority?as_of=2027-01-01", key="reader").json()
    assert all(
        x["how"] != "delegation" or x["nodes"][1] != "dl-mv-leave-pricing" for p in later["people"] for x in p["paths"]
    )
    assert api.get(f"/scenarios/{governed}/entities/m-nope/authority", key="reader").status_code == 404


def test_coverage_page_is_a_matrix_of_obligations_by_models_linking_failures(
    live: LiveApi, api: ApiClient, governed: str, browser_page: BrowserPage
) -> None:
    expected = api.get(f"/scenarios/{governed}/coverage", key="reader").json()
    sign_in(browser_page, live, next_path=f"/?scenario={governed}")
    page = browser_page.page
    page.click("#nav-coverage")
    page.wait_for_load_state()
    assert page.url.endswith(f"/ui/scenarios/{governed}/coverage")
    shares = page.locator("#coverage-summary tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.framework, r.querySelector('.coverage-share').textContent])"
    )
    assert shares == [[f["framework"], f"{f['coverage'] * 100:.1f}%"] for f in expected["frameworks"]]

    eu = next(f for f in expected["frameworks"] if f["framework"] == "eu-ai-act")
    page.click("#coverage-summary tr[data-framework='eu-ai-act'] a")
    page.wait_for_load_state()
    subjects = page.locator("#coverage-matrix thead th.subject").evaluate_all("t => t.map(x => x.dataset.subject)")
    failing = {(o["id"], u["subject"]) for o in eu["obligations"] for u in o["unsatisfied"]}
    shown_failing = page.locator("#coverage-matrix td.fails").evaluate_all(
        "cells => cells.map(c => [c.closest('tr').dataset.obligation, c.dataset.subject])"
    )
    assert {tuple(x) for x in shown_failing} == {(o, x) for o, x in failing if x in subjects}
    assert page.locator("#coverage-matrix tbody tr").count() == len(eu["obligations"])
    # failing subjects come first: the first column fails the most obligations
    counts = {x: sum(1 for _o, y in failing if y == x) for x in subjects}
    assert [counts[x] for x in subjects] == sorted(counts.values(), reverse=True)
    first = page.locator("#coverage-matrix td.fails").first
    one = first.get_attribute("data-subject")
    obligation = first.evaluate("c => c.closest('tr').dataset.obligation")
    items = next(
        u["failing"]
        for o in eu["obligations"]
        if o["id"] == obligation
        for u in o["unsatisfied"]
        if u["subject"] == one
    )
    assert first.locator("li").count() == len(items)
    shot(browser_page, "explorer-coverage.png")
    first.locator("a").click()
    page.wait_for_load_state()
    assert page.locator("#entity-id").inner_text() == one

    page.goto(f"{live.origin}/ui/scenarios/{governed}/coverage?framework=nist-ai-rmf")
    page.fill("#switch-as-of", "2030-01-01")
    page.click(".switcher button")
    page.wait_for_load_state()
    assert page.url.endswith(f"/ui/scenarios/{governed}/coverage?as_of=2030-01-01&framework=nist-ai-rmf")
    assert "as of 2030-01-01" in page.locator("h1").inner_text()
    assert page.locator("#coverage-matrix").get_attribute("data-framework") == "nist-ai-rmf"
    assert outside(browser_page, live) == []
    assert browser_page.errors == []


def test_maturity_page_shows_each_stage_with_the_evidence_per_criterion(
    live: LiveApi, api: ApiClient, governed: str, db: Database, browser_page: BrowserPage
) -> None:
    # last week's report, whose stages the page measures movement against
    last_week = build_report(db, load_catalog(), governed, date.today() - timedelta(days=7))
    card = api.get(f"/scenarios/{governed}/maturity?by_unit=true", key="reader").json()
    org, *units = card["scopes"]
    moves = maturity_section(card, last_week["maturity"])
    sign_in(browser_page, live, next_path=f"/ui/scenarios/{governed}/findings")
    page = browser_page.page
    page.click("#nav-maturity")
    page.wait_for_load_state()
    assert page.locator("#org-stage .stage").text_content() == org["stage"]
    rows = page.locator("#unit-stages tbody tr").evaluate_all(
        "r => r.map(x => [x.dataset.unit, x.dataset.stage, x.querySelector('.move').textContent])"
    )
    assert rows == [[u["scope"], u["stage"], m["movement"]] for u, m in zip(units, moves["units"], strict=True)]
    assert page.locator("#org-stage .move").text_content() == moves["movement"]
    assert moves["movement"] == "unchanged" or moves["movement"].startswith(("up from", "down from"))
    shown = page.locator("#criteria tbody tr").evaluate_all("r => r.map(x => [x.dataset.criterion, x.dataset.passed])")
    assert shown == [[c["id"], "yes" if c["passed"] else "no"] for c in org["criteria"]]
    shot(browser_page, "explorer-maturity.png")

    unit = next(u for u in units if any(c["evidence"] for c in u["criteria"]))
    page.click(f"#unit-stages tr[data-unit='{unit['scope']}'] a.scope-link")
    page.wait_for_load_state()
    for c in unit["criteria"]:
        cell = page.locator(f"#criteria tr[data-criterion='{c['id']}'] td.evidence").locator("a, span.plain")
        assert cell.all_inner_texts() == c["evidence"][:12], c["id"]
    # the last report's date is evidence of the trend criterion, as text: it is no entity
    trend = page.locator("#criteria tr[data-criterion='improve-trend'] td.evidence")
    assert trend.locator("span.plain").all_inner_texts() == [last_week["as_of"]]
    with_evidence = next(c for c in unit["criteria"] if c["evidence"] and c["id"] != "improve-trend")
    page.click(f"#criteria tr[data-criterion='{with_evidence['id']}'] td.evidence a >> nth=0")
    page.wait_for_load_state()
    assert page.locator("#entity-id").inner_text() == with_evidence["evidence"][0]
    assert outside(browser_page, live) == []
    assert browser_page.errors == []


def test_explorer_highlights_every_path_by_which_people_reach_a_decision_right(
    live: LiveApi, api: ApiClient, governed: str, browser_page: BrowserPage
) -> None:
    answer = api.get(f"/scenarios/{governed}/entities/{MODEL}/authority", key="reader").json()
    sign_in(browser_page, live, next_path=f"/ui/scenarios/{governed}/explore?focus={MODEL}")
    browser_page.wait_until(READY, 90)
    page = browser_page.page
    page.click("#btn-authority")
    browser_page.wait_until("document.querySelectorAll('#authority-list > li').length > 0")
    listed = page.locator("#authority-list > li").evaluate_all("l => l.map(x => x.dataset.person)")
    assert listed == [p["id"] for p in answer["people"]]
    texts = page.locator("#authority-list li[data-person='p-liam-byrne'] li").all_inner_texts()
    assert texts == [x["text"] for p in answer["people"] if p["id"] == "p-liam-byrne" for x in p["paths"]]

    page.click("#btn-authority-all")
    browser_page.wait_until("tomgraphExplorer.highlightedEdges && tomgraphExplorer.busy === 0")
    paths = [x for p in answer["people"] for x in p["paths"]]
    assert page.evaluate("tomgraphExplorer.highlighted") == sorted({n["id"] for x in paths for n in x["nodes"]})
    assert page.evaluate("tomgraphExplorer.highlightedEdges") == sorted(
        {f"{r['start']}|{r['type']}|{r['end']}" for x in paths for r in x["relationships"]}
    )
    drawn = set(page.evaluate("tomgraphExplorer.visibleIds()"))
    assert {n["id"] for x in paths for n in x["nodes"]} <= drawn
    shot(browser_page, "explorer-authority.png")

    page.click("#authority-list li[data-person='p-liam-byrne'] > button")
    liam = next(p for p in answer["people"] if p["id"] == "p-liam-byrne")
    browser_page.wait_until(
        f"tomgraphExplorer.highlighted && tomgraphExplorer.highlighted.length === "
        f"{len({n['id'] for x in liam['paths'] for n in x['nodes']})}"
    )
    assert page.evaluate("tomgraphExplorer.highlighted") == sorted({n["id"] for x in liam["paths"] for n in x["nodes"]})
    page.click("#clear-highlight")
    assert page.evaluate("tomgraphExplorer.highlightedEdges") is None
    assert csp_errors_only(browser_page) == []
    assert outside(browser_page, live) == []
