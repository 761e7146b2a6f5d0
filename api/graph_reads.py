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

from neo4j.time import Date, DateTime, Duration, Time
from starlette.concurrency import run_in_threadpool

from api.db import ApiDatabase
from api.models import (
    DependencyHit,
    DependencyPage,
    EntityDetail,
    EntityPage,
    EntityRef,
    GraphPath,
    ImpactPage,
    KindCount,
    PathsAnswer,
    PathStep,
    Relationship,
    ScenarioSummary,
)
from api.problems import ApiProblem, invalid, not_found
from graph.errors import NotFound
from graph.history import COPY_LABEL, VERSION_LABEL, HistoryError, no_version_message, resolve
from graph.ontology import ENTITY_LABEL, dependency_rel_types, edge_types, kinds_by_label, kinds_by_section, rel_types

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
    """A Neo4j value as JSON: temporals as ISO text, non-finite floats as text, graph values as maps."""
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


RESOLVE = f"""
OPTIONAL MATCH (sc:Scenario {{name: $scenario}})
WITH sc, CASE
  WHEN sc IS NULL THEN null
  WHEN sc.seq IS NULL THEN sc.name
  WHEN sc.newest AND sc.effective <= $at THEN sc.physical
  ELSE COLLECT {{
    MATCH (v:{VERSION_LABEL} {{scenario: $scenario}}) WHERE v.effective <= $at
    WITH v ORDER BY v.effective DESC, v.seq DESC LIMIT 1
    MATCH (c:{COPY_LABEL} {{scenario: $scenario, seq: v.seq, state: 'ready'}})
    RETURN c.physical AS p ORDER BY c.kind DESC, p LIMIT 1
  }}[0]
END AS tg_p
"""
"""Binds `sc` (the scenario node) and `tg_p` (the physical name of the version in force on `$at`,
null when the scenario has none then or it must be rebuilt first). The fast case, the latest
version asked for on or after its date, reads only the scenario node."""

FOUND = "sc IS NOT NULL AS scenario_found, tg_p IS NOT NULL AS version_found"


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


async def get_entity(db: ApiDatabase, scenario: str, entity_id: str, at: date | None = None) -> EntityDetail:
    row = await _versioned_row(db, ENTITY, {"scenario": scenario, "id": entity_id, "at": on_day(at)}, batched=True)
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
RETURN {FOUND}, sc IS NOT NULL AS found, tg_p AS physical,
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
    return json.dumps([row["physical"], row["waivers"]], separators=(",", ":"))
