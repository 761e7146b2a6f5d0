"""Loading event logs (events.md): the five forms, validation of the whole log before anything is
stored, idempotence by id, and hostile files. Against the tests' real Neo4j."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from events import batches as event_batches
from events import store as event_store
from events.forms import MAX_LINE_CHARS
from events.store import EventLoadInterrupted, EventLogError, list_events, load_events
from graph.db import Database
from graph.sync import delete_scenario
from loaders import load_bundle
from queries.catalog import BUILTIN_CHECK_DIR, load_catalog
from queries.runner import run_check
from queries.waivers import UnknownScenarioError
from tests.events.forms import write_form

AS_OF = date(2026, 11, 22)
FIXTURE = BUILTIN_CHECK_DIR / "self-approval-in-practice.positive.yaml"


def _fixture() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = yaml.safe_load(FIXTURE.read_text())
    events = data.pop("events")
    for e in events:
        e["properties"] = {"ticket": f"T-{e['id']}", "priority": 2, "emergency": False}
    return data, events


def _load_bundle(db: Database, scenario: str, tmp_path: Path, bundle: dict[str, Any]) -> None:
    path = tmp_path / f"bundle-{scenario}.yaml"
    path.write_text(yaml.safe_dump(bundle))
    load_bundle(db, path, scenario)


def _event_findings(db: Database, scenario: str) -> list[tuple[str, tuple[str, ...], str]]:
    checks = [c for c in load_catalog().checks if c.spec.events]
    return sorted(
        (f["check"], tuple(f["subjects"]), f["message"]) for c in checks for f in run_check(db, c, scenario, AS_OF)
    )


def _count(db: Database, scenario: str) -> int:
    return db.read("MATCH (e:Event {scenario: $s}) RETURN count(e) AS n", {"s": scenario})[0]["n"]


@pytest.fixture
def scenarios(db: Database) -> Iterator[list[str]]:
    names = [f"t-{uuid.uuid4().hex[:12]}" for _ in range(5)]
    yield names
    for name in names:
        delete_scenario(db, name)


def test_the_same_log_in_all_five_forms_gives_the_same_events_and_findings(
    db: Database, scenarios: list[str], tmp_path: Path
) -> None:
    bundle, events = _fixture()
    results = {}
    for form, scenario in zip(("csv", "json", "jsonl", "xes", "ocel"), scenarios, strict=True):
        _load_bundle(db, scenario, tmp_path, bundle)
        loaded = load_events(db, write_form(form, events, tmp_path), scenario)
        assert (loaded.form, loaded.read, loaded.added) == (form, 9, 9)
        stored = sorted(list_events(db, scenario, limit=100), key=lambda e: e["id"])
        results[form] = (stored, _event_findings(db, scenario))
    first_events, first_findings = results["csv"]
    assert first_events[0]["properties"] == {"emergency": False, "priority": 2, "ticket": "T-a-1"}
    assert [(c, s) for c, s, _ in first_findings] == [
        ("activity-on-unregistered-entity", ("a-5", "m-shadow", "p-elena")),
        ("activity-on-unregistered-entity", ("r-5", "m-shadow", "p-elena")),
        ("self-approval-in-practice", ("a-1", "m-high", "p-liam")),
        ("self-approval-in-practice", ("a-3", "m-low", "p-liam")),
        ("self-approval-in-practice", ("a-4", "m-low")),
        ("self-approval-in-practice", ("a-5", "m-shadow", "p-elena")),
        ("unauthorized-approval", ("a-4", "m-low")),
        ("unknown-actor", ("a-4", "m-low")),
        ("unknown-actor", ("r-4", "m-low")),
    ]
    for form, (stored, findings) in results.items():
        assert (form, stored, findings) == (form, first_events, first_findings)


def test_loading_the_same_log_again_adds_nothing(db: Database, scenario: str, tmp_path: Path) -> None:
    bundle, events = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    log = write_form("jsonl", events, tmp_path)
    load_events(db, log, scenario)
    again = load_events(db, write_form("xes", events, tmp_path), scenario)
    assert (again.read, again.added, again.unchanged, again.event_count) == (9, 0, 9, 9)


def test_an_id_loaded_before_with_other_content_refuses_the_whole_log(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    bundle, events = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    load_events(db, write_form("csv", events[:3], tmp_path), scenario)
    changed = [dict(e) for e in events]
    changed[1]["actor"] = "p-liam"
    with pytest.raises(EventLogError) as caught:
        load_events(db, write_form("csv", changed, tmp_path), scenario)
    assert [str(p) for p in caught.value.problems] == [
        "log.csv:row 3: id: event 'r-2' was loaded before with other content"
    ]
    assert _count(db, scenario) == 3


MALFORMED = """id,time,activity,object,actor,to_stage,colour
e-1,2026-11-02T10:00:00+01:00,deployed,m-a,p-bo,,
e-2,2026-11-02T10:00:00,deployed,m-a,p-bo,,
e-3,2026-11-02 10:00:00+25:00,deployed,m-a,p-bo,,
e-4,2026-11-02,deploy,m-a,,,
,2026-11-02T10:00:00Z,stage_changed,uc-1,p-bo,,
e-1,2026-11-03T10:00:00Z,incident_opened,inc-1,,,
e 7,2026-11-03T10:00:00Z,shutdown,,p-bo,,
"""


def test_a_malformed_log_is_refused_whole_with_every_problem_and_nothing_stored(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    bundle, _ = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    (tmp_path / "bad.csv").write_text(MALFORMED)
    with pytest.raises(EventLogError) as caught:
        load_events(db, tmp_path / "bad.csv", scenario)
    assert [str(p) for p in caught.value.problems] == [
        "bad.csv:row 1: colour: unknown column",
        "bad.csv:row 3: time: '2026-11-02T10:00:00' has no UTC offset; write it as e.g. 2026-11-02T10:00:00+00:00",
        "bad.csv:row 4: time: '2026-11-02 10:00:00+25:00' is out of range: a UTC offset is at most 18 hours either way",
        "bad.csv:row 5: time: '2026-11-02' is a date; a time with a UTC offset is needed"
        " (e.g. 2026-11-02T09:15:00+01:00)",
        "bad.csv:row 5: activity: unknown activity 'deploy' (known: change_requested, change_approved, change_rejected,"
        " change_deployed, deployment_requested, deployment_approved, deployed, shutdown, access_requested,"
        " access_granted, access_denied, access_revoked, review_completed, stage_changed, incident_opened,"
        " incident_reported, escalated)",
        "bad.csv:row 5: actor: required field missing",
        "bad.csv:row 6: id: required field missing",
        "bad.csv:row 6: to_stage: required field missing",
        "bad.csv:row 7: id: duplicate id 'e-1' (first at bad.csv:row 2): an id is used once in a log",
        "bad.csv:row 8: id: 'e 7' is not an id: an id is 1 to 128 ASCII letters (A-Z, a-z), digits, '.', '_', ':'"
        " or '-', starting with a letter or digit",
        "bad.csv:row 8: object: required field missing",
    ]
    assert caught.value.summary() == "11 problems in the event log; nothing was stored"
    assert _count(db, scenario) == 0


def test_a_log_for_a_scenario_never_loaded_is_refused(db: Database, scenario: str, tmp_path: Path) -> None:
    _, events = _fixture()
    with pytest.raises(UnknownScenarioError, match="has not been loaded"):
        load_events(db, write_form("csv", events, tmp_path), scenario)


def test_ocel_events_relating_several_objects_take_the_one_entity_of_the_scenario(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    bundle, _ = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    document = {
        "events": [
            {
                "id": "o-1",
                "type": "deployed",
                "time": "2026-11-02T10:00:00Z",
                "attributes": [{"name": "actor", "value": "lbyrne"}],
                "relationships": [
                    {"objectId": "ticket-9", "qualifier": "for"},
                    {"objectId": "m-low", "qualifier": "of"},
                ],
            },
            {
                "id": "o-2",
                "type": "deployed",
                "time": "2026-11-02T11:00:00Z",
                "attributes": [{"name": "org:resource", "value": "lbyrne"}],
                "relationships": [{"objectId": "ticket-9"}, {"objectId": "ticket-10"}],
            },
        ]
    }
    (tmp_path / "log.jsonocel").write_text(json.dumps(document))
    with pytest.raises(EventLogError) as caught:
        load_events(db, tmp_path / "log.jsonocel", scenario)
    assert [str(p) for p in caught.value.problems] == [
        "log.jsonocel:events[1]: relationships: relates 2 objects (ticket-10, ticket-9); exactly one must be an entity"
        " of the scenario, but none are"
    ]
    document["events"].pop()
    (tmp_path / "log.jsonocel").write_text(json.dumps(document))
    load_events(db, tmp_path / "log.jsonocel", scenario)
    assert [(e["id"], e["object"], e["actor"]) for e in list_events(db, scenario)] == [("o-1", "m-low", "lbyrne")]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<log><trace><event><string key="concept:name" value="&lol3;"/></event></trace></log>
"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE log [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<log><trace><event><string key="concept:name" value="&secret;"/></event></trace></log>
"""


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "bomb.xes",
            BOMB,
            "bomb.xes:2: xml: refused: a DTD (<!DOCTYPE ...>) is not allowed in an event log (entity declarations"
            " can be XML bombs)",
        ),
        (
            "external.xes",
            EXTERNAL,
            "external.xes:2: xml: refused: a DTD (<!DOCTYPE ...>) is not allowed in an event log (entity declarations"
            " can be XML bombs)",
        ),
        (
            "long.csv",
            "id,time,activity,object,actor\n"
            + "x" * (MAX_LINE_CHARS + 10)
            + "\ne-1,2026-11-02T10:00:00Z,deployed,m-a,p\n",
            f"long.csv:2: line: longer than {MAX_LINE_CHARS:,} characters",
        ),
        (
            "long.jsonl",
            '{"id": "e-0", "x": "' + "y" * (MAX_LINE_CHARS + 10) + '"}\n',
            f"long.jsonl:1: line: longer than {MAX_LINE_CHARS:,} characters",
        ),
        (
            "long.xes",
            '<?xml version="1.0"?>\n<log><trace><event><string key="concept:name" value="'
            + "z" * (3 * MAX_LINE_CHARS)
            + '"/></event></trace></log>',
            f"long.xes:2: xml: a single tag or text is longer than {MAX_LINE_CHARS:,} bytes; reading stopped",
        ),
        (
            "text.xes",
            '<?xml version="1.0"?>\n<log><trace><event>\n' + "t" * (3 * MAX_LINE_CHARS) + "</event></trace></log>",
            f"text.xes:3: xml: a single tag or text is longer than {MAX_LINE_CHARS:,} bytes; reading stopped",
        ),
        ("broken.xes", "<log><trace><event></trace></log>\n", "broken.xes:1: xml: invalid XML: mismatched tag"),
        ("broken.json", '[\n {"id": ]', "broken.json:2: json: invalid JSON: Expecting value"),
        (
            "object.json",
            '{"id": "e-1",\n "time": 3}',
            "object.json: events: an OCEL 2.0 log is an object with a list of events",
        ),
        ("empty.csv", "", "empty.csv: file: the log is empty: a CSV log needs a header row"),
        ("deep.jsonl", "[" * 100_000 + "\n", "deep.jsonl:1: json: invalid JSON: nested too deeply for an event"),
        ("deep.json", "[" * 100_000, "deep.json:1: json: invalid JSON: nested too deeply for an event"),
    ],
)
def test_hostile_and_broken_files_are_refused_with_their_place(
    db: Database, scenario: str, tmp_path: Path, name: str, content: str, problem: str
) -> None:
    bundle, _ = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    (tmp_path / name).write_text(content)
    with pytest.raises(EventLogError) as caught:
        load_events(db, tmp_path / name, scenario)
    assert str(caught.value.problems[0]) == problem
    assert _count(db, scenario) == 0


def test_a_file_that_is_not_utf8_is_refused(db: Database, scenario: str, tmp_path: Path) -> None:
    bundle, _ = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    (tmp_path / "latin.csv").write_bytes(b"id,time,activity,object,actor\ne-1,2026-11-02T10:00:00Z,deployed,m-\xe9,p\n")
    with pytest.raises(EventLogError) as caught:
        load_events(db, tmp_path / "latin.csv", scenario)
    assert [str(p) for p in caught.value.problems] == ["latin.csv:2: file: not UTF-8 text (invalid continuation byte)"]


def test_a_load_of_many_batches_writes_them_side_by_side_and_stores_every_event(
    db: Database, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_store, "TX_MAX_EVENTS", 3)
    monkeypatch.setattr(event_batches, "BATCH_SIZE", 2)
    bundle, events = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    seen: list[tuple[int, int]] = []
    result = load_events(db, write_form("csv", events, tmp_path), scenario, progress=lambda d, t: seen.append((d, t)))
    batches = -(-len(events) // 2)
    assert (result.added, result.event_count) == (len(events), len(events))
    assert seen == [(n, batches) for n in range(1, batches + 1)]
    stored = db.read(
        "MATCH (e:Event {scenario: $s}) RETURN e.id AS id, toString(e.time) AS time, toString(e.day) AS day",
        {"s": scenario},
    )
    assert sorted((r["id"], r["time"][:19], r["day"]) for r in stored) == sorted(
        (e["id"], e["time"][:19], e["time"][:10]) for e in events
    )


def test_a_batch_that_fails_in_a_load_of_many_batches_says_how_many_events_were_stored(
    db: Database, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_store, "TX_MAX_EVENTS", 3)
    monkeypatch.setattr(event_batches, "BATCH_SIZE", 2)
    bundle, events = _fixture()
    create = event_store._create

    def second_batch_fails(tx: Any, rows: list[dict[str, Any]]) -> None:
        create(tx, rows * 2 if rows[0]["id"] == events[2]["id"] else rows)  # Neo4j's own ConstraintError

    monkeypatch.setattr(event_store, "_create", second_batch_fails)
    _load_bundle(db, scenario, tmp_path, bundle)
    log = write_form("csv", events, tmp_path)
    with pytest.raises(EventLoadInterrupted) as caught:
        load_events(db, log, scenario)
    # Batches 1, 3 and 4 were in flight or written when batch 2 failed; batch 5 was never sent.
    assert caught.value.stored == _count(db, scenario) == 6
    assert re.fullmatch(
        f"another load of events into scenario '{scenario}' wrote some of these ids meanwhile "
        rf"\(Node\(\d+\) already exists with label `Event` and properties .*'{events[2]['id']}'\); "
        "6 of this log's 9 new events were stored before the load stopped; "
        r"run the load again to store the rest \(loads are idempotent by event id\)",
        str(caught.value),
    )
    monkeypatch.setattr(event_store, "_create", create)
    again = load_events(db, log, scenario)
    assert (again.added, again.unchanged, again.event_count) == (3, 6, 9)


def test_an_id_stored_meanwhile_in_a_load_of_one_transaction_says_nothing_was_stored(
    db: Database, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle, events = _fixture()
    create = event_store._create

    def stored_meanwhile(tx: Any, rows: list[dict[str, Any]]) -> None:
        create(tx, rows + rows[-1:])  # Neo4j's own ConstraintError

    monkeypatch.setattr(event_store, "_create", stored_meanwhile)
    _load_bundle(db, scenario, tmp_path, bundle)
    with pytest.raises(EventLoadInterrupted) as caught:
        load_events(db, write_form("csv", events, tmp_path), scenario)
    assert caught.value.stored == _count(db, scenario) == 0
    assert re.fullmatch(
        f"another load of events into scenario '{scenario}' wrote some of these ids meanwhile "
        r"\(Node\(\d+\) already exists with label `Event` and properties .*\); nothing was stored; run the load again",
        str(caught.value),
    )
