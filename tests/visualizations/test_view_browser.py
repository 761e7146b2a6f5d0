"""Graph views of the insurer example in a real headless Chromium, offline."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Route

from graph.db import Database
from graph.errors import NotFound
from graph.history import physical_name
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.runner import run_checks
from queries.waivers import Waiver, replace_waivers
from tests.browser import chromium
from tests.browser.chromium import BrowserPage
from visualizations.view import ViewData, fetch_view, render_view, view_html, view_json

INSURER = Path(__file__).resolve().parents[2] / "examples" / "insurer"
AS_OF = date(2026, 11, 23)
FOCUS = "m-uw-risk-score"
READY = "window.tomgraphView && window.tomgraphView.ready"

browser = chromium.browser
browser_page = chromium.browser_page


@pytest.fixture
def insurer(db: Database, scenario: str) -> str:
    load_bundle(db, INSURER, scenario)
    return scenario


def open_view(page: BrowserPage, html: str, directory: Path) -> None:
    page.open_html(html, directory, "view.html")
    page.wait_until(READY)


def visible_ids(page: BrowserPage) -> list[str]:
    ids: list[str] = page.page.evaluate("tomgraphView.nodes.get({filter: n => !n.hidden}).map(n => n.id).sort()")
    return ids


def click_node(page: BrowserPage, node_id: str) -> None:
    """A real mouse click on the node's position on the canvas."""
    page.page.evaluate("id => tomgraphView.network.focus(id, {scale: 1.5, animation: false})", node_id)
    point = page.page.evaluate(
        """id => { const v = tomgraphView.network; const p = v.canvasToDOM(v.getPosition(id));
                   const r = document.getElementById('network').getBoundingClientRect();
                   return {x: r.left + p.x, y: r.top + p.y}; }""",
        node_id,
    )
    page.page.mouse.click(point["x"], point["y"])


def test_focus_view_loads_offline_with_the_query_nodes(
    db: Database, insurer: str, browser_page: BrowserPage, tmp_path: Path
) -> None:
    data = fetch_view(db, insurer, focus=FOCUS, depth=2, as_of=AS_OF)
    expected = db.read(
        "MATCH (:Entity {scenario: $s, id: $f})-[*0..2]-(n:Entity {scenario: $s}) RETURN collect(DISTINCT n.id) AS ids",
        {"s": physical_name(db, insurer), "f": FOCUS},
    )[0]["ids"]
    open_view(browser_page, render_view(data), tmp_path)

    assert browser_page.external_requests == []
    assert all(url.startswith("file://") for url in browser_page.requests)
    assert browser_page.errors == []
    assert visible_ids(browser_page) == sorted(expected) == sorted(n.id for n in data.nodes)
    assert browser_page.page.evaluate("tomgraphView.edges.length") == len(data.edges)
    assert browser_page.page.evaluate("tomgraphView.frozen && !tomgraphView.network.physics.physicsEnabled")


def test_gap_nodes_are_marked_and_waived_findings_look_different(
    db: Database, insurer: str, browser_page: BrowserPage, tmp_path: Path
) -> None:
    findings = run_checks(db, load_catalog(), insurer, AS_OF)["findings"]
    data = fetch_view(db, insurer, as_of=AS_OF)
    by_subject: dict[str, list[str]] = {}
    for f in findings:
        for s in f["subjects"]:
            by_subject.setdefault(s, []).append(f["check"])
    waived_subject = next(s for s, checks in sorted(by_subject.items()) if len(checks) == 1)
    waived = next(f for f in findings if waived_subject in f["subjects"])
    replace_waivers(
        db,
        insurer,
        [Waiver(waived["check"], tuple(waived["subjects"]), "r-cro", "accepted for the pilot", date(2027, 1, 1))],
    )
    open_view(browser_page, view_html(db, insurer, as_of=AS_OF), tmp_path)

    marked = browser_page.page.evaluate(
        "tomgraphView.nodes.get({filter: n => n.open > 0}).map(n => [n.id, n.open, n.color.border, n.borderWidth])"
    )
    expected_open = {
        s: len(checks) - (s in waived["subjects"])
        for s, checks in by_subject.items()
        if s in {n.id for n in data.nodes}
    }
    assert {m[0]: m[1] for m in marked} == {s: c for s, c in expected_open.items() if c > 0}
    assert {(m[2], m[3]) for m in marked} == {("#d32f2f", 4)}
    dashed = browser_page.page.evaluate(f"tomgraphView.nodes.get({json.dumps(waived_subject)})")
    assert (dashed["open"], dashed["waived"], dashed["shapeProperties"]) == (0, 1, {"borderDashes": [6, 4]})

    browser_page.page.evaluate(f"tomgraphView.showDetails({json.dumps(waived_subject)})")
    item = browser_page.page.locator("#findings li.finding.waived")
    assert item.count() == 1
    assert "Waived by r-cro until 2027-01-01" in item.inner_text()
    assert browser_page.errors == []


def test_clicking_a_node_shows_its_fields_findings_and_api_link(
    db: Database, insurer: str, browser_page: BrowserPage, tmp_path: Path
) -> None:
    data = fetch_view(db, insurer, focus=FOCUS, depth=1, as_of=AS_OF)
    open_view(browser_page, render_view(data, api_base="http://127.0.0.1:8000"), tmp_path)
    gap = next(n for n in data.nodes if n.findings)
    click_node(browser_page, gap.id)

    page = browser_page.page
    assert page.locator("#details-name").inner_text() == gap.name
    details = page.locator("#details").inner_text()
    for key, value in gap.fields.items():
        assert key in details
        assert (", ".join(value) if isinstance(value, list) else str(value)) in details
    link = page.locator("#details-link").get_attribute("href")
    assert link == f"http://127.0.0.1:8000/scenarios/{insurer}/entities/{gap.id}"
    items = page.locator("#findings li")
    assert items.count() == len(gap.findings)
    for f in gap.findings:
        assert f["remediation"] in details
        assert page.locator(f"#findings li[data-severity={f['severity']}]").count() >= 1


def test_kind_filter_hides_and_shows_nodes_and_search_finds_by_name(
    db: Database, insurer: str, browser_page: BrowserPage, tmp_path: Path
) -> None:
    data = fetch_view(db, insurer, focus=FOCUS, depth=2, as_of=AS_OF)
    open_view(browser_page, render_view(data), tmp_path)
    everything = visible_ids(browser_page)
    roles = sorted(n.id for n in data.nodes if n.kind == "roles")
    assert roles

    browser_page.page.uncheck("input[data-kind=roles]")
    assert visible_ids(browser_page) == sorted(set(everything) - set(roles))
    browser_page.page.check("input[data-kind=roles]")
    assert visible_ids(browser_page) == everything

    target = next(n for n in data.nodes if n.kind == "vendors")
    browser_page.page.fill("#search", target.name[:8].upper())
    browser_page.page.press("#search", "Enter")
    assert browser_page.page.locator("#details-name").inner_text() in {n.name for n in data.nodes}
    assert target.name in browser_page.page.locator("#search-results").inner_text()
    assert browser_page.errors == []


def test_a_view_over_the_cap_shows_groups_and_how_to_narrow(
    db: Database, insurer: str, browser_page: BrowserPage, tmp_path: Path
) -> None:
    data = fetch_view(db, insurer, as_of=AS_OF, node_cap=50)
    assert data.grouped and data.total == 153
    open_view(browser_page, render_view(data), tmp_path)

    message = browser_page.page.locator("#view-message")
    assert message.is_visible()
    assert "153 entities, more than the cap of 50" in message.inner_text()
    assert "--focus" in message.inner_text()
    groups = browser_page.page.evaluate("tomgraphView.nodes.get().map(n => [n.id, n.count])")
    assert sorted(groups) == sorted([f"group:{g.kind}", g.count] for g in data.groups)
    assert sum(count for _, count in groups) == 153
    assert browser_page.errors == []


def test_hostile_names_render_as_text(db: Database, scenario: str, browser_page: BrowserPage, tmp_path: Path) -> None:
    hostile = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2"> `${x}` \u202eRTL 🤖'
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(
        json.dumps(
            {
                "roles": [{"id": "r-1", "name": hostile, "description": hostile}],
                "models": [{"id": "m-1", "name": hostile, "stage": "production", "owner": "r-1"}],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    load_bundle(db, bundle, scenario)
    data = fetch_view(db, scenario, as_of=AS_OF)
    open_view(browser_page, render_view(data), tmp_path)
    browser_page.page.evaluate("tomgraphView.showDetails('r-1')")

    assert browser_page.page.evaluate("window.pwned === undefined")
    assert browser_page.page.locator("#details-name").inner_text() == hostile
    assert browser_page.page.locator("#details img").count() == 0
    assert browser_page.errors == []
    assert browser_page.external_requests == []


def test_served_page_expands_neighbours_on_double_click(db: Database, insurer: str, browser_page: BrowserPage) -> None:
    origin = "http://127.0.0.1:8765"
    start = fetch_view(db, insurer, focus=FOCUS, depth=0, as_of=AS_OF)
    page_html = render_view(start, served=True)
    served: list[str] = []

    def api(route: Route) -> None:
        served.append(route.request.url)
        url = route.request.url
        if "format=json" in url:
            focus = url.split("focus=")[1].split("&")[0]
            body = json.dumps(view_json(fetch_view(db, insurer, focus=focus, depth=1, as_of=AS_OF)))
            route.fulfill(status=200, content_type="application/json", body=body)
        else:
            route.fulfill(status=200, content_type="text/html", body=page_html)

    browser_page.page.route(f"{origin}/**", api)
    browser_page.page.goto(f"{origin}/scenarios/{insurer}/view?focus={FOCUS}&depth=0")
    browser_page.wait_until(READY)
    assert visible_ids(browser_page) == [FOCUS]

    box = browser_page.page.locator("#network").bounding_box()
    assert box is not None
    point: dict[str, Any] = browser_page.page.evaluate(
        "id => tomgraphView.network.canvasToDOM(tomgraphView.network.getPosition(id))", FOCUS
    )
    browser_page.page.mouse.dblclick(box["x"] + point["x"], box["y"] + point["y"])
    neighbours = fetch_view(db, insurer, focus=FOCUS, depth=1, as_of=AS_OF)
    browser_page.wait_until(f"tomgraphView.nodes.length === {len(neighbours.nodes)}")

    assert visible_ids(browser_page) == sorted(n.id for n in neighbours.nodes)
    assert any("format=json" in url and f"focus={FOCUS}" in url for url in served)
    assert browser_page.external_requests == []
    assert browser_page.errors == []


def test_missing_scenario_or_focus_is_not_found(db: Database, insurer: str) -> None:
    with pytest.raises(NotFound):
        fetch_view(db, f"{insurer}-absent")
    with pytest.raises(NotFound):
        fetch_view(db, insurer, focus="no-such-entity")
    with pytest.raises(ValueError, match="depth"):
        fetch_view(db, insurer, focus=FOCUS, depth=6)


def test_org_chart_hierarchy_puts_managers_above_their_reports(db: Database, insurer: str) -> None:
    data: ViewData = fetch_view(db, insurer, kinds=["roles"], as_of=AS_OF)
    payload = view_json(data, layout="hierarchy")
    level = {n["id"]: n["level"] for n in payload["nodes"]}
    lines = [e for e in payload["edges"] if e["type"] == "REPORTS_TO"]
    assert lines
    assert all(level[e["to"]] < level[e["from"]] for e in lines)


def test_served_page_layout_budget_starts_with_its_script_not_navigation(
    db: Database, insurer: str, browser_page: BrowserPage
) -> None:
    """A slow API answer must not eat the layout budget: the page arrives 3 s after navigation
    starts (more than the 2.5 s budget) and still lays out in full."""
    import time

    origin = "http://127.0.0.1:8766"
    page_html = render_view(fetch_view(db, insurer, focus=FOCUS, depth=2, as_of=AS_OF), served=True)

    def slow(route: Route) -> None:
        time.sleep(3.0)
        route.fulfill(status=200, content_type="text/html", body=page_html)

    browser_page.page.route(f"{origin}/**", slow)
    browser_page.page.goto(f"{origin}/scenarios/{insurer}/view?focus={FOCUS}&depth=2")
    browser_page.wait_until(READY)

    started = browser_page.page.evaluate("tomgraphView.startedAt")
    assert started >= 3000
    assert browser_page.page.evaluate("tomgraphView.capped") is False
    assert browser_page.page.evaluate("tomgraphView.readyAt") > started
    assert browser_page.errors == []
