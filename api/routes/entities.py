"""Entities of a scenario, what they depend on, what depends on them, and the paths between them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api import graph_reads
from api.deps import AtQuery, CatalogDep, Day, DbDep, EntityId, ReaderKey, ScenarioName, SyncDbDep
from api.graph_reads import MAX_DEPTH, Direction
from api.models import (
    DependencyPage,
    EntityDetail,
    EntityPage,
    ImpactPage,
    KindName,
    NeighboursAnswer,
    PathsAnswer,
    WhoAnswer,
)
from api.problems import READ_RESPONSES, invalid
from api.routes.checks import findings_run
from graph.ontology import ID_PATTERN, kinds_by_section, rel_types

router = APIRouter(tags=["entities"], responses=READ_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")]


@router.get("/scenarios/{s}/entities")
async def list_entities(
    s: ScenarioName,
    db: DbDep,
    _: ReaderKey,
    kind: Annotated[KindName | None, Query(description="A section of the bundle format, e.g. `models`.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Case-insensitive part of an id or name.")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    at: AtQuery = None,
) -> EntityPage:
    """A page of the scenario's entities, ordered by id."""
    return await graph_reads.list_entities(db, s, kind, q, limit, cursor, at)


@router.get("/scenarios/{s}/entities/{id}")
async def get_entity(s: ScenarioName, id: EntityId, db: DbDep, _: ReaderKey, at: AtQuery = None) -> EntityDetail:
    """One entity: its fields and every relationship in and out, each with the bundle field it comes from."""
    return await graph_reads.get_entity(db, s, id, at)


@router.get("/scenarios/{s}/entities/{id}/dependencies")
async def get_dependencies(
    s: ScenarioName,
    id: EntityId,
    db: DbDep,
    _: ReaderKey,
    direction: Annotated[
        Direction, Query(description="`upstream`: what it depends on; `downstream`: what depends on it.")
    ] = "upstream",
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH, description="How many dependency edges to follow.")] = 1,
    limit: Limit = 100,
    cursor: Cursor = None,
    at: AtQuery = None,
) -> DependencyPage:
    """Entities reached over dependency edges, each with its distance and the path that reached it.

    Dependency edges (rest.md): a use case on its models, workflows and KPIs; a workflow on the
    models it uses and the data it reads; a model on the data it consumes and its vendor.
    Ordered by (distance, kind, id) and paged with `cursor`.
    """
    return await graph_reads.dependencies(db, s, id, direction, depth, limit, cursor, at)


@router.get("/scenarios/{s}/impact/{id}")
async def get_impact(
    s: ScenarioName,
    id: EntityId,
    db: DbDep,
    _: ReaderKey,
    limit: Limit = 1000,
    cursor: Cursor = None,
    at: AtQuery = None,
) -> ImpactPage:
    """What breaks if `id` fails: everything downstream of it, up to 5 dependency edges away,
    grouped by kind, with per-kind totals over all pages."""
    return await graph_reads.impact(db, s, id, limit, cursor, at)


@router.get("/scenarios/{s}/paths")
async def get_paths(
    s: ScenarioName,
    db: DbDep,
    _: ReaderKey,
    source: Annotated[str, Query(alias="from", pattern=ID_PATTERN, description="Entity id to start from.")],
    target: Annotated[str, Query(alias="to", pattern=ID_PATTERN, description="Entity id to reach.")],
    max_hops: Annotated[int, Query(alias="max", ge=1, le=10, description="Longest path searched, in hops.")] = 6,
    at: AtQuery = None,
) -> PathsAnswer:
    """Every shortest path between two entities over any relationship, followed in either direction."""
    if source == target:
        raise invalid("query", "to", "must differ from `from`")
    return await graph_reads.shortest_paths(db, s, source, target, max_hops, at)


@router.get("/scenarios/{s}/entities/{id}/who")
async def get_who(
    s: ScenarioName,
    id: EntityId,
    db: DbDep,
    _: ReaderKey,
    as_of: Annotated[Day | None, Query(description="The day delegations are judged in force (default today).")] = None,
    at: AtQuery = None,
) -> WhoAnswer:
    """The decision rights on the entity (rest.md, "Added in v1.1"), each with the roles that hold
    it and the people who hold those roles, and, for a model or an access row, the people who hold
    a right through a delegation in force on `as_of` (gap-checks.md 1.1, "effectively holds").
    The whole answer is also given in words. Every right the ontology allows over the entity's
    kind is listed, held or not (a model: ownership, change approval, deployment approval,
    shutdown). The rule lives in `queries/authority.py`. Read from the version in force on `at`
    (default today)."""
    return await graph_reads.who(db, s, id, as_of, at)


@router.get("/scenarios/{s}/entities/{id}/authority")
async def get_authority(
    s: ScenarioName,
    id: EntityId,
    db: DbDep,
    _: ReaderKey,
    as_of: Annotated[Day | None, Query(description="The day delegations are judged in force (default today).")] = None,
    at: AtQuery = None,
) -> dict[str, Any]:
    """Every path by which a person reaches a decision right (change approval, deployment
    approval, shutdown, access approval) on a model or access row: through a role they hold,
    a delegation in force on `as_of`, or as the deputy of a role that holds it (domain.md,
    "Effective authority"; the rule is `queries/authority.py`'s, as for `who` and the checks).
    `{"scenario", "id", "kind", "name", "as_of", "people": [{"id", "name", "paths": [{"right",
    "how": "role" | "delegation" | "deputy", "text", "nodes": [{"id", "kind", "name"}],
    "relationships": [{"start", "type", "end"}]}]}]}`. The explorer highlights these paths.
    Read from the version in force on `at` (default today). 404 for a missing scenario, version
    or entity."""
    return await graph_reads.authority(db, s, id, as_of, at)


def comma_list(value: str | None, field: str, known: tuple[str, ...] | list[str]) -> list[str] | None:
    """`a,b` as a list (None when empty); a 422 naming `field` for a name not in `known`."""
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    unknown = sorted(set(items) - set(known))
    if unknown:
        raise invalid("query", field, f"unknown: {', '.join(unknown)}; known: {', '.join(known)}")
    return items or None


@router.get("/scenarios/{s}/entities/{id}/neighbours")
async def get_neighbours(
    request: Request,
    s: ScenarioName,
    id: EntityId,
    db: DbDep,
    sync_db: SyncDbDep,
    catalog: CatalogDep,
    _: ReaderKey,
    kinds: Annotated[str | None, Query(description="Only these kinds (bundle sections), comma-separated.")] = None,
    rels: Annotated[str | None, Query(description="Only these relationship types, comma-separated.")] = None,
    limit: Annotated[
        int, Query(ge=0, le=5000, description="Most neighbours listed per kind; a kind with more is collapsed.")
    ] = 25,
    open_only: Annotated[bool, Query(description="Only neighbours with open findings.")] = False,
    as_of: Annotated[Day | None, Query(description="The day findings are counted for (default today).")] = None,
    at: AtQuery = None,
) -> NeighboursAnswer:
    """The entities one relationship away (either direction), grouped by kind, for the explorer.

    Each neighbour carries the relationships that join it to the centre and its count of open
    findings (the gap checks as of `as_of`, as `GET /scenarios/{s}/findings` runs them). A kind
    with more than `limit` neighbours comes back collapsed, with its count and no items: ask
    again with `kinds=` that kind and a larger `limit` to list them. Read from the version in
    force on `at` (default today).
    """
    kind_list = comma_list(kinds, "kinds", list(kinds_by_section()))
    rel_list = comma_list(rels, "rels", rel_types())
    _key, run = await findings_run(request, db, sync_db, catalog, s, as_of, None, at)
    return await graph_reads.neighbours(
        db,
        s,
        id,
        at=at,
        kinds=kind_list,
        rels=rel_list,
        limit=limit,
        open_by_id=graph_reads.open_counts(run["findings"]),
        open_only=open_only,
        as_of=run["as_of"],
        findings=run["findings"],
    )
