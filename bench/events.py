"""Event-log benchmark: `python -m bench events --size large --events 1000000 [--json]`.

Loads the synthetic bundle of `--size`, writes `--events` clean change cycles over its models
as a CSV log (`events.synth.bulk_events`), and measures, in one run:

- the *floor*: the same rows as the loader sends (parsed beforehand, not timed; the time as
  ISO 8601 text) written with plain `UNWIND $rows AS row CREATE (e:Event) SET e = row` in batches
  of 10,000 into another scenario (the loader also makes the text a datetime and derives the day);
- the load: `events.store.load_events` on the CSV (streamed parse, validation, duplicate and
  conflict checks against the stored events, spool, batched writes), in a child process whose
  peak RSS (VmHWM) it reports;
- the eight conformance checks over the loaded events (`run_checks --only` them): first (cold),
  again (warm), and each on its own (warm).

Targets (issue 17): load <= 60 s and <= 3x the floor; checks <= 30 s; loader peak RSS <= 1 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.common import CACHE, database, own_peak_rss_mb, run_child, synth_bundle
from events.batches import BATCH_SIZE
from events.store import load_events
from events.synth import bulk_events, write_csv
from graph.db import Database
from queries.catalog import load_catalog
from queries.runner import run_checks

SCENARIO = "bench-events"
FLOOR_SCENARIO = "bench-events-floor"
START = date(2026, 3, 2)
FLOOR_CREATE = "UNWIND $rows AS row CREATE (e:Event) SET e = row"


def _delete_events(db: Database, scenario: str) -> None:
    with db.session() as session:
        session.run(
            "MATCH (e:Event {scenario: $s}) CALL (e) { DELETE e } IN TRANSACTIONS OF 10000 ROWS", s=scenario
        ).consume()


def log_file(bundle_dir: Path, count: int) -> Path:
    """The CSV log of `count` events over the bundle, written once and cached."""
    path = CACHE / f"{bundle_dir.name}-events-{count}-requests.csv"  # approvals name their requests
    if not path.exists():
        bundle = json.loads((bundle_dir / "bundle.json").read_text(encoding="utf-8"))
        write_csv(bulk_events(bundle, count, START), path)
    return path


def floor(db: Database, path: Path) -> float:
    """Seconds to write the log's rows with plain batched UNWIND CREATE (parsing not timed)."""
    _delete_events(db, FLOOR_SCENARIO)
    seconds = 0.0
    with path.open(encoding="utf-8", newline="") as f, db.session() as session:
        batch: list[dict[str, object]] = []
        for row in csv.DictReader(f):
            batch.append(
                {
                    "scenario": FLOOR_SCENARIO,
                    "id": row["id"],
                    "time": datetime.fromisoformat(row["time"]).isoformat(),
                    "activity": row["activity"],
                    "object": row["object"],
                    "actor": row["actor"] or None,
                    "request": row["request"] or None,
                    "digest": "0" * 32,
                }
            )
            if len(batch) == BATCH_SIZE:
                started = time.monotonic()
                session.run(FLOOR_CREATE, rows=batch).consume()
                seconds += time.monotonic() - started
                batch = []
        if batch:
            started = time.monotonic()
            session.run(FLOOR_CREATE, rows=batch).consume()
            seconds += time.monotonic() - started
    _delete_events(db, FLOOR_SCENARIO)
    return seconds


def load_child(path: str) -> None:
    """`python -m bench.events --load-child LOG`: the load in a process of its own; one JSON line."""
    db = database()
    try:
        result = load_events(db, Path(path), SCENARIO)
    finally:
        db.close()
    print(json.dumps({**result.as_dict(), "peak_rss_mb": own_peak_rss_mb()}))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench events")
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    bundle_dir = synth_bundle(args.size)
    db = database()
    try:
        run_child(["cli.main", "load", str(bundle_dir / "bundle.json"), "--scenario", SCENARIO, "--quiet"])
        path = log_file(bundle_dir, args.events)
        _delete_events(db, SCENARIO)
        floor_seconds = floor(db, path)
        import subprocess

        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "bench.events", "--load-child", str(path)], capture_output=True, text=True
        )
        load_seconds = time.monotonic() - started
        if done.returncode != 0:
            raise RuntimeError(f"event load failed: {done.stderr.strip()[-2000:]}")
        loaded = json.loads(done.stdout.strip().splitlines()[-1])
        catalog = load_catalog()
        only = [c.id for c in catalog.checks if c.spec.events]
        as_of = START + timedelta(days=30)
        started = time.monotonic()
        findings = run_checks(db, catalog, SCENARIO, as_of, only=only)["findings"]
        check_seconds = time.monotonic() - started
        # Again, warm (Neo4j has planned the queries and holds the events in its page cache), and
        # each check on its own, to say where the time goes.
        started = time.monotonic()
        run_checks(db, catalog, SCENARIO, as_of, only=only)
        warm_seconds = time.monotonic() - started
        per_check: dict[str, float] = {}
        for check_id in only:
            started = time.monotonic()
            run_checks(db, catalog, SCENARIO, as_of, only=[check_id])
            per_check[check_id] = round(time.monotonic() - started, 2)
        figures = {
            "size": args.size,
            "events": loaded["read"],
            "floor_s": round(floor_seconds, 1),
            "load_s": round(load_seconds, 1),
            "load_over_floor": round(load_seconds / floor_seconds, 2),
            "loader_peak_rss_mb": loaded["peak_rss_mb"],
            "checks_s": round(check_seconds, 1),
            "checks_warm_s": round(warm_seconds, 1),
            "per_check_warm_s": per_check,
            "findings": len(findings),
            "targets_met": {
                "load_60s": load_seconds <= 60,
                "load_3x_floor": load_seconds <= 3 * floor_seconds,
                "checks_30s": check_seconds <= 30,
                "rss_1gb": loaded["peak_rss_mb"] <= 1024,
            },
        }
    finally:
        _delete_events(db, SCENARIO)
        db.close()
    print(json.dumps(figures, indent=None if args.json else 2))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--load-child":
        load_child(sys.argv[2])
    else:
        main(sys.argv[1:])
