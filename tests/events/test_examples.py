"""examples/insurer-events.csv: a quarter of the insurer's events, with planted violations, gives
exactly the findings listed next to it; and it is what examples/build_events.py writes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from events.store import load_events
from events.synth import generate_log
from graph.db import Database
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.runner import run_checks

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_insurer_events_give_exactly_their_listed_findings(db: Database, scenario: str) -> None:
    load_bundle(db, EXAMPLES / "insurer", scenario)
    loaded = load_events(db, EXAMPLES / "insurer-events.csv", scenario)
    assert (loaded.read, loaded.added) == (213, 213)
    catalog = load_catalog()
    events_checks = [c.id for c in catalog.checks if c.spec.events]
    result = run_checks(db, catalog, scenario, dt.date(2026, 11, 23), only=events_checks)
    found = [{k: f[k] for k in ("check", "severity", "subjects", "accountable", "message")} for f in result["findings"]]
    expected = json.loads((EXAMPLES / "insurer-events.expected-findings.json").read_text())
    assert found == expected
    assert {f["check"] for f in expected} == set(events_checks)


def test_the_insurer_events_are_what_the_builder_writes() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "build_events.py"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_clean_synthetic_events_give_no_finding(db: Database, scenario: str, tmp_path: Path) -> None:
    """Without planted violations, the generator's quarter is clean: every check agrees."""
    from events.synth import sections_of, write_csv
    from loaders import read_bundle

    log = generate_log(sections_of(read_bundle(EXAMPLES / "insurer").entities), dt.date(2026, 8, 3), per_check=0)
    write_csv(log.events, tmp_path / "clean.csv")
    load_bundle(db, EXAMPLES / "insurer", scenario)
    load_events(db, tmp_path / "clean.csv", scenario)
    catalog = load_catalog()
    only = [c.id for c in catalog.checks if c.spec.events]
    assert run_checks(db, catalog, scenario, dt.date(2026, 11, 23), only=only)["findings"] == []
