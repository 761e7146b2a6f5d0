"""Load benchmark: `python -m bench load --size medium|large --json`.

Loads a synthetic bundle with `tomgraph load` in a child process (validation, sync and the
all-or-nothing write included: one transaction, or a staged load when the change is over
`TOMGRAPH_LOAD_TX_MAX_ROWS`, as the first load of `large` is by default), then re-loads it
unchanged, and compares with a *floor*:
the same nodes and relationships written with plain `UNWIND $rows CREATE` in batches of 10,000,
no validation and no sync, which is about the fastest a Bolt client can write them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict

from bench.common import database, own_peak_rss_mb, run_child, synth_bundle
from graph.db import Database
from graph.history import physical_name
from graph.ontology import ENTITY_LABEL, kinds_by_section
from graph.sync import BY_ID_A, BY_ID_B, delete_scenario, desired_relationships
from loaders import read_bundle

SCENARIO = "bench-load"
FLOOR_SCENARIO = "bench-floor"
BATCH = 10_000


def floor(db: Database, bundle_path: str) -> dict[str, float]:
    """Write the bundle's nodes and relationships the plainest way; time only the writes."""
    entities = read_bundle(bundle_path).entities
    nodes: dict[str, list[dict[str, object]]] = defaultdict(list)
    for e in entities:
        nodes[kinds_by_section()[e.section].label].append({**e.props, "scenario": FLOOR_SCENARIO})
    rels: dict[str, list[list[str]]] = defaultdict(list)
    for rel_type, start, end in desired_relationships(entities):
        rels[rel_type].append([start, end])
    started = time.monotonic()
    with db.session() as session:
        for label, rows in nodes.items():
            for i in range(0, len(rows), BATCH):
                session.run(
                    f"UNWIND $rows AS r CREATE (n:{ENTITY_LABEL}:{label}) SET n = r", rows=rows[i : i + BATCH]
                ).consume()
        for rel_type, pairs in rels.items():
            for i in range(0, len(pairs), BATCH):
                session.run(
                    f"UNWIND $rows AS r MATCH (a:{ENTITY_LABEL} {{scenario: $s, id: r[0]}}) {BY_ID_A} "
                    f"MATCH (b:{ENTITY_LABEL} {{scenario: $s, id: r[1]}}) {BY_ID_B} CREATE (a)-[:{rel_type}]->(b)",
                    rows=pairs[i : i + BATCH],
                    s=FLOOR_SCENARIO,
                ).consume()
    seconds = time.monotonic() - started
    relationships = sum(len(p) for p in rels.values())
    return {
        "entities": len(entities),
        "relationships": relationships,
        "seconds": round(seconds, 2),
        "rows_per_s": round((len(entities) + relationships) / seconds),
    }


def floor_child(bundle_path: str) -> None:
    """`python -m bench.load --floor-child BUNDLE`: the floor in a process of its own, so that its
    peak RSS is its own; prints one JSON object."""
    db = database()
    try:
        figures = floor(db, bundle_path)
    finally:
        db.close()
    print(json.dumps({**figures, "peak_rss_mb": own_peak_rss_mb()}))


def run(size: str, seed: int) -> dict[str, object]:
    bundle_dir = synth_bundle(size, seed)
    bundle = str(bundle_dir / "bundle.json")
    db = database()
    try:
        for scenario in (SCENARIO, FLOOR_SCENARIO):
            delete_scenario(db, scenario)
        seconds, peak = run_child(["cli.main", "load", bundle, "--scenario", SCENARIO, "--quiet"])
        counts = db.read(
            f"MATCH (n:{ENTITY_LABEL} {{scenario: $s}}) WITH count(n) AS nodes "
            f"MATCH (:{ENTITY_LABEL} {{scenario: $s}})-[r]->() RETURN nodes, count(r) AS rels",
            {"s": physical_name(db, SCENARIO)},
        )[0]
        reload_seconds, _ = run_child(["cli.main", "load", bundle, "--scenario", SCENARIO, "--quiet"])
        done = subprocess.run(
            [sys.executable, "-m", "bench.load", "--floor-child", bundle], capture_output=True, text=True, check=True
        )
        floor_figures = json.loads(done.stdout.strip().splitlines()[-1])
        total = counts["nodes"] + counts["rels"]
        return {
            "size": size,
            "entities": counts["nodes"],
            "relationships": counts["rels"],
            "seconds": round(seconds, 2),
            "rows_per_s": round(total / seconds),
            "peak_rss_mb": round(peak, 1),
            "reload_seconds": round(reload_seconds, 2),
            "floor": floor_figures,
            "ratio_to_floor": round(seconds / floor_figures["seconds"], 2),
        }
    finally:
        for scenario in (SCENARIO, FLOOR_SCENARIO):
            delete_scenario(db, scenario)
        db.close()


def main(argv: list[str]) -> None:
    if argv[:1] == ["--floor-child"]:
        floor_child(argv[1])
        return
    parser = argparse.ArgumentParser(prog="python -m bench load")
    parser.add_argument("--size", choices=["small", "medium", "large"], default="medium")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.size, args.seed)))


if __name__ == "__main__":
    main(sys.argv[1:])
