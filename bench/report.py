"""Report, diff, maturity and plan benchmark: `python -m bench report [--size large] [--seed 0]`.

Loads the synthetic bundle into one scenario and a copy that differs in about 1% of its entities
(changed descriptions, owners handed to other roles, new KPIs, and initiatives delivering a third
of the changed entities) into a second; times the weekly report on the first (checks, the
maturity scorecard of every unit, snapshot, and all output files with summary.pdf), the diff of
the two, the maturity scorecard by unit on its own, and the transition plan of the two. Prints
one JSON object.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import database, synth_bundle
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.diff import diff_scenarios
from queries.maturity.catalog import load_criteria
from queries.maturity.scorecard import scorecard
from queries.plan import transition_plan
from visualizations.report import build_report, write_report


def changed_copy(bundle: dict[str, Any], every: int = 100) -> tuple[dict[str, Any], int]:
    """The bundle with about 1/every of its entities changed; and how many were changed."""
    out = copy.deepcopy(bundle)
    changed = 0
    for section, items in out.items():
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict) or i % every != every // 2:
                continue
            if section == "models" and i % (2 * every) == every // 2 and items[i - 1].get("owner"):
                item["owner"] = items[i - 1]["owner"]  # a decision right moves
            else:
                item["description"] = f"changed for the benchmark ({i})"
            changed += 1
    kpis = out.setdefault("kpis", [])
    extra = max(1, len(kpis) // every)
    kpis.extend({"id": f"k-bench-new-{n}", "name": f"Benchmark KPI {n}"} for n in range(extra))
    # initiatives of the plan: each delivers a handful of the changed entities (a third of them)
    touched = [
        item["id"]
        for section, items in out.items()
        if isinstance(items, list) and section not in ("initiatives", "assessments")
        for i, item in enumerate(items)
        if isinstance(item, dict) and i % every == every // 2 and "id" in item
    ]
    out.setdefault("initiatives", []).extend(
        {
            "id": f"ini-bench-{n}",
            "name": f"Benchmark initiative {n}",
            "status": "in_progress",
            "due": f"2027-{n % 12 + 1:02d}-28",
            "delivers": touched[n * 5 : n * 5 + 5],
        }
        for n in range(len(touched) // 15)
    )
    return out, changed + extra


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench report")
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    bundle_dir = synth_bundle(args.size, args.seed)
    as_of = dt.date.fromisoformat(json.loads((bundle_dir / "expected.json").read_text())["as_of"])
    a, b = f"bench-report-{args.size}", f"bench-report-{args.size}-changed"
    catalog = load_catalog()
    db = database()
    try:
        load_bundle(db, bundle_dir / "bundle.json", a)
        with tempfile.TemporaryDirectory() as tmp:
            bundle = json.loads((bundle_dir / "bundle.json").read_text())
            changed, n_changed = changed_copy(bundle)
            (Path(tmp) / "bundle.json").write_text(json.dumps(changed))
            load_bundle(db, Path(tmp) / "bundle.json", b)
            entities = sum(len(v) for v in bundle.values() if isinstance(v, list))

            started = time.monotonic()
            report = build_report(db, catalog, a, as_of)
            built = time.monotonic() - started
            write_report(report, Path(tmp) / "report")
            report_seconds = time.monotonic() - started

            started = time.monotonic()
            diff = diff_scenarios(db, catalog, a, b, as_of)
            diff_seconds = time.monotonic() - started

            criteria = load_criteria(known_checks=catalog.ids())
            started = time.monotonic()
            card = scorecard(db, catalog, criteria, a, as_of, by_unit=True)
            maturity_seconds = time.monotonic() - started

            started = time.monotonic()
            plan = transition_plan(db, catalog, a, b, as_of)
            plan_seconds = time.monotonic() - started
    finally:
        db.close()
    print(
        json.dumps(
            {
                "size": args.size,
                "entities": entities,
                "report_seconds": round(report_seconds, 2),
                "report_build_seconds": round(built, 2),
                "findings": report["counts"]["open"]["total"] + report["counts"]["waived"]["total"],
                "diff_seconds": round(diff_seconds, 2),
                "entities_changed_in_b": n_changed,
                "diff_counts": diff["counts"],
                "maturity_by_unit_seconds": round(maturity_seconds, 2),
                "maturity_scopes": len(card["scopes"]),
                "plan_seconds": round(plan_seconds, 2),
                "plan_counts": plan["counts"],
            }
        )
    )
