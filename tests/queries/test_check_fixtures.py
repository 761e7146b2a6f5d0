"""Each built-in check finds exactly its positive fixture's findings and none of its near-misses.

Fixtures live next to each check: `<id>.positive.yaml` and `<id>.negative.yaml` are bundles,
`<id>.expected.yaml` lists the subjects of every finding the positive bundle must produce.
All fixtures are checked as of AS_OF. A fixture of an event-log check (``events: true``) also has
an ``events`` list: the event log, loaded after the bundle (events.md).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from events.store import load_events
from graph.db import Database
from loaders import load_bundle
from queries.catalog import BUILTIN_CHECK_DIR, is_check_file, load_check_file
from queries.runner import run_check

AS_OF = date(2026, 11, 22)
CHECK_FILES = sorted(p for p in BUILTIN_CHECK_DIR.iterdir() if is_check_file(p))


def _fixture(check_file: Path, kind: str) -> Path:
    return check_file.with_name(f"{check_file.stem}.{kind}.yaml")


def _found(db: Database, check_file: Path, bundle: Path, scenario: str, tmp_path: Path) -> list[tuple[str, ...]]:
    check = load_check_file(check_file)
    if not check.spec.events:
        load_bundle(db, bundle, scenario)
    else:
        data = yaml.safe_load(bundle.read_text())
        events = data.pop("events")
        (tmp_path / "bundle.yaml").write_text(yaml.safe_dump(data))
        (tmp_path / "events.json").write_text(json.dumps(events))
        load_bundle(db, tmp_path / "bundle.yaml", scenario)
        load_events(db, tmp_path / "events.json", scenario)
    findings = run_check(db, check, scenario, AS_OF)
    return sorted(tuple(f["subjects"]) for f in findings)


def test_every_check_has_its_three_fixtures() -> None:
    missing = [
        _fixture(f, kind).name
        for f in CHECK_FILES
        for kind in ("positive", "negative", "expected")
        if not _fixture(f, kind).is_file()
    ]
    assert missing == []


@pytest.mark.parametrize("check_file", CHECK_FILES, ids=lambda p: p.stem)
def test_positive_fixture_gives_exactly_the_expected_findings(
    db: Database, scenario: str, check_file: Path, tmp_path: Path
) -> None:
    expected = yaml.safe_load(_fixture(check_file, "expected").read_text())
    assert _found(db, check_file, _fixture(check_file, "positive"), scenario, tmp_path) == sorted(
        tuple(subjects) for subjects in expected
    )


@pytest.mark.parametrize("check_file", CHECK_FILES, ids=lambda p: p.stem)
def test_negative_fixture_gives_no_finding(db: Database, scenario: str, check_file: Path, tmp_path: Path) -> None:
    assert _found(db, check_file, _fixture(check_file, "negative"), scenario, tmp_path) == []
