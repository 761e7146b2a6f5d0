"""`tomgraph load --effective`, `tomgraph history`, `--at` and `tomgraph diff S@D1 S@D2`
(cli.md, "Added in v1.1"), as a user runs them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from graph.consistent import consistent_view
from graph.db import Database
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.coverage import coverage_in
from queries.frameworks import load_frameworks
from queries.plan import transition_plan
from tests.bundles import SMALL_BUNDLE, write_yaml
from tests.cli.test_cli import tomgraph

REPO = Path(__file__).resolve().parents[2]
CURRENT = REPO / "examples" / "insurer"


def test_versions_by_date_from_the_command_line(tmp_path: Path, cli_env: dict[str, str], scenario: str) -> None:
    small = write_yaml(SMALL_BUNDLE, tmp_path / "small.yaml")
    for path, day in ((small, "2026-01-05"), (CURRENT, "2026-03-02")):
        loaded = tomgraph("load", str(path), "-s", scenario, "--effective", day, "--quiet", env=cli_env)
        assert loaded.returncode == 0, loaded.stderr
    history = tomgraph("history", "-s", scenario, "--format", "json", env=cli_env)
    assert history.returncode == 0, history.stderr
    found = json.loads(history.stdout)["versions"]
    assert [(v["seq"], v["effective"], v["entity_count"]) for v in found] == [
        (1, "2026-01-05", 15),
        (2, "2026-03-02", 153),
    ]
    table = tomgraph("history", "-s", scenario, env=cli_env)
    assert table.returncode == 0 and "2026-03-02" in table.stdout

    january = tomgraph("check", "-s", scenario, "--at", "2026-02-01", "--format", "json", env=cli_env)
    latest = tomgraph("check", "-s", scenario, "--format", "json", env=cli_env)
    assert january.returncode == latest.returncode == 0
    assert json.loads(january.stdout)["findings"] != json.loads(latest.stdout)["findings"]

    diff = tomgraph("diff", f"{scenario}@2026-01-05", f"{scenario}@2026-03-02", "--format", "json", env=cli_env)
    assert diff.returncode == 0, diff.stderr
    body = json.loads(diff.stdout)
    assert (body["a"], body["b"]) == (f"{scenario}@2026-01-05", f"{scenario}@2026-03-02")
    assert body["counts"]["entities"]["added"] == 153 - 15 + body["counts"]["entities"]["removed"]

    before = tomgraph("check", "-s", scenario, "--at", "2025-12-31", env=cli_env)
    assert before.returncode == 1
    assert before.stderr.strip() == (
        f"error: scenario '{scenario}' had no version in force on 2025-12-31 (see `tomgraph history`)"
    )


def test_a_bad_date_is_exit_2_naming_the_option(cli_env: dict[str, str], scenario: str) -> None:
    bad = tomgraph("check", "-s", scenario, "--at", "last-week", env=cli_env)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: --at: 'last-week' is not a date YYYY-MM-DD"
    bad_ref = tomgraph("diff", f"{scenario}@1st-of-may", scenario, env=cli_env)
    assert bad_ref.returncode == 2
    assert bad_ref.stderr.strip() == "error: A: '1st-of-may' is not a date YYYY-MM-DD"
    bad_load = tomgraph("load", str(CURRENT), "-s", scenario, "--effective", "soon", env=cli_env)
    assert bad_load.returncode == 2
    assert bad_load.stderr.strip() == "error: --effective: 'soon' is not a date YYYY-MM-DD"


def test_maturity_coverage_plan_and_who_read_the_version_in_force_at(
    db: Database, tmp_path: Path, cli_env: dict[str, str], scenario: str
) -> None:
    january, march, february, as_of = date(2026, 1, 5), date(2026, 3, 2), "2026-02-01", date(2026, 3, 9)
    load_bundle(db, write_yaml(SMALL_BUNDLE, tmp_path / "small.yaml"), scenario, effective=january)
    load_bundle(db, CURRENT, scenario, effective=march)
    catalog = load_catalog()

    maturity = tomgraph("maturity", "-s", scenario, "--by-unit", "--at", february, "--format", "json", env=cli_env)
    assert maturity.returncode == 0, maturity.stderr
    scopes = [s["scope"] for s in json.loads(maturity.stdout)["scopes"]]
    assert scopes[1:] == sorted(u["id"] for u in SMALL_BUNDLE["units"])

    args = ("-s", scenario, "--at", february, "--as-of", as_of.isoformat(), "--format", "json")
    coverage = tomgraph("coverage", *args, env=cli_env)
    assert coverage.returncode == 0, coverage.stderr
    with consistent_view(db, scenario, date.fromisoformat(february)) as view:
        expected = coverage_in(view, load_frameworks().select(None), catalog, as_of)

    def applicable(result: Any) -> list[tuple[str, int, int]]:
        return [(o["id"], o["applicable"], o["satisfied"]) for f in result["frameworks"] for o in f["obligations"]]

    assert applicable(json.loads(coverage.stdout)) == applicable(expected)

    plan = tomgraph(
        "plan", f"{scenario}@{january}", scenario, "--as-of", as_of.isoformat(), "--format", "json", env=cli_env
    )
    assert plan.returncode == 0, plan.stderr
    assert (
        json.loads(plan.stdout)["counts"]
        == transition_plan(db, catalog, scenario, scenario, as_of, at_a=january)["counts"]
    )

    assert tomgraph("who", "m-uw-risk-score", "-s", scenario, env=cli_env).returncode == 0
    missing = tomgraph("who", "m-uw-risk-score", "-s", scenario, "--at", february, env=cli_env)
    assert missing.returncode == 1
    bad = tomgraph("coverage", "-s", scenario, "--at", "soon", env=cli_env)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: --at: 'soon' is not a date YYYY-MM-DD"
