"""The shipped examples and the synthetic bundles produce exactly the findings they list."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from cli.checks_cmd import register
from events.store import load_events
from graph.db import Database
from graph.settings import Settings
from loaders import load_bundle, synth
from queries.catalog import load_catalog
from queries.runner import run_checks

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _identity(findings: list[dict[str, Any]]) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    return [(f["check"], f["severity"], tuple(f["subjects"]), f["accountable"]) for f in findings]


@pytest.mark.parametrize("example", ["insurer", "insurer-target"])
def test_example_produces_exactly_its_listed_findings(db: Database, scenario: str, example: str) -> None:
    load_bundle(db, EXAMPLES / example, scenario)
    result = run_checks(db, load_catalog(), scenario, dt.date(2026, 11, 23))
    expected = json.loads((EXAMPLES / f"{example}.expected-findings.json").read_text())
    assert _identity(result["findings"]) == _identity(expected)


@pytest.mark.parametrize("size", ["small", "medium"])
def test_synthetic_bundle_produces_exactly_expected_json(
    db: Database, test_settings: Settings, scenario: str, tmp_path: Path, size: str
) -> None:
    """expected.json is what `tomgraph check --format json` prints, to the byte (but the scenario's name)."""
    synth.write(size, 0, tmp_path)
    written = (tmp_path / "expected.json").read_text(encoding="utf-8")
    expected = json.loads(written)
    load_bundle(db, tmp_path / "bundle.json", scenario)
    load_events(db, tmp_path / "events.csv", scenario)
    result = run_checks(db, load_catalog(), scenario, dt.date.fromisoformat(expected["as_of"]))
    assert {**result, "scenario": "current"} == expected
    printed = _cli(db, test_settings, "check", "--scenario", scenario, "--as-of", expected["as_of"], "--format", "json")
    assert printed.exit_code == 0, printed.output
    assert printed.stdout.replace(f'"scenario": "{scenario}"', '"scenario": "current"', 1) == written


def test_synth_and_the_checks_print_names_with_braces_alike(db: Database, scenario: str, tmp_path: Path) -> None:
    bundle, expected = synth.generate("small", 0)
    for section in synth.SECTIONS:
        for entity in bundle[section]:
            if "name" in entity:
                entity["name"] = "{model} {0} {{x}} " + entity["name"]
    (tmp_path / "bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
    load_bundle(db, tmp_path / "bundle.json", scenario)
    result = run_checks(db, load_catalog(), scenario, dt.date.fromisoformat(expected["as_of"]))
    assert result["findings"] == synth.with_texts(synth.derive_findings(bundle), bundle)
    # every message but the TOM review's, which names no entity
    assert all("{model} {0} {{x}} " in f["message"] for f in result["findings"] if f["check"] != "tom-review-overdue")


@dataclass
class _Context:
    settings: Settings
    db: Database
    debug: bool = False


def _cli(db: Database, settings: Settings, *args: str) -> Result:
    app = typer.Typer()
    register(app, lambda: _Context(settings, db))
    return CliRunner().invoke(app, list(args))
