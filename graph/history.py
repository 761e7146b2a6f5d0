"""A scenario's versions: every load kept, each readable as it was in force on a date.

Storage (docs/graph-model.md, "History"):

- `(:Scenario {name})` is the scenario: its load lock and the metadata of its latest load, plus
  `seq` (the latest version's number), `physical` and `effective` (its copy and date), and
  `newest` (whether that version also has the latest effective date, so a read "now" can use it
  without looking further).
- `(:ScenarioVersion {scenario, seq, effective, loaded_at, entity_count, relationship_count,
  changes, digest})`, one per load that changed something. `effective` is the date from which
  the version is in force; the version in force on day D is the one with the greatest
  `(effective, seq)` whose `effective <= D`.
- A version's entities are stored under a *physical* scenario name, `S~v-<token>`, written
  completely before the version is published and never changed after: the name is in
  `(:ScenarioCopy {scenario, physical, seq, kind, state})`. A reader resolves "S on day D" to one
  physical name and runs every query with `$scenario` bound to it, so it sees exactly one
  version, without locks, in read transactions.
- Only the latest version and the one in force today keep a copy. Every other version is a
  `(:ScenarioDelta {scenario, seq, part, data})`: what turns version seq+1 back into version seq,
  as data (JSON), so storage grows with what changed. A read of such a version rebuilds it from
  the nearest newer copy and the deltas into a cached copy (`kind: 'cache'`, at most
  `cache_size` of them, the oldest evicted first).

Copy states: `staging` (being written; invisible), `ready` (published), `retired` (no longer
resolved, still complete: a reader that resolved it before keeps reading it), `deleting` (its
nodes are being removed, `grace_s` after it was retired). A multi-query reader checks at its end
that its copy was not `deleting`, and fails rather than answer from a half-removed version.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from neo4j import READ_ACCESS, ManagedTransaction, Transaction
from neo4j.exceptions import ClientError

from graph.db import Database
from graph.errors import NotFound
from graph.ontology import ENTITY_LABEL
from graph.settings import Settings

VERSION_LABEL = "ScenarioVersion"
COPY_LABEL = "ScenarioCopy"
DELTA_LABEL = "ScenarioDelta"
SEPARATOR = "~"
DELTA_PART_ITEMS = 2_000
"""Changed entities or relationships per delta node."""

Rel = tuple[str, str, str]
Nodes = dict[str, tuple[str, dict[str, Any]]]
"""Entity id -> (kind label, properties without `scenario`)."""


@dataclass
class Content:
    """One version of a scenario as plain data."""

    nodes: Nodes = field(default_factory=dict)
    rels: set[Rel] = field(default_factory=set)


@dataclass(frozen=True)
class HistoryPolicy:
    """How much history is kept (settings `TOMGRAPH_HISTORY_*`)."""

    keep_days: int | None = None
    """Versions no longer in force at any day of the last `keep_days` days are removed after a
    load; None keeps every version."""
    grace_s: float = 300.0
    """A superseded or evicted copy is deleted this long after it stopped being resolved, so
    that reads that resolved it before finish on it."""
    cache_size: int = 2
    """Rebuilt past versions kept as copies; the oldest rebuilt is evicted first."""
    lease_s: float = 600.0
    """A staging copy not written to for this long belongs to a loader that died: removed."""


def policy_from(settings: Settings) -> HistoryPolicy:
    """The policy `TOMGRAPH_HISTORY_KEEP_DAYS`, `_GRACE_S` and `_CACHE_SIZE` set."""
    return HistoryPolicy(
        keep_days=settings.history_keep_days,
        grace_s=settings.history_grace_s,
        cache_size=settings.history_cache_size,
    )


class HistoryError(RuntimeError):
    """A version could not be read (removed while it was read, or it must be rebuilt and the
    Neo4j user may not write); the message says what to do."""


class NoVersionAt(NotFound):
    """The scenario exists but no version of it was in force on the date asked."""


# --- reading content ------------------------------------------------------------------------


def _native(value: Any) -> Any:
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, list):
        return [_native(v) for v in value]
    return value


def read_content(tx: ManagedTransaction | Transaction, physical: str) -> Content:
    """Every entity and relationship stored under `physical`, read in a few grouped records
    (the driver's cost is per record)."""
    content = Content()
    for record in tx.run(
        f"MATCH (n:{ENTITY_LABEL} {{scenario: $scenario}}) "
        f"WITH coalesce([l IN labels(n) WHERE l <> '{ENTITY_LABEL}'][0], '{ENTITY_LABEL}') AS label, n "
        "RETURN label, collect(properties(n)) AS nodes",
        scenario=physical,
    ):
        for node in record["nodes"]:
            props = {k: _native(v) for k, v in node.items() if k != "scenario"}
            content.nodes[props["id"]] = (record["label"], props)
    for record in tx.run(
        f"MATCH (a:{ENTITY_LABEL} {{scenario: $scenario}})-[r]->(b:{ENTITY_LABEL} {{scenario: $scenario}}) "
        "RETURN type(r) AS type, collect([a.id, b.id]) AS pairs",
        scenario=physical,
    ):
        content.rels.update((record["type"], start, end) for start, end in record["pairs"])
    return content


# --- deltas ---------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$d" in value:
            return date.fromisoformat(value["$d"])
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def delta_parts(newer: Content, older: Content) -> list[dict[str, Any]]:
    """What turns `newer` back into `older`, as JSON-ready parts of at most DELTA_PART_ITEMS
    items: `removed` (ids only in newer), `put` (id -> [label, props] of every entity of older
    that newer lacks or has differently), `rels_removed` and `rels_added`."""
    removed = sorted(set(newer.nodes) - set(older.nodes))
    put = sorted(i for i, value in older.nodes.items() if newer.nodes.get(i) != value)
    rels_removed = sorted(newer.rels - older.rels)
    rels_added = sorted(older.rels - newer.rels)
    parts: list[dict[str, Any]] = []

    def chunks(items: list[Any]) -> Iterator[list[Any]]:
        for start in range(0, len(items), DELTA_PART_ITEMS):
            yield items[start : start + DELTA_PART_ITEMS]

    for chunk in chunks(removed):
        parts.append({"removed": chunk})
    for chunk in chunks(put):
        parts.append(
            {"put": {i: [older.nodes[i][0], {k: _encode(v) for k, v in older.nodes[i][1].items()}] for i in chunk}}
        )
    for chunk in chunks(rels_removed):
        parts.append({"rels_removed": [list(r) for r in chunk]})
    for chunk in chunks(rels_added):
        parts.append({"rels_added": [list(r) for r in chunk]})
    return parts


def apply_delta(content: Content, parts: Iterable[Mapping[str, Any]]) -> Content:
    """`content` turned into the version a delta leads back to (in place; also returned)."""
    for part in parts:
        for node_id in part.get("removed", ()):
            content.nodes.pop(node_id, None)
        for node_id, (label, props) in part.get("put", {}).items():
            content.nodes[node_id] = (label, {k: _decode(v) for k, v in props.items()})
        content.rels.difference_update(tuple(r) for r in part.get("rels_removed", ()))
        content.rels.update((r[0], r[1], r[2]) for r in part.get("rels_added", ()))
    return content


def write_delta(tx: ManagedTransaction, scenario: str, seq: int, parts: list[dict[str, Any]]) -> None:
    """Store the delta from version seq+1 back to version `seq`."""
    tx.run(
        f"UNWIND range(0, size($parts) - 1) AS i "
        f"CREATE (:{DELTA_LABEL} {{scenario: $scenario, seq: $seq, part: i, data: $parts[i]}})",
        scenario=scenario,
        seq=seq,
        parts=[json.dumps(p, separators=(",", ":"), ensure_ascii=False) for p in parts],
    ).consume()


def read_delta(tx: ManagedTransaction | Transaction, scenario: str, seq: int) -> list[dict[str, Any]]:
    rows = tx.run(
        f"MATCH (d:{DELTA_LABEL} {{scenario: $scenario, seq: $seq}}) RETURN d.data AS data ORDER BY d.part",
        scenario=scenario,
        seq=seq,
    )
    return [json.loads(r["data"]) for r in rows]


# --- resolving "S on day D" -----------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """Scenario `scenario` as in force on `at`: version `seq` (0 for a scenario loaded before
    versions existed), stored under `physical` (None: the version has no copy and must be
    rebuilt). `found` is False when the scenario was never loaded."""

    scenario: str
    at: date
    found: bool
    seq: int | None = None
    effective: date | None = None
    physical: str | None = None


RESOLVE = f"""
OPTIONAL MATCH (sc:Scenario {{name: $scenario}})
OPTIONAL MATCH (v:{VERSION_LABEL} {{scenario: $scenario}}) WHERE v.effective <= $at
WITH sc, v ORDER BY v.effective DESC, v.seq DESC LIMIT 1
RETURN sc IS NOT NULL AS found, sc.seq IS NOT NULL AS versioned, v.seq AS seq, v.effective AS effective,
       COLLECT {{ MATCH (c:{COPY_LABEL} {{scenario: $scenario, seq: v.seq, state: 'ready'}})
                 RETURN c.physical ORDER BY c.kind DESC, c.physical LIMIT 1 }}[0] AS physical
"""


RESOLVE_AT = f"""
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
version asked for on or after its date, reads only the scenario node. The same rule as
`resolve_in`, inline, so that one query resolves and reads (api/graph_reads.py,
queries/authority.py): start a query with it, match `{scenario: tg_p}`, and return `FOUND_AT`."""

FOUND_AT = "sc IS NOT NULL AS scenario_found, tg_p IS NOT NULL AS version_found"
"""`scenario_found` (the scenario exists) and `version_found` (a readable copy of the version
in force on `$at`): when the first is true and the second false, the version must be rebuilt
(`resolve`) or had none then."""


def resolve_in(tx: ManagedTransaction | Transaction, scenario: str, at: date | None) -> Resolved:
    """Which version of `scenario` was in force on `at` (default today), and where it is."""
    day = at or date.today()
    row = tx.run(RESOLVE, scenario=scenario, at=day).single(strict=True)
    if not row["found"]:
        return Resolved(scenario, day, False)
    if not row["versioned"]:
        # Loaded before versions were kept: the entities are under the scenario's own name.
        return Resolved(scenario, day, True, 0, None, scenario)
    if row["seq"] is None:
        return Resolved(scenario, day, True)
    return Resolved(scenario, day, True, row["seq"], _native(row["effective"]), row["physical"])


def no_version_message(scenario: str, day: date) -> str:
    return f"scenario '{scenario}' had no version in force on {day.isoformat()} (see `tomgraph history`)"


def resolve(db: Database, scenario: str, at: date | None = None, policy: HistoryPolicy | None = None) -> Resolved:
    """`resolve_in`, in a read transaction; a version without a copy is rebuilt first (which
    writes: `HistoryError` when the Neo4j user may not). Raises `NotFound` when the scenario was
    never loaded or had no version on the day."""
    with db.errors(), db.session(default_access_mode=READ_ACCESS) as session:
        found = session.execute_read(lambda tx: resolve_in(tx, scenario, at))
    if not found.found:
        raise NotFound(f"scenario '{scenario}' has not been loaded")
    if found.seq is None:
        raise NoVersionAt(no_version_message(scenario, found.at))
    if found.physical is None:
        materialize(db, scenario, found.seq, policy or HistoryPolicy())
        with db.errors(), db.session(default_access_mode=READ_ACCESS) as session:
            found = session.execute_read(lambda tx: resolve_in(tx, scenario, at))
        if found.physical is None:
            raise HistoryError(f"version {found.seq} of scenario '{scenario}' was removed while it was rebuilt")
    return found


def still_readable(tx: ManagedTransaction | Transaction, physical: str) -> bool:
    """False once the copy's nodes are being deleted (or are gone)."""
    row = tx.run(
        f"OPTIONAL MATCH (c:{COPY_LABEL} {{physical: $physical}}) "
        "RETURN c IS NOT NULL AS registered, c.state AS state, "
        "EXISTS { MATCH (s:Scenario {name: $physical}) WHERE s.seq IS NULL } AS legacy",
        physical=physical,
    ).single(strict=True)
    if not row["registered"]:
        return bool(row["legacy"])
    return row["state"] in ("ready", "retired")


# --- versions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One entry of `tomgraph history`."""

    seq: int
    effective: date
    loaded_at: str
    entity_count: int
    relationship_count: int
    changes: dict[str, Any]
    stored: str
    """`copy` (read directly), `delta` (rebuilt on first read) or `cached` (rebuilt, cached)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "effective": self.effective.isoformat(),
            "loaded_at": self.loaded_at,
            "entity_count": self.entity_count,
            "relationship_count": self.relationship_count,
            "changes": self.changes,
            "stored": self.stored,
        }


def versions(db: Database, scenario: str) -> list[Version]:
    """The scenario's versions, oldest load first. `NotFound` when it was never loaded; a
    scenario loaded before versions were kept has one version, 0."""
    rows = db.read(
        f"""
        OPTIONAL MATCH (sc:Scenario {{name: $scenario}})
        RETURN sc IS NOT NULL AS found, sc.seq IS NULL AS legacy, toString(sc.loaded_at) AS loaded_at,
               sc.entity_count AS entities, sc.relationship_count AS relationships,
               COLLECT {{ MATCH (v:{VERSION_LABEL} {{scenario: $scenario}})
                         RETURN {{seq: v.seq, effective: v.effective, loaded_at: toString(v.loaded_at),
                                 entities: v.entity_count, relationships: v.relationship_count,
                                 changes: v.changes,
                                 kinds: COLLECT {{ MATCH (c:{COPY_LABEL} {{scenario: $scenario, seq: v.seq,
                                                                         state: 'ready'}}) RETURN c.kind }}}}
                         ORDER BY v.seq }} AS versions
        """,
        {"scenario": scenario},
    )
    row = rows[0]
    if not row["found"]:
        raise NotFound(f"scenario '{scenario}' has not been loaded")
    if row["legacy"]:
        loaded = row["loaded_at"] or ""
        return [
            Version(
                0,
                date.fromisoformat(loaded[:10]) if loaded else date.today(),
                loaded,
                row["entities"] or 0,
                row["relationships"] or 0,
                {},
                "copy",
            )
        ]
    out = []
    for v in row["versions"]:
        kinds = v["kinds"]
        stored = "copy" if "version" in kinds else "cached" if "cache" in kinds else "delta"
        out.append(
            Version(
                v["seq"],
                _native(v["effective"]),
                v["loaded_at"],
                v["entities"],
                v["relationships"],
                json.loads(v["changes"] or "{}"),
                stored,
            )
        )
    return out


@dataclass(frozen=True)
class VersionWindow:
    """One version of a scenario and the days it is in force: from `start` (None: from the
    beginning, for a scenario loaded before versions were kept) until the day before `end`
    (exclusive; None: open-ended, still in force). `physical` is the name its entities are
    stored under: bind `$scenario` to it to read that version. `seq` is its number (load order;
    0 for a scenario loaded before versions were kept)."""

    physical: str
    seq: int
    start: date | None
    end: date | None


def versions_in_window(
    db: Database,
    scenario: str,
    since: date | None,
    until: date,
    policy: HistoryPolicy | None = None,
) -> list[VersionWindow]:
    """The versions of `scenario` in force on at least one day from `since` (None: from the
    first version) to `until`, both days included, in date order, each with its own whole
    interval (not cut to the window) and the physical name to read it under.

    The rule is `resolve_in`'s: on day D the version with the greatest `(effective, seq)` whose
    `effective <= D` is in force, so a version superseded on its own day by a later load dated
    the same day (or back-dated before it) is never in force and is not listed. Versions removed
    by retention (`TOMGRAPH_HISTORY_KEEP_DAYS`) are not listed; days before the first version
    kept have no version (the first window's `start` says from when).

    A version kept only as a delta is rebuilt into a cached copy first, as any read of it is
    (`materialize`: a write, `HistoryError` with a Neo4j user that may only read). Rebuilt copies
    share the cache (`TOMGRAPH_HISTORY_CACHE_SIZE`): a name returned here stays readable for at
    least `TOMGRAPH_HISTORY_GRACE_S` after it was evicted, so read them promptly, and check
    `still_readable` at the end of a long read (graph/consistent.py does). Raises `NotFound` when
    the scenario was never loaded; ValueError when `since` is after `until`.

    For the event log's conformance checks (issue 17): each event is judged against the version
    whose window holds its day.
    """
    if since is not None and since > until:
        raise ValueError(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    found = versions(db, scenario)
    if len(found) == 1 and found[0].seq == 0:
        # Loaded before versions were kept: one version, under the scenario's own name, always.
        return [VersionWindow(scenario, 0, None, None)]
    # The version in force from each effective date: of those dated that day, the last loaded.
    winners: dict[date, int] = {}
    for v in found:
        winners[v.effective] = max(v.seq, winners.get(v.effective, v.seq))
    days = sorted(winners)
    out: list[VersionWindow] = []
    for i, start in enumerate(days):
        end = days[i + 1] if i + 1 < len(days) else None
        if start > until or (since is not None and end is not None and end <= since):
            continue
        resolved = resolve(db, scenario, start, policy)
        if resolved.seq != winners[start] or resolved.physical is None:
            raise HistoryError(f"the versions of scenario '{scenario}' changed while they were listed; run again")
        out.append(VersionWindow(resolved.physical, winners[start], start, end))
    return out


# --- writing copies -------------------------------------------------------------------------


def new_physical(scenario: str, kind: str) -> str:
    return f"{scenario}{SEPARATOR}{'v' if kind == 'version' else 'at'}-{secrets.token_hex(8)}"


def register_staging(db: Database, scenario: str, physical: str, kind: str) -> None:
    """Record a copy about to be written (so that a loader killed while writing it leaves
    something the next load can find and remove)."""
    db.write(
        f"CREATE (:{COPY_LABEL} {{scenario: $scenario, physical: $physical, kind: $kind, state: 'staging', "
        "alive_at: datetime()})",
        {"scenario": scenario, "physical": physical, "kind": kind},
    )


TOUCH_STAGING = f"MATCH (c:{COPY_LABEL} {{physical: $physical, state: 'staging'}}) SET c.alive_at = datetime()"


def read_version(tx: ManagedTransaction | Transaction, scenario: str, seq: int) -> Content:
    """The content of version `seq`: read from its copy, or rebuilt in memory from the nearest
    newer copy and the deltas back to it. Reads only. `HistoryError` when no copy is left to
    rebuild it from."""
    row = tx.run(
        f"MATCH (c:{COPY_LABEL} {{scenario: $scenario, state: 'ready'}}) WHERE c.seq >= $seq "
        "RETURN c.seq AS seq, c.physical AS physical ORDER BY c.seq, c.kind DESC LIMIT 1",
        scenario=scenario,
        seq=seq,
    ).single()
    if row is None:
        raise HistoryError(f"version {seq} of scenario '{scenario}' cannot be rebuilt: no newer copy")
    content = read_content(tx, row["physical"])
    for k in range(row["seq"] - 1, seq - 1, -1):
        apply_delta(content, read_delta(tx, scenario, k))
    return content


def materialize(db: Database, scenario: str, seq: int, policy: HistoryPolicy) -> str:
    """Rebuild version `seq` (which has no copy) from the nearest newer copy and the deltas,
    write it as a cached copy and return its physical name. Writes: a Neo4j user that may only
    read gets a `HistoryError` saying so."""
    from graph.sync import stage_copy  # the writer of copies; imported here to avoid a cycle

    with db.errors(), db.session(default_access_mode=READ_ACCESS) as session:
        content = session.execute_read(lambda tx: read_version(tx, scenario, seq))
    physical = new_physical(scenario, "cache")
    try:
        stage_copy(db, scenario, physical, "cache", content, None)
    except ClientError as e:
        if "Forbidden" in (e.code or "") or "AccessMode" in (e.code or "") or "Security" in (e.code or ""):
            raise HistoryError(
                f"version {seq} of scenario '{scenario}' is stored as a delta and must be rebuilt once, "
                "which needs a Neo4j user that may write; read it once with such a user"
            ) from e
        raise

    def publish(tx: ManagedTransaction) -> None:
        tx.run("MATCH (s:Scenario {name: $scenario}) SET s.lock = s.lock", scenario=scenario).consume()
        tx.run(
            f"MATCH (c:{COPY_LABEL} {{physical: $physical, state: 'staging'}}) "
            f"WHERE EXISTS {{ MATCH (:{VERSION_LABEL} {{scenario: $scenario, seq: $seq}}) }} "
            "SET c.state = 'ready', c.seq = $seq, c.created_at = datetime() REMOVE c.alive_at",
            physical=physical,
            scenario=scenario,
            seq=seq,
        ).consume()

    db.execute_write(publish)
    maintain(db, scenario, policy)
    return physical


# --- compaction, retention, eviction --------------------------------------------------------


def maintain(db: Database, scenario: str, policy: HistoryPolicy, today: date | None = None) -> None:
    """After a load or a rebuild: retire copies no longer needed (versions other than the latest
    and the one in force today; cached copies over `cache_size`), remove versions older than
    `keep_days`, and delete the nodes of copies retired more than `grace_s` ago."""
    day = today or date.today()

    def retire(tx: ManagedTransaction) -> None:
        tx.run("MATCH (s:Scenario {name: $scenario}) SET s.lock = s.lock", scenario=scenario).consume()
        now = resolve_in(tx, scenario, day)
        row = tx.run("MATCH (s:Scenario {name: $scenario}) RETURN s.seq AS seq", scenario=scenario).single()
        if row is None or row["seq"] is None:
            return
        keep = [row["seq"], now.seq if now.seq is not None else row["seq"]]
        tx.run(
            f"MATCH (c:{COPY_LABEL} {{scenario: $scenario, kind: 'version', state: 'ready'}}) "
            "WHERE NOT c.seq IN $keep SET c.state = 'retired', c.retired_at = datetime()",
            scenario=scenario,
            keep=keep,
        ).consume()
        if policy.keep_days is not None:
            cutoff = date.fromordinal(day.toordinal() - policy.keep_days)
            in_force = resolve_in(tx, scenario, cutoff)
            if in_force.seq is not None:
                # Only a prefix of versions (by load order) goes: the deltas chain from newer to older.
                oldest_needed = tx.run(
                    f"MATCH (v:{VERSION_LABEL} {{scenario: $scenario}}) "
                    "WHERE [v.effective, v.seq] >= [$effective, $seq] RETURN min(v.seq) AS seq",
                    scenario=scenario,
                    effective=in_force.effective,
                    seq=in_force.seq,
                ).single(strict=True)["seq"]
                tx.run(
                    f"MATCH (v:{VERSION_LABEL} {{scenario: $scenario}}) WHERE v.seq < $seq DETACH DELETE v",
                    scenario=scenario,
                    seq=oldest_needed,
                ).consume()
                tx.run(
                    f"MATCH (d:{DELTA_LABEL} {{scenario: $scenario}}) WHERE d.seq < $seq DETACH DELETE d",
                    scenario=scenario,
                    seq=oldest_needed,
                ).consume()
                tx.run(
                    f"MATCH (c:{COPY_LABEL} {{scenario: $scenario, state: 'ready'}}) WHERE c.seq < $seq "
                    "SET c.state = 'retired', c.retired_at = datetime()",
                    scenario=scenario,
                    seq=oldest_needed,
                ).consume()
        tx.run(
            f"MATCH (c:{COPY_LABEL} {{scenario: $scenario, kind: 'cache', state: 'ready'}}) "
            "WITH c ORDER BY c.created_at DESC SKIP $size "
            "SET c.state = 'retired', c.retired_at = datetime()",
            scenario=scenario,
            size=policy.cache_size,
        ).consume()

    db.execute_write(retire)
    purge(db, scenario, policy)


def purge(db: Database, scenario: str, policy: HistoryPolicy) -> int:
    """Delete the nodes of copies retired more than `grace_s` ago and of staging copies whose
    loader stopped writing `lease_s` ago; returns how many copies."""
    from graph.sync import delete_nodes

    rows = db.write(
        f"MATCH (c:{COPY_LABEL} {{scenario: $scenario}}) "
        "WHERE (c.state = 'retired' AND c.retired_at <= datetime() - duration({milliseconds: $grace})) "
        "   OR (c.state = 'staging' AND c.alive_at <= datetime() - duration({milliseconds: $lease})) "
        "   OR c.state = 'deleting' "
        "SET c.state = 'deleting' RETURN c.physical AS physical",
        {"scenario": scenario, "grace": int(policy.grace_s * 1000), "lease": int(policy.lease_s * 1000)},
    )
    for row in rows:
        delete_nodes(db, scenario, name=row["physical"])
        db.write(f"MATCH (c:{COPY_LABEL} {{physical: $physical}}) DELETE c", {"physical": row["physical"]})
    return len(rows)


def storage(db: Database, scenario: str) -> dict[str, int]:
    """What the scenario keeps: entities and relationships over all its copies, delta nodes and
    the characters of their data (for the storage benchmark and tests)."""
    rows = db.read(
        f"""
        CALL () {{ MATCH (n:{ENTITY_LABEL}) WHERE n.scenario = $scenario OR n.scenario STARTS WITH $prefix
                   RETURN count(n) AS entities, sum(COUNT {{ (n)-->() }}) AS relationships }}
        CALL () {{ MATCH (d:{DELTA_LABEL} {{scenario: $scenario}})
                   RETURN count(d) AS delta_parts, sum(size(d.data)) AS delta_chars }}
        CALL () {{ MATCH (c:{COPY_LABEL} {{scenario: $scenario}}) RETURN count(c) AS copies }}
        RETURN entities, relationships, delta_parts, coalesce(delta_chars, 0) AS delta_chars, copies
        """,
        {"scenario": scenario, "prefix": scenario + SEPARATOR},
    )
    return {k: int(v) for k, v in rows[0].items()}


def query_params(resolved: Resolved) -> dict[str, Any]:
    """The parameters a scenario query is run with: `$scenario` is the physical name."""
    assert resolved.physical is not None
    return {"scenario": resolved.physical}


def physical_name(db: Database, scenario: str, at: date | None = None) -> str:
    """The name the version of `scenario` in force on `at` (default today) is stored under: bind
    `$scenario` to it to read that version with your own Cypher (docs/graph-model.md)."""
    found = resolve(db, scenario, at)
    assert found.physical is not None
    return found.physical


def latest_physical(db: Database, scenario: str) -> str:
    """The name the scenario's last loaded version is stored under (it is always kept as a copy;
    a scenario loaded before versions were kept is stored under its own name). Reads only.
    Raises `NotFound` when the scenario was never loaded."""
    rows = db.read(
        f"OPTIONAL MATCH (sc:Scenario {{name: $scenario}}) "
        f"RETURN sc IS NOT NULL AS found, COLLECT {{ MATCH (c:{COPY_LABEL} {{scenario: $scenario, kind: 'version', "
        "state: 'ready'}) RETURN c.physical ORDER BY c.seq DESC LIMIT 1 } AS physical",
        {"scenario": scenario},
    )
    if not rows[0]["found"]:
        raise NotFound(f"scenario '{scenario}' has not been loaded")
    return rows[0]["physical"][0] if rows[0]["physical"] else scenario


def ids_in_any_version(db: Database, scenario: str, ids: Iterable[str]) -> set[str]:
    """Those of `ids` that are the id of an entity in some version of `scenario`, found without
    rebuilding any version (reads only): the copies kept are read, and each delta's `put` names
    every entity an older version had that the newer one lacks or has otherwise (`delta_parts`),
    so together they hold every id any version had."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    rows = db.read(
        f"CALL () {{ MATCH (c:{COPY_LABEL} {{scenario: $scenario, state: 'ready'}}) "
        "RETURN collect(c.physical) + [$scenario] AS physical } "
        f"UNWIND physical AS s UNWIND $ids AS id MATCH (n:{ENTITY_LABEL} {{scenario: s, id: id}}) "
        "RETURN DISTINCT n.id AS id",
        {"scenario": scenario, "ids": wanted},
    )
    found = {r["id"] for r in rows}
    rest = set(wanted) - found
    if rest:
        for row in db.read(
            f"MATCH (d:{DELTA_LABEL} {{scenario: $scenario}}) WHERE d.data CONTAINS '\"put\"' RETURN d.data AS data",
            {"scenario": scenario},
        ):
            found |= rest & set(json.loads(row["data"]).get("put", {}))
    return found
