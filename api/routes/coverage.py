"""Framework coverage of a scenario (obligations.md "Coverage")."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api.deps import AtQuery, CatalogDep, Day, ReaderKey, ScenarioName, SyncDbDep
from api.problems import READ_RESPONSES, ApiProblem, invalid, not_found
from graph.consistent import consistent_view
from queries.catalog import Catalog
from queries.coverage import CoverageError, coverage_in, public
from queries.frameworks import Frameworks, UnknownFrameworkError
from visualizations.coverage import by_subject, by_unit, crosswalk, subject_units

router = APIRouter(tags=["coverage"])


class By(StrEnum):
    obligation = "obligation"
    model = "model"
    unit = "unit"


def _run(
    db: Any,
    registry: Frameworks,
    catalog: Catalog,
    s: str,
    wanted: list[str] | None,
    day: date,
    by: By,
    at: date | None = None,
) -> Any:
    with consistent_view(db, s, at) as view:
        if not view.found:
            return None
        result = coverage_in(view, registry.select(wanted), catalog, day)
        if by is By.obligation:
            return {**public(result), "crosswalk": crosswalk(result)}
        rows = by_subject(result, subject_units(view, result))
        head = {"scenario": result["scenario"], "as_of": result["as_of"]}
        return {**head, "subjects": rows} if by is By.model else {**head, "units": by_unit(rows)}


@router.get("/scenarios/{s}/coverage", responses=READ_RESPONSES)
async def get_coverage(
    s: ScenarioName,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    request: Request,
    _: ReaderKey,
    framework: Annotated[list[str] | None, Query(description="Only these framework ids (repeat; default all).")] = None,
    by: Annotated[
        By, Query(description="obligation (obligations.md JSON), model (per subject) or unit.")
    ] = By.obligation,
    as_of: Annotated[Day | None, Query(description="The day to evaluate for (default today).")] = None,
    at: AtQuery = None,
) -> Any:
    """Coverage of scenario `s` by the frameworks (reader role).

    ``by=obligation``: obligations.md's JSON ``{scenario, as_of, frameworks: [{framework, coverage,
    obligations: [{id, ref, title, applicable, satisfied, unsatisfied: [{subject, failing}], maps_to}]}]}``
    plus ``crosswalk`` (each maps_to link with both sides' results). ``by=model``: ``subjects``, one
    row per (framework, subject) with applicable, satisfied and failing ``ref: item`` lines.
    ``by=unit``: ``units``, the same summed per unit. Read from the version in force on ``at``
    (default today). 404 unknown scenario or no version then; 422 unknown framework.
    """
    registry: Frameworks = request.app.state.frameworks
    if framework:
        try:
            registry.select(framework)
        except UnknownFrameworkError as e:
            raise invalid("query", "framework", str(e)) from e
    day = as_of or date.today()
    try:
        answer = await run_in_threadpool(_run, sync_db, registry, catalog, s, framework or None, day, by, at)
    except CoverageError as e:
        raise ApiProblem(500, "Coverage failed", str(e), slug="coverage-failed") from e
    if answer is None:
        raise not_found(f"scenario '{s}' has not been loaded")
    return answer
