"""An answer's `request` (events.md, "Fields"): it names a request of the kind the answer answers,
on the same object, in the log or stored before; one in neither is accepted and counted, and the
checks that follow `request` judge the answer once its request is loaded."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from events.stats import event_stats
from events.store import EventLogError, load_events
from graph.db import Database
from loaders import load_bundle
from queries.catalog import BUILTIN_CHECK_DIR, load_catalog
from queries.runner import run_check
from tests.events.forms import write_form

FIXTURE = BUILTIN_CHECK_DIR / "self-approval-in-practice.positive.yaml"
AS_OF = date(2026, 11, 22)


def _with_bundle(db: Database, scenario: str, tmp_path: Path) -> None:
    data = yaml.safe_load(FIXTURE.read_text())
    data.pop("events")
    (tmp_path / "bundle.yaml").write_text(yaml.safe_dump(data))
    load_bundle(db, tmp_path / "bundle.yaml", scenario)


def _event(event_id: str, hour: int, activity: str, obj: str, **more: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "time": f"2026-11-02T{hour:02}:00:00Z",
        "activity": activity,
        "object": obj,
        "actor": "p-liam",
        **more,
    }


def _jsonl(tmp_path: Path, name: str, events: list[dict[str, Any]]) -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def _problems(db: Database, scenario: str, path: Path) -> list[str]:
    with pytest.raises(EventLogError) as caught:
        load_events(db, path, scenario)
    return [str(p) for p in caught.value.problems]


def _count(db: Database, scenario: str) -> int:
    return db.read("MATCH (e:Event {scenario: $s}) RETURN count(e) AS n", {"s": scenario})[0]["n"]


IN_ONE_LOG = [
    _event("r-1", 9, "change_requested", "m-high"),
    _event("d-1", 9, "deployed", "m-high"),
    _event("a-1", 10, "change_approved", "m-high", request="d-1"),
    _event("a-2", 10, "deployment_approved", "m-high", request="r-1"),
    _event("a-3", 10, "change_approved", "m-low", request="r-1"),
    _event("a-4", 10, "change_rejected", "m-high", request="a-5"),  # a-5 comes later in the log
    _event("a-5", 11, "change_approved", "m-high", request="r-1"),
    _event("g-1", 11, "access_denied", "acc-1", request="r-2"),  # r-2 too
    _event("r-2", 11, "access_requested", "acc-1"),
    _event("g-2", 12, "access_granted", "acc-1", request="r-1"),
    _event("a-6", 12, "change_approved", "m-high", request="r-0"),  # in no log loaded: accepted
    _event("d-2", 12, "deployed", "m-high", request="r-1"),
]
IN_ONE_LOG_PROBLEMS = [
    ("a-1", "request", "names 'd-1', a deployed, but a change_approved answers a change_requested"),
    (
        "a-2",
        "request",
        "names 'r-1', a change_requested, but a deployment_approved answers a deployment_requested",
    ),
    (
        "a-3",
        "request",
        "names 'r-1', a change_requested on 'm-high', but the change_approved is on 'm-low' and answers a request on"
        " its own object",
    ),
    ("g-2", "request", "names 'r-1', a change_requested, but an access_granted answers an access_requested"),
    (
        "d-2",
        "request",
        "a deployed answers no request: only an approval or rejection has one (change_approved, change_rejected,"
        " deployment_approved, access_granted, access_denied); keep another reference as a property"
        " (properties.request)",
    ),
    (
        "a-4",
        "request",
        "names 'a-5', a change_approved, but a change_rejected answers a change_requested",
    ),
]


def test_a_request_of_another_kind_or_object_or_on_an_event_that_answers_nothing_is_refused(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    _with_bundle(db, scenario, tmp_path)
    line = {e["id"]: n for n, e in enumerate(IN_ONE_LOG, 1)}
    assert _problems(db, scenario, _jsonl(tmp_path, "log.jsonl", IN_ONE_LOG)) == [
        f"log.jsonl:{line[event]}: {field}: {message}" for event, field, message in IN_ONE_LOG_PROBLEMS
    ]
    assert _count(db, scenario) == 0


@pytest.mark.parametrize("form", ["csv", "json", "xes", "ocel"])
def test_every_form_refuses_the_same_request_links(db: Database, scenario: str, tmp_path: Path, form: str) -> None:
    _with_bundle(db, scenario, tmp_path)
    with pytest.raises(EventLogError) as caught:
        load_events(db, write_form(form, IN_ONE_LOG, tmp_path), scenario)
    assert sorted((p.field, p.message) for p in caught.value.problems) == sorted(
        (field, message) for _, field, message in IN_ONE_LOG_PROBLEMS
    )


def test_a_request_stored_before_is_checked_whichever_of_the_two_is_loaded_first(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    _with_bundle(db, scenario, tmp_path)
    first = [
        _event("r-1", 9, "change_requested", "m-high"),
        _event("d-1", 9, "deployed", "m-low"),
        _event("a-1", 10, "change_approved", "m-high", request="r-0"),
    ]
    loaded = load_events(db, _jsonl(tmp_path, "q3.jsonl", first), scenario)
    assert (loaded.added, loaded.unresolved_requests) == (3, 1)
    second = [
        _event("a-2", 11, "change_approved", "m-high", request="d-1"),
        _event("a-3", 11, "change_approved", "m-low", request="r-1"),
        _event("r-0", 8, "deployed", "m-high"),
    ]
    assert _problems(db, scenario, _jsonl(tmp_path, "q4.jsonl", second)) == [
        "q4.jsonl:3: id: 'r-0' is a deployed on 'm-high', but the change_approved 'a-1' loaded before names it as"
        " its request, and a change_approved answers a change_requested",
        "q4.jsonl:1: request: names 'd-1', a deployed loaded before, but a change_approved answers a change_requested",
        "q4.jsonl:2: request: names 'r-1', a change_requested on 'm-high' loaded before, but the change_approved is"
        " on 'm-low' and answers a request on its own object",
    ]
    assert _count(db, scenario) == 3
    fixed = [
        _event("a-2", 11, "change_approved", "m-high", request="r-1"),
        _event("r-0", 8, "change_requested", "m-high"),
    ]
    loaded = load_events(db, _jsonl(tmp_path, "q4.jsonl", fixed), scenario)
    assert (loaded.added, loaded.unresolved_requests, loaded.event_count) == (2, 0, 5)


def test_an_approval_whose_request_is_not_loaded_is_judged_once_it_is(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    """Not against the latest request before it, which is another request: the one it names is
    in last quarter's log."""
    _with_bundle(db, scenario, tmp_path)
    checks = [c for c in load_catalog().checks if c.id in ("self-approval-in-practice", "slow-approval")]

    def findings() -> list[tuple[str, list[str], str]]:
        return sorted(
            (f["check"], f["subjects"], f["message"]) for c in checks for f in run_check(db, c, scenario, AS_OF)
        )

    now = [
        _event("r-2", 9, "change_requested", "m-high"),  # the approver's own, but not the one answered
        _event("a-1", 10, "change_approved", "m-high", request="r-1"),
    ]
    assert load_events(db, _jsonl(tmp_path, "q4.jsonl", now), scenario).unresolved_requests == 1
    assert findings() == []
    lead = event_stats(db, load_catalog(), scenario, AS_OF)["approval_lead_times"]
    assert [(t["approvals"], t["with_request"]) for t in lead] == [(1, 0)]
    before = [{**_event("r-1", 9, "change_requested", "m-high"), "time": "2026-08-03T09:00:00Z"}]
    assert load_events(db, _jsonl(tmp_path, "q3.jsonl", before), scenario).unresolved_requests == 0
    assert findings() == [
        (
            "self-approval-in-practice",
            ["a-1", "m-high", "p-liam"],
            "p-liam approved their own request r-1 on Pricing model (a-1, 2026-11-02T10:00:00Z)",
        )
    ]
    lead = event_stats(db, load_catalog(), scenario, AS_OF)["approval_lead_times"]
    assert [(t["approvals"], t["with_request"], t["median_hours"]) for t in lead] == [(1, 1, 2185.0)]
