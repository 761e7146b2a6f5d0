"""The graph view, the weekly reports and the current-to-target diff: thin routes over the same
functions as `tomgraph view`, `tomgraph report` and `tomgraph diff`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.db import ensure_up
from api.deps import AtQuery, CatalogDep, Day, DbDep, ReaderKey, ScenarioName, SettingsDep, SyncDbDep
from api.problems import READ_RESPONSES, invalid
from graph.ontology import SCENARIO_PATTERN
from queries.diff import diff_scenarios
from visualizations.report import render_html, stored_report
from visualizations.view import MAX_DEPTH, fetch_view, org_chart_kinds, render_view, view_json

router = APIRouter(tags=["views"])

HTML_OR_JSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}}}
}


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split("text/html")[0]


@router.get(
    "/scenarios/{s}/view",
    response_class=HTMLResponse,
    responses={**READ_RESPONSES, **HTML_OR_JSON},
)
async def view(
    s: ScenarioName,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    _: ReaderKey,
    focus: Annotated[str | None, Query(description="Entity id at the centre of the view.")] = None,
    depth: Annotated[int, Query(ge=0, le=MAX_DEPTH, description="Hops around the focus.")] = 1,
    kinds: Annotated[str | None, Query(description="Bundle sections to show, e.g. `models,vendors`.")] = None,
    layout: Annotated[Literal["force", "hierarchy"], Query()] = "force",
    as_of: Annotated[Day | None, Query(description="Date the gap checks are run for (default today).")] = None,
    format: Annotated[Literal["html", "json"], Query(description="The page, or its data as JSON.")] = "html",
    at: AtQuery = None,
) -> Response:
    """The interactive graph page (one self-contained HTML file), or with `format=json` the data
    the page fetches when a node is double-clicked to expand its neighbours."""
    await ensure_up(db)
    shown = org_chart_kinds(layout, focus, kinds)
    try:
        data = await run_in_threadpool(
            lambda: fetch_view(
                sync_db,
                s,
                focus=focus,
                depth=depth,
                kinds=shown,
                as_of=as_of,
                node_cap=settings.view_node_cap,
                catalog=catalog,
                at=at,
            )
        )
    except ValueError as e:
        raise invalid("query", "kinds" if kinds else "depth", str(e)) from e
    if format == "json":
        return JSONResponse(view_json(data, layout=layout))
    return HTMLResponse(render_view(data, layout=layout, served=True))


async def _report(
    request: Request,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    s: str,
    day: date | None,
    at: date | None = None,
) -> Response:
    await ensure_up(db)
    report = await run_in_threadpool(stored_report, sync_db, catalog, s, day, at=at)
    if _wants_html(request):
        return HTMLResponse(await run_in_threadpool(render_html, report))
    return JSONResponse(report)


@router.get("/scenarios/{s}/reports/latest", response_class=JSONResponse, responses={**READ_RESPONSES, **HTML_OR_JSON})
async def latest_report(
    request: Request,
    s: ScenarioName,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    _: ReaderKey,
    at: Annotated[Day | None, Query(description="The latest report as of this day or before (default: any).")] = None,
) -> Response:
    """The latest weekly gap report (as `tomgraph report` stored it): JSON, or HTML when the
    `Accept` header asks for `text/html`. With `at=`, the latest one stored for that day or before."""
    return await _report(request, db, sync_db, catalog, s, None, at)


@router.get("/scenarios/{s}/reports/{day}", response_class=JSONResponse, responses={**READ_RESPONSES, **HTML_OR_JSON})
async def report_for_date(
    request: Request,
    s: ScenarioName,
    day: Annotated[Day, Path(description="The report's as-of date, YYYY-MM-DD.")],
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    _: ReaderKey,
) -> Response:
    """The weekly gap report stored for one as-of date: JSON, or HTML by `Accept`."""
    return await _report(request, db, sync_db, catalog, s, day)


@router.get("/diff/{a}/{b}", responses=READ_RESPONSES)
async def diff(
    a: Annotated[str, Path(pattern=SCENARIO_PATTERN, description="From this scenario, e.g. `current`.")],
    b: Annotated[str, Path(pattern=SCENARIO_PATTERN, description="To this scenario, e.g. `target`.")],
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    _: ReaderKey,
    as_of: Annotated[Day | None, Query(description="Date the gap checks are run for (default today).")] = None,
    at: AtQuery = None,
    at_a: Annotated[Day | None, Query(description="Read `a` as in force on this day (default: `at`).")] = None,
    at_b: Annotated[Day | None, Query(description="Read `b` as in force on this day (default: `at`).")] = None,
) -> dict[str, Any]:
    """What changes from scenario a to b, as `tomgraph diff a b --format json`: entities and
    relationships added, removed and changed, decision rights that moved, and the findings the
    target fixes and introduces. `/diff/S/S?at_a=D1&at_b=D2` compares two versions of one
    scenario (`tomgraph diff S@D1 S@D2`)."""
    await ensure_up(db)
    result: dict[str, Any] = await run_in_threadpool(
        lambda: diff_scenarios(sync_db, catalog, a, b, as_of or date.today(), at_a=at_a or at, at_b=at_b or at)
    )
    return result
