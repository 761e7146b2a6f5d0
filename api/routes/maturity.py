"""Maturity and the transition plan: the same read functions as `tomgraph maturity` and `tomgraph plan`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from api.db import ensure_up
from api.deps import AtQuery, CatalogDep, Day, DbDep, ReaderKey, ScenarioName, SettingsDep, SyncDbDep
from api.problems import READ_RESPONSES, invalid
from graph.ontology import SCENARIO_PATTERN
from queries.maturity.catalog import load_criteria
from queries.maturity.scorecard import scorecard
from queries.plan import transition_plan

router = APIRouter(tags=["maturity"])


@router.get("/scenarios/{s}/maturity", responses=READ_RESPONSES)
async def maturity(
    s: ScenarioName,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    _: ReaderKey,
    unit: Annotated[str | None, Query(description="One unit (with its sub-units) instead of the organisation.")] = None,
    by_unit: Annotated[bool, Query(description="The organisation, then every unit.")] = False,
    as_of: Annotated[Day | None, Query(description="Day to measure for (default today).")] = None,
    at: AtQuery = None,
) -> dict[str, Any]:
    """The maturity scorecard of scenario `s` (maturity.md), as `tomgraph maturity --format json`:
    `{"scenario", "as_of", "scopes": [{"scope", "stage", "criteria": [{"id", "stage", "passed",
    "value", "threshold", "evidence", "assessment"}]}]}`, of the version in force on `at` (default
    today). 404 for an unknown scenario or unit, or no version then; 422 when both `unit` and
    `by_unit` are given."""
    if unit is not None and by_unit:
        raise invalid("query", "by_unit", "give unit or by_unit, not both")
    await ensure_up(db)
    criteria = await run_in_threadpool(load_criteria, settings.maturity_dirs, catalog.ids())
    result: dict[str, Any] = await run_in_threadpool(
        lambda: scorecard(sync_db, catalog, criteria, s, as_of or date.today(), unit=unit, by_unit=by_unit, at=at)
    )
    return result


@router.get("/plan/{a}/{b}", responses=READ_RESPONSES)
async def plan(
    a: Annotated[str, Path(pattern=SCENARIO_PATTERN, description="From this scenario, e.g. `current`.")],
    b: Annotated[str, Path(pattern=SCENARIO_PATTERN, description="To this scenario, e.g. `target`.")],
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    _: ReaderKey,
    as_of: Annotated[Day | None, Query(description="Day to run the checks and judge due dates for.")] = None,
    at: AtQuery = None,
    at_a: Annotated[Day | None, Query(description="Read `a` as in force on this day (default: `at`).")] = None,
    at_b: Annotated[Day | None, Query(description="Read `b` as in force on this day (default: `at`).")] = None,
) -> dict[str, Any]:
    """The transition plan from a to b (maturity.md), as `tomgraph plan a b --format json`: the diff
    grouped by the initiatives of b that deliver what each change touches, the changes no
    initiative covers, the findings each initiative fixes or introduces, and the overdue and
    unowned initiatives. `a` is read as in force on `at_a`, `b` on `at_b` (each default `at`, default
    today). 404 when a scenario is not loaded or had no version then."""
    await ensure_up(db)
    result: dict[str, Any] = await run_in_threadpool(
        lambda: transition_plan(sync_db, catalog, a, b, as_of or date.today(), at_a=at_a or at, at_b=at_b or at)
    )
    return result
