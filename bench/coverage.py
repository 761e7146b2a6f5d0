"""Framework coverage benchmark: `python -m bench coverage --size large`.

Loads the synthetic bundle (synth plants policies, evidence, delegations and incidents), evaluates
every shipped framework once to warm the caches, then times coverage of all of them (target:
<= 15 s on large, issue 18). The floor, timed in the same run, is one run of the whole gap-check
catalog on the same scenario; the JSON gives the ratio coverage / floor and per-framework seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from typing import Any

from bench.common import database, synth_bundle
from graph.consistent import consistent_view
from graph.db import Database
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.coverage import coverage_in
from queries.frameworks import load_frameworks
from queries.runner import run_checks


def run_size(db: Database, size: str, seed: int) -> dict[str, Any]:
    bundle_dir = synth_bundle(size, seed)
    scenario = f"bench-coverage-{size}"
    load_bundle(db, bundle_dir / "bundle.json", scenario)
    as_of = dt.date.fromisoformat(json.loads((bundle_dir / "expected.json").read_text())["as_of"])
    catalog = load_catalog()
    frameworks = load_frameworks().frameworks
    with consistent_view(db, scenario) as view:  # warm-up
        coverage_in(view, frameworks, catalog, as_of)
    run_checks(db, catalog, scenario, as_of, frameworks=[])
    started = time.monotonic()
    run_checks(db, catalog, scenario, as_of, frameworks=[])
    floor = time.monotonic() - started
    started = time.monotonic()
    with consistent_view(db, scenario) as view:
        result = coverage_in(view, frameworks, catalog, as_of)
    total = time.monotonic() - started
    per = {
        f["framework"]: {
            "obligations": len(f["obligations"]),
            "applicable_pairs": sum(o["applicable"] for o in f["obligations"]),
            "coverage": f["coverage"],
        }
        for f in result["frameworks"]
    }
    return {
        "coverage_seconds": round(total, 2),
        "floor_checks_seconds": round(floor, 2),
        "ratio": round(total / max(floor, 1e-3), 2),
        "frameworks": per,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench coverage")
    parser.add_argument("--size", default="large", help="small, medium or large")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    db = database()
    try:
        print(json.dumps({args.size: run_size(db, args.size, args.seed)}))
    finally:
        db.close()
