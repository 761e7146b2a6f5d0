"""Each event is judged against the version of the scenario in force at its time (events.md):
the conformance runner over explicit version windows, with two versions whose rights differ."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from events.conformance import run_in_windows
from events.store import load_events
from events.windows import VersionWindow, windows_for
from graph.db import Database
from graph.history import physical_name
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.runner import run_checks
from tests.events.forms import write_form

AS_OF = date(2026, 11, 22)
CHANGE = date(2026, 11, 10)


def _bundle(deployment_approver: str) -> dict[str, object]:
    return {
        "roles": [
            {"id": "r-mrm", "name": "Model Risk Manager"},
            {"id": "r-cro", "name": "Chief Risk Officer", "executive": True},
        ],
        "people": [
            {"id": "p-cy", "name": "Cy Diaz", "holds": ["r-mrm"], "aliases": ["cdiaz"]},
            {"id": "p-dee", "name": "Dee Park", "holds": ["r-cro"]},
        ],
        "models": [
            {
                "id": "m-1",
                "name": "Fraud score",
                "stage": "production",
                "risk_tier": "limited",
                "owner": "r-cro",
                "deployment_approvers": [deployment_approver],
            }
        ],
    }


EVENTS = [
    # version 1: Model Risk approves deployments
    {"id": "a-1", "time": "2026-11-03T10:00:00Z", "activity": "deployment_approved", "object": "m-1", "actor": "p-dee"},
    {"id": "a-2", "time": "2026-11-05T10:00:00Z", "activity": "deployment_approved", "object": "m-1", "actor": "cdiaz"},
    {"id": "d-2", "time": "2026-11-06T10:00:00Z", "activity": "deployed", "object": "m-1", "actor": "p-cy"},
    # approved under version 1 by its holder then, deployed under version 2: still approved
    {"id": "a-3", "time": "2026-11-09T23:00:00Z", "activity": "deployment_approved", "object": "m-1", "actor": "p-cy"},
    {"id": "d-3", "time": "2026-11-11T10:00:00Z", "activity": "deployed", "object": "m-1", "actor": "p-cy"},
    # version 2: the Chief Risk Officer approves deployments
    {"id": "a-4", "time": "2026-11-12T10:00:00Z", "activity": "deployment_approved", "object": "m-1", "actor": "p-cy"},
    {"id": "d-4", "time": "2026-11-13T10:00:00Z", "activity": "deployed", "object": "m-1", "actor": "p-cy"},
    {"id": "a-5", "time": "2026-11-14T10:00:00Z", "activity": "deployment_approved", "object": "m-1", "actor": "p-dee"},
    {"id": "d-5", "time": "2026-11-15T10:00:00Z", "activity": "deployed", "object": "m-1", "actor": "p-cy"},
]


FIRST = date(2026, 11, 1)


@pytest.fixture
def versions(db: Database, scenario: str, tmp_path: Path) -> list[VersionWindow]:
    """Two versions of one scenario (graph/history.py): in force from FIRST, Model Risk approves
    deployments; from CHANGE, the Chief Risk Officer. The events are the scenario's."""
    for effective, approver in ((FIRST, "r-mrm"), (CHANGE, "r-cro")):
        (tmp_path / f"{approver}.yaml").write_text(yaml.safe_dump(_bundle(approver)))
        load_bundle(db, tmp_path / f"{approver}.yaml", scenario, effective=effective)
    load_events(db, write_form("jsonl", EVENTS, tmp_path), scenario)
    return windows_for(db, scenario, None, None)


def _subjects(
    db: Database, scenario: str, check: str, windows: list[VersionWindow], since: date | None = None
) -> list[list[str]]:
    findings = run_in_windows(db, load_catalog().get(check), scenario, windows, AS_OF, since)
    return sorted(f["subjects"] for f in findings)


def test_the_windows_are_the_versions_in_force_the_first_standing_for_the_days_before_it(
    db: Database, scenario: str, versions: list[VersionWindow]
) -> None:
    assert [(w.seq, w.start, w.end) for w in versions] == [(1, None, CHANGE), (2, CHANGE, None)]
    assert [w.physical for w in versions] == [physical_name(db, scenario, FIRST), physical_name(db, scenario, CHANGE)]
    assert windows_for(db, scenario, CHANGE, None) == versions[1:]
    assert windows_for(db, scenario, None, CHANGE) == versions[:1]


def test_approvals_are_judged_by_the_rights_of_the_version_in_force_on_their_day(
    db: Database, scenario: str, versions: list[VersionWindow]
) -> None:
    assert _subjects(db, scenario, "unauthorized-approval", versions) == [
        ["a-1", "m-1", "p-dee"],
        ["a-4", "m-1", "p-cy"],
    ]


def test_a_deployment_counts_an_approval_given_under_the_version_before(
    db: Database, scenario: str, versions: list[VersionWindow]
) -> None:
    assert _subjects(db, scenario, "unapproved-deployment", versions) == [["d-4", "m-1", "p-cy"]]


def test_one_version_for_all_events_judges_them_all_by_its_rights(
    db: Database, scenario: str, versions: list[VersionWindow]
) -> None:
    latest = [VersionWindow(versions[1].physical, 1, None, None)]
    assert _subjects(db, scenario, "unauthorized-approval", latest) == [
        ["a-2", "m-1", "p-cy"],
        ["a-3", "m-1", "p-cy"],
        ["a-4", "m-1", "p-cy"],
    ]
    assert _subjects(db, scenario, "unapproved-deployment", latest) == [["d-3", "m-1", "p-cy"], ["d-4", "m-1", "p-cy"]]


def test_since_limits_the_events_judged_but_not_those_they_refer_to(
    db: Database, scenario: str, versions: list[VersionWindow]
) -> None:
    assert _subjects(db, scenario, "unauthorized-approval", versions, since=CHANGE) == [["a-4", "m-1", "p-cy"]]
    assert _subjects(db, scenario, "unapproved-deployment", versions, since=date(2026, 11, 11)) == [
        ["d-4", "m-1", "p-cy"]
    ]


def test_check_since_and_as_of_bound_the_events_judged(
    db: Database, scenario: str, versions: list[VersionWindow]
) -> None:
    only = ["unauthorized-approval"]
    catalog = load_catalog()
    everything = run_checks(db, catalog, scenario, AS_OF, only=only)["findings"]
    assert sorted(f["subjects"][0] for f in everything) == ["a-1", "a-4"]
    before = run_checks(db, catalog, scenario, date(2026, 11, 11), only=only)["findings"]
    assert sorted(f["subjects"][0] for f in before) == ["a-1"]
    since = run_checks(db, catalog, scenario, AS_OF, only=only, since=date(2026, 11, 10))["findings"]
    assert sorted(f["subjects"][0] for f in since) == ["a-4"]
