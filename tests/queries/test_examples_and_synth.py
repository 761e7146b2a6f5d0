"""The shipped examples and the synthetic bundles produce exactly the findings they list."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from graph.db import Database
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
    db: Database, scenario: str, tmp_path: Path, size: str
) -> None:
    synth.write(size, 0, tmp_path)
    expected = json.loads((tmp_path / "expected.json").read_text())
    load_bundle(db, tmp_path / "bundle.json", scenario)
    result = run_checks(db, load_catalog(), scenario, dt.date.fromisoformat(expected["as_of"]))
    assert result["as_of"] == expected["as_of"]
    assert _identity(result["findings"]) == _identity(expected["findings"])
