"""The explorer's pages: the catalog (`/`), an entity, the graph explorer, the findings board, the
current-to-target diff, and signing in and out. Each handler reads through the functions the JSON
routes use and renders a template; nothing here decides what the operating model means.

Every page takes `at=YYYY-MM-DD` (the switcher's "Model as of"): each of its reads passes
`state.at` to those functions, which read the version of the scenario in force that day
(graph/history.py; default today)."""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api import graph_reads
from api.auth import SESSION_COOKIE, KeyStore, SessionStore
from api.db import ensure_up
from api.deps import OPEN_CALLER, CatalogDep, DbDep, EntityId, ScenarioName, SyncDbDep
from api.graph_reads import MAX_DEPTH
from api.problems import ApiProblem
from api.routes.checks import findings_run
from events.store import list_events
from explorer.board import GROUPINGS, GroupBy, group_findings
from explorer.web import (
    CSRF_FIELD,
    PageCaller,
    PageError,
    PageState,
    csrf_ok,
    csrf_token,
    render,
    secure_cookies,
    set_csrf_cookie,
)
from graph.days import DayError, check_day
from graph.db import DatabaseUnavailable
from graph.errors import NotFound
from graph.history import HistoryError
from graph.ontology import SCENARIO_PATTERN, kinds_by_section, rel_types
from queries.diff import diff_scenarios
from queries.findings import Finding, sort_findings
from visualizations.view import style_table

router = APIRouter(include_in_schema=False)

CATALOG_PAGE = 50
UNIT_CHOICES = 300
BOARD_ROWS = 5
BOARD_GROUPS = 50
GROUP_PAGE = 200
DIFF_ROWS = 500
RELATIONSHIPS_SHOWN = 300
"""Relationships an entity page lists each way (read capped: a vendor may have thousands)."""
RECENT_EVENTS = 20
"""Events an entity page lists, most recent first (the rest: `GET /scenarios/{s}/events?object=`)."""
STAGES: tuple[str, ...] = tuple(
    dict.fromkeys(
        choice
        for section in ("use_cases", "workflows", "models")
        for f in kinds_by_section()[section].fields
        if f.name == "stage"
        for choice in f.choices
    )
)
RISK_TIERS: tuple[str, ...] = next(f.choices for f in kinds_by_section()["models"].fields if f.name == "risk_tier")
# Forms send every field, empty or not: an empty field means "not given", so these are text
# parsed here rather than typed parameters that would refuse the empty string.
AsOf = Annotated[str | None, Query(max_length=10, description="The day findings are run for (default today).")]
At = Annotated[str | None, Query(max_length=10, description="The day the scenario is read at (history).")]
Choice = Annotated[str | None, Query(max_length=40)]


def _day(field: str, text: str | None) -> date | None:
    """A form's date (YYYY-MM-DD, within graph.days' range), None when empty; a 422 page naming the
    field otherwise."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError as e:
        raise PageError(422, "Invalid input", f"query: {field}: not a date (YYYY-MM-DD): {text}") from e
    try:
        return check_day(day)
    except DayError as e:
        raise PageError(422, "Invalid input", f"query: {field}: {e}: {text}") from e


def _choice(field: str, text: str | None, allowed: tuple[str, ...] | list[str]) -> str | None:
    """A form's choice, None when empty; a 422 page naming the field and the choices otherwise."""
    if not text:
        return None
    if text not in allowed:
        raise PageError(422, "Invalid input", f"query: {field}: must be one of {', '.join(allowed)}")
    return text


def _state(scenario: str | None, as_of: str | None, at: str | None) -> PageState:
    return PageState(scenario, _day("as_of", as_of), _day("at", at))


@asynccontextmanager
async def as_page() -> AsyncIterator[None]:
    """The JSON routes' errors (404, 422, 503) as HTML error pages with the same status."""
    try:
        yield
    except ApiProblem as e:
        raise PageError(e.status, e.title, e.detail) from e
    except DatabaseUnavailable as e:
        raise PageError(503, "The database does not answer", str(e)) from e


async def _scenarios(request: Request, db: DbDep) -> list[str]:
    names = [s.name for s in await graph_reads.list_scenarios(db)]
    request.state.scenarios = names
    return names


def _entity_url(state: PageState, entity_id: str, scenario: str | None = None) -> str:
    s = quote(scenario or state.scenario or "", safe="")
    return f"/ui/scenarios/{s}/entities/{quote(entity_id, safe='')}{state.query()}"


def _finding_view(f: Finding) -> dict[str, Any]:
    return {**f, "open": "waived" not in f}


@router.get("/", response_class=HTMLResponse)
async def catalog_page(
    request: Request,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    caller: PageCaller,
    scenario: Annotated[str | None, Query(pattern=SCENARIO_PATTERN)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    kind: Choice = None,
    unit: Annotated[str | None, Query(max_length=128)] = None,
    stage: Choice = None,
    risk_tier: Choice = None,
    open_only: bool = False,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    as_of: AsOf = None,
    at: At = None,
) -> HTMLResponse:
    """The catalog: every entity of a scenario, searched by id or name and filtered by kind, unit,
    stage, risk tier and open findings, 50 a page."""
    kind = _choice("kind", kind, list(kinds_by_section()))
    stage = _choice("stage", stage, STAGES)
    risk_tier = _choice("risk_tier", risk_tier, RISK_TIERS)
    async with as_page():
        names = await _scenarios(request, db)
        chosen = scenario or ("current" if "current" in names else (names[0] if names else None))
        state = _state(chosen, as_of, at)
        if chosen is None:
            return render(request, "catalog.html.j2", state=state, caller=caller, page=None, empty=True)
        _key, run = await findings_run(request, db, sync_db, catalog, chosen, state.as_of, None, state.at)
        counts = graph_reads.open_counts(run["findings"])
        page, units = await asyncio.gather(
            graph_reads.catalog_page(
                db,
                chosen,
                q=q.strip() or None if q else None,
                kind=kind,
                unit=unit or None,
                stage=stage,
                risk_tier=risk_tier,
                open_by_id=counts,
                open_only=open_only,
                limit=CATALOG_PAGE,
                cursor=cursor,
                at=state.at,
            ),
            graph_reads.units(db, chosen, UNIT_CHOICES, state.at),
        )
    filters = {"scenario": chosen, "q": q, "kind": kind, "unit": unit, "stage": stage, "risk_tier": risk_tier}
    filters["open_only"] = "true" if open_only else None
    next_url = None
    if page.next_cursor:
        next_url = "/" + state.query(**filters, cursor=page.next_cursor)
    return render(
        request,
        "catalog.html.j2",
        state=state,
        caller=caller,
        page=page,
        empty=False,
        filters=filters,
        units=units,
        stages=STAGES,
        risk_tiers=RISK_TIERS,
        next_url=next_url,
        first_url="/" + state.query(**filters) if cursor else None,
        entity_url=lambda i: _entity_url(state, i),
        as_of_used=run["as_of"],
    )


def _group_by_kind(hits: list[Any]) -> list[tuple[str, list[Any]]]:
    out: dict[str, list[Any]] = {}
    for h in hits:
        out.setdefault(h.kind, []).append(h)
    return sorted(out.items())


@router.get("/ui/scenarios/{s}/entities/{id}", response_class=HTMLResponse)
async def entity_page(
    request: Request,
    s: ScenarioName,
    id: EntityId,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    caller: PageCaller,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 2,
    as_of: AsOf = None,
    at: At = None,
) -> HTMLResponse:
    """One entity in words: who owns it and holds its decision rights, its vendors and data, what
    it depends on (to `depth`), what breaks if it fails, its findings, and every relationship."""
    state = _state(s, as_of, at)
    async with as_page():
        await _scenarios(request, db)
        entity, who, upstream, impact, (_key, run), events = await asyncio.gather(
            graph_reads.get_entity(db, s, id, state.at, RELATIONSHIPS_SHOWN),
            graph_reads.who(db, s, id, state.as_of, state.at),
            graph_reads.dependencies(db, s, id, "upstream", MAX_DEPTH, 1000, None, state.at),
            graph_reads.impact(db, s, id, 200, None, state.at),
            findings_run(request, db, sync_db, catalog, s, state.as_of, None, state.at),
            run_in_threadpool(_recent_events, sync_db, s, id, state.as_of),
        )
    findings = [_finding_view(f) for f in run["findings"] if id in f["subjects"]]
    accountable = [_finding_view(f) for f in run["findings"] if f["accountable"] == id]
    depends_on = [h for h in upstream.items if h.distance <= depth]
    return render(
        request,
        "entity.html.j2",
        state=state,
        caller=caller,
        entity=entity,
        who=who,
        vendors=[h for h in upstream.items if h.kind == "vendors"],
        data=[h for h in upstream.items if h.kind == "data_domains"],
        depends_on=_group_by_kind(depends_on),
        depends_total=len(depends_on),
        upstream_total=upstream.total,
        depth=depth,
        max_depth=MAX_DEPTH,
        shown=RELATIONSHIPS_SHOWN,
        impact=impact,
        impact_groups=sorted(impact.by_kind.items()),
        findings=findings,
        events=_mark_events(events, findings, catalog.event_check_ids()),
        events_shown=RECENT_EVENTS,
        events_url=f"/scenarios/{quote(s, safe='')}/events?object={quote(id, safe='')}",
        accountable=accountable[:50],
        accountable_total=len(accountable),
        entity_url=lambda i: _entity_url(state, i),
        board_url=f"/ui/scenarios/{quote(s, safe='')}/findings" + state.query(by="role", group=id),
        explore_url=f"/ui/scenarios/{quote(s, safe='')}/explore" + state.query(focus=id),
        as_of_used=run["as_of"],
    )


def _recent_events(sync_db: Any, scenario: str, entity_id: str, as_of: date | None) -> list[dict[str, Any]]:
    """The `RECENT_EVENTS` latest events on `entity_id` up to the `as_of` day (the day the page's
    findings are run for; default today; an event's day is its calendar day in its own offset),
    most recent first (`events.store.list_events`)."""
    return list_events(sync_db, scenario, object_id=entity_id, until=as_of or date.today(), limit=RECENT_EVENTS)


def _mark_events(
    events: list[dict[str, Any]], findings: list[dict[str, Any]], event_checks: frozenset[str]
) -> list[dict[str, Any]]:
    """Each event with ``findings``: the conformance findings (checks with ``events: true``) that
    name it; an event check's first subject is the event's id (events.md, "Conformance checks")."""
    by_event: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        if f["check"] in event_checks and f["subjects"]:
            by_event.setdefault(f["subjects"][0], []).append(f)
    return [{**e, "when": _when(e["time"]), "findings": by_event.get(e["id"], [])} for e in events]


def _when(time: str) -> str:
    """An event's time for reading: `2026-10-16T16:00:00.000000000+00:00` as `2026-10-16 16:00 UTC`
    (another offset is kept: `2026-10-16 18:00 +02:00`)."""
    found = re.match(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$", time)
    if found is None:
        return time
    day, minute, offset = found.groups()
    return f"{day} {minute} {'UTC' if offset in ('Z', '+00:00') else offset or ''}".rstrip()


@router.get("/ui/scenarios/{s}/explore", response_class=HTMLResponse)
async def explore_page(
    request: Request,
    s: ScenarioName,
    db: DbDep,
    caller: PageCaller,
    focus: Annotated[str | None, Query(max_length=128)] = None,
    as_of: AsOf = None,
    at: At = None,
) -> HTMLResponse:
    """The graph explorer, starting from `focus`: a page shell whose script (static/explore.js)
    fetches neighbours, impact, dependencies and paths from the JSON routes."""
    state = _state(s, as_of, at)
    async with as_page():
        await _scenarios(request, db)
        entity = await graph_reads.get_entity(db, s, focus, state.at) if focus else None
    legend = [
        {"kind": st.kind, "label": kinds_by_section()[st.kind].singular, "colour": st.colour, "shape": st.shape}
        for st in style_table().values()
    ]
    return render(
        request,
        "explore.html.j2",
        state=state,
        caller=caller,
        entity=entity,
        legend=legend,
        rel_types=rel_types(),
    )


@router.get("/ui/scenarios/{s}/findings", response_class=HTMLResponse)
async def findings_page(
    request: Request,
    s: ScenarioName,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    caller: PageCaller,
    by: GroupBy = "check",
    group: Annotated[str | None, Query(max_length=200, description="Show this group in full.")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    open_only: bool = False,
    as_of: AsOf = None,
    at: At = None,
) -> HTMLResponse:
    """The findings board: all findings grouped by check, severity, unit or accountable role,
    most severe first; the first rows of the first groups, or one group in full, paged."""
    state = _state(s, as_of, at)
    async with as_page():
        await _scenarios(request, db)
        key, run = await findings_run(request, db, sync_db, catalog, s, state.as_of, None, state.at)
        boards: OrderedDict[Any, Any] = request.app.state.__dict__.setdefault("explorer_boards", OrderedDict())
        cached = boards.get((key, by, open_only))
        if cached is None:
            accountable = sorted({f["accountable"] for f in run["findings"] if f["accountable"]})
            roles = await graph_reads.role_units(db, s, accountable, state.at)
            cached = (group_findings(run["findings"], by, roles, open_only=open_only), roles)
            # A board is grouped once per check run and grouping: 11,000 findings sort in
            # tens of milliseconds, but a person pages and opens groups many times.
            boards[(key, by, open_only)] = cached
            while len(boards) > 16:
                boards.popitem(last=False)
    groups, roles = cached
    total = sum(g.count for g in groups)
    base = f"/ui/scenarios/{quote(s, safe='')}/findings"
    keep = {"by": by, "open_only": "true" if open_only else None}
    shown = [g for g in groups if g.key == group] if group is not None else groups[offset : offset + BOARD_GROUPS]
    return render(
        request,
        "findings.html.j2",
        state=state,
        caller=caller,
        by=by,
        groupings=GROUPINGS,
        open_only=open_only,
        groups=shown,
        group_count=len(groups),
        total=total,
        open_total=sum(g.open for g in groups),
        waived_total=sum(g.waived for g in groups),
        one_group=group,
        offset=offset,
        rows=BOARD_ROWS,
        group_page=GROUP_PAGE,
        base=base,
        keep=keep,
        group_url=lambda key, start=0: base + state.query(**keep, group=key, offset=start or None),
        page_url=lambda start: base + state.query(**keep, offset=start or None),
        by_url=lambda b: base + state.query(by=b, open_only=keep["open_only"]),
        entity_url=lambda i: _entity_url(state, i),
        next_groups=offset + BOARD_GROUPS if group is None and offset + BOARD_GROUPS < len(groups) else None,
        as_of_used=run["as_of"],
        roles=roles,
    )


@router.get("/ui/diff/{a}/{b}", response_class=HTMLResponse)
async def diff_page(
    request: Request,
    a: Annotated[str, Path(pattern=SCENARIO_PATTERN)],
    b: Annotated[str, Path(pattern=SCENARIO_PATTERN)],
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    caller: PageCaller,
    as_of: AsOf = None,
    at: At = None,
    at_a: Annotated[str | None, Query(max_length=10, description="Read a as in force on this day.")] = None,
    at_b: Annotated[str | None, Query(max_length=10, description="Read b as in force on this day.")] = None,
) -> HTMLResponse:
    """What changes from scenario a to b, grouped as `tomgraph diff` groups it (queries/diff.py):
    a as in force on `at_a`, b on `at_b` (each default `at`, default today), so
    `/ui/diff/S/S?at_a=D1&at_b=D2` compares two versions of one scenario."""
    state = _state(a, as_of, at)
    day_a = _day("at_a", at_a) or state.at
    day_b = _day("at_b", at_b) or state.at
    async with as_page():
        await _scenarios(request, db)
        await ensure_up(db)
        try:
            day = state.as_of or date.today()
            result = await run_in_threadpool(
                lambda: diff_scenarios(sync_db, catalog, a, b, day, at_a=day_a, at_b=day_b)
            )
        except NotFound as e:
            raise PageError(404, "Not found", str(e)) from e
        except HistoryError as e:
            raise PageError(409, "Version not readable", str(e)) from e
    for side in ("fixed", "introduced"):
        result["findings"][side] = sort_findings(result["findings"][side])
    return render(
        request,
        "diff.html.j2",
        state=state,
        caller=caller,
        a=a,
        b=b,
        diff=result,
        cap=DIFF_ROWS,
        entity_url=lambda i, scenario: _entity_url(state, i, scenario),
        link_a_url=lambda i: _entity_url(state, i, a),
        link_b_url=lambda i: _entity_url(state, i, b),
    )


@router.get("/ui/switch")
async def switch(
    page: Literal["catalog", "entity", "explore", "findings", "diff", "coverage", "maturity"] = "catalog",
    scenario: Annotated[str | None, Query(pattern=SCENARIO_PATTERN)] = None,
    b: Annotated[str | None, Query(pattern=SCENARIO_PATTERN)] = None,
    id: Annotated[str | None, Query(max_length=128)] = None,
    by: Choice = None,
    framework: Annotated[str | None, Query(max_length=64)] = None,
    as_of: AsOf = None,
    at: At = None,
) -> RedirectResponse:
    """The switchers' form: the same page for another scenario or day."""
    state = _state(scenario, as_of, at)
    s = quote(scenario or "", safe="")
    if page == "entity" and id and scenario:
        target = _entity_url(state, id)
    elif page == "explore" and scenario:
        target = f"/ui/scenarios/{s}/explore" + state.query(focus=id)
    elif page == "findings" and scenario:
        target = f"/ui/scenarios/{s}/findings" + state.query(by=_choice("by", by, GROUPINGS))
    elif page in ("coverage", "maturity") and scenario:
        target = f"/ui/scenarios/{s}/{page}" + state.query(framework=framework if page == "coverage" else None)
    elif page == "diff" and scenario and b:
        target = f"/ui/diff/{s}/{quote(b, safe='')}" + state.query()
    else:
        target = "/" + state.query(scenario=scenario)
    return RedirectResponse(target, status_code=303)


def _safe_next(value: str | None) -> str:
    """Only a path on this site: never another origin (`//host`, `/\\host`, `https:`)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value


@router.get("/ui/signin", response_class=HTMLResponse)
async def signin_page(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None) -> HTMLResponse:
    """The sign-in form: paste an API key once; the browser keeps only a session cookie."""
    return render(
        request,
        "signin.html.j2",
        state=PageState(None),
        caller=OPEN_CALLER,
        next_url=_safe_next(next),
        error=None,
        keys_configured=bool(request.app.state.key_store.keys()),
    )


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body())[:20_000].decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _forbidden(request: Request) -> HTMLResponse:
    return render(
        request,
        "error.html.j2",
        state=PageState(None),
        caller=OPEN_CALLER,
        status=403,
        title="Form expired",
        detail="This form was not sent from this site's page (CSRF check). Reload the page and try again.",
    )


@router.post("/ui/signin", response_class=HTMLResponse)
async def signin(request: Request) -> Response:
    """Check the pasted key and start a session: a cookie that is `HttpOnly`, `SameSite=Strict`
    and `Secure` unless on loopback. The key is read from the form body only, never a URL."""
    form = await _form(request)
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return _forbidden(request)
    store: KeyStore = request.app.state.key_store
    key = store.authenticate(form.get("key", "").strip())
    next_url = _safe_next(form.get("next"))
    if key is None:
        return render(
            request,
            "signin.html.j2",
            state=PageState(None),
            caller=OPEN_CALLER,
            status=401,
            next_url=next_url,
            error="That key is not valid (unknown, mistyped or revoked).",
            keys_configured=True,
        )
    sessions: SessionStore = request.app.state.sessions
    token = sessions.create(key)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies(request), path="/"
    )
    return response


@router.post("/ui/signout", response_class=HTMLResponse)
async def signout(request: Request) -> Response:
    """End the session (CSRF-checked like every form) and clear its cookie."""
    form = await _form(request)
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return _forbidden(request)
    sessions: SessionStore = request.app.state.sessions
    sessions.drop(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/ui/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure_cookies(request))
    csrf_token(request)
    set_csrf_cookie(request, response)
    return response
