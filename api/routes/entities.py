"""Entities of a scenario, what they depend on, what depends on them, and the paths between them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import graph_reads
from api.deps import AtQuery, DbDep, EntityId, ReaderKey, ScenarioName
from api.graph_reads import MAX_DEPTH, Direction
from api.models import DependencyPage, EntityDetail, EntityPage, ImpactPage, KindName, PathsAnswer
from api.problems import READ_RESPONSES, invalid
from graph.ontology import ID_PATTERN

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
