"""Bad input a tester found crashing or slipping through the event-log loader: each must be a
`PLACE: FIELD: MESSAGE` problem, never a traceback, and nothing stored (events.md, "Loading")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from events.forms import MAX_LINE_CHARS
from events.store import EventLogError, load_events
from graph.db import Database
from loaders import load_bundle
from queries.catalog import BUILTIN_CHECK_DIR

FIXTURE = BUILTIN_CHECK_DIR / "self-approval-in-practice.positive.yaml"
GOOD = {"time": "2026-11-02T10:00:00+01:00", "activity": "deployed", "object": "m-high", "actor": "p-liam"}
SURROGATE = (
    "contains a lone surrogate (U+D800), which is not a Unicode character; the text was damaged before it"
    " reached this file"
)
UTC_RANGE = "is out of range: its UTC time must fall between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"


def _with_bundle(db: Database, scenario: str, tmp_path: Path) -> None:
    data = yaml.safe_load(FIXTURE.read_text())
    data.pop("events")
    (tmp_path / "bundle.yaml").write_text(yaml.safe_dump(data))
    load_bundle(db, tmp_path / "bundle.yaml", scenario)


def _count(db: Database, scenario: str) -> int:
    return db.read("MATCH (e:Event {scenario: $s}) RETURN count(e) AS n", {"s": scenario})[0]["n"]


def _refused(db: Database, scenario: str, path: Path) -> list[str]:
    """The problems of loading `path`, after checking that nothing was stored."""
    with pytest.raises(EventLogError) as caught:
        load_events(db, path, scenario)
    assert _count(db, scenario) == 0
    return [str(p) for p in caught.value.problems]


def test_times_neo4j_cannot_hold_are_refused_and_the_extremes_it_can_are_stored(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    _with_bundle(db, scenario, tmp_path)
    bad = [
        "0001-01-01T00:00:00+01:00",  # UTC: the year 0 (was "Ticks out of range")
        "9999-12-31T23:59:59-14:00",  # UTC: the year 10000 (was "Ordinal out of range")
        "2026-11-02T10:00:00+19:00",  # Neo4j's offsets stop at 18 hours (was a dropped connection)
        "2026-11-02T10:00:00+01:00:30",  # Neo4j's offsets are whole minutes (was a traceback)
    ]
    log = tmp_path / "times.jsonl"
    log.write_text("".join(json.dumps({**GOOD, "id": f"e-{i}", "time": t}) + "\n" for i, t in enumerate(bad)))
    assert _refused(db, scenario, log) == [
        f"times.jsonl:1: time: '0001-01-01T00:00:00+01:00' {UTC_RANGE}",
        f"times.jsonl:2: time: '9999-12-31T23:59:59-14:00' {UTC_RANGE}",
        "times.jsonl:3: time: '2026-11-02T10:00:00+19:00' is out of range: a UTC offset is at most 18 hours either way",
        "times.jsonl:4: time: '2026-11-02T10:00:00+01:00:30' has an offset with seconds;"
        " a UTC offset is whole minutes (e.g. +01:00)",
    ]
    good = [
        "0001-01-01T00:00:00-01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2026-11-02T10:00:00-18:00",
        "2026-11-02T23:59:59.000001+05:45",
    ]
    log.write_text("".join(json.dumps({**GOOD, "id": f"e-{i}", "time": t}) + "\n" for i, t in enumerate(good)))
    assert load_events(db, log, scenario).added == 5
    stored = db.read(
        "MATCH (e:Event {scenario: $s}) RETURN e.id AS id, toString(e.time) AS time, e.day AS day ORDER BY id",
        {"s": scenario},
    )
    assert [(r["id"], r["time"], r["day"].iso_format()) for r in stored] == [
        ("e-0", "0001-01-01T00:00:00-01:00", "0001-01-01"),
        ("e-1", "0001-01-01T00:00:00Z", "0001-01-01"),
        ("e-2", "9999-12-31T23:59:59Z", "9999-12-31"),
        ("e-3", "2026-11-02T10:00:00-18:00", "2026-11-02"),
        ("e-4", "2026-11-02T23:59:59.000001+05:45", "2026-11-02"),
    ]


FIT = "does not fit in a 64-bit integer (Neo4j's); write it as text"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [
                '"actor": "\\ud800"',
                '"actor": "p-liam", "request": "r-\\ud800", "properties": {"note": "x\\ud800"}',
                '"actor": "p-\\u0000"',
            ],
            [
                f"bad.jsonl:1: actor: {SURROGATE}",
                f"bad.jsonl:2: request: {SURROGATE}",
                f"bad.jsonl:2: properties.note: {SURROGATE}",
                "bad.jsonl:3: actor: contains a NUL character (U+0000), which tomgraph refuses in any text",
            ],
        ),
        (
            [
                '"actor": "p-liam", "properties": {"big": 123456789012345678901234567890}',
                '"actor": "p-liam", "properties": {"small": -9223372036854775809, "max": 9223372036854775807,'
                ' "min": -9223372036854775808}',
            ],
            [
                f"bad.jsonl:1: properties.big: 123456789012345678901234567890 {FIT}",
                f"bad.jsonl:2: properties.small: -9223372036854775809 {FIT}",
            ],
        ),
    ],
    ids=["lone-surrogates-and-nul", "integers-over-64-bits"],
)
def test_lone_surrogates_and_integers_over_64_bits_are_refused_naming_the_field(
    db: Database, scenario: str, tmp_path: Path, lines: list[str], expected: list[str]
) -> None:
    _with_bundle(db, scenario, tmp_path)
    log = tmp_path / "bad.jsonl"
    head = '"time": "2026-11-02T10:00:00Z", "activity": "deployed", "object": "m-high"'
    log.write_text("".join(f'{{"id": "e-{i}", {head}, {line}}}\n' for i, line in enumerate(lines, 1)))
    assert _refused(db, scenario, log) == expected


XES_EVENT = """<event><string key="tom:id" value="e-{n}"/><string key="concept:name" value="deployed"/>
<date key="time:timestamp" value="2026-11-02T10:00:00Z"/><string key="org:resource" value="p-liam"/>{extra}
</event>
"""
TRACE = '<trace><string key="concept:name" value="m-high"/>\n'


def _xes(*parts: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1849-2016">\n' + "".join(parts) + "</log>\n"


@pytest.mark.parametrize(
    ("xes", "expected"),
    [
        (
            _xes(
                TRACE, XES_EVENT.format(n=1, extra='\n<int key="count" value="99999999999999999999999"/>'), "</trace>\n"
            ),
            [f"log.xes:4: properties.count: 99999999999999999999999 {FIT}"],
        ),
        (
            _xes(TRACE, XES_EVENT.format(n=1, extra='\n<boolean key="ok" value="maybe"/>'), "</trace>\n"),
            ["log.xes:6: properties.ok: a boolean is true or false, not 'maybe'"],
        ),
        (
            _xes(TRACE, XES_EVENT.format(n=1, extra=""), "</trace>\n", XES_EVENT.format(n=2, extra="")),
            ["log.xes:8: object: required field missing"],
        ),
    ],
    ids=["int-over-64-bits", "boolean-maybe", "event-after-a-trace"],
)
def test_xes_big_integers_booleans_other_than_true_false_and_events_outside_a_trace_are_refused(
    db: Database, scenario: str, tmp_path: Path, xes: str, expected: list[str]
) -> None:
    _with_bundle(db, scenario, tmp_path)
    (tmp_path / "log.xes").write_text(xes)
    assert _refused(db, scenario, tmp_path / "log.xes") == expected


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"events": 5},
            ["x.jsonocel: events: an OCEL 2.0 log is an object with a list of events; its events are a number"],
        ),
        (
            {"objects": {"m-high": {}}, "events": [5, {**GOOD, "id": "e-2", "type": "deployed", "relationships": 5}]},
            [
                "x.jsonocel: objects: must be a list of objects, not an object",
                "x.jsonocel:events[0]: event: an event is a JSON object, not a number",
                "x.jsonocel:events[1]: relationships: must be a list of {objectId, qualifier}, not a number",
            ],
        ),
        (
            {
                "objects": [7],
                "events": [
                    {"id": "e-1", "type": "deployed", "time": GOOD["time"], "relationships": [5, {"objectId": 3}]},
                    {"id": "e-2", "type": "deployed", "time": GOOD["time"], "attributes": {"actor": "p-liam"}},
                    {
                        "id": "e-3",
                        "type": "deployed",
                        "time": GOOD["time"],
                        "attributes": [["actor", "p"], {"name": "org:resource", "value": "p-liam"}],
                        "relationships": [{"objectId": "m-high", "qualifier": "model"}],
                    },
                ],
            },
            [
                "x.jsonocel:objects[0]: object: an object is a JSON object, not a number",
                "x.jsonocel:events[0]: relationships[0]: a relationship is a JSON object {objectId, qualifier},"
                " not a number",
                "x.jsonocel:events[0]: relationships[1].objectId: required: the related object's id",
                "x.jsonocel:events[1]: attributes: must be a list of {name, value}, not an object",
                "x.jsonocel:events[2]: attributes[0]: each attribute is {name, value}",
            ],
        ),
    ],
    ids=["events-not-a-list", "event-and-relationships-not-objects-or-lists", "items-of-the-wrong-shape"],
)
def test_ocel_of_the_wrong_shape_is_refused_with_the_place(
    db: Database, scenario: str, tmp_path: Path, document: dict[str, object], expected: list[str]
) -> None:
    _with_bundle(db, scenario, tmp_path)
    (tmp_path / "x.jsonocel").write_text(json.dumps(document))
    assert _refused(db, scenario, tmp_path / "x.jsonocel") == expected


def test_a_csv_header_naming_a_column_twice_is_refused(db: Database, scenario: str, tmp_path: Path) -> None:
    _with_bundle(db, scenario, tmp_path)
    (tmp_path / "log.csv").write_text(
        "id,time,activity,object,actor,id\ne-1,2026-11-02T10:00:00Z,deployed,m-high,p-liam,e-2\n"
    )
    assert _refused(db, scenario, tmp_path / "log.csv") == [
        "log.csv:row 1: id: repeated column (columns 1 and 6); a column is named once"
    ]


def test_csv_rows_after_an_over_long_line_keep_their_numbers(db: Database, scenario: str, tmp_path: Path) -> None:
    _with_bundle(db, scenario, tmp_path)
    row = "2026-11-02T10:00:00Z,deployed,m-high,p-liam"
    (tmp_path / "log.csv").write_text(
        f"id,time,activity,object,actor\ne-1,{row}\ne-2,{row}\n{'x' * (MAX_LINE_CHARS + 10)}\ne-3,{row},extra\n"
        f"e-4,{row}\n,{row}\n"
    )
    assert _refused(db, scenario, tmp_path / "log.csv") == [
        f"log.csv:4: line: longer than {MAX_LINE_CHARS:,} characters",
        "log.csv:row 5: csv: 6 cells but 5 columns in the header",
        "log.csv:row 7: id: required field missing",
    ]


@pytest.mark.parametrize(("bad_rows", "omitted"), [(1_001, 1), (2_000, 1_000)])
def test_problems_beyond_the_first_thousand_are_counted_once(
    db: Database, scenario: str, tmp_path: Path, bad_rows: int, omitted: int
) -> None:
    _with_bundle(db, scenario, tmp_path)
    log = tmp_path / "log.csv"
    log.write_text(
        "id,time,activity,object,actor\n" + "".join(f"e-{i},,deployed,m-high,p-liam\n" for i in range(bad_rows))
    )
    with pytest.raises(EventLogError) as caught:
        load_events(db, log, scenario)
    error = caught.value
    assert (len(error.problems), error.omitted, error.total) == (1_000, omitted, bad_rows)
    assert error.summary() == f"{bad_rows:,} problems in the event log; nothing was stored"
    assert error.omitted_line() == f"… and {omitted:,} more problem{'s' if omitted != 1 else ''}"
    assert _count(db, scenario) == 0


def test_an_approval_naming_itself_as_its_request_is_refused(db: Database, scenario: str, tmp_path: Path) -> None:
    _with_bundle(db, scenario, tmp_path)
    log = tmp_path / "self.jsonl"
    log.write_text(json.dumps({**GOOD, "id": "r-1", "activity": "change_approved", "request": "r-1"}) + "\n")
    assert _refused(db, scenario, log) == [
        "self.jsonl:1: request: names the event itself ('r-1'); it names the request answered"
    ]


def test_a_request_that_cannot_be_an_event_id_is_refused(db: Database, scenario: str, tmp_path: Path) -> None:
    _with_bundle(db, scenario, tmp_path)
    log = tmp_path / "request.jsonl"
    log.write_text(json.dumps({**GOOD, "id": "a-1", "activity": "change_approved", "request": "bad id!"}) + "\n")
    assert _refused(db, scenario, log) == [
        "request.jsonl:1: request: 'bad id!' is not an event id: an id is 1 to 128 ASCII letters (A-Z, a-z), digits,"
        " '.', '_', ':' or '-', starting with a letter or digit"
    ]


SINGLE = (
    "which an event cannot store: its properties are single text, number or boolean values; give each value as an"
    " attribute of its own, or all of them as one <string>"
)


def test_xes_lists_containers_and_attributes_of_attributes_are_refused_naming_line_and_key(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    _with_bundle(db, scenario, tmp_path)
    extra = (
        '\n<list key="cost:drivers"><values><string key="d" value="a"/><string key="d" value="b"/></values></list>'
        '\n<container key="ctx"><int key="n" value="1"/></container>'
        '\n<string key="note" value="x"><string key="meta" value="y"/><int key="m2" value="3"/></string>'
        '\n<foo key="bar" value="1"/><string value="no key"/>'
    )
    (tmp_path / "log.xes").write_text(_xes(TRACE, XES_EVENT.format(n=1, extra=extra), "</trace>\n"))
    assert _refused(db, scenario, tmp_path / "log.xes") == [
        f"log.xes:6: properties.cost_drivers: the <list> attribute 'cost:drivers' holds a list of values, {SINGLE}",
        f"log.xes:7: properties.ctx: the <container> attribute 'ctx' holds a set of named values, {SINGLE}",
        "log.xes:8: properties.note: the <string> attribute 'note' has attributes of its own (XES meta-attributes,"
        " here <string>), which an event cannot store; give each as an attribute of the event",
        "log.xes:9: properties.bar: <foo> is not an XES attribute (string, date, int, float, boolean, id, list,"
        " container)",
        "log.xes:9: <string>: an XES attribute needs a key",
    ]


def test_xes_typed_values_that_do_not_parse_are_refused_and_those_that_do_are_stored_typed(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    _with_bundle(db, scenario, tmp_path)
    bad = (
        '\n<int key="count" value="12abc"/><float key="cost" value="1,5"/>'
        '\n<date key="due" value="next week"/><float key="tom:to_stage" value="two"/>'
    )
    no_offset = XES_EVENT.format(n=2, extra="").replace("2026-11-02T10:00:00Z", "2026-11-02T10:00:00")
    (tmp_path / "log.xes").write_text(_xes(TRACE, XES_EVENT.format(n=1, extra=bad), no_offset, "</trace>\n"))
    assert _refused(db, scenario, tmp_path / "log.xes") == [
        "log.xes:6: properties.count: an <int> is a whole number, not '12abc'",
        "log.xes:6: properties.cost: a <float> is a decimal number (e.g. 2.5 or 1.5e3), not '1,5'",
        "log.xes:7: properties.due: a <date> is an ISO 8601 date and time (e.g. 2026-03-02T09:15:00+01:00),"
        " not 'next week'",
        "log.xes:7: to_stage: a <float> is a decimal number (e.g. 2.5 or 1.5e3), not 'two'",
        "log.xes:9: time: '2026-11-02T10:00:00' has no UTC offset; write it as e.g. 2026-11-02T10:00:00+00:00",
    ]
    good = (
        '\n<int key="count" value="+12"/><float key="cost" value="1.5e3"/>'
        '<date key="due" value="2026-12-01T00:00:00.000+01:00"/>'
    )
    (tmp_path / "log.xes").write_text(_xes(TRACE, XES_EVENT.format(n=1, extra=good), "</trace>\n"))
    assert load_events(db, tmp_path / "log.xes", scenario).added == 1
    stored = db.read("MATCH (e:Event {scenario: $s}) RETURN properties(e) AS p", {"s": scenario})[0]["p"]
    assert {k: v for k, v in stored.items() if k.startswith("properties.")} == {
        "properties.count": 12,
        "properties.cost": 1500.0,
        "properties.due": "2026-12-01T00:00:00.000+01:00",
    }


def _jsonl(*lines: str) -> str:
    head = '"time": "2026-11-02T10:00:00Z", "activity": "deployed", "object": "m-high"'
    return "".join(f'{{"id": "e-{i}", {head}, {line}}}\n' for i, line in enumerate(lines, 1))


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "log.jsonl",
            _jsonl(
                '"actor": "p-liam", "actor": "p-mia"',
                '"actor": "p-liam", "properties": {"note": "a", "note": "b", "cost": 1, "cost": 2, "note": "c"}',
                '"actor": "p-liam"',
            ),
            [
                "log.jsonl:1: actor: duplicate key 'actor' in the same object",
                "log.jsonl:2: properties.note: duplicate key 'note' in the same object",
                "log.jsonl:2: properties.cost: duplicate key 'cost' in the same object",
            ],
        ),
        (
            "log.json",
            '[\n{"id": "e-1", "id": "e-1", "time": "2026-11-02T10:00:00Z", "activity": "deployed",'
            ' "object": "m-high", "actor": "p-liam"},\n'
            '{"id": "e-2", "time": "2026-11-02T10:00:00Z", "activity": "deployed", "object": "m-high",'
            ' "actor": "p-liam", "properties": {"x": {"y": 1, "y": 2}}}\n]\n',
            [
                "log.json:2: id: duplicate key 'id' in the same object",
                "log.json:3: properties.x.y: duplicate key 'y' in the same object",  # and nothing else of it
            ],
        ),
        (
            "log.jsonocel",
            json.dumps(
                {
                    "objects": [{"id": "m-high", "type": "model"}],
                    "events": [
                        {"id": "e-1", "type": "deployed", "time": GOOD["time"], "attributes": []},
                        {
                            "id": "e-2",
                            "type": "deployed",
                            "time": GOOD["time"],
                            "attributes": [
                                {"name": "org:resource", "value": "p-liam"},
                                {"name": "cost", "value": 1},
                                {"name": "cost", "value": 2},
                            ],
                            "relationships": [{"objectId": "m-high", "qualifier": "model"}],
                        },
                    ],
                }
            )
            .replace('"type": "model"', '"type": "model", "type": "entity"')
            .replace('"id": "e-1", "type": "deployed"', '"id": "e-1", "type": "deployed", "type": "shutdown"')
            .replace('"value": "p-liam"', '"value": "p-liam", "value": "p-mia"'),
            [
                "log.jsonocel:objects[0]: type: duplicate key 'type' in the same object",
                "log.jsonocel:events[0]: type: duplicate key 'type' in the same object",
                "log.jsonocel:events[0]: object: required field missing",
                "log.jsonocel:events[0]: actor: required field missing",
                "log.jsonocel:events[1]: attributes[0].value: duplicate key 'value' in the same object",
                "log.jsonocel:events[1]: attributes[2]: duplicate attribute 'cost' in the same event"
                " (also attributes[1])",
            ],
        ),
        (
            "log.xes",
            _xes(
                TRACE,
                XES_EVENT.format(
                    n=1,
                    extra='\n<string key="org:resource" value="p-mia"/>'
                    '<int key="n" value="x"/><int key="n" value="2"/>',
                ),
                "</trace>\n",
            ),
            [
                "log.xes:6: actor: duplicate key 'org:resource' in the same <event>; an attribute is given once",
                "log.xes:6: properties.n: an <int> is a whole number, not 'x'",
                "log.xes:6: properties.n: duplicate key 'n' in the same <event>; an attribute is given once",
            ],
        ),
    ],
    ids=["jsonl", "json", "ocel", "xes"],
)
def test_a_key_given_twice_in_an_event_is_refused_not_last_wins(
    db: Database, scenario: str, tmp_path: Path, name: str, text: str, expected: list[str]
) -> None:
    _with_bundle(db, scenario, tmp_path)
    (tmp_path / name).write_text(text)
    assert _refused(db, scenario, tmp_path / name) == expected


def test_a_csv_integer_over_64_bits_is_refused_as_in_json_and_an_apostrophe_makes_a_number_text(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    _with_bundle(db, scenario, tmp_path)
    head = "id,time,activity,object,actor,properties.n\n"
    row = "2026-11-02T10:00:00Z,deployed,m-high,p-liam"
    log = tmp_path / "log.csv"
    log.write_text(f"{head}e-1,{row},12345678901234567890\ne-2,{row},-9223372036854775809\ne-3,{row},{'9' * 60}\n")
    hint = "to keep it as text, start the cell with an apostrophe ('), which is not stored"
    assert _refused(db, scenario, log) == [
        f"log.csv:row 2: properties.n: 12345678901234567890 does not fit in a 64-bit integer (Neo4j's); {hint}",
        f"log.csv:row 3: properties.n: -9223372036854775809 does not fit in a 64-bit integer (Neo4j's); {hint}",
        f"log.csv:row 4: properties.n: {'9' * 20}... (60 digits) does not fit in a 64-bit integer (Neo4j's); {hint}",
    ]
    cells = [
        "'12345678901234567890",
        "9223372036854775807",
        "-9223372036854775808",
        "'12",
        "'true",
        "'note",
        "007",
        "1.5",
        "'1.5",
    ]
    log.write_text(head + "".join(f"e-{i},{row},{cell}\n" for i, cell in enumerate(cells)))
    assert load_events(db, log, scenario).added == len(cells)
    stored = db.read(
        "MATCH (e:Event {scenario: $s}) RETURN e.`properties.n` AS n ORDER BY toInteger(substring(e.id, 2))",
        {"s": scenario},
    )
    assert [r["n"] for r in stored] == [
        "12345678901234567890",
        9223372036854775807,
        -9223372036854775808,
        "12",
        "true",
        "'note",
        "007",
        1.5,
        "1.5",
    ]


def test_an_id_or_request_outside_ascii_is_refused_naming_the_value(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    _with_bundle(db, scenario, tmp_path)
    rule = "an id is 1 to 128 ASCII letters (A-Z, a-z), digits, '.', '_', ':' or '-', starting with a letter or digit"
    log = tmp_path / "ids.jsonl"
    long_id = "é" + "x" * 100
    log.write_text(
        json.dumps({**GOOD, "id": "évé-1"})
        + "\n"
        + json.dumps({**GOOD, "id": "a-1", "activity": "change_approved", "request": "req-ü"})
        + "\n"
        + json.dumps({**GOOD, "id": long_id})
        + "\n"
    )
    assert _refused(db, scenario, log) == [
        f"ids.jsonl:1: id: 'évé-1' is not an id: {rule}",
        f"ids.jsonl:2: request: 'req-ü' is not an event id: {rule}",
        f"ids.jsonl:3: id: '{long_id[:64]}' is not an id: {rule}",
    ]


FORM = "YYYY-MM-DDTHH:MM[:SS[.ffffff]] with Z or a UTC offset ±HH:MM (e.g. 2026-03-02T09:15:00+01:00)"


def test_times_outside_the_one_documented_form_are_refused_with_the_form_to_write(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    _with_bundle(db, scenario, tmp_path)
    bad = [
        "2026-03-02T09:15:00.123456789Z",  # was cut to microseconds silently
        "2026-W10-1T09:15:00Z",  # a week date: Python 3.11 read it
        "20260302T091500Z",  # ISO 8601's basic format: Python 3.11 read it
        "2026-061T09:15:00Z",  # an ordinal date
        "2026-03-02T09:15:00+0100",
        "2026-03-02 09:15:00 +01:00",
        "2026-03-02T24:00:00Z",
        "2026-03-02T09:15:00.Z",
        "2026-03-02T09:15.5Z",  # a fraction of a minute: ISO reads :15.5 as 09:15:30
        "2026-03-02T09:15:00+01:00:00",
        "2026-03-02T09:15:00+01:60",
    ]
    log = tmp_path / "times.jsonl"
    log.write_text("".join(json.dumps({**GOOD, "id": f"e-{i}", "time": t}) + "\n" for i, t in enumerate(bad, 1)))
    assert _refused(db, scenario, log) == [
        "times.jsonl:1: time: '2026-03-02T09:15:00.123456789Z' has 9 digits after the second; at most 6 digits"
        " after the second (microseconds) are allowed, e.g. 2026-03-02T09:15:00.123456Z",
        f"times.jsonl:2: time: '2026-W10-1T09:15:00Z' is not a time written {FORM}",
        f"times.jsonl:3: time: '20260302T091500Z' is not a time written {FORM}",
        f"times.jsonl:4: time: '2026-061T09:15:00Z' is not a time written {FORM}",
        "times.jsonl:5: time: '2026-03-02T09:15:00+0100': write the UTC offset as ±HH:MM right after the time"
        " (2026-03-02T09:15:00+01:00)",
        "times.jsonl:6: time: '2026-03-02 09:15:00 +01:00': write the UTC offset as ±HH:MM right after the time"
        " (2026-03-02 09:15:00+01:00)",
        "times.jsonl:7: time: '2026-03-02T24:00:00Z' is not a real date and time (hour must be in 0..23)",
        f"times.jsonl:8: time: '2026-03-02T09:15:00.Z' is not a time written {FORM}",
        f"times.jsonl:9: time: '2026-03-02T09:15.5Z' is not a time written {FORM}",
        "times.jsonl:10: time: '2026-03-02T09:15:00+01:00:00' has an offset with seconds; a UTC offset is whole"
        " minutes (e.g. +01:00)",
        "times.jsonl:11: time: '2026-03-02T09:15:00+01:60' has an offset of 60 minutes; minutes run 00 to 59",
    ]


def test_times_in_the_documented_form_load_whichever_separators_they_use(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    _with_bundle(db, scenario, tmp_path)
    good = [
        "2026-03-02T09:15:00+01:00",
        "2026-03-02 09:15:00+01:00",
        "2026-03-02t09:15:00z",
        "2026-03-02T09:15Z",
        "2026-03-02T09:15:00.5-05:30",
        "2026-03-02T09:15:00,123456Z",
    ]
    log = tmp_path / "times.jsonl"
    log.write_text("".join(json.dumps({**GOOD, "id": f"e-{i}", "time": t}) + "\n" for i, t in enumerate(good)))
    assert load_events(db, log, scenario).added == len(good)
    stored = db.read("MATCH (e:Event {scenario: $s}) RETURN toString(e.time) AS time ORDER BY e.id", {"s": scenario})
    assert [r["time"] for r in stored] == [
        "2026-03-02T09:15:00+01:00",
        "2026-03-02T09:15:00+01:00",
        "2026-03-02T09:15:00Z",
        "2026-03-02T09:15:00Z",
        "2026-03-02T09:15:00.5-05:30",
        "2026-03-02T09:15:00.123456Z",
    ]
