"""Gap-check benchmark: `python -m bench checks --size medium|large[,...] --json`.

Loads the synthetic bundle (unchanged re-loads are cheap), runs every check once to warm the
JVM and query caches, then times each check and profiles it for db hits. With two sizes it
also gives each check's time ratio between them (the cycle checks must grow about linearly).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from bench.common import database, synth_bundle
from graph.db import Database
from graph.history import physical_name
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.runner import run_check


def _db_hits(plan: Any) -> int:
    if not plan:
        return 0
    own = plan.get("dbHits", 0) if isinstance(plan, dict) else getattr(plan, "db_hits", 0)
    children = plan.get("children", []) if isinstance(plan, dict) else getattr(plan, "children", [])
    return int(own) + sum(_db_hits(c) for c in children)


def profile(db: Database, cypher: str, params: dict[str, object]) -> tuple[int, int]:
    with db.session() as session:
        result = session.run("PROFILE " + cypher, params)
        rows = len(result.data())
        summary = result.consume()
    return rows, _db_hits(summary.profile)


def run_size(db: Database, size: str, seed: int, bundle: Path | None = None) -> dict[str, Any]:
    bundle_dir = bundle or synth_bundle(size, seed)
    scenario = f"bench-checks-{size}" if bundle is None else f"bench-checks-{bundle.name}"
    load_bundle(db, bundle_dir / "bundle.json", scenario)
    # What `$scenario` is bound to: the physical name of the version in force (graph/history.py).
    bound = physical_name(db, scenario)
    as_of = dt.date.fromisoformat(json.loads((bundle_dir / "expected.json").read_text())["as_of"])
    # The event-log checks read the event log, which this scenario has none of (`bench events`).
    checks = [c for c in load_catalog().checks if not c.spec.events]
    for check in checks:  # warm-up
        run_check(db, check, bound, as_of)
    per_check: dict[str, dict[str, Any]] = {}
    total = 0.0
    for check in checks:
        started = time.monotonic()
        findings = run_check(db, check, bound, as_of)
        seconds = time.monotonic() - started
        total += seconds
        params: dict[str, object] = {**check.spec.parameters, "scenario": bound, "as_of": as_of}
        rows, hits = profile(db, check.spec.cypher, params)
        per_check[check.id] = {"seconds": round(seconds, 3), "rows": rows, "findings": len(findings), "db_hits": hits}
    return {
        "total_seconds": round(total, 2),
        "max_check_seconds": max(c["seconds"] for c in per_check.values()),
        "checks": per_check,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench checks")
    parser.add_argument("--size", default="medium", help="small, medium, large, or several comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--bundle",
        type=Path,
        metavar="DIR",
        help="a directory with bundle.json and expected.json (e.g. an older synth's) instead of synth's bundle; "
        "for comparing two checkouts on the same data",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.size.split(",") if s.strip()]
    if args.bundle is not None and len(sizes) != 1:
        parser.error("--bundle takes one --size (the name its figures are filed under)")
    db = database()
    try:
        out: dict[str, Any] = {size: run_size(db, size, args.seed, args.bundle) for size in sizes}
    finally:
        db.close()
    if "medium" in out and "large" in out:
        out["large_over_medium"] = {
            check: round(out["large"]["checks"][check]["seconds"] / max(figures["seconds"], 1e-3), 1)
            for check, figures in out["medium"]["checks"].items()
        }
    print(json.dumps(out))
