"""POST /scenarios/{s}/events, GET /scenarios/{s}/events and /events/stats, and the findings'
`since` (rest.md, events.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml

from events.lock import event_load_lock
from graph.db import Database
from graph.settings import Settings
from tests.api.conftest import ApiClient, make_client
from tests.events.test_interfaces import FIXTURE, _write


def test_post_events_loads_for_editors_and_refuses_a_malformed_log_with_422(
    api: ApiClient, scenario: str, tmp_path: Path
) -> None:
    bundle, log = _write(tmp_path)
    assert api.put(f"/scenarios/{scenario}/bundle", content=bundle.read_bytes()).status_code == 200
    assert api.post(f"/scenarios/{scenario}/events", content=log.read_bytes(), key="reader").status_code == 403
    loaded = api.post(
        f"/scenarios/{scenario}/events", content=log.read_bytes(), headers={"Content-Type": "text/csv"}, key="editor"
    )
    assert loaded.status_code == 200
    assert {k: v for k, v in loaded.json().items() if k != "seconds"} == {
        "scenario": scenario,
        "form": "csv",
        "read": 4,
        "added": 4,
        "unchanged": 0,
        "unresolved_requests": 0,
        "event_count": 4,
    }
    bad = api.post(
        f"/scenarios/{scenario}/events",
        content=b'[{"id": "x", "time": "2026-11-02T10:00:00Z", "activity": "launched", "object": "m-low",'
        b' "actor": "p"}]',
        headers={"Content-Type": "application/json"},
        key="editor",
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"] == [
        {"place": "events.json:1", "field": "activity", "message": bad.json()["errors"][0]["message"]}
    ]
    assert bad.json()["errors"][0]["message"].startswith("unknown activity 'launched' (known: change_requested")
    listed = api.get(f"/scenarios/{scenario}/events", params={"object": "m-high", "limit": 1}).json()
    assert [e["id"] for e in listed["events"]] == ["a-1"]
    # the time with its offset, without Neo4j's nine digits of fraction
    written = next(e["time"] for e in yaml.safe_load(FIXTURE.read_text())["events"] if e["id"] == "a-1")
    shown = listed["events"][0]["time"]
    assert "." not in shown and datetime.fromisoformat(shown) == datetime.fromisoformat(str(written))
    following = api.get(
        f"/scenarios/{scenario}/events", params={"object": "m-high", "limit": 1, "cursor": listed["next_cursor"]}
    ).json()
    assert [e["id"] for e in following["events"]] == ["r-1"]
    by_alias = api.get(f"/scenarios/{scenario}/events", params={"actor": "p-elena"}).json()
    assert [(e["id"], e["actor"]) for e in by_alias["events"]] == [("a-1", "egarcia")]
    stats = api.get(f"/scenarios/{scenario}/events/stats", params={"as_of": "2026-11-22"}).json()
    assert stats["authorized"] == {
        "deployments": {"total": 0, "authorized": 0, "share": None},
        "changes": {"total": 0, "authorized": 0, "share": None},
    }
    assert [a["actor"] for a in stats["approvers"]] == ["p-elena", "someone-else"]
    findings = api.get(
        f"/scenarios/{scenario}/findings",
        params={"check": "slow-approval", "as_of": "2026-11-22", "since": "2026-11-01"},
    ).json()
    assert [f["subjects"] for f in findings["findings"]] == [["a-2", "m-low"]]


def test_events_of_a_scenario_never_loaded_are_a_404(api: ApiClient, scenario: str) -> None:
    response = api.post(f"/scenarios/{scenario}/events", content=b"id,time\n", key="editor")
    assert response.status_code == 404
    assert api.get(f"/scenarios/{scenario}/events/stats").status_code == 404


def test_post_events_counts_problems_beyond_the_first_thousand_once_in_detail_and_errors_omitted(
    api: ApiClient, scenario: str, tmp_path: Path
) -> None:
    bundle, _ = _write(tmp_path)
    assert api.put(f"/scenarios/{scenario}/bundle", content=bundle.read_bytes()).status_code == 200
    log = "id,time,activity,object,actor\n" + "".join(f"e-{i},,deployed,m-low,p-a\n" for i in range(1_001))
    bad = api.post(
        f"/scenarios/{scenario}/events", content=log.encode(), headers={"Content-Type": "text/csv"}, key="editor"
    )
    assert bad.status_code == 422
    body = bad.json()
    assert (body["detail"], len(body["errors"]), body["errors_omitted"]) == (
        "1,001 problems in the event log; nothing was stored",
        1_000,
        1,
    )
    assert body["errors"][0] == {"place": "events.csv:row 2", "field": "time", "message": "required field missing"}


def test_post_events_refuses_a_request_of_another_kind_with_422(api: ApiClient, scenario: str, tmp_path: Path) -> None:
    bundle, _ = _write(tmp_path)
    assert api.put(f"/scenarios/{scenario}/bundle", content=bundle.read_bytes()).status_code == 200
    log = (
        "id,time,activity,object,actor,request\n"
        "d-1,2026-11-02T09:00:00Z,deployed,m-high,p-elena,\n"
        "a-1,2026-11-02T10:00:00Z,change_approved,m-high,p-elena,d-1\n"
        "a-2,2026-11-02T10:00:00Z,change_approved,m-high,p-elena,r-0\n"
    )
    bad = api.post(
        f"/scenarios/{scenario}/events", content=log.encode(), headers={"Content-Type": "text/csv"}, key="editor"
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"] == [
        {
            "place": "events.csv:row 3",
            "field": "request",
            "message": "names 'd-1', a deployed, but a change_approved answers a change_requested",
        }
    ]
    fixed = log.replace("m-high,p-elena,d-1", "m-high,p-elena,")
    loaded = api.post(
        f"/scenarios/{scenario}/events", content=fixed.encode(), headers={"Content-Type": "text/csv"}, key="editor"
    )
    assert (loaded.status_code, loaded.json()["added"], loaded.json()["unresolved_requests"]) == (200, 3, 1)


def test_post_events_is_a_409_when_another_load_into_the_scenario_does_not_end_in_time(
    test_settings: Settings, api_keys: dict[str, str], db: Database, scenario: str, tmp_path: Path
) -> None:
    bundle, log = _write(tmp_path)
    impatient = make_client(test_settings.model_copy(update={"events_load_wait_s": 0.3}), api_keys)
    try:
        assert impatient.put(f"/scenarios/{scenario}/bundle", content=bundle.read_bytes()).status_code == 200
        with event_load_lock(db, scenario):
            busy = impatient.post(
                f"/scenarios/{scenario}/events", content=log.read_bytes(), headers={"Content-Type": "text/csv"}
            )
    finally:
        impatient.close()
    assert (busy.status_code, busy.headers["content-type"]) == (409, "application/problem+json")
    assert busy.json()["detail"].startswith(f"another load of events into scenario '{scenario}' has held it for ")
    assert busy.json()["detail"].endswith(
        "this load waited 0.3 s (TOMGRAPH_EVENTS_LOAD_WAIT_S) and nothing was stored; try again when it ends"
    )
    assert db.read("MATCH (e:Event {scenario: $s}) RETURN count(e) AS n", {"s": scenario}) == [{"n": 0}]
