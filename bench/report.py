"""Report, diff, maturity and plan benchmark: `python -m bench report [--size large] [--seed 0]`.

Loads the synthetic bundle into one scenario and a copy that differs in about 1% of its entities
(changed descriptions, owners handed to other roles, new KPIs, and initiatives delivering a third
of the changed entities) into a second; times the weekly report on the first (checks, the
maturity scorecard of every unit, snapshot, and all output files with summary.pdf), the diff of
the two, the maturity scorecard by unit on its own, and the transition plan of the two. Prints
one JSON object.

``--reuse`` keeps both scenarios when an earlier run loaded them (loading ``large`` twice takes
minutes); ``--phases`` times only some of report, diff, maturity, plan; ``--profile DIR`` runs each
under cProfile (DIR/PHASE.prof, and the costliest functions on stderr).
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import datetime as dt
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.common import database, synth_bundle
from graph.db import Database
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.diff import diff_scenarios
from queries.maturity.catalog import load_criteria
from queries.maturity.scorecard import scorecard
from queries.plan import transition_plan
from visualizations.report import build_report, write_report

T = TypeVar("T")


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


PHASES = ("report", "diff", "maturity", "plan")


def _loaded(db: Database, scenario: str) -> bool:
    return bool(db.read("MATCH (s:Scenario {name: $name}) RETURN count(s) AS n", {"name": scenario})[0]["n"])


class _Timer:
    """Times phases; with ``profile_dir`` also runs each under cProfile, writes DIR/PHASE.prof and
    prints its 25 costliest functions (cumulative) to stderr."""

    def __init__(self, profile_dir: Path | None) -> None:
        self.profile_dir = profile_dir
        self.seconds: dict[str, float] = {}

    def run(self, phase: str, work: Callable[[], T]) -> T:
        profiler = cProfile.Profile() if self.profile_dir is not None else None
        started = time.monotonic()
        if profiler is not None:
            profiler.enable()
        try:
            return work()
        finally:
            if profiler is not None:
                profiler.disable()
            self.seconds[phase] = time.monotonic() - started
            if profiler is not None and self.profile_dir is not None:
                self.profile_dir.mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(self.profile_dir / f"{phase}.prof")
                print(f"--- {phase}: {self.seconds[phase]:.2f} s", file=sys.stderr)
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench report")
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the two scenarios when already loaded (by an earlier run)"
    )
    parser.add_argument("--phases", default=",".join(PHASES), help=f"which to time, of {','.join(PHASES)}")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="cProfile each phase into DIR/PHASE.prof")
    args = parser.parse_args(argv)
    phases = [p for p in args.phases.split(",") if p]
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        parser.error(f"unknown phases: {', '.join(unknown)}")
    bundle_dir = synth_bundle(args.size, args.seed)
    as_of = dt.date.fromisoformat(json.loads((bundle_dir / "expected.json").read_text())["as_of"])
    a, b = f"bench-report-{args.size}", f"bench-report-{args.size}-changed"
    catalog = load_catalog()
    db = database()
    timer = _Timer(args.profile)
    out: dict[str, Any] = {"size": args.size}
    try:
        bundle = json.loads((bundle_dir / "bundle.json").read_text())
        out["entities"] = sum(len(v) for v in bundle.values() if isinstance(v, list))
        changed, out["entities_changed_in_b"] = changed_copy(bundle)
        with tempfile.TemporaryDirectory() as tmp:
            if not (args.reuse and _loaded(db, a)):
                load_bundle(db, bundle_dir / "bundle.json", a)
            if not (args.reuse and _loaded(db, b)):
                (Path(tmp) / "bundle.json").write_text(json.dumps(changed))
                load_bundle(db, Path(tmp) / "bundle.json", b)
            del bundle, changed

            if "report" in phases:

                def whole_report() -> dict[str, Any]:
                    report = timer.run("report_build", lambda: build_report(db, catalog, a, as_of))
                    write_report(report, Path(tmp) / "report")
                    return report

                report = timer.run("report", whole_report)
                out["report_seconds"] = round(timer.seconds["report"], 2)
                out["report_build_seconds"] = round(timer.seconds["report_build"], 2)
                out["findings"] = report["counts"]["open"]["total"] + report["counts"]["waived"]["total"]
            if "diff" in phases:
                diff = timer.run("diff", lambda: diff_scenarios(db, catalog, a, b, as_of))
                out["diff_seconds"] = round(timer.seconds["diff"], 2)
                out["diff_counts"] = diff["counts"]
            if "maturity" in phases:
                criteria = load_criteria(known_checks=catalog.ids())
                card = timer.run("maturity", lambda: scorecard(db, catalog, criteria, a, as_of, by_unit=True))
                out["maturity_by_unit_seconds"] = round(timer.seconds["maturity"], 2)
                out["maturity_scopes"] = len(card["scopes"])
            if "plan" in phases:
                plan = timer.run("plan", lambda: transition_plan(db, catalog, a, b, as_of))
                out["plan_seconds"] = round(timer.seconds["plan"], 2)
                out["plan_counts"] = plan["counts"]
    finally:
        db.close()
    print(json.dumps(out))
