"""History benchmark: `python -m bench history --size large --weeks 10 --change 0.01 --json`.

Loads the synthetic bundle as week 0, then `--weeks` weekly versions, each with `--change` of
the entities changed (their `name`; cumulative), each in force from its week's Monday; records
the load time and what the scenario stores after each (entities and relationships over all its
copies, delta characters). Superseded copies are deleted at once (grace 0, as a week later with
the default grace). Then: an unchanged re-load; the checks on the latest version (warm, the
second of two runs); the checks at week 3's date, first (the version is rebuilt from the latest
copy and the deltas) and again (from the cached copy).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import database, synth_bundle
from graph.history import HistoryPolicy, storage, versions
from graph.sync import delete_scenario
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.runner import run_checks

START = dt.date(2026, 1, 5)


def _changed(bundle: dict[str, Any], rng: random.Random, share: float, week: int) -> dict[str, Any]:
    """`bundle` with `share` of its entities renamed (the same entities may change again later)."""
    out = copy.deepcopy(bundle)
    entities = [e for section, items in out.items() if isinstance(items, list) for e in items if "id" in e]
    for entity in rng.sample(entities, max(1, round(len(entities) * share))):
        entity["name"] = f"{entity.get('name') or entity['id']} (week {week})"
    return out


def _timed(work: Any) -> tuple[float, Any]:
    started = time.monotonic()
    result = work()
    return time.monotonic() - started, result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench history")
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weeks", type=int, default=10)
    parser.add_argument("--change", type=float, default=0.01)
    parser.add_argument("--past-week", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    db = database()
    bundle_dir = synth_bundle(args.size, args.seed)
    as_of = dt.date.fromisoformat(json.loads((bundle_dir / "expected.json").read_text())["as_of"])
    bundle = json.loads((bundle_dir / "bundle.json").read_text())
    scenario = f"bench-history-{args.size}"
    policy = HistoryPolicy(grace_s=0)
    rng = random.Random(args.seed)
    delete_scenario(db, scenario)
    weeks: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tomgraph-bench-history-") as tmp:
        for week in range(args.weeks + 1):
            if week:
                bundle = _changed(bundle, rng, args.change, week)
            path = Path(tmp) / f"week-{week}.json"
            path.write_text(json.dumps(bundle))
            day = START + dt.timedelta(weeks=week)
            seconds, result = _timed(lambda p=path, d=day: load_bundle(db, p, scenario, effective=d, history=policy))
            kept = storage(db, scenario)
            weeks.append(
                {
                    "week": week,
                    "load_seconds": round(seconds, 1),
                    "entities_updated": sum(c.updated for c in result.entities.values()),
                    **kept,
                }
            )
            print(json.dumps(weeks[-1]), flush=True)
        reload_seconds, reload = _timed(
            lambda: load_bundle(db, path, scenario, effective=day + dt.timedelta(days=1), history=policy)
        )
    after_reload = storage(db, scenario)
    catalog = load_catalog()
    run_checks(db, catalog, scenario, as_of)  # warm-up
    latest_seconds, _ = _timed(lambda: run_checks(db, catalog, scenario, as_of))
    past = START + dt.timedelta(weeks=args.past_week)
    first_seconds, _ = _timed(lambda: run_checks(db, catalog, scenario, as_of, at=past))
    later_seconds, _ = _timed(lambda: run_checks(db, catalog, scenario, as_of, at=past))
    one, last = weeks[0], weeks[-1]
    out = {
        "size": args.size,
        "weeks": weeks,
        "stored_records_after_one_load": one["entities"] + one["relationships"],
        "stored_records_after_all": last["entities"] + last["relationships"],
        "records_ratio": round(
            (last["entities"] + last["relationships"]) / (one["entities"] + one["relationships"]), 3
        ),
        "delta_chars_after_all": last["delta_chars"],
        "bundle_json_chars": len(json.dumps(bundle)),
        "unchanged_reload": {
            "seconds": round(reload_seconds, 1),
            "changed": reload.changed,
            "storage_unchanged": after_reload == {k: last[k] for k in after_reload},
        },
        "versions": len(versions(db, scenario)),
        "checks_latest_seconds": round(latest_seconds, 2),
        "checks_past_first_seconds": round(first_seconds, 2),
        "checks_past_later_seconds": round(later_seconds, 2),
        "past_later_over_latest": round(later_seconds / latest_seconds, 2),
    }
    print(json.dumps(out, indent=2) if args.json else out)
    delete_scenario(db, scenario)
