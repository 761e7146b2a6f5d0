"""An event's fields, the activities, and the validation of one record (events.md, "Fields").

A reader (``events.forms``) turns each event of a log into a `RawRecord`: its place in the file
(``log.csv:row 5``, ``log.jsonl:12``) and a mapping of field names to values, with the
properties under ``properties``. `validate_record` turns it into an `EventRow` (what is stored)
or into problems, each ``PLACE: FIELD: MESSAGE``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from json.encoder import encode_basestring as _encode_text
from typing import Any

from graph.ontology import ID_PATTERN
from loaders.problems import Problem
from loaders.values import text_problem

ACTIVITIES: tuple[str, ...] = (
    "change_requested",
    "change_approved",
    "change_rejected",
    "change_deployed",
    "deployment_requested",
    "deployment_approved",
    "deployed",
    "shutdown",
    "access_requested",
    "access_granted",
    "access_denied",
    "access_revoked",
    "review_completed",
    "stage_changed",
    "incident_opened",
    "incident_reported",
    "escalated",
)
"""The activities of events.md, in its order."""

ANSWERS: dict[str, str] = {
    "change_approved": "change_requested",
    "change_rejected": "change_requested",
    "deployment_approved": "deployment_requested",
    "access_granted": "access_requested",
    "access_denied": "access_requested",
}
"""The approvals and rejections, each with the kind of request it answers: the only events that
have a `request` (events.md, "Fields"), which must name a request of that kind on the same object."""

REQUESTS: frozenset[str] = frozenset(ANSWERS.values())
"""The activities an answer's `request` may name."""

FIELDS: tuple[str, ...] = ("id", "time", "activity", "object", "actor", "request", "to_stage", "properties")
"""An event's fields (events.md, "Fields"); any other is an error."""

NO_ACTOR: frozenset[str] = frozenset({"incident_opened"})
"""Activities whose actor may be missing (an incident is opened by a monitor, not a person)."""

MAX_TEXT = 512
"""Longest value of `object`, `actor`, `request`, `to_stage` or a property read."""

MAX_OFFSET = timedelta(hours=18)
"""Largest UTC offset Neo4j stores (its zone offsets run from -18:00 to +18:00)."""

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""Neo4j integers are 64-bit signed."""

_ID = re.compile(ID_PATTERN)
_PROPERTY_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class RawRecord:
    """One event as read: where it is, and its fields (``properties`` a mapping, if any)."""

    place: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class EventRow:
    """One valid event, as stored: `props` are the node's properties but `scenario`."""

    id: str
    digest: str
    day: date
    props: dict[str, Any]
    time_text: str = ""
    """The time as ISO 8601 text with its offset (``datetime.isoformat``), as the digest reads it."""


def _text(value: Any, field: str, place: str, problems: list[Problem], *, required: bool) -> str | None:
    text = value.strip() if isinstance(value, str) else value
    if text is None or text == "":
        if required:
            problems.append(Problem(place, field, "required field missing"))
        return None
    if not isinstance(text, str):
        problems.append(Problem(place, field, f"must be text, not {_type_name(text)}"))
        return None
    if len(text) > MAX_TEXT:
        problems.append(Problem(place, field, f"longer than {MAX_TEXT} characters"))
        return None
    damaged = text_problem(text)
    if damaged:
        problems.append(Problem(place, field, damaged))
        return None
    return text


def with_article(activity: str) -> str:
    """`activity` with its article: ``a deployed``, ``an access_granted``."""
    return f"{'an' if activity[0] in 'aeiou' else 'a'} {activity}"


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "a mapping"}.get(
        type(value), type(value).__name__
    )


def parse_time(value: Any) -> tuple[datetime | None, str | None]:
    """An ISO 8601 time with a UTC offset (``2026-03-02T09:15:00+01:00``, ``...Z``) as an aware
    datetime; or the reason it is not one. A time without offset is an error (events.md)."""
    if not isinstance(value, str):
        return None, f"must be an ISO 8601 time with a UTC offset, not {_type_name(value)}"
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None, f"'{text[:64]}' is not an ISO 8601 time (e.g. 2026-03-02T09:15:00+01:00)"
    if "T" not in text.upper() and " " not in text:
        return None, f"'{text[:64]}' is a date; a time with a UTC offset is needed (e.g. {text[:10]}T09:15:00+01:00)"
    offset = parsed.utcoffset()
    if offset is None:
        return None, f"'{text[:64]}' has no UTC offset; write it as e.g. {text[:19]}+00:00"
    if abs(offset) > MAX_OFFSET:
        return None, f"'{text[:64]}' is out of range: a UTC offset is at most 18 hours either way"
    if offset % timedelta(minutes=1):
        # Neo4j and its driver store an offset in whole minutes.
        return None, f"'{text[:64]}' has an offset with seconds; a UTC offset is whole minutes (e.g. +01:00)"
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        return None, (
            f"'{text[:64]}' is out of range: its UTC time must fall between"
            " 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"
        )
    return parsed, None


def _properties(value: Any, place: str, problems: list[Problem]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem(place, "properties", f"must be a mapping, not {_type_name(value)}"))
        return {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        field = f"properties.{key}"
        if not isinstance(key, str) or not _PROPERTY_KEY.match(key):
            problems.append(Problem(place, field, "a property name is a letter or _ then letters, digits or _"))
            continue
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        if isinstance(item, float) and not math.isfinite(item):
            problems.append(Problem(place, field, "must be a finite number"))
        elif isinstance(item, str):
            damaged = text_problem(item)
            if len(item) > MAX_TEXT:
                problems.append(Problem(place, field, f"longer than {MAX_TEXT} characters"))
            elif damaged:
                problems.append(Problem(place, field, damaged))
            else:
                out[key] = item
        elif isinstance(item, int) and not isinstance(item, bool) and not INT64_MIN <= item <= INT64_MAX:
            digits = str(item)
            shown = digits if len(digits) <= 40 else f"{digits[:20]}... ({len(digits.lstrip('-'))} digits)"
            problems.append(
                Problem(place, field, f"{shown} does not fit in a 64-bit integer (Neo4j's); write it as text")
            )
        elif isinstance(item, (bool, int, float)):
            out[key] = item
        else:
            problems.append(Problem(place, field, f"properties hold text, numbers or booleans, not {_type_name(item)}"))
    return out


def validate_record(record: RawRecord) -> tuple[EventRow | None, list[Problem]]:
    """The stored form of one event, or every problem in it (none means valid)."""
    place, fields = record.place, record.fields
    problems: list[Problem] = [Problem(place, str(name), "unknown field") for name in fields if name not in FIELDS]
    event_id = _text(fields.get("id"), "id", place, problems, required=True)
    if event_id is not None and not _ID.match(event_id):
        problems.append(
            Problem(place, "id", "an id is letters, digits, '.', '_', ':' or '-', starting with a letter or digit")
        )
        event_id = None
    time = None
    if fields.get("time") is None or fields.get("time") == "":
        problems.append(Problem(place, "time", "required field missing"))
    else:
        time, reason = parse_time(fields["time"])
        if reason:
            problems.append(Problem(place, "time", reason))
    activity = _text(fields.get("activity"), "activity", place, problems, required=True)
    if activity is not None and activity not in ACTIVITIES:
        problems.append(
            Problem(place, "activity", f"unknown activity '{activity[:64]}' (known: {', '.join(ACTIVITIES)})")
        )
    obj = _text(fields.get("object"), "object", place, problems, required=True)
    actor = _text(fields.get("actor"), "actor", place, problems, required=activity not in NO_ACTOR)
    request = _text(fields.get("request"), "request", place, problems, required=False)
    if request is not None and not _ID.match(request):
        problems.append(
            Problem(
                place,
                "request",
                f"'{request[:64]}' is not an event id: an id is letters, digits, '.', '_', ':' or '-',"
                " starting with a letter or digit",
            )
        )
    elif request is not None and request == event_id:
        problems.append(
            Problem(place, "request", f"names the event itself ('{request[:64]}'); it names the request answered")
        )
    elif request is not None and activity in ACTIVITIES and activity not in ANSWERS:
        problems.append(
            Problem(
                place,
                "request",
                f"{with_article(activity)} answers no request: only an approval or"
                f" rejection has one ({', '.join(ANSWERS)});"
                " keep another reference as a property (properties.request)",
            )
        )
    to_stage = _text(fields.get("to_stage"), "to_stage", place, problems, required=activity == "stage_changed")
    properties = _properties(fields.get("properties"), place, problems)
    if problems or event_id is None or time is None or activity is None or obj is None:
        return None, problems
    props: dict[str, Any] = {
        "id": event_id,
        "time": time,
        "day": time.date(),
        "activity": activity,
        "object": obj,
        "actor": actor,
        "request": request,
        "to_stage": to_stage,
    }
    time_text = time.isoformat()
    digest = hashlib.sha256(canonical_json(props, time_text, properties).encode()).hexdigest()[:32]
    props.update({f"properties.{k}": v for k, v in properties.items()})
    props["digest"] = digest
    return EventRow(event_id, digest, props["day"], props, time_text), []


_CANONICAL_TEXT = ("activity", "actor", "id", "object")


def canonical_json(props: dict[str, Any], time_text: str, properties: dict[str, Any]) -> str:
    """The text an event's digest is taken of: its fields but `day` (the time as `time_text`) and
    its `properties`, as ``json.dumps(..., sort_keys=True, ensure_ascii=False)`` writes them. An
    event without properties (most of a large log) is written here directly, character for
    character the same (a test compares the two), as json.dumps costs more than the rest of
    the event's validation."""
    if properties:
        canonical = {k: v for k, v in props.items() if k not in ("time", "day")}
        canonical["time"] = time_text
        canonical["properties"] = properties
        return json.dumps(canonical, sort_keys=True, ensure_ascii=False)
    text = _json_text
    parts = [f'"{k}": {text(props[k])}' for k in _CANONICAL_TEXT]
    parts.append('"properties": {}')
    parts.append(f'"request": {text(props["request"])}')
    parts.append(f'"time": {text(time_text)}')
    parts.append(f'"to_stage": {text(props["to_stage"])}')
    return "{" + ", ".join(parts) + "}"


def _json_text(value: str | None) -> str:
    return "null" if value is None else _encode_text(value)
