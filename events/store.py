"""Loading an event log into Neo4j (events.md): everything read and checked before anything is
written, idempotent by event id.

A load reads the log once as a stream, validating each event, and checks every event id against
the log itself (an id twice is an error) and against the events stored before, in batches
(an id stored with other content is an error; one stored with the same content is skipped), and
each answer's `request` against the request it names, in the log or stored (`RequestLinks`).
New events are spooled to a temporary file meanwhile. Only when the whole log is valid are they
written, in batched ``UNWIND ... CREATE`` statements:

- up to `TX_MAX_EVENTS` new events, in one transaction: all or nothing;
- more, one transaction per batch read (`events.batches.BATCH_SIZE` events at most), so that
  no transaction holds a million nodes in Neo4j's heap. A load that dies half way has written
  whole batches only, and since loads are idempotent by id, running it again writes the rest.

In batched mode `WRITERS` batches are written at once, each in its own transaction (Neo4j
writes one transaction on one core); batches hold distinct ids, so they never wait on each
other. Events are not versioned: a run of checks during a batched load may see part of it
(Neo4j's reads are read-committed).

Loads into one scenario are serialized (events/lock.py): a load holds the scenario's event-load
lock from before its log is read until its last write (and MARK_LOADED) has ended, so that its
checks see every event of the loads before it. A second load waits for the lock at most
`wait_s` (`TOMGRAPH_EVENTS_LOAD_WAIT_S`), then fails with `EventLoadBusy`, having stored
nothing. A write that still meets an id stored meanwhile (a loader that takes no lock, or whose
lock Neo4j ended) fails with `EventLoadInterrupted`, saying how many of the log's new events
were stored before (none in one transaction; whole batches in batched mode).
Storage: docs/graph-model.md, "Events".
"""

from __future__ import annotations

import pickle
import re
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from events import batches
from events.batches import Checked, checked_batches
from events.forms import detect_form, ocel_object_ids, read_records
from events.lock import DEFAULT_WAIT_S, WaitingFn, event_load_lock
from events.records import ACTIVITIES, ANSWERS, REQUESTS, DuplicateIds
from events.records import with_article as _a
from graph.db import Database
from graph.history import ids_in_any_version, latest_physical
from graph.sync import LoadConflict, check_scenario_name
from loaders.problems import BundleError, Problem, ProblemList
from queries.waivers import UnknownScenarioError

EVENT_LABEL = "Event"
TX_MAX_EVENTS = 100_000
"""Up to this many new events a load is one transaction; above, one transaction per batch."""
WRITERS = 2
"""Batches written at once when a load is one transaction per batch."""

CREATE_EVENTS = (
    f"UNWIND $rows AS row WITH row, datetime(row.time) AS time CREATE (e:{EVENT_LABEL}) "
    "SET e = row {.*, time: time, day: date(time)}"
)
"""Rows go over the wire with their time as ISO 8601 text (`wire_row`), made a zoned datetime and
its calendar day by Neo4j: the driver's own encoding of a Python datetime, in Python, cost
more than the whole write (docs/benchmarks.md, "Event logs")."""
MARK_LOADED = (
    "MATCH (s:Scenario {name: $scenario}) "
    f"SET s.events_loaded_at = datetime(), s.event_count = COUNT {{ MATCH (e:{EVENT_LABEL} {{scenario: $scenario}}) }}"
)
SEEK_BY_ID = f"USING INDEX SEEK e:{EVENT_LABEL}(scenario, id)"
"""Look-ups by id stay seeks of the unique index even when Neo4j plans them on statistics from
before a large load (it would scan the scenario's events once per id)."""
STORED_DIGESTS = f"""
UNWIND $rows AS row
MATCH (e:{EVENT_LABEL} {{scenario: $scenario, id: row[0]}}) {SEEK_BY_ID}
RETURN collect(CASE WHEN e.digest = row[1] THEN e.id END) AS same,
       collect(CASE WHEN e.digest <> row[1] THEN e.id END) AS other
"""
"""Which of a batch's ``[id, digest]`` pairs are stored: with the same content, or with other;
one row of two lists (far less for the driver to decode than a row per event)."""

ANY_EVENT = f"MATCH (e:{EVENT_LABEL} {{scenario: $scenario}}) RETURN e.id AS id LIMIT 1"
STORED_EVENTS = (
    f"UNWIND $ids AS id MATCH (e:{EVENT_LABEL} {{scenario: $scenario, id: id}}) {SEEK_BY_ID} "
    "RETURN e.id AS id, e.activity AS activity, e.object AS object"
)
AWAITING = f"""
MATCH (a:{EVENT_LABEL} {{scenario: $scenario}})
WHERE a.activity IN $answers AND a.request IS NOT NULL
  AND NOT EXISTS {{ MATCH (e:{EVENT_LABEL} {{scenario: $scenario, id: a.request}}) {SEEK_BY_ID} }}
RETURN a.request AS request, a.id AS id, a.activity AS activity, a.object AS object
ORDER BY a.id
"""
"""Answers stored before whose request is not stored (it may come in this log)."""

ProgressFn = Callable[[int, int], None]
_CODE = {activity: code for code, activity in enumerate(ACTIVITIES)}
_KINDS = 32  # > len(ACTIVITIES): a code is activity + _KINDS * (1 + the request's object's number)


class RequestLinks:
    """The log's ids, and the check of what each answer's `request` names (events.md, "Fields").

    An approval or rejection (`ANSWERS`) answers a request of its kind on its own object: a
    ``change_approved`` a ``change_requested``, a ``deployment_approved`` a
    ``deployment_requested``, an ``access_granted`` or ``access_denied`` an ``access_requested``.
    The request may come before or after the answer in the log, or have been stored before; one
    that names an event of another kind or on another object is a problem at the answer's place,
    field ``request``. So is an event of this log that an answer stored before names as its
    request, if it is not the request that answer needs (field ``id``). A request in neither the
    log nor the store is no problem (logs come in windows; the request may be in one not
    loaded): it is counted in `unresolved`.

    Memory stays small for a million events: one small int per id of the log (its activity and,
    for a request, its object's number; objects are held once each), the answers whose request
    had not been read yet, and the stored answers still awaiting theirs.
    """

    def __init__(self, db: Database, scenario: str) -> None:
        self.db = db
        self.scenario = scenario
        self.codes: dict[str, int] = {}
        self.objects: dict[str, int] = {}
        self.object_names: list[str] = []
        self.pending: list[tuple[str, str, str, str]] = []
        """(place, activity, object, request) of answers whose request was not in the log yet."""
        self.unresolved = 0
        self.awaited: dict[str, list[tuple[str, str, str]]] = {}
        for r in db.read(AWAITING, {"scenario": scenario, "answers": list(ANSWERS)}):
            self.awaited.setdefault(r["request"], []).append((r["id"], r["activity"], r["object"]))

    def __contains__(self, event_id: str) -> bool:
        return event_id in self.codes

    def add(
        self, place: str, event_id: str, activity: str, obj: str, request: str | None, problems: ProblemList
    ) -> None:
        """Note the valid event `event_id` at `place`, and check the links it is an end of."""
        code = _CODE[activity]
        if activity in REQUESTS:
            number = self.objects.get(obj)
            if number is None:
                number = self.objects[obj] = len(self.object_names)
                self.object_names.append(obj)
            code += _KINDS * (1 + number)
        self.codes[event_id] = code
        for answer, answer_activity, answer_object in self.awaited.get(event_id, ()):
            wrong = _mismatch(answer_activity, answer_object, activity, obj)
            if wrong:
                problems.append(
                    Problem(
                        place,
                        "id",
                        f"'{event_id}' is {_a(activity)} on '{obj}', but the {answer_activity} '{answer}' loaded before"
                        f" names it as its request, and {wrong}",
                    )
                )
        if request is not None and activity in ANSWERS:
            if request in self.codes:
                self._judge(place, activity, obj, request, *self._decode(request), problems)
            else:
                self.pending.append((place, activity, obj, request))

    def _decode(self, event_id: str) -> tuple[str, str | None]:
        code = self.codes[event_id]
        number = code // _KINDS - 1
        return ACTIVITIES[code % _KINDS], self.object_names[number] if number >= 0 else None

    @staticmethod
    def _judge(
        place: str,
        activity: str,
        obj: str,
        request: str,
        request_activity: str,
        request_object: str | None,
        problems: ProblemList,
        where: str = "",
    ) -> None:
        wrong = _mismatch(activity, obj, request_activity, request_object)
        if wrong:
            problems.append(
                Problem(
                    place,
                    "request",
                    f"names '{request}', {_a(request_activity)}"
                    f"{'' if request_activity != ANSWERS[activity] else f' on {request_object!r}'}{where}, but {wrong}",
                )
            )

    def finish(self, problems: ProblemList) -> None:
        """Check the answers whose request came later in the log, or was stored before; count
        those whose request is in neither."""
        stored_ids: list[tuple[str, str, str, str]] = []
        for link in self.pending:
            place, activity, obj, request = link
            if request in self.codes:
                self._judge(place, activity, obj, request, *self._decode(request), problems)
            else:
                stored_ids.append(link)
        self.pending = []
        size = batches.BATCH_SIZE
        for start in range(0, len(stored_ids), size):
            chunk = stored_ids[start : start + size]
            stored = {
                r["id"]: (r["activity"], r["object"])
                for r in self.db.read(STORED_EVENTS, {"scenario": self.scenario, "ids": [c[3] for c in chunk]})
            }
            for place, activity, obj, request in chunk:
                if request in stored:
                    self._judge(place, activity, obj, request, *stored[request], problems, " loaded before")
                else:
                    self.unresolved += 1


def _mismatch(activity: str, obj: str, request_activity: str, request_object: str | None) -> str | None:
    """Why an `activity` on `obj` cannot answer a `request_activity` on `request_object`; None if it can."""
    needed = ANSWERS[activity]
    if request_activity != needed:
        return f"{_a(activity)} answers {_a(needed)}"
    if request_object != obj:
        return f"the {activity} is on '{obj}' and answers a request on its own object"
    return None


class EventLogError(BundleError):
    """The log is invalid: every problem found, as ``PLACE: FIELD: MESSAGE``; nothing was stored."""

    def summary(self) -> str:
        n = self.total
        return f"{n:,} problem{'s' if n != 1 else ''} in the event log; nothing was stored"


@dataclass
class EventLoadResult:
    """What a load did: events read from the log, `added` (new), `unchanged` (stored before with
    the same content), `unresolved_requests` (approvals and rejections whose `request` names an
    event in neither the log nor the scenario: the conformance checks cannot judge them against
    their request until it is loaded), the scenario's events in all after it, and the time taken."""

    scenario: str
    form: str
    read: int = 0
    added: int = 0
    unchanged: int = 0
    unresolved_requests: int = 0
    event_count: int = 0
    seconds: float = 0.0
    batches: int = field(default=0, repr=False)
    """Batches of new events to write (not reported)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "form": self.form,
            "read": self.read,
            "added": self.added,
            "unchanged": self.unchanged,
            "unresolved_requests": self.unresolved_requests,
            "event_count": self.event_count,
            "seconds": round(self.seconds, 3),
        }


def read_log(
    db: Database, path: Path, scenario: str, spool: IO[bytes], form: str | None = None, workers: int = 0
) -> tuple[EventLoadResult, ProblemList]:
    """Read and check the whole log at `path` (in batches, `events.batches.checked_batches`),
    spooling its new events (pickled lists of `wire_row`s) to `spool`; return the counts and
    every problem found in the log's order (none: the log may be written). `workers`: processes
    that check a large log (`events.batches.workers`; 0: as many as there are cores). Called under the
    scenario's event-load lock (`load_events`): when the scenario holds no events as the read
    starts, none can be stored meanwhile, and the log's ids are not looked up."""
    result = EventLoadResult(scenario, form or "")
    problems = ProblemList()
    try:
        with open(path, "rb") as probe:
            head = probe.read(4096)
    except OSError as e:
        raise EventLogError([Problem(str(path), "file", f"cannot read: {e.strerror or e}")]) from None
    result.form = form or detect_form(path, head)
    # OCEL: which of an event's related objects are entities of some version of the scenario
    known = ids_in_any_version(db, scenario, ocel_object_ids(path)) if result.form == "ocel" else None
    links = RequestLinks(db, scenario)
    duplicates = DuplicateIds()
    stored_before = bool(db.read(ANY_EVENT, {"scenario": scenario}))
    nothing_stored: Future[list[dict[str, Any]]] = Future()
    nothing_stored.set_result([{"same": [], "other": []}])
    # Each batch's ids are looked up in the store in the background while the next batch is
    # checked, and its results taken when that one is. The problems found meanwhile wait in
    # `found_since`, so that every problem keeps its place in the log's order.
    Lookup = tuple[list[tuple[str, str]], Checked, Future[list[dict[str, Any]]]]
    looking_up: Lookup | None = None
    found_since = ProblemList()

    def take(done: Lookup) -> None:
        ids, checked, lookup = done
        stored = lookup.result()[0]
        same, other = set(stored["same"]), set(stored["other"])
        if other:
            for place, event_id in ids:
                if event_id in other:
                    problems.append(Problem(place, "id", f"event '{event_id}' was loaded before with other content"))
        result.unchanged += len(same)
        if problems or found_since:
            return  # nothing will be written
        if same:
            fresh = [row for row in checked.wire_rows() if row["id"] not in same]
            if fresh:
                pickle.dump(fresh, spool, protocol=pickle.HIGHEST_PROTOCOL)
                result.batches += 1
        elif checked.wire:
            spool.write(checked.wire)
            result.batches += 1
        result.added += len(ids) - len(same)

    def flush(pool: ThreadPoolExecutor, ids: list[tuple[str, str]], pairs: list[list[str]], checked: Checked) -> None:
        nonlocal looking_up
        if looking_up is not None:
            take(looking_up)
            looking_up = None
        problems.extend(found_since)
        found_since.clear()
        found_since.omitted = 0
        if ids and not stored_before:
            looking_up = (ids, checked, nothing_stored)
        elif ids:
            looking_up = (ids, checked, pool.submit(db.read, STORED_DIGESTS, {"scenario": scenario, "rows": pairs}))

    with ThreadPoolExecutor(max_workers=1) as pool:
        for checked in checked_batches(path, result.form, scenario, known, processes=workers):
            result.read += checked.read
            found = checked.problems
            at = 0
            ids: list[tuple[str, str]] = []  # (place, id)
            pairs: list[list[str]] = []
            for mark, place, event_id, digest, activity, obj, request in checked.events:
                if mark > at:
                    found_since.extend(found[at:mark])
                    at = mark
                if event_id in links:
                    found_since.append(duplicates.problem(place, event_id))
                    continue
                links.add(place, event_id, activity, obj, request, found_since)
                ids.append((place, event_id))
                if stored_before:
                    pairs.append([event_id, digest])
            found_since.extend(found[at:])
            found_since.omitted += found.omitted
            flush(pool, ids, pairs, checked)
        flush(pool, [], [], Checked())
    links.finish(problems)
    duplicates.resolve(problems, read_records(path, result.form, ProblemList(), known))  # reads only if any
    result.unresolved_requests = links.unresolved
    if result.read == 0 and not problems:
        problems.append(Problem(path.name, "file", "the log holds no events"))
    return result, problems


def _spooled(spool: IO[bytes]) -> Iterator[list[dict[str, Any]]]:
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def _create(tx: ManagedTransaction, rows: list[dict[str, Any]]) -> None:
    tx.run(CREATE_EVENTS, rows=rows).consume()


def _write_side_by_side(db: Database, spool: IO[bytes], total: int, progress: ProgressFn | None) -> int:
    """Write the spooled batches, `WRITERS` at a time, each in a transaction of its own; at most
    `WRITERS` + 1 batches are held in memory. Returns the events written. The first batch that
    fails stops the writing: once the batches in flight have ended, `_BatchFailed` is raised with
    its error and the events the other batches stored."""
    in_flight: deque[tuple[int, Future[None]]] = deque()
    done = written = 0
    failed: BaseException | None = None

    def take() -> None:
        nonlocal done, written, failed
        size, future = in_flight.popleft()
        try:
            future.result()
        except Exception as e:
            failed = failed or e
            return
        written += size
        done += 1
        if progress and failed is None:
            progress(done, total)

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        for rows in _spooled(spool):
            in_flight.append((len(rows), pool.submit(db.execute_write, partial(_create, rows=rows))))
            while len(in_flight) > WRITERS:
                take()
            if failed is not None:
                break
        while in_flight:
            take()
    if failed is not None:
        raise _BatchFailed(failed, written)
    return written


class _BatchFailed(Exception):
    def __init__(self, error: BaseException, written: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.written = written


class EventLoadInterrupted(LoadConflict):
    """A write of the load met an event id stored meanwhile by a load that took no lock (events/lock.py);
    `stored` of the log's new events had been stored before (0 when it was one transaction). A
    LoadConflict: CLI exit 1, REST 409. Running the load again writes the rest."""

    def __init__(self, message: str, stored: int) -> None:
        super().__init__(message)
        self.stored = stored


def _write(db: Database, spool: IO[bytes], scenario: str, result: EventLoadResult, progress: ProgressFn | None) -> None:
    """Write the new events spooled by `read_log` (`result.added` in `result.batches`), and mark
    the scenario loaded: in one
    transaction up to `TX_MAX_EVENTS`, else in batches (`_write_side_by_side`). An id stored
    meanwhile (`ConstraintError`) is an `EventLoadInterrupted` saying how many were stored."""
    added, total = result.added, result.batches
    if added <= TX_MAX_EVENTS:

        def work(tx: ManagedTransaction) -> None:
            for done, rows in enumerate(_spooled(spool), 1):
                _create(tx, rows)
                if progress:
                    progress(done, total)
            tx.run(MARK_LOADED, scenario=scenario).consume()

        try:
            db.execute_write(work)
        except ConstraintError as e:
            raise EventLoadInterrupted(
                f"another load of events into scenario '{scenario}' wrote some of these ids meanwhile "
                f"({e.message}); nothing was stored; run the load again",
                0,
            ) from None
        return
    try:
        _write_side_by_side(db, spool, total, progress)
    except _BatchFailed as failed:
        if not isinstance(failed.error, ConstraintError):
            raise failed.error from None
        raise EventLoadInterrupted(
            f"another load of events into scenario '{scenario}' wrote some of these ids meanwhile "
            f"({failed.error.message}); {failed.written:,} of this log's {added:,} new events were stored "
            "before the load stopped; run the load again to store the rest (loads are idempotent by event id)",
            failed.written,
        ) from None
    db.write(MARK_LOADED, {"scenario": scenario})


def load_events(
    db: Database,
    path: Path | str,
    scenario: str = "current",
    *,
    form: str | None = None,
    progress: ProgressFn | None = None,
    wait_s: float = DEFAULT_WAIT_S,
    waiting: WaitingFn | None = None,
    workers: int = 0,
) -> EventLoadResult:
    """Load the event log at `path` (form from its name or content, or `form`: csv, json, jsonl,
    xes, ocel) into `scenario`, which must have been loaded (UnknownScenarioError otherwise).

    Raises EventLogError with every problem (``PLACE: FIELD: MESSAGE``) and stores nothing when
    the log is malformed (events.md): syntax, a missing field, an unknown activity, a time
    without offset, a duplicate id, an id loaded before with other content, a `request` that is
    not the request answered (`RequestLinks`). Events stored before
    with the same content are skipped, so loading a log again adds nothing. `progress(done,
    total)` is called after each batch written.

    Loads into one scenario run one at a time (events/lock.py): this one waits for another at
    most `wait_s` seconds (`TOMGRAPH_EVENTS_LOAD_WAIT_S`), calling `waiting(wait_s)` once if it
    has to wait more than a second, then raises `EventLoadBusy` having stored nothing.
    `EventLoadInterrupted` when a write meets an id stored meanwhile despite the lock (says how
    many events were stored). Both are LoadConflicts.

    A large CSV or JSON Lines log is checked by `workers` processes (`TOMGRAPH_EVENTS_LOAD_WORKERS`;
    0: one per core, at most 4, none on one core; `events.batches`).
    """
    started = time.monotonic()
    path = Path(path)
    check_scenario_name(scenario)
    if not db.read("MATCH (s:Scenario {name: $scenario}) RETURN s.name AS name", {"scenario": scenario}):
        raise UnknownScenarioError(f"scenario '{scenario}' has not been loaded; load its bundle first")
    with (
        event_load_lock(db, scenario, wait_s, waiting=waiting),
        tempfile.TemporaryFile(prefix="tomgraph-events-") as spool,
    ):
        result, problems = read_log(db, path, scenario, spool, form, workers)
        if problems:
            raise EventLogError(problems)  # carries problems.omitted over
        _write(db, spool, scenario, result, progress)
        count = db.read(f"MATCH (e:{EVENT_LABEL} {{scenario: $scenario}}) RETURN count(e) AS n", {"scenario": scenario})
    result.event_count = count[0]["n"]
    result.seconds = time.monotonic() - started
    return result


LIST_EVENTS = f"""
MATCH (e:{EVENT_LABEL} {{scenario: $scenario}})
WHERE ($object IS NULL OR e.object = $object)
  AND ($actors IS NULL OR e.actor IN $actors)
  AND ($since IS NULL OR e.day >= $since)
  AND ($until IS NULL OR e.day <= $until)
  AND ($before_time IS NULL OR e.time < $before_time OR (e.time = $before_time AND e.id < $before_id))
RETURN e {{.*}} AS event
ORDER BY e.time DESC, e.id DESC
LIMIT $limit
"""


def _time_text(value: Any) -> str:
    """A stored time as ISO 8601 with its offset, without the fraction's trailing zeros (Neo4j
    writes nine digits): `2026-10-16T16:00:00+00:00`, `2026-10-16T16:00:00.25+02:00`."""
    text = value.iso_format() if hasattr(value, "iso_format") else str(value)
    return re.sub(r"\.(\d*?)0+(?=[+-]\d|Z|\[|$)", lambda m: f".{m.group(1)}" if m.group(1) else "", text)


def event_json(props: dict[str, Any]) -> dict[str, Any]:
    """A stored event as JSON: its fields (time as written, with its offset; `day` left out),
    and its properties under ``properties``."""
    out: dict[str, Any] = {
        k: props.get(k) for k in ("id", "time", "activity", "object", "actor", "request", "to_stage")
    }
    out["time"] = _time_text(props["time"])
    out["properties"] = {
        k.removeprefix("properties."): v for k, v in sorted(props.items()) if k.startswith("properties.")
    }
    return out


def list_events(
    db: Database,
    scenario: str,
    *,
    object_id: str | None = None,
    actor: str | None = None,
    since: Any = None,
    until: Any = None,
    limit: int = 100,
    cursor: tuple[Any, str] | None = None,
) -> list[dict[str, Any]]:
    """The events of `scenario`, most recent first, at most `limit`: only those on `object_id`,
    by `actor` (a person's id matches their aliases too, in the latest version of the scenario),
    from the day `since` on, up to the day `until` (dates, both inclusive; an event's day is its
    calendar day in its own offset), and after `cursor` (the (time, id) of the last event of the
    page before). Each as `event_json`."""
    from events.conformance import actor_names

    actors = None
    if actor is not None:
        physical = latest_physical(db, scenario)
        names = actor_names(db, [physical])[physical]
        person = names.get(actor)
        actors = sorted({actor, *(n for n, p in names.items() if person is not None and p == person)})
    rows = db.read(
        LIST_EVENTS,
        {
            "scenario": scenario,
            "object": object_id,
            "actors": actors,
            "since": since,
            "until": until,
            "before_time": cursor[0] if cursor else None,
            "before_id": cursor[1] if cursor else None,
            "limit": limit,
        },
    )
    return [event_json(r["event"]) for r in rows]
