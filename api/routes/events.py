"""Event logs: load one into a scenario, list its events, and its governance metrics (events.md)."""

from __future__ import annotations

import base64
import tempfile
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.db import ready_for_writes
from api.deps import CatalogDep, Day, DbDep, EditorKey, ReaderKey, ScenarioName, SettingsDep, SyncDbDep
from api.guard import body_limit
from api.problems import READ_RESPONSES, ApiProblem, ProblemItem, invalid, problem_response
from api.uploads import read_body
from events.forms import FORMS, FormError, detect_form
from events.stats import event_stats
from events.store import EventLogError, list_events, load_events

router = APIRouter(tags=["events"])

_LOG_BODY = {
    "requestBody": {
        "required": True,
        "description": "The event log: CSV, JSON (an array of events), JSON Lines, XES, or OCEL 2.0 JSON.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/xml": {"schema": {"type": "string"}},
        },
    }
}

MEDIA_FORMS = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/xml": "xes",
    "text/xml": "xes",
    "application/x-xes+xml": "xes",
}
SUFFIX = {"csv": ".csv", "json": ".json", "jsonl": ".jsonl", "xes": ".xes", "ocel": ".jsonocel"}


class EventLoadAnswer(BaseModel):
    scenario: str
    form: str = Field(description="The form the log was read as: csv, json, jsonl, xes or ocel.")
    read: int = Field(description="Events in the log.")
    added: int = Field(description="Events stored by this load.")
    unchanged: int = Field(description="Events of the log stored before with the same content (skipped).")
    unresolved_requests: int = Field(
        description="Approvals and rejections whose `request` names an event in neither the log nor the scenario"
        " (in a log not loaded yet): self-approval-in-practice and slow-approval judge them once it is loaded."
    )
    event_count: int = Field(description="Events of the scenario after the load.")
    seconds: float


class EventList(BaseModel):
    scenario: str
    events: list[dict[str, Any]] = Field(
        description="Most recent first: id, time (as written), activity, object, actor, request, to_stage, properties."
    )
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


def form_of_upload(content_type: str, body: bytes, form: str | None) -> str:
    """The log's form: `form` when given, else by media type, else by its first bytes."""
    if form is not None:
        return form
    media = content_type.split(";")[0].strip().lower()
    if media in MEDIA_FORMS:
        return MEDIA_FORMS[media]
    try:
        return detect_form(Path("upload"), body[:4096])
    except FormError:
        return "csv"


def _invalid_log(exc: EventLogError) -> ApiProblem:
    problem = ApiProblem(
        422,
        "Invalid event log",
        exc.summary(),
        slug="invalid-event-log",
        errors=[ProblemItem(**p.as_dict()) for p in exc.problems],
        errors_omitted=exc.omitted,
    )
    return problem


@router.post(
    "/scenarios/{s}/events",
    openapi_extra=_LOG_BODY,
    responses={
        **READ_RESPONSES,
        413: problem_response("The upload is larger than the limit"),
        409: problem_response(
            "Another load of events into the scenario did not end within TOMGRAPH_EVENTS_LOAD_WAIT_S"
            " (nothing stored; try again), or one without the lock wrote some of the ids meanwhile"
            " (`detail` says how many events were stored; run the load again)"
        ),
        422: problem_response("The log is malformed; `errors` lists every problem with its place and field"),
    },
)
@body_limit("max_file_bytes")
async def load_scenario_events(
    s: ScenarioName,
    request: Request,
    db: DbDep,
    sync_db: SyncDbDep,
    settings: SettingsDep,
    _: EditorKey,
    form: Annotated[
        str | None, Query(description=f"The log's form: {', '.join(FORMS)} (default: from the body).")
    ] = None,
) -> EventLoadAnswer:
    """Load an event log into scenario `s`, whose bundle must be loaded (404 otherwise).

    The same loader as `tomgraph events load`: every event is validated before anything is
    written; a malformed log (syntax, a missing field, an unknown activity, a time without
    offset, a duplicate id, an id loaded before with other content) is a 422 listing every
    problem, and nothing is stored. Loading the same log again adds nothing (events.md).
    Loads into one scenario run one at a time: a second waits for the first at most
    TOMGRAPH_EVENTS_LOAD_WAIT_S seconds, then is a 409 problem document, nothing stored.
    """
    if form is not None and form not in FORMS:
        raise invalid("query", "form", f"'{form}' is not one of {', '.join(FORMS)}")
    body = await read_body(request, settings.max_file_bytes)
    if not body.strip():
        raise invalid("body", "log", "the upload is empty")
    chosen = form_of_upload(request.headers.get("content-type", ""), body, form)
    await ready_for_writes(request.app.state, db, sync_db)
    with tempfile.TemporaryDirectory(prefix="tomgraph-events-") as workdir:
        path = Path(workdir) / f"events{SUFFIX[chosen]}"
        await run_in_threadpool(path.write_bytes, body)
        del body
        try:
            result = await run_in_threadpool(
                partial(
                    load_events,
                    sync_db,
                    path,
                    s,
                    form=chosen,
                    wait_s=settings.events_load_wait_s,
                    workers=settings.events_load_workers,
                )
            )
        except EventLogError as e:
            raise _invalid_log(e) from None
        except FormError as e:
            raise invalid("body", "log", str(e)) from None
    return EventLoadAnswer(**result.as_dict())


def _cursor(event: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(f"{event['time']}|{event['id']}".encode()).decode()


def _parse_cursor(text: str) -> tuple[datetime, str]:
    try:
        time, event_id = base64.urlsafe_b64decode(text.encode()).decode().split("|", 1)
        return datetime.fromisoformat(time), event_id
    except (ValueError, UnicodeDecodeError):
        raise invalid("query", "cursor", "not a cursor this route gave") from None


@router.get("/scenarios/{s}/events", responses=READ_RESPONSES)
async def get_events(
    s: ScenarioName,
    db: DbDep,
    sync_db: SyncDbDep,
    _: ReaderKey,
    object: Annotated[str | None, Query(description="Only events on this entity id.")] = None,
    actor: Annotated[
        str | None, Query(description="Only events by this actor (a person id matches their aliases).")
    ] = None,
    since: Annotated[Day | None, Query(description="Only events from this day on.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most events in the answer.")] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before.")] = None,
) -> EventList:
    """The events of scenario `s`, most recent first, a page at a time (404 for a scenario never loaded)."""
    from api import graph_reads

    if await graph_reads.findings_state(db, s) is None:
        raise ApiProblem(404, "Not found", f"scenario '{s}' has not been loaded", slug="not-found")
    after = _parse_cursor(cursor) if cursor else None
    events = await run_in_threadpool(
        lambda: list_events(sync_db, s, object_id=object, actor=actor, since=since, limit=limit, cursor=after)
    )
    return EventList(scenario=s, events=events, next_cursor=_cursor(events[-1]) if len(events) == limit else None)


@router.get("/scenarios/{s}/events/stats", responses=READ_RESPONSES)
async def get_event_stats(
    s: ScenarioName,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    _: ReaderKey,
    since: Annotated[Day | None, Query(description="Only events from this day on.")] = None,
    as_of: Annotated[Day | None, Query(description="Last day counted (default today).")] = None,
) -> dict[str, Any]:
    """Approval lead time per risk tier (hours), authorized share of deployments and changes,
    use-case cycle times (days), and per-approver counts and approval rate, as `tomgraph events
    stats --format json` prints them (events.md, "Metrics"). 404 for a scenario never loaded."""
    from api import graph_reads

    if await graph_reads.findings_state(db, s) is None:
        raise ApiProblem(404, "Not found", f"scenario '{s}' has not been loaded", slug="not-found")
    return await run_in_threadpool(event_stats, sync_db, catalog, s, as_of or date.today(), since)
