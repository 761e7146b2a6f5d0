"""The explorer's governance pages: framework coverage (issue 18, obligations.md "Coverage") and
the maturity scorecard (issue 19, maturity.md "Scorecard").

Each page gets its scenario, days and database exactly as the other explorer pages do
(explorer/pages.py: `_state`, `_scenarios`, `as_page`, the API's dependencies) and computes its
answer with the functions the JSON routes use (`queries.coverage.coverage_in` as `GET
/scenarios/{s}/coverage`, `queries.maturity.scorecard.scorecard` as `GET /scenarios/{s}/maturity`).
Both are whole-scenario computations (seconds on `large`), so a page keeps its answer per
scenario state (the fingerprint the findings cache uses: the load and the waivers) and day, and
pages through it from memory.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from api import graph_reads
from api.db import ApiSyncDatabase, ensure_up
from api.deps import CatalogDep, DbDep, ScenarioName, SettingsDep, SyncDbDep
from explorer.pages import AsOf, At, _entity_url, _scenarios, _state, as_page
from explorer.web import PageCaller, PageError, render
from graph.consistent import consistent_view
from graph.errors import NotFound
from queries.catalog import Catalog
from queries.coverage import CoverageError, CoverageResult, coverage_in, item_label
from queries.frameworks import Frameworks
from queries.maturity.catalog import STAGES, CriteriaError, load_criteria
from queries.maturity.scorecard import scorecard
from queries.waivers import UnknownScenarioError
from visualizations.coverage import crosswalk
from visualizations.report import SNAPSHOT_LABEL, maturity_section, previous_maturity

router = APIRouter(include_in_schema=False)

SUBJECT_PAGE = 40
"""Columns (subjects) of the coverage matrix a page shows; the failing ones come first."""
UNIT_PAGE = 200
"""Units of the scorecard table a page shows."""
EVIDENCE_SHOWN = 12
CACHED = 8


def _remember(request: Request, name: str, key: tuple[Any, ...], value: Any) -> None:
    store: OrderedDict[Any, Any] = request.app.state.__dict__.setdefault(name, OrderedDict())
    store[key] = value
    while len(store) > CACHED:
        store.popitem(last=False)


def _recall(request: Request, name: str, key: tuple[Any, ...]) -> Any:
    store: OrderedDict[Any, Any] | None = request.app.state.__dict__.get(name)
    return None if store is None else store.get(key)


async def _fingerprint(request: Request, db: DbDep, s: str, at: date | None) -> str:
    state = await graph_reads.findings_state(db, s, at)
    if state is None:
        raise PageError(404, "Not found", f"scenario '{s}' has not been loaded")
    return state


def _coverage(
    sync_db: ApiSyncDatabase, registry: Frameworks, catalog: Catalog, s: str, day: date, at: date | None
) -> Any:
    """Coverage of every framework on the version of `s` in force on `at` (as `GET
    /scenarios/{s}/coverage`), with the kind and name of every subject; None when the scenario
    is not loaded."""
    with consistent_view(sync_db, s, at) as view:
        if not view.found:
            return None
        result = coverage_in(view, registry.select(None), catalog, day)
        ids = sorted({x for f in result["frameworks"] for o in f["obligations"] for x in o.get("subjects", [])})
        rows = view.read(
            "UNWIND $ids AS sid MATCH (n:Entity {scenario: $scenario, id: sid}) "
            "RETURN n.id AS id, n.name AS name, labels(n) AS labels",
            {"scenario": view.physical, "ids": ids},
        )
    kinds = graph_reads.LABEL_TO_SECTION
    about = {
        r["id"]: {"name": r["name"], "kind": next((kinds[x] for x in r["labels"] if x in kinds), "unknown")}
        for r in rows
    }
    return result, about


def coverage_matrix(
    result: CoverageResult, framework: str, offset: int, limit: int, failing_only: bool
) -> dict[str, Any]:
    """One framework of a coverage result as a matrix: obligations (rows) by subjects (columns).

    Columns are the subjects any obligation of the framework applies to, those failing the most
    obligations first, then by id; `offset`/`limit` page them (`failing_only`: only subjects that
    fail something). A cell is `holds`, `fails` (with the failing items in words) or `n/a`."""
    chosen = next(f for f in result["frameworks"] if f["framework"] == framework)
    fails: dict[str, int] = {}
    for o in chosen["obligations"]:
        for x in o.get("subjects", []):
            fails.setdefault(x, 0)
        for u in o["unsatisfied"]:
            fails[u["subject"]] += 1
    ordered = sorted(fails, key=lambda x: (-fails[x], x))
    if failing_only:
        ordered = [x for x in ordered if fails[x]]
    page = ordered[offset : offset + limit]
    rows = []
    for o in chosen["obligations"]:
        failing = {u["subject"]: u["failing"] for u in o["unsatisfied"]}
        applies = set(o.get("subjects", []))
        cells = [
            {
                "subject": x,
                "state": "fails" if x in failing else ("holds" if x in applies else "n/a"),
                "failing": [item_label(i) for i in failing.get(x, [])],
            }
            for x in page
        ]
        rows.append({"obligation": o, "cells": cells})
    return {
        "framework": chosen,
        "subjects": page,
        "fails": fails,
        "total": len(ordered),
        "failing_subjects": sum(1 for x in fails if fails[x]),
        "rows": rows,
    }


@router.get("/ui/scenarios/{s}/coverage", response_class=HTMLResponse)
async def coverage_page(
    request: Request,
    s: ScenarioName,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    caller: PageCaller,
    framework: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    failing_only: bool = False,
    as_of: AsOf = None,
    at: At = None,
) -> HTMLResponse:
    """Framework coverage (obligations.md "Coverage"): per framework its share covered, and a
    matrix of its obligations by the models (and other subjects) they apply to, failing subjects
    first, 40 columns a page; a failing cell names what fails and links to the entity page."""
    state = _state(s, as_of, at)
    registry: Frameworks = request.app.state.frameworks
    if framework and framework not in registry.ids():
        raise PageError(422, "Invalid input", f"query: framework: must be one of {', '.join(registry.ids())}")
    async with as_page():
        await _scenarios(request, db)
        await ensure_up(db)
        day = state.as_of or date.today()
        key = (s, day.isoformat(), tuple(registry.ids()), await _fingerprint(request, db, s, state.at))
        answer = _recall(request, "explorer_coverage", key)
        if answer is None:
            try:
                answer = await run_in_threadpool(_coverage, sync_db, registry, catalog, s, day, state.at)
            except CoverageError as e:
                raise PageError(500, "Coverage failed", str(e)) from e
            if answer is None:
                raise PageError(404, "Not found", f"scenario '{s}' has not been loaded")
            _remember(request, "explorer_coverage", key, answer)
    result, about = answer
    chosen = framework or (registry.ids()[0] if registry.ids() else None)
    matrix = coverage_matrix(result, chosen, offset, SUBJECT_PAGE, failing_only) if chosen else None
    base = f"/ui/scenarios/{quote(s, safe='')}/coverage"
    keep = {"framework": chosen, "failing_only": "true" if failing_only else None}
    return render(
        request,
        "coverage.html.j2",
        state=state,
        caller=caller,
        result=result,
        titles={f.id: f.spec.title for f in registry.frameworks},
        chosen=chosen,
        matrix=matrix,
        about=about,
        offset=offset,
        page_size=SUBJECT_PAGE,
        failing_only=failing_only,
        crosswalk=[c for c in crosswalk(result) if c["from"].startswith(f"{chosen}:")],
        framework_url=lambda f: base + state.query(framework=f),
        page_url=lambda start: base + state.query(**keep, offset=start or None),
        toggle_url=base + state.query(framework=chosen, failing_only=None if failing_only else "true"),
        entity_url=lambda i: _entity_url(state, i),
        as_of_used=day.isoformat(),
    )


def _scorecard(
    sync_db: ApiSyncDatabase, catalog: Catalog, dirs: Any, s: str, day: date, at: date | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, str | None]]:
    """The by-unit scorecard of `s` (as `GET /scenarios/{s}/maturity?by_unit=true`), the
    criteria by id, the movement of each stage since the last stored weekly report before `day`
    (`visualizations.report.maturity_section`), and the units' names."""
    criteria = load_criteria(dirs, catalog.ids())
    card = scorecard(sync_db, catalog, criteria, s, day, by_unit=True, at=at)
    movement = maturity_section(card, previous_maturity(sync_db, s, day))
    with consistent_view(sync_db, s, at) as view:
        rows = view.read(
            "MATCH (u:Unit {scenario: $scenario}) RETURN u.id AS id, u.name AS name", {"scenario": view.physical}
        )
    return card, {c.id: c for c in criteria}, movement, {r["id"]: r["name"] for r in rows}


@router.get("/ui/scenarios/{s}/maturity", response_class=HTMLResponse)
async def maturity_page(
    request: Request,
    s: ScenarioName,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    caller: PageCaller,
    scope: Annotated[str | None, Query(max_length=128, description="A unit id, or empty for the organisation.")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    as_of: AsOf = None,
    at: At = None,
) -> HTMLResponse:
    """The maturity scorecard (maturity.md): the organisation's stage and each unit's, with its
    movement since the last weekly report, 200 units a page; then the criteria of one scope
    (the organisation, or `scope`) with value, threshold, self-assessment and evidence, every
    evidence id linked to its entity page."""
    state = _state(s, as_of, at)
    async with as_page():
        await _scenarios(request, db)
        await ensure_up(db)
        day = state.as_of or date.today()
        # a weekly report stored since changes the movement: the last one before the day is in the key
        last = await db.rows(
            f"MATCH (r:{SNAPSHOT_LABEL} {{scenario: $scenario}}) WHERE r.as_of < $day RETURN max(r.as_of) AS last",
            {"scenario": s, "day": day},
        )
        key = (s, day.isoformat(), await _fingerprint(request, db, s, state.at), str(last[0]["last"] if last else None))
        answer = _recall(request, "explorer_maturity", key)
        if answer is None:
            try:
                answer = await run_in_threadpool(_scorecard, sync_db, catalog, settings.maturity_dirs, s, day, state.at)
            except (UnknownScenarioError, NotFound) as e:
                raise PageError(404, "Not found", str(e)) from e
            except CriteriaError as e:
                raise PageError(500, "The maturity criteria do not load", str(e)) from e
            _remember(request, "explorer_maturity", key, answer)
    card, criteria, movement, unit_names = answer
    org, *units = card["scopes"]
    moves = {u["unit"]: u for u in movement["units"]}
    if scope and scope not in unit_names:
        raise PageError(404, "Not found", f"no unit '{scope}' in scenario '{s}'")
    shown = next(x for x in card["scopes"] if x["scope"] == scope) if scope else org
    # Evidence is mostly entity ids (linked), but not always (improve-trend: report dates).
    wanted = sorted({e for c in shown["criteria"] for e in c["evidence"][:EVIDENCE_SHOWN]})
    async with as_page():
        physical = await graph_reads.physical_name(db, s, state.at)
        found = await db.rows(
            "UNWIND $ids AS wanted MATCH (n:Entity {scenario: $scenario, id: wanted}) RETURN n.id AS id",
            {"scenario": physical, "ids": wanted},
        )
    base = f"/ui/scenarios/{quote(s, safe='')}/maturity"
    stage_counts = {st: sum(1 for u in units if u["stage"] == st) for st in ("none", *STAGES)}
    return render(
        request,
        "maturity.html.j2",
        state=state,
        caller=caller,
        card=card,
        org=org,
        movement=movement,
        units=units[offset : offset + UNIT_PAGE],
        unit_total=len(units),
        stage_counts=stage_counts,
        moves=moves,
        unit_names=unit_names,
        shown=shown,
        criteria=criteria,
        entities={r["id"] for r in found},
        stages=STAGES,
        evidence_shown=EVIDENCE_SHOWN,
        offset=offset,
        page_size=UNIT_PAGE,
        scope_url=lambda u: base + state.query(scope=u),
        page_url=lambda start: base + state.query(scope=scope, offset=start or None),
        entity_url=lambda i: _entity_url(state, i),
        as_of_used=card["as_of"],
    )
