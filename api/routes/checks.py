"""The gap-check catalog, findings, and waivers."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api import graph_reads
from api.db import ApiDatabase, ApiSyncDatabase, ensure_up
from api.deps import AtQuery, CatalogDep, Day, DbDep, EditorKey, ReaderKey, ScenarioName, SyncDbDep
from api.models import CheckInfo, CheckList, FindingsAnswer, Severity, WaiversAnswer
from api.problems import AUTH_RESPONSES, READ_RESPONSES, ApiProblem, ProblemItem, invalid, not_found
from queries.catalog import Catalog, UnknownCheckError
from queries.coverage import OBLIGATION_UNMET
from queries.findings import RunResult, at_or_above
from queries.runner import CheckRunError, run_checks
from queries.waivers import Waiver, WaiverEntry, WaiverError, replace_waivers, role_problems

router = APIRouter(tags=["checks"])

FindingsKey = tuple[str, str, tuple[str, ...] | None, str]


class FindingsCache:
    """The last few check runs; a run of every check is the API's most expensive answer.

    Concurrent requests for the same answer share one run (single flight) rather than each
    starting its own and filling the worker threads. Runs for different answers (other scenarios,
    dates or checks) queue for `parallel` slots, so a burst of them cannot take every worker
    thread and database connection from the cheap routes (which then time out as 503s).
    """

    def __init__(self, size: int = 64, parallel: int = 2) -> None:
        self.size = size
        self._runs: OrderedDict[FindingsKey, RunResult] = OrderedDict()
        self._running: dict[FindingsKey, asyncio.Future[RunResult]] = {}
        self._parallel = parallel
        self._slots: asyncio.Semaphore | None = None  # made on first use, inside the event loop
        self._answers: OrderedDict[tuple[FindingsKey, str | None], bytes] = OrderedDict()

    def answer(self, key: FindingsKey, severity: str | None, render: Callable[[], bytes]) -> bytes:
        """The JSON body for (run, severity filter), rendered once per run and filter."""
        body = self._answers.get((key, severity))
        if body is None:
            body = self._answers[(key, severity)] = render()
            while len(self._answers) > 4 * self.size:
                self._answers.popitem(last=False)
        return body

    async def _in_slot(self, run: Callable[[], Awaitable[RunResult]]) -> RunResult:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._parallel)
        async with self._slots:
            return await run()

    async def get_or_run(self, key: FindingsKey, run: Callable[[], Awaitable[RunResult]]) -> RunResult:
        cached = self.get(key)
        if cached is not None:
            return cached
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(self._in_slot(run))
            self._running[key] = running

            def finished(future: asyncio.Future[RunResult]) -> None:
                self._running.pop(key, None)
                if not future.cancelled() and future.exception() is None:
                    self.put(key, future.result())

            running.add_done_callback(finished)
        # shield: a caller that goes away must not cancel the run the others are waiting for
        return await asyncio.shield(running)

    def get(self, key: FindingsKey) -> RunResult | None:
        result = self._runs.get(key)
        if result is not None:
            self._runs.move_to_end(key)
        return result

    def put(self, key: FindingsKey, result: RunResult) -> None:
        self._runs[key] = result
        while len(self._runs) > self.size:
            self._runs.popitem(last=False)


@router.get("/checks", responses=AUTH_RESPONSES)
async def list_checks(catalog: CatalogDep, _: ReaderKey) -> CheckList:
    """The gap-check catalog: built-in checks and those from `TOMGRAPH_CHECK_DIRS`."""
    return CheckList(
        checks=[
            CheckInfo(
                id=c.id,
                revision=c.spec.revision,
                title=c.spec.title,
                severity=c.spec.severity,
                escalation=dict(c.spec.escalation or {}),
                rationale=c.spec.rationale,
                remediation=c.spec.remediation,
                parameters=dict(c.spec.parameters),
                cypher=c.spec.cypher,
            )
            for c in catalog.checks
        ]
    )


async def findings_run(
    request: Request,
    db: ApiDatabase,
    sync_db: ApiSyncDatabase,
    catalog: Catalog,
    s: str,
    as_of: date | None,
    check: list[str] | None = None,
    at: date | None = None,
    since: date | None = None,
) -> tuple[FindingsKey, RunResult]:
    """The gap checks' run on scenario `s` as in force on `at` (default today), as of `as_of`
    (default today), from the app's cache (see `get_findings`): (its cache key, the run). 404 for
    a scenario never loaded or with no version in force on `at`. Shared by the findings route and
    the explorer's pages, so both show the same findings."""
    day = as_of or date.today()
    state = await graph_reads.findings_state(db, s, at)
    if state is None:
        raise not_found(f"scenario '{s}' has not been loaded")
    cache: FindingsCache = request.app.state.findings_cache
    when = day.isoformat() if since is None else f"{day.isoformat()} since {since.isoformat()}"
    key = (s, when, tuple(sorted(check)) if check else None, state)
    try:
        result = await cache.get_or_run(
            key,
            lambda: run_in_threadpool(
                lambda: run_checks(
                    sync_db, catalog, s, day, check or None, None, request.app.state.frameworks, since, at=at
                )
            ),
        )
    except UnknownCheckError as e:
        raise invalid("query", "check", str(e)) from e
    except CheckRunError as e:
        raise ApiProblem(500, "Check failed", str(e), slug="check-failed") from e
    return key, result


@router.get("/scenarios/{s}/findings", responses=READ_RESPONSES, response_model=FindingsAnswer)
async def get_findings(
    s: ScenarioName,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    request: Request,
    _: ReaderKey,
    check: Annotated[list[str] | None, Query(description="Only these check ids (repeat the parameter).")] = None,
    severity: Annotated[Severity | None, Query(description="Only findings at or above this severity.")] = None,
    as_of: Annotated[Day | None, Query(description="The day to run the checks for (default today).")] = None,
    at: AtQuery = None,
    since: Annotated[
        Day | None, Query(description="Event-log checks judge only the events from this day on (events.md).")
    ] = None,
) -> Response:
    """Run the gap checks on scenario `s` (gap-checks.md), waivers applied, most severe first.

    Answers are cached by (scenario, as-of date, checks) and a fingerprint of the scenario's last
    load and its waivers, read on every request: a new load or a waiver change is seen at once.
    """
    if check:
        unknown = sorted(set(check) - set(catalog.ids()) - {OBLIGATION_UNMET})
        if unknown:
            raise invalid("query", "check", f"unknown check id: {', '.join(unknown)}")
    key, result = await findings_run(request, db, sync_db, catalog, s, as_of, check, at, since)
    cache: FindingsCache = request.app.state.findings_cache

    def render() -> bytes:
        findings = [f for f in result["findings"] if severity is None or at_or_above(f["severity"], severity)]
        answer = {
            "scenario": result["scenario"],
            "as_of": result["as_of"],
            "findings": findings,
            "expired_waivers": result.get("expired_waivers", []),
        }
        return FindingsAnswer.model_validate(answer).model_dump_json().encode()

    return Response(cache.answer(key, severity, render), media_type="application/json")


@router.put("/scenarios/{s}/waivers", responses=READ_RESPONSES)
async def put_waivers(
    s: ScenarioName,
    waivers: Annotated[list[WaiverEntry], Body(description="The scenario's complete set of waivers.")],
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    _: EditorKey,
) -> WaiversAnswer:
    """Replace the scenario's waivers (findings accepted as risk by a role, until a date) as a whole."""
    problems: list[ProblemItem] = []
    seen: dict[tuple[str, frozenset[str]], int] = {}
    accepted: list[Waiver] = []
    for index, entry in enumerate(waivers):
        place = f"body[{index}]"
        if entry.check not in catalog.ids() and entry.check != OBLIGATION_UNMET:
            problems.append(ProblemItem(place=place, field="check", message=f"unknown check id '{entry.check}'"))
            continue
        waiver = Waiver(
            entry.check, tuple(sorted(set(entry.subjects))), entry.accepted_by, entry.reason, entry.expires, place=place
        )
        if waiver.identity in seen:
            problems.append(
                ProblemItem(
                    place=place, field="subjects", message=f"repeats the waiver at body[{seen[waiver.identity]}]"
                )
            )
            continue
        seen[waiver.identity] = index
        accepted.append(waiver)
    await ensure_up(db)
    # Every problem in one pass: the body's and the roles the scenario lacks (as the CLI does).
    places = [(f"body[{index}]", entry.accepted_by) for index, entry in enumerate(waivers)]
    for line in await run_in_threadpool(role_problems, sync_db, s, places):
        place, field, message = ([*line.split(": ", 2), "", ""])[:3]
        problems.append(ProblemItem(place=place, field=field, message=message))
    if problems:
        problems.sort(key=lambda item: int(item.place.removeprefix("body[").rstrip("]")))
        raise _invalid_waivers(problems)
    try:
        count = await run_in_threadpool(replace_waivers, sync_db, s, accepted)
    except WaiverError as e:
        items = []
        for line in e.problems:
            place, field, message = ([*line.split(": ", 2), "", ""])[:3]
            items.append(ProblemItem(place=place, field=field, message=message))
        raise _invalid_waivers(items) from e
    return WaiversAnswer(scenario=s, waivers=count)


def _invalid_waivers(items: list[ProblemItem]) -> ApiProblem:
    return ApiProblem(
        422, "Invalid waivers", f"{len(items)} problem(s) in the waivers", slug="invalid-waivers", errors=items
    )
