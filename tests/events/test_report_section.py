"""The weekly report's event-log section: the metrics over the last four weeks and the four
before, in report.json, report.html and report.md."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from events.store import load_events
from graph.db import Database
from loaders import load_bundle
from queries.catalog import load_catalog
from visualizations.report import build_report, render_html, render_markdown

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_report_shows_the_event_metrics_and_their_trend(db: Database, scenario: str) -> None:
    load_bundle(db, EXAMPLES / "insurer", scenario)
    catalog = load_catalog()
    assert build_report(db, catalog, scenario, dt.date(2026, 11, 1))["events"] is None
    load_events(db, EXAMPLES / "insurer-events.csv", scenario)
    report = build_report(db, catalog, scenario, dt.date(2026, 11, 1))
    section = report["events"]
    assert section["days"] == 28
    assert section["rows"] == [
        {"metric": "events", "now": 42, "before": 75},
        {"metric": "deployments authorized (share)", "now": 0.25, "before": 1.0},
        {"metric": "changes authorized (share)", "now": 0.667, "before": 1.0},
        {"metric": "approvals", "now": 10, "before": 14},
        {"metric": "median approval lead time, high risk (hours)", "now": 26.4, "before": 64.9},
        {"metric": "median approval lead time, limited risk (hours)", "now": 26.6, "before": 41.2},
    ]
    assert "<h2>Event log</h2>" in render_html(report, b"")
    markdown = render_markdown(report)
    assert "## Event log" in markdown
    assert "| deployments authorized (share) | 25% | 100% | down |" in markdown
    assert {f["check"] for f in report["new"]} >= {"unapproved-deployment", "unknown-actor"}
