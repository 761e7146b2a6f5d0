"""The weekly report and the transition plan timed with the code of another source tree, on the
scenarios `python -m bench report` loaded: `python -m bench report-tree --tree DIR [--size large]`.

For before/after figures on the same data in the same hour: ``git archive COMMIT | tar -x -C DIR``
gives the code of COMMIT; run this with ``--tree DIR`` and with ``--tree .``, back to back. Times
``build_report`` plus ``write_report`` (every file, summary.pdf included) on the first scenario,
then ``transition_plan`` of the two. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench report-tree")
    parser.add_argument("--tree", type=Path, required=True, help="a tomgraph source tree")
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    tree = str(args.tree.resolve())
    sys.path.insert(0, tree)  # before any tomgraph module is imported
    report = importlib.import_module("visualizations.report")
    if not str(report.__file__).startswith(tree):
        parser.error(f"visualizations.report came from {report.__file__}, not from {tree}")
    common = importlib.import_module("bench.common")
    load_catalog = importlib.import_module("queries.catalog").load_catalog
    transition_plan = importlib.import_module("queries.plan").transition_plan
    bundle_dir = common.synth_bundle(args.size, args.seed)
    as_of = dt.date.fromisoformat(json.loads((bundle_dir / "expected.json").read_text())["as_of"])
    a, b = f"bench-report-{args.size}", f"bench-report-{args.size}-changed"
    db = common.database()
    catalog = load_catalog()
    out: dict[str, object] = {"tree": tree}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.monotonic()
            built = report.build_report(db, catalog, a, as_of)
            out["report_build_seconds"] = round(time.monotonic() - started, 2)
            report.write_report(built, Path(tmp))
            out["report_seconds"] = round(time.monotonic() - started, 2)
        started = time.monotonic()
        plan = transition_plan(db, catalog, a, b, as_of)
        out["plan_seconds"] = round(time.monotonic() - started, 2)
        out["plan_counts"] = plan["counts"]
    finally:
        db.close()
    print(json.dumps(out))
