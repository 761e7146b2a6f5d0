"""Time for a graph view to settle: `python -m bench view --nodes 200,500,1000 [--runs N] --json`.

For each size, a synthetic operating model (every kind, about two relationships per entity, one
entity in eight with a finding) is rendered by ``visualizations.view.render_view`` and opened
from a file in headless Chromium; the time is from navigation start until the force layout has
stabilised and physics is frozen (the page's own ``performance.now()`` at that moment). The
page freezes the layout as it stands after its time budget (2.5 s from its script's start by default;
``--budget-ms 60000`` measures a full layout); ``runs_frozen_by_budget`` says how often that
happened. Target: 500 nodes in at most 3 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from graph.ontology import KINDS, edge_types
from queries.findings import Finding
from visualizations.view import ViewData, ViewEdge, ViewNode, render_view

TARGET_S = {500: 3.0}


def synthetic_view(nodes: int, seed: int = 7) -> ViewData:
    """A connected view of ``nodes`` entities, cycling through the kinds, edges of real types."""
    rng = random.Random(seed)
    by_label = {k.label: k for k in KINDS}
    members: dict[str, list[str]] = {k.section: [] for k in KINDS}
    view_nodes: list[ViewNode] = []
    for i in range(nodes):
        kind = KINDS[i % len(KINDS)]
        node_id = f"{kind.section[:3]}-{i}"
        findings: tuple[Finding, ...] = ()
        if i % 8 == 0:
            findings = (
                {
                    "check": "synthetic-gap",
                    "severity": "high",
                    "subjects": [node_id],
                    "accountable": None,
                    "message": f"{node_id} has a gap",
                    "remediation": "Fix it.",
                },
            )
        members[kind.section].append(node_id)
        view_nodes.append(ViewNode(node_id, kind.section, f"{kind.singular.title()} {i}", {"n": str(i)}, findings))
    types = [t for t in edge_types() if members[by_label[t.start].section] and members[by_label[t.end].section]]
    edges: set[ViewEdge] = set()
    for node in view_nodes:
        for _ in range(2):
            options = [t for t in types if by_label[t.start].section == node.kind] or types
            t = rng.choice(options)
            source = (
                node.id if by_label[t.start].section == node.kind else rng.choice(members[by_label[t.start].section])
            )
            target = rng.choice(members[by_label[t.end].section])
            if source != target:
                edges.add(ViewEdge(source, target, t.rel_type))
    return ViewData(
        "bench",
        date(2026, 11, 23),
        total=nodes,
        node_cap=max(nodes, 1000),
        nodes=tuple(view_nodes),
        edges=tuple(sorted(edges, key=lambda e: (e.source, e.type, e.target))),
    )


def measure(sizes: list[int], runs: int, budget_ms: int = 2500) -> list[dict[str, object]]:
    from playwright.sync_api import sync_playwright

    from tests.browser.chromium import launch_chromium

    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for size in sizes:
                data = synthetic_view(size)
                began = time.monotonic()
                html = render_view(data, layout_budget_ms=budget_ms)
                render_s = time.monotonic() - began
                path = Path(scratch) / f"view-{size}.html"
                path.write_text(html, encoding="utf-8")
                settle: list[float] = []
                capped = 0
                for _ in range(runs):
                    context = browser.new_context(viewport={"width": 1280, "height": 800})
                    page = context.new_page()
                    page.goto(path.as_uri())
                    deadline = time.monotonic() + 120
                    while not page.evaluate("window.tomgraphView && window.tomgraphView.ready"):
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"{size} nodes: layout did not settle in 120 s")
                        time.sleep(0.02)
                    settle.append(page.evaluate("tomgraphView.readyAt") / 1000)
                    capped += bool(page.evaluate("tomgraphView.capped"))
                    context.close()
                median = statistics.median(settle)
                results.append(
                    {
                        "nodes": size,
                        "edges": len(data.edges),
                        "html_kib": len(html) // 1024,
                        "render_s": round(render_s, 3),
                        "settled_s_median": round(median, 2),
                        "settled_s_max": round(max(settle), 2),
                        "runs": runs,
                        "runs_frozen_by_budget": capped,
                        "budget_ms": budget_ms,
                        "target_s": TARGET_S.get(size),
                        "within_target": median <= TARGET_S[size] if size in TARGET_S else None,
                    }
                )
        finally:
            browser.close()
    return results


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench view", description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="200,500,1000", help="comma-separated view sizes")
    parser.add_argument("--runs", type=int, default=3, help="page loads per size (median reported)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--budget-ms", type=int, default=2500, help="layout time budget of the page (large: measure a full layout)"
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.nodes.split(",") if s.strip()]
    results = measure(sizes, args.runs, args.budget_ms)
    if args.json:
        print(json.dumps({"benchmark": "view", "results": results}, indent=2))
    else:
        for r in results:
            print(
                f"{r['nodes']:>6} nodes {r['edges']:>6} edges: settled in {r['settled_s_median']} s "
                f"(max {r['settled_s_max']}, {r['runs_frozen_by_budget']}/{r['runs']} frozen by budget), "
                f"render {r['render_s']} s, {r['html_kib']} KiB"
            )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
