"""The explorer's pages in Debian's Chromium, driven as a person would: search, open, expand,
filter, collapse; every request stays on the API's origin, under a strict CSP."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from graph.db import Database
from graph.history import physical_name
from graph.sync import delete_scenario
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.diff import diff_scenarios
from queries.runner import run_checks
from tests.api.conftest import ApiClient
from tests.browser import chromium
from tests.browser.chromium import BrowserPage
from tests.explorer.conftest import LiveApi, csp_errors_only, outside, sign_in

browser = chromium.browser
browser_page = chromium.browser_page

MODEL = "m-uw-risk-score"
READY = "window.tomgraphExplorer && tomgraphExplorer.ready && tomgraphExplorer.busy === 0"
IDLE = "window.tomgraphExplorer && tomgraphExplorer.busy === 0"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
TARGET = Path(__file__).resolve().parents[2] / "examples" / "insurer-target"


@pytest.fixture(scope="module")
def fan_out(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A vendor supplying 30 models (more than the explorer's 25 before it groups), 3 with a gap."""
    name = f"t-fan-{uuid.uuid4().hex[:10]}"
    models = [
        {"id": f"m-{i:02d}", "name": f"Model {i:02d}", "stage": "production", "risk_tier": "limited", "vendor": "v-big"}
        for i in range(30)
    ]
    for m in models[:27]:
        m.update(owner="r-own", change_approvers=["r-own"], shutdown_authority=["r-own"])
    bundle = {
        "roles": [{"id": "r-own", "name": "Model owner"}],
        "people": [{"id": "p-own", "name": "Owner person", "holds": ["r-own"]}],
        "vendors": [{"id": "v-big", "name": "Big vendor", "owner": "r-own", "exit_plan": True}],
        "models": models,
    }
    path = tmp_path_factory.mktemp("fan-out") / "bundle.json"
    path.write_text(json.dumps(bundle))
    load_bundle(db, path, name)
    yield name
    delete_scenario(db, name)


def open_explorer(page: BrowserPage, live: LiveApi, scenario: str, focus: str) -> None:
    page.page.goto(f"{live.origin}/ui/scenarios/{scenario}/explore?focus={focus}")
    page.wait_until(READY, 90)


def visible(page: BrowserPage) -> list[str]:
    ids: list[str] = page.page.evaluate("tomgraphExplorer.visibleIds()")
    return ids


def test_catalog_search_filters_and_pages(live: LiveApi, insurer: str, db: Database, browser_page: BrowserPage) -> None:
    sign_in(browser_page, live, next_path=f"/?scenario={insurer}")
    page = browser_page.page
    page.fill("#q", "fraud")
    page.select_option("#kind", "models")
    page.click("#search")
    page.wait_for_load_state()
    expected = db.read(
        "MATCH (n:Model {scenario: $s}) WHERE toLower(n.id) CONTAINS 'fraud' OR toLower(n.name) CONTAINS 'fraud' "
        "RETURN n.id AS id ORDER BY id",
        {"s": physical_name(db, insurer)},
    )
    rows = page.locator("#catalog-results tbody tr")
    assert [rows.nth(i).get_attribute("data-id") for i in range(rows.count())] == [r["id"] for r in expected]
    assert page.input_value("#q") == "fraud"

    page.check("#open-only")
    page.click("#search")
    page.wait_for_load_state()
    findings = run_checks(db, load_catalog(), insurer, date.today())["findings"]
    with_gaps = {s for f in findings if "waived" not in f for s in f["subjects"]}
    shown = [rows.nth(i).get_attribute("data-id") for i in range(rows.count())]
    assert shown == [r["id"] for r in expected if r["id"] in with_gaps]

    page.goto(f"{live.origin}/?scenario={insurer}&risk_tier=high&stage=production")
    high = db.read(
        "MATCH (n:Entity {scenario: $s, risk_tier: 'high', stage: 'production'}) RETURN n.id AS id ORDER BY id",
        {"s": physical_name(db, insurer)},
    )
    assert page.locator("#catalog-results tbody tr").count() == len(high)

    page.goto(f"{live.origin}/?scenario={insurer}")
    total = db.read("MATCH (n:Entity {scenario: $s}) RETURN count(n) AS n", {"s": physical_name(db, insurer)})[0]["n"]
    seen: list[str] = []
    while True:
        rows = page.locator("#catalog-results tbody tr")
        seen += [rows.nth(i).get_attribute("data-id") or "" for i in range(rows.count())]
        if page.locator("#next-page").count() == 0:
            break
        page.click("#next-page")
        page.wait_for_load_state()
    assert len(seen) == total and seen == sorted(seen)
    assert outside(browser_page, live) == []
    assert browser_page.errors == []


def test_entity_page_says_who_decides_and_every_list_links_on(
    live: LiveApi, api: ApiClient, insurer: str, browser_page: BrowserPage
) -> None:
    sign_in(browser_page, live, next_path=f"/?scenario={insurer}&q={MODEL}")
    page = browser_page.page
    page.click(f"#catalog-results tr[data-id='{MODEL}'] a")
    page.wait_for_load_state()
    who = api.get(f"/scenarios/{insurer}/entities/{MODEL}/who", key="reader").json()
    assert page.locator("#who-sentences li").all_inner_texts() == who["sentences"]
    assert page.locator("#who-table tr[data-right='change_approval']").inner_text().endswith("nobody is named")
    vendors_data = page.locator("#vendors-data").inner_text()
    for name in ("RiskWise Analytics", "Customer master data", "Health declarations", "Policy & quote data"):
        assert name in vendors_data
    impact = api.get(f"/scenarios/{insurer}/impact/{MODEL}", key="reader").json()
    assert f"{impact['total']} entities" in page.locator("#impact-h").inner_text()
    finding = page.locator("#findings-list li").first
    assert finding.get_attribute("data-check") == "model-without-change-approver"
    assert "Remediation: Give the right to approve changes" in finding.inner_text()

    page.click("#depends-on .depth a:text('1')")
    page.wait_for_load_state()
    assert "depth=1" in page.url
    page.click("#vendors-data a:text('RiskWise Analytics')")
    page.wait_for_load_state()
    assert page.locator("#entity-name").inner_text() == "RiskWise Analytics"
    assert page.locator("#entity-id").inner_text() == "v-riskwise"

    page.fill("#switch-as-of", "2030-01-01")
    page.click(".switcher button")
    page.wait_for_load_state()
    assert page.url.endswith(f"/ui/scenarios/{insurer}/entities/v-riskwise?as_of=2030-01-01")
    assert "as of 2030-01-01" in page.locator("#findings-h").inner_text()
    assert outside(browser_page, live) == []
    assert browser_page.errors == []


def test_explorer_expands_on_click_keeps_the_layout_and_filters(
    live: LiveApi, api: ApiClient, insurer: str, browser_page: BrowserPage
) -> None:
    sign_in(browser_page, live, next_path=f"/ui/scenarios/{insurer}/explore?focus={MODEL}")
    browser_page.wait_until(READY, 90)
    first = api.get(f"/scenarios/{insurer}/entities/{MODEL}/neighbours", key="reader").json()
    assert visible(browser_page) == sorted([MODEL] + [n["id"] for g in first["groups"] for n in g["items"]])

    before = browser_page.page.evaluate("tomgraphExplorer.network.getPositions()")
    point = browser_page.page.evaluate(
        """id => { const v = tomgraphExplorer.network; v.focus(id, {scale: 1.2, animation: false});
                   const p = v.canvasToDOM(v.getPosition(id));
                   const r = document.getElementById('network').getBoundingClientRect();
                   return {x: r.left + p.x, y: r.top + p.y}; }""",
        "v-riskwise",
    )
    browser_page.page.mouse.dblclick(point["x"], point["y"])
    browser_page.wait_until("tomgraphExplorer.lastExpand && tomgraphExplorer.lastExpand.id === 'v-riskwise'")
    browser_page.wait_until(IDLE)
    second = api.get(f"/scenarios/{insurer}/entities/v-riskwise/neighbours", key="reader").json()
    expected = {MODEL} | {n["id"] for g in first["groups"] for n in g["items"]}
    expected |= {n["id"] for g in second["groups"] for n in g["items"]}
    assert visible(browser_page) == sorted(expected)
    after = browser_page.page.evaluate("tomgraphExplorer.network.getPositions()")
    moved = [
        i for i in before if abs(before[i]["x"] - after[i]["x"]) > 0.5 or abs(before[i]["y"] - after[i]["y"]) > 0.5
    ]
    assert moved == []

    browser_page.page.click("#kind-filters input[data-kind='controls']")
    browser_page.wait_until("tomgraphExplorer.lastLayout && tomgraphExplorer.busy === 0")
    shown = browser_page.page.evaluate("tomgraphExplorer.nodes.get({filter: n => !n.hidden}).map(n => n.kind)")
    assert "controls" not in shown and len(shown) > 1
    browser_page.page.click("#only-findings")
    browser_page.wait_until(IDLE)
    flagged = browser_page.page.evaluate(
        "tomgraphExplorer.nodes.get({filter: n => !n.hidden}).map(n => [n.id, n.open])"
    )
    assert flagged and all(count > 0 or node == MODEL for node, count in flagged)
    assert csp_errors_only(browser_page) == []
    assert outside(browser_page, live) == []


def test_explorer_highlights_impact_path_and_a_findings_subjects(
    live: LiveApi, api: ApiClient, insurer: str, browser_page: BrowserPage
) -> None:
    sign_in(browser_page, live, next_path=f"/ui/scenarios/{insurer}/explore?focus=v-riskwise")
    browser_page.wait_until(READY, 90)
    browser_page.page.click("#btn-impact")
    browser_page.wait_until("tomgraphExplorer.highlighted && tomgraphExplorer.busy === 0")
    impact = api.get(f"/scenarios/{insurer}/impact/v-riskwise", key="reader").json()
    wanted = {"v-riskwise"} | {h["id"] for hits in impact["by_kind"].values() for h in hits}
    assert browser_page.page.evaluate("tomgraphExplorer.highlighted") == sorted(wanted)
    faded = browser_page.page.evaluate("tomgraphExplorer.nodes.get({filter: n => n.opacity < 1}).map(n => n.id)")
    assert set(faded).isdisjoint(wanted)

    browser_page.page.click("#clear-highlight")
    browser_page.page.fill("#path-target", "r-cro")
    browser_page.page.click("#path-go")
    browser_page.wait_until("tomgraphExplorer.highlighted && tomgraphExplorer.busy === 0")
    paths = api.get(f"/scenarios/{insurer}/paths?from=v-riskwise&to=r-cro", key="reader").json()
    assert browser_page.page.evaluate("tomgraphExplorer.highlighted") == sorted(
        n["id"] for n in paths["paths"][0]["nodes"]
    )

    browser_page.page.evaluate(f"tomgraphExplorer.showDetails('{MODEL}')")
    browser_page.wait_until("document.querySelector('#details-findings li button') !== null")
    browser_page.page.click("#details-findings li button")
    browser_page.wait_until("tomgraphExplorer.highlighted && tomgraphExplorer.highlighted.length === 1")
    assert browser_page.page.evaluate("tomgraphExplorer.highlighted") == [MODEL]
    assert csp_errors_only(browser_page) == []
    assert outside(browser_page, live) == []


def test_explorer_collapses_a_big_fan_out_into_a_group_that_opens_as_a_list(
    live: LiveApi, fan_out: str, browser_page: BrowserPage
) -> None:
    sign_in(browser_page, live, next_path=f"/ui/scenarios/{fan_out}/explore?focus=v-big")
    browser_page.wait_until(READY, 90)
    assert visible(browser_page) == sorted(["v-big", "r-own", "group:v-big:models"])
    group = browser_page.page.evaluate("tomgraphExplorer.nodes.get('group:v-big:models')")
    assert (group["count"], group["label"].split("\n")[0]) == (30, "model \u00d730")

    browser_page.page.evaluate("tomgraphExplorer.showDetails('group:v-big:models')")
    browser_page.wait_until("document.querySelectorAll('#group-list li').length === 30")
    browser_page.page.fill("#group-filter", "Model 07")
    assert browser_page.page.locator("#group-list li").evaluate_all("li => li.map(x => x.dataset.id)") == ["m-07"]
    browser_page.page.click("#group-list li button")
    browser_page.wait_until("tomgraphExplorer.nodes.get('m-07') !== null && tomgraphExplorer.busy === 0")
    assert "m-07" in visible(browser_page)
    browser_page.wait_until("document.getElementById('details-name').textContent === 'Model 07'")
    assert csp_errors_only(browser_page) == []
    assert outside(browser_page, live) == []


def test_findings_board_groups_add_up_critical_first_and_open_in_full(
    live: LiveApi, api: ApiClient, insurer: str, browser_page: BrowserPage
) -> None:
    findings = api.get(f"/scenarios/{insurer}/findings", key="reader").json()["findings"]
    sign_in(browser_page, live, next_path=f"/ui/scenarios/{insurer}/findings")
    page = browser_page.page
    for by in ("check", "severity", "unit", "role"):
        page.goto(f"{live.origin}/ui/scenarios/{insurer}/findings?by={by}")
        counts = [int(c) for c in page.locator("section.group").evaluate_all("s => s.map(x => x.dataset.count)")]
        assert sum(counts) == len(findings), by
        assert page.locator("#board-summary").inner_text().startswith(f"{len(findings)} findings")
        assert page.locator("section.group h2 .sev").first.text_content() == "critical"
    page.goto(f"{live.origin}/ui/scenarios/{insurer}/findings?by=severity")
    high = [f for f in findings if f["severity"] == "high"]
    page.click("section.group[data-key='high'] a.expander")
    page.wait_for_load_state()
    items = page.locator("section.group li.finding")
    assert items.count() == len(high)
    page.click("section.group li.finding .subjects a >> nth=0")
    page.wait_for_load_state()
    assert re.search(f"/ui/scenarios/{insurer}/entities/", page.url)
    assert browser_page.errors == []
    assert outside(browser_page, live) == []


def test_diff_page_groups_as_tomgraph_diff(
    live: LiveApi, db: Database, insurer: str, scenario: str, browser_page: BrowserPage
) -> None:
    load_bundle(db, TARGET, scenario)
    result = diff_scenarios(db, load_catalog(), insurer, scenario, date.today())
    sign_in(browser_page, live, next_path=f"/ui/diff/{insurer}/{scenario}")
    page = browser_page.page
    c = result["counts"]
    assert page.locator("#diff-summary").inner_text() == (
        f"Entities {c['entities']['added']} added, {c['entities']['removed']} removed, {c['entities']['changed']} "
        f"changed; relationships {c['relationships']['added']} added, {c['relationships']['removed']} removed; "
        f"{c['moves']} decision rights moved; findings {c['findings']['fixed']} fixed, "
        f"{c['findings']['introduced']} introduced, {c['findings']['unchanged']} unchanged."
    )
    assert page.locator("#moves li").all_inner_texts() == [m["text"] for m in result["moves"]]
    assert page.locator("#findings-fixed li.finding").count() == c["findings"]["fixed"]
    assert browser_page.errors == []
    assert outside(browser_page, live) == []


def test_docs_and_redoc_load_their_assets_from_the_api(live: LiveApi, browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.goto(f"{live.origin}/docs")
    page.wait_for_selector(".opblock-summary-path[data-path='/scenarios/{s}/entities/{id}/who']")
    assert outside(browser_page, live) == []
    failed: dict[str, str | None] = {}
    page.on("requestfailed", lambda request: failed.update({request.url: request.failure}))
    page.goto(f"{live.origin}/redoc")
    page.locator('text="Get Who"').first.wait_for(state="attached")
    # ReDoc's code always draws its maker's logo from their CDN: the page's own CSP refuses it
    # before anything leaves the browser.
    assert outside(browser_page, live) == [REDOC_LOGO]
    assert failed[REDOC_LOGO] == "csp"
    assert any(u.endswith("/ui/static/vendor/swagger-ui/swagger-ui-bundle.js") for u in browser_page.requests)
    assert any(u.endswith("/ui/static/vendor/redoc/redoc.standalone.js") for u in browser_page.requests)
