"""The explorer in Chromium on a big scenario: `python -m bench explorer [--scenario large] [--runs 3] --json`.

The API runs in a process of its own (bench/api.py's `served_api`, a reader key), the person signs
in through the sign-in page, and every figure is what the browser itself measured:

- catalog search: from the click on Search until the answer page has loaded (the browser's
  navigation timing: request, server, transfer, parse and first layout), for a term that matches
  a few entities, one that matches none (a full scan), and with kind, risk tier and "has open
  findings" filters;
- entity page complete: navigation to load end, for the entity of each kind with the most
  relationships;
- one expansion of about 50 neighbours: from the call to `expand` until the new nodes are drawn
  and the layout has settled (the page's own `lastExpand.ms`);
- 500 visible nodes laid out: the explorer grown to 500 or more visible nodes, then laid out again
  from scratch (`lastLayout.ms`; `capped` says whether the 2.5 s layout budget froze it);
- coverage and maturity pages: navigation to load end, the first time (coverage of every
  framework, or the by-unit scorecard, computed and kept) and again (from memory);
- findings board usable: navigation to load end of the board grouped by check and by unit, with
  10,000 findings or more (a custom check from a directory in TOMGRAPH_CHECK_DIRS adds one
  finding per KPI, as a user's own check would).

The scenario must be loaded (`tomgraph synth --size large --out DIR`, then `tomgraph load
DIR/bundle.json --scenario large`); findings are run once before timing (the API caches them).
Targets: search 0.3 s, entity page 1 s, expansion 0.5 s, 500 nodes 3 s, board 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from graph.db import Database
from graph.history import physical_name
from graph.settings import Settings

TARGETS_MS = {"search": 300, "entity": 1000, "expand": 500, "layout_500": 3000, "board": 2000}
KPI_CHECK = """\
id: bench-kpi-value-review
revision: 1
title: KPI due for its value review
severity: low
rationale: A benchmark's own check, as a user would add one, so the board holds 10,000 findings or more.
remediation: Review the KPI's value with its owner.
message: "{kpi} is due for its value review"
parameters: {}
cypher: |
  MATCH (k:Kpi {scenario: $scenario})
  OPTIONAL MATCH (owner:Role)-[:OWNS]->(k)
  RETURN [k.id] AS subjects, owner.id AS accountable, coalesce(k.name, k.id) AS kpi
"""
NAV = """() => { const t = performance.getEntriesByType('navigation')[0];
                 return {answered: t.responseEnd - t.startTime, loaded: t.loadEventEnd - t.startTime}; }"""


def _pick(db: Database, scenario: str) -> dict[str, Any]:
    """Ids to open: per kind the entity with most relationships; an entity with 40-60 neighbours
    (no kind above 25, so none is grouped) and a neighbour of it to start from; search terms."""
    physical = physical_name(db, scenario)  # the latest version's entities (graph/history.py)
    busiest = db.read(
        """
        UNWIND ['Model', 'Vendor', 'Role', 'UseCase', 'Workflow', 'DataDomain'] AS label
        CALL (label) {
          MATCH (n:Entity {scenario: $s}) WHERE label IN labels(n)
          WITH n LIMIT 3000
          RETURN n.id AS id, COUNT { (n)--() } AS degree ORDER BY degree DESC LIMIT 1
        }
        RETURN label, id, degree
        """,
        {"s": physical},
    )
    fifty = db.read(
        """
        MATCH (n:Entity {scenario: $s}) WHERE n:Model OR n:Workflow OR n:DataDomain OR n:Role
        WITH n LIMIT 60000
        WITH n, COUNT { (n)--() } AS degree WHERE 40 <= degree <= 70
        MATCH (n)--(m:Entity)
        WITH n, degree, [l IN labels(m) WHERE l <> 'Entity'][0] AS kind, count(DISTINCT m) AS per_kind
        WITH n, degree, max(per_kind) AS biggest WHERE biggest <= 25
        MATCH (n)--(start:Entity) WHERE COUNT { (start)--() } <= 10
        RETURN n.id AS centre, degree, start.id AS start LIMIT 1
        """,
        {"s": physical},
    )
    some = db.read("MATCH (n:Model {scenario: $s}) WITH n SKIP 777 LIMIT 1 RETURN n.name AS name", {"s": physical})
    word = (some[0]["name"] or "model").split()[-1].lower() if some else "model"
    return {"busiest": busiest, "fifty": fifty[0] if fifty else None, "word": word}


def _wait(page: Any, expression: str, arg: Any = None, timeout_s: float = 300.0) -> None:
    """Poll a JavaScript function until it returns something truthy (page.wait_for_function
    evaluates with eval, which a strict Content-Security-Policy forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout_s} s: {expression}")
        time.sleep(0.01)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def measure(scenario: str, runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from bench.api import served_api
    from tests.browser.chromium import launch_chromium

    settings = Settings()
    with Database.from_settings(settings) as db:
        picks = _pick(db, scenario)
    out: dict[str, Any] = {"scenario": scenario, "runs": runs, "targets_ms": TARGETS_MS}
    with tempfile.TemporaryDirectory() as checks:
        Path(checks, "bench-kpi-value-review.yaml").write_text(KPI_CHECK)
        os.environ["TOMGRAPH_CHECK_DIRS"] = checks
        with served_api("bench-explorer") as (base, key, _server), sync_playwright() as playwright:
            headers = {"Authorization": f"Bearer {key}"}
            began = time.monotonic()
            findings = httpx.get(f"{base}/scenarios/{scenario}/findings", headers=headers, timeout=600).json()
            out["findings"] = len(findings["findings"])
            out["first_check_run_s"] = round(time.monotonic() - began, 1)
            browser = launch_chromium(playwright)
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.set_default_timeout(120_000)
            page.goto(f"{base}/ui/signin?next=/")
            page.fill("#key", key)
            page.click("#signin")
            page.wait_for_selector("#catalog-search")

            searches = {
                "a few matches": {"q": picks["word"]},
                "no match (full scan)": {"q": "zzqx-no-such-entity"},
                "kind=models, risk_tier=high": {"q": picks["word"], "kind": "models", "risk_tier": "high"},
                "has open findings": {"q": "", "open_only": True},
            }
            out["search_ms"] = {}
            for label, form in searches.items():
                answered, loaded = [], []
                for _ in range(runs):
                    page.goto(f"{base}/?scenario={quote(scenario)}")
                    page.fill("#q", form["q"])
                    if "kind" in form:
                        page.select_option("#kind", form["kind"])
                        page.select_option("#risk-tier", form["risk_tier"])
                    if form.get("open_only"):
                        page.check("#open-only")
                    with page.expect_navigation():
                        page.click("#search")
                    page.wait_for_load_state("load")
                    timing = page.evaluate(NAV)
                    answered.append(timing["answered"])
                    loaded.append(timing["loaded"])
                rows = page.locator("#catalog-results tbody tr").count()
                out["search_ms"][label] = {"answered": _median(answered), "drawn": _median(loaded), "rows": rows}

            out["entity_ms"] = {}
            for row in picks["busiest"]:
                loaded = []
                for _ in range(runs):
                    page.goto(f"{base}/ui/scenarios/{quote(scenario)}/entities/{quote(row['id'])}")
                    loaded.append(page.evaluate(NAV)["loaded"])
                out["entity_ms"][f"{row['label']} {row['id']} ({row['degree']} relationships)"] = _median(loaded)

            fifty = picks["fifty"]
            if fifty:
                expands = []
                for _ in range(runs):
                    page.goto(f"{base}/ui/scenarios/{quote(scenario)}/explore?focus={quote(fifty['start'])}")
                    _wait(page, "() => window.tomgraphExplorer && tomgraphExplorer.ready")
                    page.evaluate("id => tomgraphExplorer.expand(id)", fifty["centre"])
                    _wait(
                        page,
                        "id => tomgraphExplorer.lastExpand && tomgraphExplorer.lastExpand.id === id",
                        fifty["centre"],
                    )
                    expands.append(page.evaluate("tomgraphExplorer.lastExpand"))
                out["expand"] = {
                    "centre": fifty["centre"],
                    "neighbours": fifty["degree"],
                    "added_median": statistics.median(e["added"] for e in expands),
                    "ms": _median([e["ms"] for e in expands]),
                }

                page.goto(f"{base}/ui/scenarios/{quote(scenario)}/explore?focus={quote(fifty['centre'])}")
                _wait(page, "() => window.tomgraphExplorer && tomgraphExplorer.ready")
                grown = page.evaluate(
                    """async () => {
                      const x = tomgraphExplorer, done = new Set();
                      const wait = () => new Promise(r => { const t = setInterval(() => {
                        if (x.busy === 0) { clearInterval(t); r(); } }, 20); });
                      while (x.visibleIds().length < 500) {
                        const next = x.visibleIds().find(i => !done.has(i) && !i.startsWith('group:'));
                        if (!next) { break; }
                        done.add(next);
                        await new Promise(r => x.expand(next, r));
                        await wait();
                      }
                      return x.visibleIds().length;
                    }"""
                )
                layouts = []
                for _ in range(runs):
                    page.evaluate("() => new Promise(r => tomgraphExplorer.relayout(r))")
                    layouts.append(page.evaluate("tomgraphExplorer.lastLayout"))
                out["layout_500"] = {
                    "visible_nodes": grown,
                    "ms": _median([x["ms"] for x in layouts]),
                    "capped_by_budget": sum(bool(x.get("capped")) for x in layouts),
                }

            out["board_ms"] = {}
            for by in ("check", "unit", "role"):
                loaded = []
                for _ in range(runs):
                    page.goto(f"{base}/ui/scenarios/{quote(scenario)}/findings?by={by}")
                    loaded.append(page.evaluate(NAV)["loaded"])
                out["board_ms"][by] = {
                    "ms": _median(loaded),
                    "rows_on_page": page.locator("li.finding").count(),
                    "groups": page.locator("section.group").count(),
                }
            out["governance_ms"] = {}
            for name in ("coverage", "maturity"):
                loads = []
                for _ in range(2):  # the first computes (and keeps) the whole answer, the second pages it
                    page.goto(f"{base}/ui/scenarios/{quote(scenario)}/{name}")
                    loads.append(page.evaluate(NAV)["loaded"])
                out["governance_ms"][name] = {"first": round(loads[0], 1), "again": round(loads[1], 1)}
            out["requests"] = len(requested)
            out["requests_outside_origin"] = [u for u in requested if not u.startswith(base + "/")]
            browser.close()
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench explorer", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="large", help="a loaded scenario (default: large)")
    parser.add_argument("--runs", type=int, default=3, help="page loads per figure (median reported)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    result = measure(args.scenario, args.runs)
    print(json.dumps({"benchmark": "explorer", **result}, indent=2 if args.json else None))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
