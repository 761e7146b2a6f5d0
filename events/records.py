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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from json.encoder import encode_basestring as _encode_text
from typing import Any

from graph.ontology import ID_PATTERN
from loaders.problems import MAX_PROBLEMS, Problem, ProblemList
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


ID_RULE = "an id is 1 to 128 ASCII letters (A-Z, a-z), digits, '.', '_', ':' or '-', starting with a letter or digit"
"""What `graph.ontology.ID_PATTERN` allows, as the problems say it."""


def id_problem(text: str, what: str = "an id") -> str:
    """The message for `text` given as an event id (or, `what` ``an event id``, as a `request`)
    that `graph.ontology.ID_PATTERN` refuses: the value (its first 64 characters) and the rule."""
    return f"'{text[:64]}' is not {what}: {ID_RULE}"


def int64_problem(digits: str, hint: str = "write it as text") -> str:
    """The message for an integer `digits` (its decimal text) outside Neo4j's 64 bits
    (`INT64_MIN`..`INT64_MAX`); a long one is shown by its first 20 digits and its length."""
    shown = digits if len(digits) <= 40 else f"{digits[:20]}... ({len(digits.lstrip('-+'))} digits)"
    return f"{shown} does not fit in a 64-bit integer (Neo4j's); {hint}"


def with_article(activity: str) -> str:
    """`activity` with its article: ``a deployed``, ``an access_granted``."""
    return f"{'an' if activity[0] in 'aeiou' else 'a'} {activity}"


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"  # also a JSON object read with a repeated key (events.forms)
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list"}.get(
        type(value), type(value).__name__
    )


_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<clock>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,](?P<fraction>[0-9]+))?)?)"
    r"(?P<offset>[Zz]|[+-](?P<hours>[0-9]{2}):(?P<minutes>[0-9]{2})(?P<offset_seconds>:[0-9]{2}(?:\.[0-9]+)?)?)?"
)
"""The times accepted (docs/events.md, "Fields"): ISO 8601's extended format, the date and the
time of day separated by ``T`` (or ``t`` or a space, as RFC 3339 allows), seconds optional and a
fraction of a second only after them, then ``Z`` (``z``) or an offset ``±HH:MM``. An offset with seconds matches,
to be refused with its own message (Neo4j stores offsets in whole minutes)."""
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LOOSE_OFFSET = re.compile(r"(?P<head>.*[0-9])\s*(?P<sign>[+-])(?P<hours>[0-9]{2}):?(?P<minutes>[0-9]{2})?")
"""An offset written ``+0100`` or ``+01`` (ISO 8601's basic format) or after a space: told how to write it."""
MAX_FRACTION_DIGITS = 6
"""Digits after the second kept: microseconds, as Python's datetime holds them (and the digest
reads them); more are refused rather than silently cut."""
TIME_FORM = "YYYY-MM-DDTHH:MM[:SS[.ffffff]] with Z or a UTC offset ±HH:MM (e.g. 2026-03-02T09:15:00+01:00)"
"""The accepted form of a time, as the problems name it."""


def parse_time(value: Any) -> tuple[datetime | None, str | None]:
    """An ISO 8601 time with a UTC offset (``2026-03-02T09:15:00+01:00``, ``...Z``) as an aware
    datetime; or the reason it is not one (events.md, "Fields": a time without offset is an
    error). Accepted is the one form `_TIME` (`TIME_FORM`), with at most 6 digits after the
    second; other ISO 8601 forms Python would read (week dates ``2026-W10-1``, the basic
    format ``20260302T091500Z``, ``+0100``) are refused with the form to write, so that what is
    accepted does not depend on the Python version. A time Neo4j cannot hold (offset over 18
    hours or not whole minutes, UTC instant outside years 1 to 9999) is refused too."""
    if not isinstance(value, str):
        return None, f"must be an ISO 8601 time with a UTC offset, not {_type_name(value)}"
    text = value.strip()
    match = _TIME.fullmatch(text)
    if match is None:
        shown = text[:64]
        if _DATE_ONLY.fullmatch(text):
            return None, f"'{shown}' is a date; a time with a UTC offset is needed (e.g. {text[:10]}T09:15:00+01:00)"
        loose = _LOOSE_OFFSET.fullmatch(text) if len(text) <= 64 else None
        if loose and _TIME.fullmatch(loose["head"]):
            written = f"{loose['sign']}{loose['hours']}:{loose['minutes'] or '00'}"
            return None, f"'{shown}': write the UTC offset as ±HH:MM right after the time ({loose['head']}{written})"
        return None, f"'{shown}' is not a time written {TIME_FORM}"
    fraction, zone = match.group("fraction", "offset")
    if fraction is not None and len(fraction) > MAX_FRACTION_DIGITS:
        cut = text[: match.start("fraction") + MAX_FRACTION_DIGITS] + text[match.end("fraction") :]
        return None, (
            f"'{text[:64]}' has {len(fraction)} digits after the second; at most {MAX_FRACTION_DIGITS} digits after"
            f" the second (microseconds) are allowed, e.g. {cut[:64]}"
        )
    if zone is None:
        return None, f"'{text[:64]}' has no UTC offset; write it as e.g. {text[:19]}+00:00"
    if match.group("offset_seconds"):
        # Neo4j and its driver store an offset in whole minutes.
        return None, f"'{text[:64]}' has an offset with seconds; a UTC offset is whole minutes (e.g. +01:00)"
    if zone not in ("Z", "z") and int(match.group("minutes")) > 59:
        return None, f"'{text[:64]}' has an offset of {match.group('minutes')} minutes; minutes run 00 to 59"
    try:
        parsed = datetime.fromisoformat(text if zone != "z" else text[:-1] + "Z")
    except ValueError as e:
        hours, minutes = match.group("hours", "minutes")
        if hours is not None and timedelta(hours=int(hours), minutes=int(minutes)) > MAX_OFFSET:
            return None, f"'{text[:64]}' is out of range: a UTC offset is at most 18 hours either way"
        return None, f"'{text[:64]}' is not a real date and time ({e})"
    offset = parsed.utcoffset()
    assert offset is not None  # _TIME matched an offset
    if offset > MAX_OFFSET or offset < -MAX_OFFSET:
        return None, f"'{text[:64]}' is out of range: a UTC offset is at most 18 hours either way"
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
        if not isinstance(key, str) or not _PROPERTY_KEY.fullmatch(key):
            problems.append(
                Problem(
                    place, field, "a property name is an ASCII letter or _ then up to 63 ASCII letters, digits or _"
                )
            )
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
            problems.append(Problem(place, field, int64_problem(str(item))))
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
    if event_id is not None and not _ID.fullmatch(event_id):
        problems.append(Problem(place, "id", id_problem(event_id)))
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
    if request is not None and not _ID.fullmatch(request):
        problems.append(Problem(place, "request", id_problem(request, "an event id")))
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


DERIVED_ID_PREFIX = "xes-"
"""An XES event without ``tom:id`` has the id ``xes-`` and 24 hex digits of the digest of its
attributes and its trace's name (``events.forms``)."""
_DERIVED_ID = re.compile(re.escape(DERIVED_ID_PREFIX) + "[0-9a-f]{24}")


def duplicate_id_problem(place: str, event_id: str, first_place: str | None = None) -> Problem:
    """The problem of an event at `place` whose id `event_id` an event before it in the log has
    (events.md, "Fields": an id is unique within the log), naming that event's place
    `first_place` when known. An id derived from an XES event's content (`DERIVED_ID_PREFIX`)
    says so: the two events have the same attributes in the same trace."""
    first = f" (first at {first_place})" if first_place else ""
    message = f"duplicate id '{event_id}'{first}: an id is used once in a log"
    if _DERIVED_ID.fullmatch(event_id):
        message += (
            "; the event has no tom:id, and this id is derived from its attributes and its trace's name,"
            " which are the same as the first's: drop the repeated event, or give each event a tom:id"
        )
    return Problem(place, "id", message)


class DuplicateIds:
    """The duplicate-id problems of one read of a log, with the place of each id's first use.

    A read keeps no place per id (a million-event log would hold a million places). `problem`
    gives the problem of a repeated id without the first place and notes it; after the read,
    `resolve` finds where each noted id was first used by reading the log once more (only when
    there are duplicates, so only for a log that is refused) and puts it into the problems.
    At most `MAX_PROBLEMS` are noted (no more problems are reported)."""

    def __init__(self) -> None:
        self.noted: dict[Problem, str] = {}
        """Each problem given (without its first place), and its id."""

    def problem(self, place: str, event_id: str) -> Problem:
        """The problem of the event at `place` using `event_id` again (noted, to resolve)."""
        problem = duplicate_id_problem(place, event_id)
        if len(self.noted) < MAX_PROBLEMS:
            self.noted[problem] = event_id
        return problem

    def resolve(self, problems: ProblemList, records: Iterable[RawRecord]) -> None:
        """Replace in `problems` each problem `problem` gave by one naming the first place of
        its id: the place of the first valid event of `records` (the log read again, from its
        start) with that id. Reads `records` only when a problem was given, and only until
        every noted id is found."""
        if not self.noted:
            return
        wanted = set(self.noted.values())
        first: dict[str, str] = {}
        iterator = iter(records)
        for record in iterator:
            raw = record.fields.get("id")
            event_id = raw.strip() if isinstance(raw, str) else None
            if event_id in wanted and event_id not in first:
                row, _ = validate_record(record)
                if row is not None:
                    first[event_id] = record.place
                    if len(first) == len(wanted):
                        break
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # a reader stopped early closes its file now
        for index, problem in enumerate(problems):
            event_id = self.noted.get(problem)
            if event_id is not None and event_id in first:
                problems[index] = duplicate_id_problem(problem.place, event_id, first[event_id])


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
