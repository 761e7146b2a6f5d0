"""Reading an event log in each of its forms (events.md, "Forms") as a stream of records.

Every reader yields `RawRecord`s (an event's fields and its place) and appends what makes the
file unreadable to a problem list, so that a caller reports every problem at once. Nothing reads
a whole file into memory but JSON and OCEL, which are one document each and are refused above
`MAX_DOCUMENT_BYTES`:

- CSV and JSON Lines are read line by line; a line longer than `MAX_LINE_CHARS` is refused
  (and skipped) without ever being held whole.
- XES is XML, parsed as a stream by defusedxml's hardened expat (SAX): DTDs, entity
  declarations and external references are refused, so an entity bomb never expands, and
  a single token (tag, text) longer than `MAX_LINE_CHARS` stops the read.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import xml.sax
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import Locator

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser

from events.records import DERIVED_ID_PREFIX, FIELDS, INT64_MAX, INT64_MIN, RawRecord, int64_problem
from loaders.problems import Problem, ProblemList
from loaders.sources import _infer_scalar

FORMS: tuple[str, ...] = ("csv", "json", "jsonl", "xes", "ocel")
MAX_LINE_CHARS = 1 << 20
"""Longest line of a CSV or JSON Lines log, and longest single XML token of an XES log."""
MAX_DOCUMENT_BYTES = 256 << 20
"""Largest JSON or OCEL log (each is one document, parsed whole); larger logs: CSV or JSON Lines."""
CHUNK = 1 << 16
TOO_DEEP = "invalid JSON: nested too deeply for an event"


class _Repeated(dict[str, Any]):
    """A JSON object that names a key more than once; `repeated` lists those keys (in the
    order they are repeated). Its value is the last one, as json keeps it."""

    __slots__ = ("repeated",)

    repeated: list[str]


class _KeyCheck:
    """A JSON decoder that notes the objects naming a key more than once (json itself keeps
    the last value silently); `found` says whether the last documents read held one.

    An object is built as json builds it (``dict(pairs)``); only when it came out shorter than
    its pairs are the repeated keys looked for, so that reading costs little more (about 10% of
    json's time on a JSON Lines log) than without the check."""

    def __init__(self) -> None:
        self.found = False
        self.decoder = json.JSONDecoder(object_pairs_hook=self._object)

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        built = dict(pairs)
        if len(built) == len(pairs):
            return built
        self.found = True
        repeated = _Repeated(built)
        seen: set[str] = set()
        repeated.repeated = []
        for key, _ in pairs:
            if key in seen and key not in repeated.repeated:
                repeated.repeated.append(key)
            seen.add(key)
        return repeated

    def repeated_keys(self, value: Any) -> list[tuple[tuple[str | int, ...], str]]:
        """Where `value` (read by `decoder` since `found` was last reset) names a key twice:
        (the path to the object, the key) for each, in document order; resets `found`."""
        if not self.found:
            return []
        self.found = False
        out: list[tuple[tuple[str | int, ...], str]] = []
        stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
        while stack:  # iterative: a document nested as deep as json reads must not overflow here
            path, item = stack.pop()
            children: list[tuple[tuple[str | int, ...], Any]] = []
            if isinstance(item, dict):
                if isinstance(item, _Repeated):
                    out.extend((path, key) for key in item.repeated)
                children = [((*path, k), v) for k, v in item.items() if isinstance(v, (dict, list))]
            elif isinstance(item, list):
                children = [((*path, i), v) for i, v in enumerate(item) if isinstance(v, (dict, list))]
            stack.extend(reversed(children))
        return out


def _field_path(path: tuple[str | int, ...], key: str) -> str:
    """``properties.note``, ``attributes[0].value``: a key's path inside an event, as a field."""
    text = ""
    for part in (*path, key):
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def _repeated_problem(place: str, path: tuple[str | int, ...], key: str) -> Problem:
    """A key named twice in one JSON object (as the bundle loader refuses it in YAML)."""
    return Problem(place, _field_path(path, key), f"duplicate key '{key[:64]}' in the same object")


csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_CHARS))
"""A cell may be as long as a line (the csv module's own limit, 131,072 characters, would stop the
read at a longer one as a malformed row)."""


class FormError(ValueError):
    """The form of a log cannot be told; the message says how to name it."""


def detect_form(path: Path, head: bytes) -> str:
    """The form of the log at `path` from its extension, or else from its first bytes `head`:
    ``.csv``, ``.json`` (an array: JSON; an object with ``events``: OCEL), ``.jsonl``/``.ndjson``,
    ``.xes``/``.xml``, ``.jsonocel``/``.ocel``."""
    name = path.name.lower()
    for suffix, form in ((".csv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".xes", "xes")):
        if name.endswith(suffix):
            return form
    if name.endswith((".jsonocel", ".ocel", ".ocel.json")):
        return "ocel"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if name.endswith(".xml") or text.startswith(b"<"):
        return "xes"
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        first_line = text.split(b"\n", 1)[0]
        try:
            first = json.loads(first_line)
        except ValueError:
            return "ocel"  # an object over several lines: one document
        if isinstance(first, dict) and ("events" in first or "objects" in first or "objectTypes" in first):
            return "ocel"
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    raise FormError(f"{path.name}: cannot tell the log's form; name it .csv, .json, .jsonl, .xes or .jsonocel")


def _lines(stream: IO[str], name: str, problems: ProblemList, start: int = 0) -> Iterator[tuple[int, str]]:
    """(line number, line) of a text stream, numbered from `start` + 1; a line whose text (its
    end, ``\n``, ``\r\n`` or ``\r``, left out) is longer than MAX_LINE_CHARS is reported and
    skipped (read in chunks, never held whole)."""
    number = start
    limit = MAX_LINE_CHARS + 2  # the longest line's text and its end
    carry = ""  # a character read after a line too long, to see whether it ended in \r\n
    while True:
        if carry in ("\r", "\n"):
            line, carry = carry, ""  # a blank line
        else:
            line, carry = carry + stream.readline(limit - len(carry)), ""
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS and len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
            problems.append(Problem(f"{name}:{number}", "line", f"longer than {MAX_LINE_CHARS:,} characters"))
            rest, size = line, limit
            while not rest.endswith("\n"):
                if rest.endswith("\r"):
                    if len(rest) == size:  # cut at the size read: the \n of a \r\n may follow
                        carry = stream.readline(1)
                        carry = "" if carry == "\n" else carry
                    break
                rest, size = stream.readline(CHUNK), CHUNK
                if not rest:
                    break
            continue
        yield number, line


def not_utf8(path: Path, error: UnicodeDecodeError) -> Problem:
    """The problem of a log that is not UTF-8 text, placed at the line of its first byte that
    cannot be read (the log read again in binary, in pieces; lines end as in text: ``\n``,
    ``\r\n`` or ``\r``)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with open(path, "rb") as binary:
            while piece := binary.readline(CHUNK):
                try:
                    decoder.decode(piece)
                except UnicodeDecodeError as e:
                    line += piece[: max(e.start - len(decoder.getstate()[0]), 0)].replace(b"\r\n", b"\n").count(b"\r")
                    return Problem(f"{path.name}:{line}", "file", f"not UTF-8 text ({error.reason})")
                line += piece.replace(b"\r\n", b"\n").count(b"\r") + piece.endswith(b"\n")
                if piece.endswith(b"\r"):  # a line end the next piece may finish as \r\n
                    line -= bool(binary.peek(1)[:1] == b"\n") if hasattr(binary, "peek") else 0
    except OSError:
        pass
    return Problem(path.name, "file", f"not UTF-8 text ({error.reason})")


CsvColumns = list[tuple[int, str, str | None]]
"""A CSV header's columns that are read: (index, field name, property name or None)."""


class CsvLines:
    """The lines of a CSV log as `csv.reader` takes them, counting the over-long lines `_lines`
    left out (each was a row of the file, so the rows after it are numbered one more) and, when
    `keep`, keeping the lines read (`kept`) so that a caller can cut the text at a record's end."""

    def __init__(self, stream: IO[str], name: str, problems: ProblemList, *, keep: bool = False) -> None:
        self.numbered = _lines(stream, name, problems)
        self.last_line = 0
        self.skipped = 0
        self.kept: list[str] | None = [] if keep else None

    def __iter__(self) -> Iterator[str]:
        kept = self.kept
        for number, line in self.numbered:
            self.skipped += number - self.last_line - 1
            self.last_line = number
            if kept is not None:
                kept.append(line)
            yield line


def csv_header(reader: Iterator[list[str]], name: str, problems: ProblemList) -> tuple[int, CsvColumns] | None:
    """Read a CSV log's header row from `reader`: its width and the columns read; None (with the
    problem) when there is none or it is malformed. Unknown and repeated columns are problems."""
    try:
        header = next(reader, None)
    except csv.Error as e:
        problems.append(Problem(f"{name}:row 1", "csv", str(e)))
        return None
    if header is None:
        problems.append(Problem(name, "file", "the log is empty: a CSV log needs a header row"))
        return None
    header = [h.strip() for h in header]
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    first_at: dict[str, int] = {}
    for index, column in enumerate(header, 1):
        if column not in FIELDS and not column.startswith("properties."):
            problems.append(Problem(f"{name}:row 1", column or "(empty)", "unknown column"))
        elif column in first_at:
            problems.append(
                Problem(
                    f"{name}:row 1",
                    column,
                    f"repeated column (columns {first_at[column]} and {index}); a column is named once",
                )
            )
        else:
            first_at[column] = index
    # Each column once: an event field, a property (its name), or neither (reported above).
    columns = [
        (i, column, column.removeprefix("properties.") if column.startswith("properties.") else None)
        for i, column in enumerate(header)
        if column in FIELDS or column.startswith("properties.")
    ]
    return len(header), columns


def csv_rows(
    reader: Iterator[list[str]], name: str, problems: ProblemList, offset: Callable[[], int]
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of the rows after the header, blank ones too; a row is numbered
    by its place in the file (the header is row 1) plus `offset()`. A malformed row is a problem
    and ends the read (the csv module cannot find the next row's start)."""
    row = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            row += 1
            problems.append(Problem(f"{name}:row {row + offset()}", "csv", f"malformed row: {e}"))
            return
        row += 1
        yield row + offset(), cells


def csv_records(
    rows: Iterator[tuple[int, list[str]]], name: str, problems: ProblemList, width: int, columns: CsvColumns
) -> Iterator[RawRecord]:
    """The events of CSV `rows` (`csv_rows`) under a header of `width` cells and `columns`
    (`csv_header`): a blank row is left out, an empty cell is a missing value; property cells are
    typed as in bundles (numbers, true/false), but an integer that does not fit in 64 bits is
    refused, as in JSON, and a cell ``'`` then a number or boolean is that text
    (`_csv_text_or_integer`)."""
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        place = f"{name}:row {number}"
        if len(cells) > width:
            problems.append(Problem(place, "csv", f"{len(cells)} cells but {width} columns in the header"))
            continue
        fields: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        for i, column, prop in columns:
            if i >= len(cells):
                break
            value = cells[i].strip()
            if not value:
                continue
            if prop is not None:
                typed: str | int | float | bool | None = _infer_scalar(value)
                if typed is value:  # text: unless an integer of 19 digits or more, or a forced text
                    typed = _csv_text_or_integer(value)
                    if typed is None:
                        problems.append(Problem(place, f"properties.{prop}", int64_problem(value, CSV_TEXT_HINT)))
                        continue
                properties[prop] = typed
            else:
                fields[column] = value
        if properties:
            fields["properties"] = properties
        yield RawRecord(place, fields)


def read_csv(stream: IO[str], name: str, problems: ProblemList) -> Iterator[RawRecord]:
    """CSV: a header row of field names (``properties.KEY`` for a property), one event a row
    (`csv_records`)."""
    lines = CsvLines(stream, name, problems)
    reader = csv.reader(lines, strict=True)
    head = csv_header(reader, name, problems)
    if head is None:
        return
    header_skipped = lines.skipped
    rows = csv_rows(reader, name, problems, lambda: lines.skipped - header_skipped)
    yield from csv_records(rows, name, problems, *head)


CSV_TEXT_HINT = "to keep it as text, start the cell with an apostrophe ('), which is not stored"
_CSV_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")


def _csv_text_or_integer(value: str) -> str | int | None:
    """A `properties.KEY` cell that `loaders.sources._infer_scalar` leaves as text: an integer
    too long for it (19 digits or more) is an integer when it fits in 64 bits, as in JSON, and
    None (refused) when it does not; ``'`` before what would read as a number or a boolean makes
    it text (``'12`` is the text ``12``, as a spreadsheet writes it); any other cell is its text."""
    if _CSV_INTEGER.fullmatch(value):
        number = int(value)
        return number if INT64_MIN <= number <= INT64_MAX else None
    if value.startswith("'"):
        rest = value[1:]
        if _infer_scalar(rest) is not rest or _CSV_INTEGER.fullmatch(rest):
            return rest
    return value


def _object_fields(item: Any, place: str, problems: ProblemList) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        problems.append(Problem(place, "event", f"an event is a JSON object, not {type(item).__name__}"))
        return None
    return item


def read_jsonl(stream: IO[str], name: str, problems: ProblemList, start: int = 0) -> Iterator[RawRecord]:
    """JSON Lines: one event object a line (numbered from `start` + 1); blank lines are skipped;
    a key named twice in an object is refused."""
    check = _KeyCheck()
    decode = check.decoder.decode
    for number, line in _lines(stream, name, problems, start):
        if not line.strip():
            continue
        place = f"{name}:{number}"
        try:
            item = decode(line)
        except ValueError as e:
            check.found = False
            problems.append(Problem(place, "json", f"invalid JSON: {getattr(e, 'msg', e)}"))
            continue
        except RecursionError:
            check.found = False
            problems.append(Problem(place, "json", TOO_DEEP))
            continue
        if check.found:
            problems.extend(_repeated_problem(place, path, key) for path, key in check.repeated_keys(item))
            continue  # refused: its fields are not read (a repeated id would count as an id)
        fields = _object_fields(item, place, problems)
        if fields is not None:
            yield RawRecord(place, fields)


def _read_document(stream: IO[str], name: str, problems: ProblemList) -> str | None:
    text = stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(text) > MAX_DOCUMENT_BYTES:
        problems.append(
            Problem(
                name, "file", f"larger than {MAX_DOCUMENT_BYTES >> 20} MiB; give a log this large as CSV or JSON Lines"
            )
        )
        return None
    return text


_WS = re.compile(r"\s*")


def read_json(stream: IO[str], name: str, problems: ProblemList) -> Iterator[RawRecord]:
    """JSON: one array of event objects; each event's place is the line it starts on; a key
    named twice in an object is refused."""
    text = _read_document(stream, name, problems)
    if text is None:
        return
    check = _KeyCheck()
    decoder = check.decoder
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    if text.startswith("\ufeff", pos):
        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    if not text.startswith("[", pos):
        problems.append(Problem(f"{name}:1", "json", "a JSON log is an array of event objects"))
        return
    line, seen = 1, 0
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    first = True
    while True:
        line += text.count("\n", seen, pos)
        seen = pos
        if text.startswith("]", pos):
            if _WS.match(text, pos + 1).end() != len(text):  # type: ignore[union-attr]
                problems.append(Problem(f"{name}:{line}", "json", "text after the end of the array"))
            return
        if not first:
            if not text.startswith(",", pos):
                problems.append(Problem(f"{name}:{line}", "json", "invalid JSON: expected ',' or ']'"))
                return
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            line += text.count("\n", seen, pos)
            seen = pos
        first = False
        try:
            item, end = decoder.raw_decode(text, pos)
        except RecursionError:
            problems.append(Problem(f"{name}:{line}", "json", TOO_DEEP))
            return
        except ValueError as e:
            at = line + text.count("\n", pos, getattr(e, "pos", pos))
            problems.append(Problem(f"{name}:{at}", "json", f"invalid JSON: {getattr(e, 'msg', e)}"))
            return
        if check.found:
            problems.extend(_repeated_problem(f"{name}:{line}", path, key) for path, key in check.repeated_keys(item))
        else:  # one with a key repeated is refused, its fields not read (a repeated id would count)
            fields = _object_fields(item, f"{name}:{line}", problems)
            if fields is not None:
                yield RawRecord(f"{name}:{line}", fields)
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]


OCEL_ACTOR_ATTRIBUTES = ("org:resource", "actor")
OCEL_FIELD_ATTRIBUTES = {
    "request": "request",
    "tom:request": "request",
    "to_stage": "to_stage",
    "tom:to_stage": "to_stage",
}


def read_ocel(stream: IO[str], name: str, problems: ProblemList, known: set[str] | None = None) -> Iterator[RawRecord]:
    """OCEL 2.0 JSON: each of ``events`` is one event (``id``, ``type`` the activity, ``time``).
    Its object is its one related object, or, when it relates several, the one that is an entity
    of the scenario (`known`; exactly one must be). ``org:resource`` or ``actor`` is the actor;
    ``request`` and ``to_stage`` attributes are those fields; other attributes are properties."""
    text = _read_document(stream, name, problems)
    if text is None:
        return
    check = _KeyCheck()
    try:
        document = check.decoder.decode(text)
    except RecursionError:
        problems.append(Problem(name, "json", TOO_DEEP))
        return
    except ValueError as e:
        line = getattr(e, "lineno", 1)
        problems.append(Problem(f"{name}:{line}", "json", f"invalid JSON: {getattr(e, 'msg', e)}"))
        return
    del text
    # A key named twice: at its event (reported with the event's other problems) or object.
    in_events: dict[int, list[Problem]] = {}
    for path, key in check.repeated_keys(document):
        if len(path) >= 2 and path[0] in ("events", "objects") and isinstance(path[1], int):
            problem = _repeated_problem(f"{name}:{path[0]}[{path[1]}]", path[2:], key)
            if path[0] == "events":
                in_events.setdefault(path[1], []).append(problem)
                continue
        else:
            problem = _repeated_problem(name, path, key)
        problems.append(problem)
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        message = "an OCEL 2.0 log is an object with a list of events"
        if not isinstance(document, dict):
            message += f", not {_json_type(document)}"
        elif "events" in document:
            message += f"; its events are {_json_type(document['events'])}"
        problems.append(Problem(name, "events", message))
        return
    _check_ocel_objects(document.get("objects"), name, problems)
    for index, event in enumerate(document["events"]):
        place = f"{name}:events[{index}]"
        problems.extend(in_events.get(index, ()))
        if not isinstance(event, dict):
            problems.append(Problem(place, "event", f"an event is a JSON object, not {_json_type(event)}"))
            continue
        fields: dict[str, Any] = {"id": event.get("id"), "time": event.get("time"), "activity": event.get("type")}
        properties: dict[str, Any] = {}
        attributes = event.get("attributes")
        attributes = [] if attributes is None else attributes
        if not isinstance(attributes, list):
            problems.append(
                Problem(place, "attributes", f"must be a list of {{name, value}}, not {_json_type(attributes)}")
            )
            continue
        named: dict[str, int] = {}
        for at, attribute in enumerate(attributes):
            if not isinstance(attribute, dict) or not isinstance(attribute.get("name"), str):
                problems.append(Problem(place, f"attributes[{at}]", "each attribute is {name, value}"))
                continue
            key, value = attribute["name"], attribute.get("value")
            if key in named:
                problems.append(
                    Problem(
                        place,
                        f"attributes[{at}]",
                        f"duplicate attribute '{key[:64]}' in the same event (also attributes[{named[key]}])",
                    )
                )
                continue
            named[key] = at
            if key in OCEL_ACTOR_ATTRIBUTES:
                fields.setdefault("actor", value)
            elif key in OCEL_FIELD_ATTRIBUTES:
                fields[OCEL_FIELD_ATTRIBUTES[key]] = value
            else:
                properties[key.replace(":", "_")] = value
        if properties:
            fields["properties"] = properties
        related = event.get("relationships")
        related = [] if related is None else related
        if not isinstance(related, list):
            problems.append(
                Problem(place, "relationships", f"must be a list of {{objectId, qualifier}}, not {_json_type(related)}")
            )
            continue
        shapes_ok = True
        for at, relationship in enumerate(related):
            if not isinstance(relationship, dict):
                problems.append(
                    Problem(
                        place,
                        f"relationships[{at}]",
                        f"a relationship is a JSON object {{objectId, qualifier}}, not {_json_type(relationship)}",
                    )
                )
                shapes_ok = False
            elif not isinstance(relationship.get("objectId"), str):
                problems.append(Problem(place, f"relationships[{at}].objectId", "required: the related object's id"))
                shapes_ok = False
        if not shapes_ok:
            continue
        ids = sorted({r["objectId"] for r in related})
        if len(ids) == 1:
            fields["object"] = ids[0]
        elif len(ids) > 1:
            entities = [i for i in ids if known is not None and i in known]
            if len(entities) != 1:
                what = "none" if not entities else ", ".join(entities)
                problems.append(
                    Problem(
                        place,
                        "relationships",
                        f"relates {len(ids)} objects ({', '.join(ids[:5])}); exactly one must be an entity of the"
                        f" scenario, but {what} {'is' if len(entities) == 1 else 'are'}",
                    )
                )
                continue
            fields["object"] = entities[0]
        yield RawRecord(place, fields)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"  # also one read with a repeated key (_Repeated)
    return {int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _check_ocel_objects(objects: Any, name: str, problems: ProblemList) -> None:
    """OCEL's ``objects`` (optional here: only the events are loaded) is a list of objects
    with an ``id``."""
    if objects is None:
        return
    if not isinstance(objects, list):
        problems.append(Problem(name, "objects", f"must be a list of objects, not {_json_type(objects)}"))
        return
    for index, item in enumerate(objects):
        if not isinstance(item, dict):
            problems.append(
                Problem(f"{name}:objects[{index}]", "object", f"an object is a JSON object, not {_json_type(item)}")
            )


def ocel_object_ids(path: Path) -> set[str]:
    """Every object id an OCEL log's events relate (to look up which are entities); empty when
    the file cannot be read (its reader reports that)."""
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            return set()
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return set()
    ids: set[str] = set()
    events = document.get("events") if isinstance(document, dict) else None
    for event in events if isinstance(events, list) else []:
        related = event.get("relationships") if isinstance(event, dict) else None
        for r in related if isinstance(related, list) else []:
            if isinstance(r, dict) and isinstance(r.get("objectId"), str):
                ids.add(r["objectId"])
    return ids


XES_KEYS = {
    "concept:name": "activity",
    "time:timestamp": "time",
    "org:resource": "actor",
    "tom:object": "object",
    "tom:id": "id",
    "tom:request": "request",
    "tom:to_stage": "to_stage",
}
XES_SCALARS = frozenset({"string", "date", "int", "float", "boolean", "id"})
XES_COMPOSITES = {"list": "a list of values", "container": "a set of named values"}
"""IEEE 1849's composite attributes: refused in an event (its properties are single values)."""


class _XesHandler(ContentHandler):
    """Collects each ``<event>``'s attributes (and its trace's ``concept:name``) as a record."""

    def __init__(self, name: str, problems: ProblemList) -> None:
        super().__init__()
        self.name = name
        self.problems = problems
        self.records: list[RawRecord] = []
        self.locator: Locator | None = None
        self.depth: list[str] = []
        self.trace_name: str | None = None
        self.event: dict[str, Any] | None = None
        self.event_line = 0
        self.progress = 0
        self.parser: Any = None
        self.text_run = 0
        """Characters of text since the last tag (expat hands long text over in pieces)."""
        self.skip_below: int | None = None
        """While inside an attribute refused whole (a list, a container, meta-attributes): the
        depth of its parent; its children are not read (nor reported again)."""
        self.attribute_key: str | None = None
        """The key of the event's attribute read last (to name it when its children are refused)."""
        self.refused: set[str] = set()
        """Keys of the event's attributes refused for their value (a key given again is still a duplicate)."""

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def _line(self) -> int:
        # expat's current line, also after a handler raised (the SAX locator then says 0)
        expat = getattr(self.parser, "_parser", None)
        if expat is not None:
            return int(expat.CurrentLineNumber)
        line = self.locator.getLineNumber() if self.locator is not None else None
        return line or 1

    def startElement(self, name: str, attrs: Any) -> None:
        self.progress += 1
        self.text_run = 0
        parent = self.depth[-1] if self.depth else None
        self.depth.append(name)
        if self.skip_below is not None:
            return  # inside an attribute already refused: its children were reported with it
        if name == "trace":
            self.trace_name = None
        elif name == "event":
            self.event = {}
            self.refused = set()
            self.event_line = self._line()
        elif parent == "event" and self.event is not None:
            self._event_attribute(name, attrs)
        elif parent in XES_SCALARS and len(self.depth) >= 3 and self.depth[-3] == "event":
            # an attribute of an event's attribute (XES meta-attribute): not read, so refused
            key = self.attribute_key or "(no key)"
            self._problem(
                self.attribute_key,
                f"the <{parent}> attribute '{key[:64]}' has attributes of its own (XES meta-attributes, here"
                f" <{name}>), which an event cannot store; give each as an attribute of the event",
            )
            self.skip_below = len(self.depth) - 2  # the rest of the attribute: reported once
        elif name in XES_SCALARS and parent == "trace" and attrs.get("key") == "concept:name":
            self.trace_name = attrs.get("value")

    def _problem(self, key: str | None, message: str) -> None:
        """A problem at the current line, in the field of the event's attribute `key`."""
        field = XES_KEYS.get(key or "") or "properties." + _xes_property(key or "(no key)")
        self.problems.append(Problem(f"{self.name}:{self._line()}", field, message))

    def _event_attribute(self, name: str, attrs: Any) -> None:
        """One attribute of an ``<event>``: a scalar is kept (its value checked against its type);
        a ``<list>``, a ``<container>`` or an element that is no XES attribute is refused, since
        an event's properties are single values (events.md, "Fields")."""
        assert self.event is not None
        key, value = attrs.get("key"), attrs.get("value")
        self.attribute_key = key
        known = name in XES_SCALARS or name in XES_COMPOSITES
        if not known or key is None:
            what = "an XES attribute needs a key"
            if not known:
                what = f"<{name[:64]}> is not an XES attribute (string, date, int, float, boolean, id, list, container)"
            if key is None:
                self.problems.append(Problem(f"{self.name}:{self._line()}", f"<{name[:64]}>", what))
            else:
                self._problem(key, what)
            self.skip_below = len(self.depth) - 1
            return
        if name in XES_COMPOSITES:
            self._problem(
                key,
                f"the <{name}> attribute '{key[:64]}' holds {XES_COMPOSITES[name]}, which an event cannot store:"
                " its properties are single text, number or boolean values; give each value as an attribute of"
                " its own, or all of them as one <string>",
            )
            self.skip_below = len(self.depth) - 1
            return
        if key in self.event or key in self.refused:
            self._problem(key, f"duplicate key '{key[:64]}' in the same <event>; an attribute is given once")
            return
        parsed, reason = _xes_value(name, value, typed=XES_KEYS.get(key) != "time")
        if reason is not None:
            self.refused.add(key)
            self._problem(key, reason)
            return
        self.event[key] = parsed

    def endElement(self, name: str) -> None:
        self.progress += 1
        self.text_run = 0
        self.depth.pop()
        if self.skip_below is not None:
            if len(self.depth) > self.skip_below:
                return
            self.skip_below = None
        if name == "trace":
            self.trace_name = None  # an event after this trace, outside any, has no trace's object
            return
        if name != "event" or self.event is None:
            return
        attributes, self.event = self.event, None
        fields: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        for key, value in attributes.items():
            if key in XES_KEYS:
                fields[XES_KEYS[key]] = value if key != "time:timestamp" else str(value)
            else:
                properties[_xes_property(key)] = value
        if "object" not in fields and self.trace_name is not None:
            fields["object"] = self.trace_name
        if "id" not in fields:
            canonical = json.dumps([*sorted((k, str(v)) for k, v in attributes.items()), ("trace", self.trace_name)])
            fields["id"] = DERIVED_ID_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()[:24]
        if properties:
            fields["properties"] = properties
        self.records.append(RawRecord(f"{self.name}:{self.event_line}", fields))

    def characters(self, content: str) -> None:
        self.progress += 1
        self.text_run += len(content)


def _xes_property(key: str) -> str:
    """The property name of an XES attribute key: ``cost:total`` is ``cost_total``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", key)


_XES_INT = re.compile(r"[+-]?[0-9]+")
_XES_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN")


def _xes_value(tag: str, value: str | None, *, typed: bool = True) -> tuple[Any, str | None]:
    """The value of an XES attribute of type `tag` (IEEE 1849: xs:long, xs:double, xs:boolean,
    xs:dateTime), or the reason it is not one. A ``<date>`` stays text (properties are text,
    numbers or booleans), once it reads as an ISO 8601 date and time; `typed` False (the
    ``time:timestamp``, which the event's `time` check reads) leaves it unchecked."""
    if value is None:
        return None, None
    text = value.strip()
    shown = text[:64]
    if tag == "int":
        if not _XES_INT.fullmatch(text):
            return None, f"an <int> is a whole number, not '{shown}'"
        return int(text), None
    if tag == "float":
        if not _XES_FLOAT.fullmatch(text):
            return None, f"a <float> is a decimal number (e.g. 2.5 or 1.5e3), not '{shown}'"
        return float(text), None
    if tag == "boolean":
        if text.lower() not in ("true", "false"):
            return None, f"a boolean is true or false, not '{shown}'"
        return text.lower() == "true", None
    if tag == "date" and typed:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return None, f"a <date> is an ISO 8601 date and time (e.g. 2026-03-02T09:15:00+01:00), not '{shown}'"
    return value, None


def read_xes(stream: IO[bytes], name: str, problems: ProblemList) -> Iterator[RawRecord]:
    """XES (IEEE 1849): each ``<event>`` is one event; see events.md for the keys. Parsed as a
    stream; DTDs, entities and external references are refused (XML bombs)."""
    handler = _XesHandler(name, problems)
    parser = make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.forbid_dtd = True
    parser.forbid_entities = True
    parser.forbid_external = True
    parser.setContentHandler(handler)
    handler.parser = parser
    fed_since_progress = 0
    try:
        while chunk := stream.read(CHUNK):
            before = handler.progress
            parser.feed(chunk)
            fed_since_progress = 0 if handler.progress != before else fed_since_progress + len(chunk)
            if fed_since_progress > MAX_LINE_CHARS or handler.text_run > MAX_LINE_CHARS:
                problems.append(
                    Problem(
                        f"{name}:{handler._line()}",
                        "xml",
                        f"a single tag or text is longer than {MAX_LINE_CHARS:,} bytes; reading stopped",
                    )
                )
                return
            yield from handler.records
            handler.records.clear()
        parser.close()
    except DefusedXmlException as e:
        problems.append(Problem(f"{name}:{handler._line()}", "xml", f"refused: {_defused_reason(e)}"))
        return
    except xml.sax.SAXParseException as e:
        problems.append(Problem(f"{name}:{e.getLineNumber()}", "xml", f"invalid XML: {e.getMessage()}"))
        return
    yield from handler.records


def _defused_reason(e: DefusedXmlException) -> str:
    kind = type(e).__name__
    if kind == "DTDForbidden":
        return "a DTD (<!DOCTYPE ...>) is not allowed in an event log (entity declarations can be XML bombs)"
    if kind == "EntitiesForbidden":
        return "entity declarations are not allowed in an event log (XML bombs)"
    return "external references are not allowed in an event log"


def open_text(path: Path) -> IO[str]:
    """The log as UTF-8 text (a BOM is dropped); undecodable bytes become an error when read."""
    return open(path, encoding="utf-8-sig", newline="")


def read_records(path: Path, form: str, problems: ProblemList, known: set[str] | None = None) -> Iterator[RawRecord]:
    """The records of the log at `path` in `form` (one of FORMS); the problems that make parts of
    it unreadable are appended to `problems` (each ``PLACE: FIELD: MESSAGE``)."""
    name = path.name
    try:
        if form == "xes":
            with open(path, "rb") as binary:
                yield from read_xes(binary, name, problems)
            return
        with open_text(path) as text:
            if form == "csv":
                yield from read_csv(text, name, problems)
            elif form == "jsonl":
                yield from read_jsonl(text, name, problems)
            elif form == "json":
                yield from read_json(text, name, problems)
            elif form == "ocel":
                yield from read_ocel(text, name, problems, known)
            else:
                raise FormError(f"unknown form '{form}' (known: {', '.join(FORMS)})")
    except UnicodeDecodeError as e:
        problems.append(not_utf8(path, e))


__all__ = ["FORMS", "FormError", "detect_form", "ocel_object_ids", "read_records"]
