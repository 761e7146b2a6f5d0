"""Start time and memory of the local Neo4j: `python -m bench neo4j [--runs N] --json`."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from graph import local_neo4j
from graph.db import Database
from graph.settings import Settings


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(runs: int, port: int) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="tomgraph-bench-"))
    settings = Settings(neo4j_uri=None, data_dir=data_dir, local_neo4j_port=port)
    starts: list[float] = []
    rss: list[float] = []
    try:
        local_neo4j.install(settings, quiet=True)
        for i in range(runs):
            began = time.monotonic()
            status = local_neo4j.start(settings)
            with Database.from_settings(settings, start_local=False) as db:
                db.verify()
            starts.append(time.monotonic() - began)
            assert status.pid is not None
            rss.append(_rss_mb(status.pid))
            local_neo4j.stop(settings)
            if i == 0:
                first = starts[0]
    finally:
        local_neo4j.stop(settings)
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "first_start_s": round(first, 2),
        "restart_s_median": round(statistics.median(starts[1:]), 2) if runs > 1 else None,
        "idle_rss_mb_median": round(statistics.median(rss), 1),
        "heap_max": settings.local_neo4j_heap,
        "pagecache": settings.local_neo4j_pagecache,
        "runs": runs,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench neo4j")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=7698)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.runs, args.port)))
