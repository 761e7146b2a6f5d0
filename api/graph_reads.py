"""The API's read queries: Cypher and the functions that run it. Route handlers call these.

Labels and relationship types are spliced into Cypher only from the ontology; every value a
caller sends is a parameter. Each query also says whether the scenario and the entity exist, so
a 404 costs no extra round trip.

Each query starts with `RESOLVE`: it finds the version of the scenario in force on `$at` and
binds `tg_p` to the physical name that version is stored under (graph/history.py); the rest of
the query reads `{scenario: tg_p}`. Published copies never change, so one query reads one
version, without locks, in a read transaction. A version stored only as a delta is rebuilt
once (a write, through the synchronous driver) and the query run again.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from datetime import date
from functools import cache
from typing import Any, Literal

from neo4j.graph import Node, Path
from neo4j.graph import Relationship as GraphRelationship
from neo4j.time import Date, DateTime, Duration, Time
from starlette.concurrency import run_in_threadpool

from api.db import ApiDatabase
from api.models import (
    CatalogItem,
    CatalogPage,
    DependencyHit,
    DependencyPage,
    EntityDetail,
    EntityPage,
    EntityRef,
    FindingOut,
    GraphPath,
    ImpactPage,
    KindCount,
    Neighbour,
    NeighbourGroup,
    NeighbourRel,
    NeighboursAnswer,
    PathsAnswer,
    PathStep,
    Relationship,
    ScenarioSummary,
    WhoAnswer,
)
from api.problems import ApiProblem, invalid, not_found
from graph.errors import NotFound
from graph.history import FOUND_AT, RESOLVE_AT, HistoryError, no_version_message, resolve
from graph.ontology import (
    DECISION_RIGHTS,
    ENTITY_LABEL,
    dependency_rel_types,
    edge_types,
    kinds_by_label,
    kinds_by_section,
    rel_types,
)
from graph.schema import SEARCH_INDEX
from queries.authority import authority_paths, authority_paths_query, delegated_query, who_answer, who_query
from queries.findings import Finding

Direction = Literal["upstream", "downstream"]
MAX_DEPTH = 5
MAX_PATHS = 100
LABEL_TO_SECTION = {label: k.section for label, k in kinds_by_label().items()}


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, fields: dict[str, type]) -> dict[str, Any] | None:
    """The sort key a cursor carries; a 422 naming `cursor` if it is not one of ours."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if not isinstance(key, dict) or set(key) != set(fields) or any(type(key[f]) is not t for f, t in fields.items()):
        raise invalid("query", "cursor", "not a cursor from a previous page of this listing")
    return key


def _kind(labels: list[str] | None) -> str:
    return next((LABEL_TO_SECTION[label] for label in labels or () if label in LABEL_TO_SECTION), "unknown")


def json_value(value: Any) -> Any:
    """A Neo4j value as JSON: temporals as ISO text, non-finite floats as text, bytes as base64,
    a node as `{labels, properties}`, a relationship as `{type, start, end, properties}` (start
    and end are the nodes' `id` properties, else their element ids) and a path as `{nodes,
    relationships}` of those (docs/api.md, "Ad-hoc Cypher")."""
    if isinstance(value, Node):
        return {"labels": sorted(value.labels), "properties": json_value(dict(value.items()))}
    if isinstance(value, GraphRelationship):
        return {
            "type": value.type,
            "start": _end_id(value.start_node),
            "end": _end_id(value.end_node),
            "properties": json_value(dict(value.items())),
        }
    if isinstance(value, Path):
        return {
            "nodes": [json_value(n) for n in value.nodes],
            "relationships": [json_value(r) for r in value.relationships],
        }
    if isinstance(value, Date | DateTime | Time):
        return value.to_native().isoformat()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _end_id(node: Node | None) -> Any:
    if node is None:
        return None
    return node.get("id", node.element_id)


SCENARIOS = """
MATCH (s:Scenario)
RETURN s.name AS name, coalesce(s.entity_count, 0) AS entity_count,
       coalesce(s.relationship_count, 0) AS relationship_count, s.loaded_at AS loaded_at
ORDER BY name
"""


async def list_scenarios(db: ApiDatabase) -> list[ScenarioSummary]:
    rows = await db.rows(SCENARIOS)
    return [
        ScenarioSummary(
            name=r["name"],
            entity_count=r["entity_count"],
            relationship_count=r["relationship_count"],
            loaded_at=json_value(r["loaded_at"]),
        )
        for r in rows
    ]


RESOLVE = RESOLVE_AT
"""Binds `sc` and `tg_p` (graph/history.py `RESOLVE_AT`): every query here starts with it."""

FOUND = FOUND_AT


def on_day(at: date | None) -> date:
    """The day a read is for: `at`, or today."""
    return at or date.today()


async def _prepare(db: ApiDatabase, scenario: str, at: date) -> None:
    """After a query found the scenario but no readable version on `at`: rebuild that version
    (a write), or raise the 404 that says no version was in force then."""
    if db.writer is None:
        raise not_found(no_version_message(scenario, at))
    try:
        await run_in_threadpool(resolve, db.writer, scenario, at, db.history)
    except NotFound as e:
        raise not_found(str(e)) from e
    except HistoryError as e:
        raise ApiProblem(409, "Version not readable", str(e), slug="version-not-readable") from e


async def _versioned_row(db: ApiDatabase, cypher: str, params: dict[str, Any], *, batched: bool) -> dict[str, Any]:
    """The one row of a query that starts with RESOLVE, the version rebuilt first if it must be."""
    row = await (db.one_row(cypher, params) if batched else _first(db, cypher, params))
    if row["scenario_found"] and not row["version_found"]:
        await _prepare(db, params["scenario"], params["at"])
        row = await (db.one_row(cypher, params) if batched else _first(db, cypher, params))
        if not row["version_found"]:
            raise not_found(no_version_message(params["scenario"], params["at"]))
    return row


async def _first(db: ApiDatabase, cypher: str, params: dict[str, Any]) -> dict[str, Any]:
    return (await db.rows(cypher, params))[0]


async def physical_name(db: ApiDatabase, scenario: str, at: date | None) -> str:
    """The physical name of the version of `scenario` in force on `at` (404 when none)."""
    row = await _versioned_row(
        db, RESOLVE + f"RETURN {FOUND}, tg_p", {"scenario": scenario, "at": on_day(at)}, batched=False
    )
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    return str(row["tg_p"])


async def require_scenario(db: ApiDatabase, scenario: str) -> None:
    await physical_name(db, scenario, None)


def _no_scenario(scenario: str) -> Exception:
    return not_found(f"scenario '{scenario}' has not been loaded")


def _no_entity(scenario: str, entity_id: str) -> Exception:
    return not_found(f"no entity '{entity_id}' in scenario '{scenario}'")


@cache
def _entities_query(label: str) -> str:
    return f"""{RESOLVE}
CALL {{
  WITH tg_p
  MATCH (n:{label} {{scenario: tg_p}})
  WHERE ($q IS NULL OR toLower(n.id) CONTAINS $q OR toLower(coalesce(n.name, '')) CONTAINS $q)
    AND ($after IS NULL OR n.id > $after)
  WITH n ORDER BY n.id LIMIT $take
  RETURN collect({{id: n.id, name: n.name, labels: labels(n)}}) AS items
}}
RETURN {FOUND}, items
"""


async def list_entities(
    db: ApiDatabase,
    scenario: str,
    kind: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
    at: date | None = None,
) -> EntityPage:
    after = decode_cursor(cursor, {"id": str})
    label = kinds_by_section()[kind].label if kind else ENTITY_LABEL
    row = await _versioned_row(
        db,
        _entities_query(label),
        {
            "scenario": scenario,
            "at": on_day(at),
            "q": q.lower() if q else None,
            "after": after and after["id"],
            "take": limit + 1,
        },
        batched=False,
    )
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    items = [EntityRef(id=i["id"], kind=_kind(i["labels"]), name=i["name"]) for i in row["items"]]
    more = len(items) > limit
    items = items[:limit]
    return EntityPage(scenario=scenario, items=items, next_cursor=encode_cursor({"id": items[-1].id}) if more else None)


ENTITY = f"""{RESOLVE}
OPTIONAL MATCH (n:Entity {{scenario: tg_p, id: $id}})
RETURN {FOUND}, n IS NOT NULL AS found, labels(n) AS labels, properties(n) AS props,
  COLLECT {{ MATCH (n)-[r]->(m:Entity)
            RETURN {{type: type(r), id: m.id, name: m.name, labels: labels(m)}} }} AS outgoing,
  COLLECT {{ MATCH (n)<-[r]-(m:Entity)
            RETURN {{type: type(r), id: m.id, name: m.name, labels: labels(m)}} }} AS incoming
"""


@cache
def _entity_capped(cap: int) -> str:
    """ENTITY with each direction's list cut at `cap` (a literal: batched reads take no LIMIT $p)."""
    if cap < 0:
        raise ValueError("cap must be >= 0")
    return f"""{RESOLVE}
OPTIONAL MATCH (n:Entity {{scenario: tg_p, id: $id}})
RETURN {FOUND}, n IS NOT NULL AS found, labels(n) AS labels, properties(n) AS props,
  COLLECT {{ MATCH (n)-[r]->(m:Entity) WITH r, m ORDER BY type(r), m.id LIMIT {cap}
            RETURN {{type: type(r), id: m.id, name: m.name, labels: labels(m)}} }} AS outgoing,
  COLLECT {{ MATCH (n)<-[r]-(m:Entity) WITH r, m ORDER BY type(r), m.id LIMIT {cap}
            RETURN {{type: type(r), id: m.id, name: m.name, labels: labels(m)}} }} AS incoming,
  COUNT {{ (n)-->(:Entity) }} AS outgoing_total, COUNT {{ (n)<--(:Entity) }} AS incoming_total
"""


@cache
def _edge_fields() -> dict[tuple[str, str, str], tuple[str, bool]]:
    return {(e.start, e.rel_type, e.end): (f"{e.section}.{e.field}", e.dependency) for e in edge_types()}


def _relationships(own_label: str, raw: list[dict[str, Any]], outgoing: bool) -> list[Relationship]:
    out = []
    for r in raw:
        other = EntityRef(id=r["id"], kind=_kind(r["labels"]), name=r["name"])
        other_label = kinds_by_section()[other.kind].label if other.kind in kinds_by_section() else ""
        key = (own_label, r["type"], other_label) if outgoing else (other_label, r["type"], own_label)
        via, dependency = _edge_fields().get(key, (None, False))
        out.append(Relationship(type=r["type"], via=via, dependency=dependency, entity=other))
    return sorted(out, key=lambda x: (x.type, x.entity.id))


async def get_entity(
    db: ApiDatabase, scenario: str, entity_id: str, at: date | None = None, cap: int | None = None
) -> EntityDetail:
    """One entity of the version of `scenario` in force on `at` (default today) with its fields
    and relationships in and out, each sorted by (type, other id). With `cap`, each direction
    lists at most its first `cap` relationships, read that way (a vendor of 5,000 models costs
    2 x `cap` rows, not 5,000), and `outgoing_total` / `incoming_total` count them all. 404 for a
    missing scenario, version or entity."""
    params: dict[str, Any] = {"scenario": scenario, "id": entity_id, "at": on_day(at)}
    row = await _versioned_row(db, ENTITY if cap is None else _entity_capped(cap), params, batched=True)
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    if not row["found"]:
        raise _no_entity(scenario, entity_id)
    kind = _kind(row["labels"])
    own_label = kinds_by_section()[kind].label if kind in kinds_by_section() else ""
    props = dict(row["props"])
    for key in ("scenario", "id", "name"):
        props.pop(key, None)
    return EntityDetail(
        scenario=scenario,
        id=entity_id,
        kind=kind,
        name=row["props"].get("name"),
        fields={k: json_value(v) for k, v in sorted(props.items())},
        outgoing=_relationships(own_label, row["outgoing"], outgoing=True),
        incoming=_relationships(own_label, row["incoming"], outgoing=False),
        outgoing_total=row.get("outgoing_total", len(row["outgoing"])),
        incoming_total=row.get("incoming_total", len(row["incoming"])),
    )


def _ontology_literals() -> tuple[str, str]:
    """The label → kind map and the list of kinds as Cypher literals. They come from the ontology
    (checked to be plain identifiers), never from a caller; as literals they are not packed and
    sent with every request."""
    names = [*LABEL_TO_SECTION, *LABEL_TO_SECTION.values()]
    if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names):
        raise ValueError("ontology names must be plain identifiers")
    kinds = "{" + ", ".join(f"{label}: '{section}'" for label, section in sorted(LABEL_TO_SECTION.items())) + "}"
    sections = "[" + ", ".join(f"'{section}'" for section in sorted(kinds_by_section())) + "]"
    return kinds, sections


@cache
def dependencies_query(direction: Direction, depth: int) -> str:
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth {depth} is not 1..{MAX_DEPTH}")
    types = "|".join(dependency_rel_types())
    step = f"()-[:{types}]->()" if direction == "upstream" else f"()<-[:{types}]-()"
    kinds, sections = _ontology_literals()
    return f"""{RESOLVE}
OPTIONAL MATCH (start:Entity {{scenario: tg_p, id: $id}})
CALL {{
  WITH start
  MATCH p = ALL SHORTEST (start)({step}){{1,{depth}}}(x:Entity)
  WHERE x <> start
  WITH x, length(p) AS distance, min([n IN nodes(p) | n.id]) AS path
  WITH x.id AS id, x.name AS name, {kinds}[[l IN labels(x) WHERE l <> 'Entity'][0]] AS kind, distance, path
  ORDER BY distance, kind, id
  RETURN collect({{id: id, name: name, kind: kind, distance: distance, path: path}}) AS hits
}}
WITH sc, tg_p, start, hits, [h IN hits WHERE $after IS NULL OR h.distance > $after.distance
    OR (h.distance = $after.distance AND (h.kind > $after.kind OR (h.kind = $after.kind AND h.id > $after.id)))]
    AS rest
RETURN {FOUND}, start IS NOT NULL AS found, labels(start) AS labels, start.name AS name,
       size(hits) AS total, rest[..$take] AS page,
       [k IN {sections} | {{kind: k, count: size([h IN hits WHERE h.kind = k])}}] AS counts
"""


_HIT_KEY = {"distance": int, "kind": str, "id": str}


async def _reach(
    db: ApiDatabase,
    scenario: str,
    entity_id: str,
    direction: Direction,
    depth: int,
    limit: int,
    cursor: str | None,
    at: date | None,
) -> tuple[dict[str, Any], list[DependencyHit], str | None]:
    after = decode_cursor(cursor, _HIT_KEY)
    row = await _versioned_row(
        db,
        dependencies_query(direction, depth),
        {"scenario": scenario, "id": entity_id, "after": after, "take": limit + 1, "at": on_day(at)},
        batched=True,
    )
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    if not row["found"]:
        raise _no_entity(scenario, entity_id)
    hits = [DependencyHit(**h) for h in row["page"]]
    more = len(hits) > limit
    hits = hits[:limit]
    last = hits[-1] if hits else None
    next_cursor = (
        encode_cursor({"distance": last.distance, "kind": last.kind, "id": last.id}) if more and last else None
    )
    return row, hits, next_cursor


async def dependencies(
    db: ApiDatabase,
    scenario: str,
    entity_id: str,
    direction: Direction,
    depth: int,
    limit: int,
    cursor: str | None,
    at: date | None = None,
) -> DependencyPage:
    row, hits, next_cursor = await _reach(db, scenario, entity_id, direction, depth, limit, cursor, at)
    return DependencyPage(
        scenario=scenario,
        id=entity_id,
        direction=direction,
        depth=depth,
        total=row["total"],
        items=hits,
        next_cursor=next_cursor,
    )


async def impact(
    db: ApiDatabase, scenario: str, entity_id: str, limit: int, cursor: str | None, at: date | None = None
) -> ImpactPage:
    row, hits, next_cursor = await _reach(db, scenario, entity_id, "downstream", MAX_DEPTH, limit, cursor, at)
    by_kind: dict[str, list[DependencyHit]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, []).append(hit)
    return ImpactPage(
        scenario=scenario,
        id=entity_id,
        kind=_kind(row["labels"]),
        name=row["name"],
        depth=MAX_DEPTH,
        total=row["total"],
        counts=[KindCount(**c) for c in row["counts"] if c["count"]],
        by_kind=by_kind,
        next_cursor=next_cursor,
    )


@cache
def _paths_query(max_hops: int) -> str:
    types = "|".join(rel_types())
    return f"""{RESOLVE}
OPTIONAL MATCH (a:Entity {{scenario: tg_p, id: $source}})
OPTIONAL MATCH (b:Entity {{scenario: tg_p, id: $target}})
CALL {{
  WITH a, b
  MATCH p = ALL SHORTEST (a)-[:{types}]-{{1,{max_hops}}}(b)
  WITH p ORDER BY [n IN nodes(p) | n.id], [r IN relationships(p) | type(r)] LIMIT $take
  RETURN collect({{
    nodes: [n IN nodes(p) | {{id: n.id, name: n.name, labels: labels(n)}}],
    rels: [r IN relationships(p) | {{type: type(r), start: startNode(r).id, end: endNode(r).id}}]
  }}) AS paths
}}
RETURN {FOUND}, a IS NOT NULL AS source_found, b IS NOT NULL AS target_found, paths
"""


async def shortest_paths(
    db: ApiDatabase, scenario: str, source: str, target: str, max_hops: int, at: date | None = None
) -> PathsAnswer:
    row = await _versioned_row(
        db,
        _paths_query(max_hops),
        {"scenario": scenario, "source": source, "target": target, "take": MAX_PATHS + 1, "at": on_day(at)},
        batched=False,
    )
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    for found, entity_id in ((row["source_found"], source), (row["target_found"], target)):
        if not found:
            raise _no_entity(scenario, entity_id)
    paths = [
        GraphPath(
            length=len(p["rels"]),
            nodes=[EntityRef(id=n["id"], kind=_kind(n["labels"]), name=n["name"]) for n in p["nodes"]],
            relationships=[PathStep(**r) for r in p["rels"]],
        )
        for p in row["paths"]
    ]
    return PathsAnswer(
        scenario=scenario,
        source=source,
        target=target,
        max=max_hops,
        paths=paths[:MAX_PATHS],
        truncated=len(paths) > MAX_PATHS,
    )


FINDINGS_STATE = f"""{RESOLVE}
RETURN {FOUND}, sc IS NOT NULL AS found, tg_p AS physical, toString(sc.events_loaded_at) AS events_loaded_at,
  COLLECT {{ MATCH (w:Waiver {{scenario: $scenario}})
            RETURN [w.check, toString(w.expires), w.accepted_by, w.reason] + w.subjects AS waiver
            ORDER BY waiver }} AS waivers
"""


async def findings_state(db: ApiDatabase, scenario: str, at: date | None = None) -> str | None:
    """A fingerprint of everything findings depend on in the graph (the version read, by its
    physical name, which no later load reuses, and the waivers), or None when the scenario does
    not exist. Equal fingerprints give equal findings."""
    row = await _versioned_row(db, FINDINGS_STATE, {"scenario": scenario, "at": on_day(at)}, batched=True)
    if not row["scenario_found"]:
        return None
    return json.dumps([row["physical"], row["waivers"], row["events_loaded_at"]], separators=(",", ":"))


async def who(
    db: ApiDatabase, scenario: str, entity_id: str, as_of: date | None = None, at: date | None = None
) -> WhoAnswer:
    """The decision rights on an entity of the version of `scenario` in force on `at` (default
    today) and who effectively holds them on `as_of` (default today): through the roles people
    hold, and through delegations in force (queries/authority.py, the one place that rule lives).
    404 for a missing scenario, version or entity."""
    row = await _versioned_row(db, who_query(), {"scenario": scenario, "id": entity_id, "at": on_day(at)}, batched=True)
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    delegated = await db.rows(
        delegated_query(),
        {
            "scenario": row["physical"],
            "id": entity_id,
            "rights": list(DECISION_RIGHTS),
            "as_of": as_of or date.today(),
        },
    )
    answer = who_answer(scenario, entity_id, row, delegated)
    if answer is None:
        raise _no_entity(scenario, entity_id)
    return WhoAnswer.model_validate(answer)


AUTHORITY_TARGET = f"""{RESOLVE}
OPTIONAL MATCH (n:Entity {{scenario: tg_p, id: $id}})
RETURN {FOUND}, tg_p AS physical, n IS NOT NULL AS found, labels(n) AS labels, n.name AS name
"""


async def authority(
    db: ApiDatabase, scenario: str, entity_id: str, as_of: date | None = None, at: date | None = None
) -> dict[str, Any]:
    """Every path by which a person reaches a decision right on a model or access row on `as_of`
    (default today), in the version of `scenario` in force on `at` (default today): through the
    roles they hold, delegations in force and deputies (`queries.authority.authority_paths`
    gives the shape). Another kind of entity has no delegable decision right: its answer lists
    nobody. 404 for a missing scenario, version or entity."""
    row = await _versioned_row(
        db, AUTHORITY_TARGET, {"scenario": scenario, "id": entity_id, "at": on_day(at)}, batched=True
    )
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    if not row["found"]:
        raise _no_entity(scenario, entity_id)
    day = as_of or date.today()
    rows = await db.rows(
        authority_paths_query(),
        {"scenario": row["physical"], "id": entity_id, "rights": list(DECISION_RIGHTS), "as_of": day},
    )
    return authority_paths(scenario, entity_id, _kind(row["labels"]), row["name"], day, rows)


def open_counts(findings: list[Finding]) -> dict[str, int]:
    """Open (unwaived) findings per subject id."""
    counts: dict[str, int] = {}
    for f in findings:
        if "waived" not in f:
            for subject in f["subjects"]:
                counts[subject] = counts.get(subject, 0) + 1
    return counts


@cache
def _neighbours_query() -> str:
    kinds, _ = _ontology_literals()
    return f"""{RESOLVE}
OPTIONAL MATCH (n:Entity {{scenario: tg_p, id: $id}})
CALL {{
  WITH n
  MATCH (n)-[r]-(m:Entity)
  WHERE m <> n AND ($rels IS NULL OR type(r) IN $rels)
  WITH m, collect({{type: type(r), outgoing: startNode(r) = n}}) AS rels
  WITH m, rels, {kinds}[[l IN labels(m) WHERE l <> 'Entity'][0]] AS kind
  WHERE $kinds IS NULL OR kind IN $kinds
  RETURN collect({{id: m.id, name: m.name, kind: kind, rels: rels}}) AS hits
}}
RETURN {FOUND}, n IS NOT NULL AS found, labels(n) AS labels, n.name AS name, hits
"""


async def neighbours(
    db: ApiDatabase,
    scenario: str,
    entity_id: str,
    *,
    kinds: list[str] | None,
    rels: list[str] | None,
    limit: int,
    open_by_id: dict[str, int],
    open_only: bool,
    as_of: str,
    findings: list[Finding],
    at: date | None = None,
) -> NeighboursAnswer:
    """The entities one relationship away from `entity_id` (either direction), grouped by kind.

    `kinds` and `rels` keep only those kinds and relationship types (None: all); `open_only`
    keeps only neighbours with open findings (`open_by_id`, from the run as of `as_of`). A kind
    with more than `limit` neighbours is collapsed: its group says how many, with no items (ask
    again with that kind and a larger limit to list them). Read from the version in force on `at`
    (default today). 404 for a missing scenario, version or entity.
    """
    row = await _versioned_row(
        db,
        _neighbours_query(),
        {"scenario": scenario, "id": entity_id, "kinds": kinds, "rels": rels, "at": on_day(at)},
        batched=True,
    )
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    if not row["found"]:
        raise _no_entity(scenario, entity_id)
    by_kind: dict[str, list[Neighbour]] = {}
    for hit in row["hits"]:
        count = open_by_id.get(hit["id"], 0)
        if open_only and not count:
            continue
        relationships = sorted(
            (NeighbourRel(type=r["type"], outgoing=r["outgoing"]) for r in hit["rels"]),
            key=lambda r: (r.type, not r.outgoing),
        )
        by_kind.setdefault(hit["kind"] or "unknown", []).append(
            Neighbour(
                id=hit["id"], kind=hit["kind"] or "unknown", name=hit["name"], open=count, relationships=relationships
            )
        )
    groups = []
    for kind in sorted(by_kind):
        items = sorted(by_kind[kind], key=lambda n: n.id)
        collapsed = len(items) > limit
        groups.append(
            NeighbourGroup(
                kind=kind,
                count=len(items),
                open=sum(1 for n in items if n.open),
                collapsed=collapsed,
                items=[] if collapsed else items,
            )
        )
    return NeighboursAnswer(
        scenario=scenario,
        id=entity_id,
        kind=_kind(row["labels"]),
        name=row["name"],
        as_of=as_of,
        open=open_by_id.get(entity_id, 0),
        findings=[FindingOut.model_validate(f) for f in findings if entity_id in f["subjects"]],
        total=sum(g.count for g in groups),
        groups=groups,
    )


_UNIT_OF = """COALESCE(
      head(COLLECT { MATCH (n)-[:IN_UNIT]->(u:Unit) RETURN u.id ORDER BY u.id }),
      head(COLLECT { MATCH (n)<-[:OWNS]-(:Role)-[:IN_UNIT]->(u:Unit) RETURN u.id ORDER BY u.id }),
      head(COLLECT { MATCH (n)-[:HOLDS]->(:Role)-[:IN_UNIT]->(u:Unit) RETURN u.id ORDER BY u.id }))"""
_IN_UNIT = """(EXISTS { (n)-[:IN_UNIT]->(:Unit {id: $unit}) }
      OR EXISTS { (n)<-[:OWNS]-(:Role)-[:IN_UNIT]->(:Unit {id: $unit}) }
      OR EXISTS { (n)-[:HOLDS]->(:Role)-[:IN_UNIT]->(:Unit {id: $unit}) })"""


_CATALOG_CONDITIONS = {
    "after": "n.id > $after",
    "q": "(toLower(n.id) CONTAINS $q OR toLower(coalesce(n.name, '')) CONTAINS $q)",
    "stage": "n.stage = $stage",
    "risk_tier": "n.risk_tier = $risk_tier",
    "unit": _IN_UNIT,
}
"""The catalog's filters as Cypher conditions on `n`, by name (the scan and the full-text search share them)."""


def _catalog_where(filters: tuple[str, ...]) -> str:
    return "".join(f"\n    AND {_CATALOG_CONDITIONS[f]}" for f in filters)


@cache
def _catalog_query(label: str, from_ids: bool, filters: tuple[str, ...] = ()) -> str:
    """The catalog's read, with only the conditions of the filters in use (`filters` names them:
    q, stage, risk_tier, unit, after): a plan with no unused branches keeps the (scenario, id)
    index's order, so LIMIT stops the scan early instead of sorting the whole scenario."""
    if from_ids:
        match = f"UNWIND $ids AS wanted MATCH (n:{ENTITY_LABEL} {{scenario: tg_p, id: wanted}}) WHERE n:{label}"
    elif label == ENTITY_LABEL:
        match = f"MATCH (n:{ENTITY_LABEL}) WHERE n.scenario = tg_p AND n.id > $after_id"
    else:
        match = f"MATCH (n:{label} {{scenario: tg_p}}) WHERE true"
    where = _catalog_where(filters)
    # Ordering by (scenario, id), the index's own key, is what lets Neo4j read the index in order
    # (ordering by id alone sorts every row); all rows share the scenario, so the order is by id.
    order = "n.scenario, n.id" if label == ENTITY_LABEL and not from_ids else "n.id"
    return f"""{RESOLVE}
CALL {{
  WITH tg_p
  {match}{where}
  WITH n ORDER BY {order} LIMIT $take
  RETURN collect({{id: n.id, name: n.name, labels: labels(n), stage: n.stage, risk_tier: n.risk_tier,
                  unit: {_UNIT_OF}}}) AS items
}}
RETURN {FOUND}, items
"""


OPEN_IDS_CHUNK = 500
"""Ids with open findings the catalog reads at a time (filtered, until a page is full)."""
SEARCH_CANDIDATES = 5000
"""At most this many full-text candidates are checked; more means the words are common, and the
scan in id order finds a page of matches sooner."""


def lucene_search(scenario: str, q: str) -> str | None:
    """The full-text query whose hits include every entity of `scenario` whose id or name contains
    `q` (lower case), or None when `q` has no word this can be sure of (the catalog then scans).

    Each word of `q` (a run of ASCII letters, digits and `_`) lies inside one word of a matching
    id or name, since the standard tokenizer never splits such a run (Unicode UAX #29); so every
    word must match some indexed word as `*word*`. Hits are candidates: the catalog keeps those
    that contain `q` itself. A word of another script, or none, gives None."""
    if any(ord(c) > 127 for c in q):
        return None
    runs = list(dict.fromkeys(r for r in re.split(r"[^a-z0-9_]+", q) if r))
    if not runs:
        return None
    escaped = scenario.replace("\\", "\\\\").replace('"', '\\"')
    terms = " AND ".join(f"(id:*{r}* OR name:*{r}*)" for r in runs)
    return f'scenario:"{escaped}" AND {terms}'


@cache
def _search_query(label: str, filters: tuple[str, ...]) -> str:
    """The catalog's read through the full-text index: candidates, then the catalog's own
    conditions (`q` as a substring, the filters) on them, in id order."""
    where = _catalog_where(filters)
    return f"""
OPTIONAL MATCH (sc:Scenario {{name: $scenario}})
CALL {{
  CALL db.index.fulltext.queryNodes('{SEARCH_INDEX}', $lucene) YIELD node
  WITH node LIMIT {SEARCH_CANDIDATES + 1}
  RETURN collect(node) AS candidates
}}
CALL (candidates) {{
  UNWIND candidates AS n
  WITH n WHERE n.scenario = $physical AND n:{label}{where}
  WITH n ORDER BY n.id LIMIT $take
  RETURN collect({{id: n.id, name: n.name, labels: labels(n), stage: n.stage, risk_tier: n.risk_tier,
                  unit: {_UNIT_OF}}}) AS items
}}
RETURN sc IS NOT NULL AS scenario_found, size(candidates) > {SEARCH_CANDIDATES} AS overflow, items
"""


async def catalog_page(
    db: ApiDatabase,
    scenario: str,
    *,
    q: str | None,
    kind: str | None,
    unit: str | None,
    stage: str | None,
    risk_tier: str | None,
    open_by_id: dict[str, int],
    open_only: bool,
    limit: int,
    cursor: str | None,
    at: date | None = None,
) -> CatalogPage:
    """A page of the scenario's entities ordered by id, filtered: `q` (part of the id or name,
    any case), `kind` (a bundle section), `unit` (a unit id: entities in it, owned by a role in
    it, or people holding a role in it), `stage`, `risk_tier`, and `open_only` (entities with
    open findings in `open_by_id`). Paged with `cursor` (the last id). Read from the version in
    force on `at` (default today). 404 for a missing scenario or version; 422 for a cursor that
    is not ours."""
    after = decode_cursor(cursor, {"id": str})
    label = kinds_by_section()[kind].label if kind else ENTITY_LABEL
    ids = None
    if open_only:
        ids = sorted(i for i, c in open_by_id.items() if c and (after is None or i > after["id"]))
    values = {"q": q, "stage": stage, "risk_tier": risk_tier, "unit": unit, "after": after}
    params: dict[str, Any] = {
        "scenario": scenario,
        "at": on_day(at),
        "q": q.lower() if q else None,
        "after": after and after["id"],
        "after_id": after["id"] if after else "",
        "stage": stage,
        "risk_tier": risk_tier,
        "unit": unit,
        "ids": ids,
        "take": limit + 1,
    }
    rows: list[dict[str, Any]] = []
    physical = await physical_name(db, scenario, at)  # 404 for a missing scenario or version
    lucene = lucene_search(physical, q.lower()) if q and ids is None else None
    if lucene is not None:
        # A search reads its few candidates from the full-text index instead of every entity.
        searched = tuple(f for f, v in values.items() if v is not None)
        rows = await db.rows(_search_query(label, searched), {**params, "physical": physical, "lucene": lucene})
        if rows[0]["overflow"]:
            rows = []
    if not rows:
        used = tuple(f for f, v in values.items() if v is not None and not (f == "after" and label == ENTITY_LABEL))
        query = _catalog_query(label, ids is not None, used)
        if ids is None:
            rows = [await _versioned_row(db, query, params, batched=False)]
        else:
            # The ids with open findings, in order, a chunk at a time until a page is full:
            # the first page of thousands reads a few hundred entities, not all of them.
            found: list[dict[str, Any]] = []
            scenario_found = True
            for start in range(0, max(len(ids), 1), OPEN_IDS_CHUNK):
                chunk = await _versioned_row(
                    db, query, {**params, "ids": ids[start : start + OPEN_IDS_CHUNK]}, batched=False
                )
                scenario_found = chunk["scenario_found"]
                found += chunk["items"]
                if not scenario_found or len(found) > limit:
                    break
            rows = [{"scenario_found": scenario_found, "items": found[: limit + 1]}]
    row = rows[0]
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    items = [
        CatalogItem(
            id=i["id"],
            kind=_kind(i["labels"]),
            name=i["name"],
            stage=i["stage"],
            risk_tier=i["risk_tier"],
            unit=i["unit"],
            open=open_by_id.get(i["id"], 0),
        )
        for i in row["items"]
    ]
    more = len(items) > limit
    items = items[:limit]
    return CatalogPage(
        scenario=scenario, items=items, next_cursor=encode_cursor({"id": items[-1].id}) if more else None
    )


UNITS = f"""{RESOLVE}
RETURN {FOUND}, COLLECT {{
  MATCH (u:Unit {{scenario: tg_p}}) RETURN {{id: u.id, name: u.name}} AS u ORDER BY u.id LIMIT $take
}} AS units
"""


async def units(db: ApiDatabase, scenario: str, limit: int, at: date | None = None) -> list[EntityRef] | None:
    """The units of the version of `scenario` in force on `at` (default today), by id (for the
    catalog's unit filter), or None when there are more than `limit` (a list that long helps
    nobody; the filter then takes a typed id). 404 for a missing scenario or version."""
    row = await _versioned_row(db, UNITS, {"scenario": scenario, "take": limit + 1, "at": on_day(at)}, batched=False)
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    found = row["units"]
    if len(found) > limit:
        return None
    return [EntityRef(id=u["id"], kind="units", name=u["name"]) for u in found]


ROLE_UNITS = f"""{RESOLVE}
RETURN {FOUND}, COLLECT {{
  UNWIND $roles AS wanted
  MATCH (r:Entity {{scenario: tg_p, id: wanted}}) WHERE r:Role
  OPTIONAL MATCH (r)-[:IN_UNIT]->(u:Unit)
  RETURN {{role: r.id, role_name: r.name, unit: u.id, unit_name: u.name}} AS row
}} AS rows
"""


async def role_units(
    db: ApiDatabase, scenario: str, roles: list[str], at: date | None = None
) -> dict[str, dict[str, str | None]]:
    """role id -> {"name", "unit", "unit_name"} for `roles`, read from the version of `scenario` in
    force on `at` (default today): to group findings by accountable role or unit. 404 for a
    missing scenario or version."""
    row = await _versioned_row(db, ROLE_UNITS, {"scenario": scenario, "roles": roles, "at": on_day(at)}, batched=False)
    if not row["scenario_found"]:
        raise _no_scenario(scenario)
    return {r["role"]: {"name": r["role_name"], "unit": r["unit"], "unit_name": r["unit_name"]} for r in row["rows"]}
