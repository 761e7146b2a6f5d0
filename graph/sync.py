"""Making a scenario equal to a bundle, all or nothing, and keeping the version it replaces.

Every version of a scenario is stored under a physical name of its own, `S~v-<token>`, and is
never changed once published (graph/history.py). A load:

1. Reads the version in force on the load's effective day (a read transaction; usually the
   latest, which is read anyway: the delta is computed against it) and compares it with the
   bundle. Nothing changed: nothing is written at all (no new version). A bundle equal to the
   last load but not to the version in force that day (a back-dated load came between) does
   make a new version.
2. Writes the complete new version under a new physical name, in batches of `BATCH_SIZE` rows,
   each its own transaction (nodes, then relationships), first registering it as a `staging`
   copy. No reader resolves a staging copy, so no reader sees these nodes.
3. The switch, one small transaction: it takes the scenario's lock (`SET s.lock = s.lock + 1`,
   so switches of one scenario are serialised), checks that the staged copy is complete (its
   entity and relationship counts), stores the delta that turns the new version back into the
   one it replaces, creates the `(:ScenarioVersion)`, marks the copy `ready` and points the
   scenario at it. If another load switched in meanwhile, the delta is computed against that
   one: both loads succeed, in the order of their switches.
4. Afterwards (graph/history.py `maintain`): copies no longer needed are retired, versions past
   `TOMGRAPH_HISTORY_KEEP_DAYS` removed, and copies retired more than the grace period ago deleted.

A loader killed before the switch commits leaves the scenario as it was; after it, exactly the
new version. It may leave a staging copy behind, invisible to readers, which a later load
removes once nobody has written to it for the lease period (`HistoryPolicy.lease_s`), and
`delete_scenario` at once. Staged copies from before versions were kept (`S~stage-*`,
`S~old-*`) are removed by the next load. The summary of a load is the difference of step 1.
`TOMGRAPH_LOAD_TX_MAX_ROWS` no longer decides anything: every load is written in batches (the
switch is what makes it all or nothing); it is still validated.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from neo4j import ManagedTransaction

from graph.db import Database
from graph.history import (
    COPY_LABEL,
    TOUCH_STAGING,
    VERSION_LABEL,
    Content,
    HistoryPolicy,
    delta_parts,
    maintain,
    new_physical,
    purge,
    read_content,
    read_version,
    register_staging,
    resolve_in,
    write_delta,
)
from graph.ontology import ENTITY_LABEL, KINDS, SCENARIO_PATTERN, kinds_by_label, kinds_by_section, rel_types

BATCH_SIZE = 10_000
DELETE_BATCH_SIZE = 5_000
"""Nodes per clean-up transaction; each holds the scenario's lock, so readers wait for one batch."""
DEFAULT_TX_MAX_ROWS = 2_000_000
STAGE_SEPARATOR = "~"
"""Joins a scenario's name and its staging or old-version suffix; never part of a scenario name."""

Rel = tuple[str, str, str]
"""(relationship type, start id, end id)."""


class EntityLike(Protocol):
    section: str
    id: str
    props: dict[str, Any]
    refs: dict[str, tuple[str, ...]]


@dataclass
class KindChanges:
    created: int = 0
    updated: int = 0
    removed: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.removed


@dataclass
class SyncResult:
    scenario: str
    entities: dict[str, KindChanges] = field(default_factory=dict)
    relationships: dict[str, KindChanges] = field(default_factory=dict)
    entity_count: int = 0
    relationship_count: int = 0
    seconds: float = 0.0
    staged: bool = False
    """Whether the load was staged (over `TOMGRAPH_LOAD_TX_MAX_ROWS`); not part of `as_dict`."""

    @property
    def changed(self) -> bool:
        return any(c.total for c in (*self.entities.values(), *self.relationships.values()))

    @property
    def rows(self) -> int:
        """Rows the load writes: entities created, updated or removed, relationships created or removed."""
        return sum(c.total for c in (*self.entities.values(), *self.relationships.values()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "entity_count": self.entity_count,
            "relationship_count": self.relationship_count,
            "seconds": round(self.seconds, 3),
            "entities": {k: vars(v) for k, v in sorted(self.entities.items()) if v.total},
            "relationships": {k: vars(v) for k, v in sorted(self.relationships.items()) if v.total},
        }


class ScenarioNameError(ValueError):
    pass


class LoadConflict(RuntimeError):
    """Another load of the scenario committed while a staged load was being written; the staged
    load changed nothing."""


class StagingIncomplete(RuntimeError):
    """The staged copy of a scenario did not hold the whole bundle at the switch; nothing changed."""


def check_scenario_name(name: str) -> str:
    if not isinstance(name, str) or not re.match(SCENARIO_PATTERN, name):
        raise ScenarioNameError(
            f"invalid scenario name {name!r}: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def desired_relationships(entities: Iterable[EntityLike]) -> Iterator[Rel]:
    """The relationships a bundle's references become, with types and directions from the ontology."""
    sections = kinds_by_section()
    for entity in entities:
        kind = sections[entity.section]
        for ref in kind.references:
            for target in entity.refs.get(ref.name, ()):
                if ref.reverse:
                    yield (ref.rel_type, target, entity.id)
                else:
                    yield (ref.rel_type, entity.id, target)


def _batches(rows: list[Any], size: int | None = None) -> Iterator[list[Any]]:
    size = size or BATCH_SIZE
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# Plans are cached per query text, and a plan made while a scenario was empty may scan instead of
# seeking; the hints pin every lookup by id to the (scenario, id) uniqueness index.
BY_ID_A = f"USING INDEX a:{ENTITY_LABEL}(scenario, id)"
BY_ID_B = f"USING INDEX b:{ENTITY_LABEL}(scenario, id)"
BY_ID_N = f"USING INDEX n:{ENTITY_LABEL}(scenario, id)"
BY_SCENARIO_N = f"USING INDEX n:{ENTITY_LABEL}(scenario)"

ProgressFn = Callable[[int, int], None]
"""Called with (steps done, steps in all) as batches are written."""

# The switch's first statement: takes the scenario's lock; returns the version it points at.
LOCK_FOR_SWITCH = (
    "MERGE (s:Scenario {name: $scenario}) WITH s, s.lock AS before SET s.lock = coalesce(s.lock, 0) + 1 "
    "RETURN before, s.seq AS seq, s.physical AS physical, s.loaded_at IS NOT NULL AS loaded"
)
SET_METADATA = (
    "MATCH (s:Scenario {name: $scenario}) "
    "SET s.loaded_at = datetime(), s.entity_count = $entities, s.relationship_count = $relationships, "
    "s.bundle_digest = $digest"
)


@dataclass
class _Base:
    """The version a load compares the bundle with: `seq` None for a new scenario, 0 for one
    loaded before versions were kept (its entities under its own name)."""

    seq: int | None
    physical: str | None
    content: Content
    exists: bool


def _read_base(tx: ManagedTransaction, scenario: str) -> _Base:
    row = tx.run(
        "OPTIONAL MATCH (s:Scenario {name: $scenario}) "
        "RETURN s IS NOT NULL AS exists, s.seq AS seq, s.physical AS physical",
        scenario=scenario,
    ).single(strict=True)
    if not row["exists"]:
        return _Base(None, None, Content(), False)
    if row["seq"] is None:
        return _Base(0, scenario, read_content(tx, scenario), True)
    return _Base(row["seq"], row["physical"], read_content(tx, row["physical"]), True)


def _read_in_force(tx: ManagedTransaction, scenario: str, day: date, base: _Base) -> Content | None:
    """The content of the version of `scenario` in force on `day` (None: none then), read
    without writing (`graph.history.read_version` rebuilds one kept as a delta in memory)."""
    if not base.exists:
        return None
    found = resolve_in(tx, scenario, day)
    if found.seq is None:
        return None
    if found.seq == base.seq:
        return base.content
    if found.physical is not None:
        return read_content(tx, found.physical)
    return read_version(tx, scenario, found.seq)


def _summary(scenario: str, base: Content, wanted: Content) -> SyncResult:
    """What the load changes, per kind and relationship type (an entity whose kind changes is
    removed and created)."""
    result = SyncResult(scenario, {k.label: KindChanges() for k in KINDS})
    for node_id, (label, _props) in base.nodes.items():
        new = wanted.nodes.get(node_id)
        if new is None or new[0] != label:
            result.entities.setdefault(label, KindChanges()).removed += 1
    for node_id, (label, props) in wanted.nodes.items():
        old = base.nodes.get(node_id)
        if old is None or old[0] != label:
            result.entities.setdefault(label, KindChanges()).created += 1
        elif old[1] != props:
            result.entities[label].updated += 1
    for rel_type, *_ in base.rels - wanted.rels:
        result.relationships.setdefault(rel_type, KindChanges()).removed += 1
    for rel_type, *_ in wanted.rels - base.rels:
        result.relationships.setdefault(rel_type, KindChanges()).created += 1
    result.entity_count = len(wanted.nodes)
    result.relationship_count = len(wanted.rels)
    return result


def sync_scenario(
    db: Database,
    scenario: str,
    entities: Sequence[EntityLike],
    *,
    bundle_digest: str = "",
    progress: ProgressFn | None = None,
    tx_max_rows: int = DEFAULT_TX_MAX_ROWS,
    effective: date | None = None,
    history: HistoryPolicy | None = None,
) -> SyncResult:
    """Make `scenario` equal to `entities` as a new version in force from `effective` (default
    today); return what changed against the version in force that day (all created when none
    was). Nothing is written when that version already equals `entities`. Steps in the module
    docstring; raises `LoadConflict` when the staged copy was removed by another load's clean-up
    (nothing changed)."""
    check_scenario_name(scenario)
    if tx_max_rows <= 0:
        raise ValueError(f"tx_max_rows must be positive, not {tx_max_rows}")
    policy = history or HistoryPolicy()
    day = effective or date.today()
    started = time.monotonic()
    sections = kinds_by_section()
    wanted = Content(
        {e.id: (sections[e.section].label, e.props) for e in entities}, set(desired_relationships(entities))
    )
    remove_leftovers(db, scenario, policy)
    base = db.execute_read(lambda tx: _read_base(tx, scenario))
    # What the load changes is judged against the version in force on its effective day (the
    # last one loaded, unless a load was back-dated or post-dated): a bundle equal to that
    # version changes nothing, any other makes a new version even when it equals the last load.
    in_force = db.execute_read(lambda tx: _read_in_force(tx, scenario, day, base))
    result = _summary(scenario, in_force if in_force is not None else Content(), wanted)
    if in_force is not None and not result.changed:
        if progress:
            progress(0, 0)
        with contextlib.suppress(Exception):
            maintain(db, scenario, policy)  # retention and eviction still apply after this load
        result.seconds = time.monotonic() - started
        return result
    physical = new_physical(scenario, "version")
    steps = _Steps(_copy_batches(wanted) + 1, progress)
    stage_copy(db, scenario, physical, "version", wanted, steps)
    delta = delta_parts(wanted, base.content) if base.seq is not None else []

    rebased: list[SyncResult] = []

    def switch(tx: ManagedTransaction) -> None:
        rebased.clear()
        row = tx.run(LOCK_FOR_SWITCH, scenario=scenario).single(strict=True)
        counts = tx.run(
            f"OPTIONAL MATCH (c:{COPY_LABEL} {{physical: $physical, state: 'staging'}}) "
            f"CALL () {{ MATCH (n:{ENTITY_LABEL} {{scenario: $physical}}) {BY_SCENARIO_N} "
            "RETURN count(n) AS nodes, sum(COUNT { (n)-->() }) AS rels } "
            "RETURN c IS NOT NULL AS staged, nodes, rels",
            physical=physical,
        ).single(strict=True)
        if not counts["staged"]:
            raise LoadConflict(conflict_message(scenario))
        if (counts["nodes"], counts["rels"]) != (len(wanted.nodes), len(wanted.rels)):
            raise StagingIncomplete(
                f"the staged copy of scenario {scenario!r} holds {counts['nodes']} of {len(wanted.nodes)} "
                f"entities and {counts['rels']} of {len(wanted.rels)} relationships; "
                "this load changed nothing: run it again"
            )
        previous_seq, previous_delta = base.seq, delta
        if row["seq"] is None and row["loaded"]:
            # Loaded before versions were kept: what is there becomes version 0.
            tx.run(
                f"MATCH (s:Scenario {{name: $scenario}}) "
                f"CREATE (:{VERSION_LABEL} {{scenario: $scenario, seq: 0, effective: date(s.loaded_at), "
                "loaded_at: s.loaded_at, entity_count: s.entity_count, relationship_count: s.relationship_count, "
                "changes: '{}', digest: s.bundle_digest}) "
                f"CREATE (:{COPY_LABEL} {{scenario: $scenario, physical: $scenario, seq: 0, kind: 'version', "
                "state: 'ready', created_at: datetime()})",
                scenario=scenario,
            ).consume()
            previous_seq = 0
            if base.seq != 0:
                previous_delta = delta_parts(wanted, read_content(tx, scenario))
        elif row["seq"] is not None and row["seq"] != base.seq:
            # Another load switched in after step 1: the delta, and this load's summary, are
            # against that one, the version this load replaces.
            previous_seq = row["seq"]
            replaced = read_content(tx, row["physical"])
            previous_delta = delta_parts(wanted, replaced)
            rebased[:] = [_summary(scenario, replaced, wanted)]
        elif row["seq"] is None:
            previous_seq = None
        seq = 1 if previous_seq is None else previous_seq + 1
        summary = rebased[0] if rebased else result
        changes = {k: v for k, v in summary.as_dict().items() if k in ("entities", "relationships")}
        if previous_seq is not None:
            write_delta(tx, scenario, previous_seq, previous_delta)
        tx.run(
            f"CREATE (:{VERSION_LABEL} {{scenario: $scenario, seq: $seq, effective: $effective, "
            "loaded_at: datetime(), entity_count: $entities, relationship_count: $relationships, "
            "changes: $changes, digest: $digest})",
            scenario=scenario,
            seq=seq,
            effective=day,
            entities=len(wanted.nodes),
            relationships=len(wanted.rels),
            changes=json.dumps(changes, separators=(",", ":")),
            digest=bundle_digest,
        ).consume()
        tx.run(
            f"MATCH (c:{COPY_LABEL} {{physical: $physical}}) "
            "SET c.state = 'ready', c.seq = $seq, c.created_at = datetime() REMOVE c.alive_at",
            physical=physical,
            seq=seq,
        ).consume()
        tx.run(
            "MATCH (s:Scenario {name: $scenario}) "
            f"SET s.seq = $seq, s.physical = $physical, s.effective = $effective, "
            f"s.newest = NOT EXISTS {{ MATCH (v:{VERSION_LABEL} {{scenario: $scenario}}) "
            "WHERE v.effective > $effective }",
            scenario=scenario,
            seq=seq,
            physical=physical,
            effective=day,
        ).consume()
        tx.run(
            SET_METADATA,
            scenario=scenario,
            entities=len(wanted.nodes),
            relationships=len(wanted.rels),
            digest=bundle_digest,
        ).consume()

    try:
        db.execute_write(switch)
    except BaseException:
        # Nothing of this load is visible; take its staged copy away again (best effort: what
        # is left is removed by a later load once its lease has run out).
        with contextlib.suppress(Exception):
            _drop_copy(db, scenario, physical)
        raise
    steps()
    if rebased:
        result = rebased[0]
    result.staged = True
    # The load has committed; if tidying up fails, a later load does it.
    with contextlib.suppress(Exception):
        maintain(db, scenario, policy)
    result.seconds = time.monotonic() - started
    return result


def _copy_batches(content: Content) -> int:
    labels: dict[str, int] = defaultdict(int)
    for label, _props in content.nodes.values():
        labels[label] += 1
    types: dict[str, int] = defaultdict(int)
    for rel_type, *_ in content.rels:
        types[rel_type] += 1
    return sum((n + BATCH_SIZE - 1) // BATCH_SIZE for n in (*labels.values(), *types.values()))


def stage_copy(db: Database, scenario: str, physical: str, kind: str, content: Content, steps: _Steps | None) -> None:
    """Write `content` under the physical name `physical` as a `staging` copy, in batches of
    `BATCH_SIZE` rows each in its own transaction. The caller publishes it (or drops it)."""
    register_staging(db, scenario, physical, kind)
    nodes_by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for label, props in content.nodes.values():
        nodes_by_label[label].append({**props, "scenario": physical})
    rels_by_type: dict[str, list[list[str]]] = defaultdict(list)
    for rel_type, start, end in sorted(content.rels):
        rels_by_type[rel_type].append([start, end])

    def nodes(tx: ManagedTransaction, label: str, rows: list[dict[str, Any]]) -> None:
        tx.run(TOUCH_STAGING, physical=physical).consume()
        _create_nodes(tx, label, rows)

    def rels(tx: ManagedTransaction, rel_type: str, pairs: list[list[str]]) -> None:
        tx.run(TOUCH_STAGING, physical=physical).consume()
        _create_relationships(tx, physical, rel_type, pairs)

    try:
        for label, rows in nodes_by_label.items():
            for batch in _batches(rows):
                db.execute_write(functools.partial(nodes, label=label, rows=batch))
                if steps:
                    steps()
        for rel_type, pairs in rels_by_type.items():
            for batch in _batches(pairs):
                db.execute_write(functools.partial(rels, rel_type=rel_type, pairs=batch))
                if steps:
                    steps()
    except BaseException:
        with contextlib.suppress(Exception):
            _drop_copy(db, scenario, physical)
        raise


def _drop_copy(db: Database, scenario: str, physical: str) -> None:
    """Delete an unpublished copy and its record."""
    db.write(
        f"MATCH (c:{COPY_LABEL} {{physical: $physical}}) WHERE c.state = 'staging' SET c.state = 'deleting'",
        {"physical": physical},
    )
    delete_nodes(db, scenario, name=physical)
    db.write(f"MATCH (c:{COPY_LABEL} {{physical: $physical, state: 'deleting'}}) DELETE c", {"physical": physical})


class _Steps:
    """Counts written batches and reports (done, total) to the load's progress callback."""

    def __init__(self, total: int, progress: ProgressFn | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress

    def __call__(self) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)


def _create_nodes(tx: ManagedTransaction, label: str, rows: list[dict[str, Any]]) -> None:
    _check_label(label)
    tx.run(f"UNWIND $rows AS r CREATE (n:{ENTITY_LABEL}:{label}) SET n = r", rows=rows).consume()


def _create_relationships(tx: ManagedTransaction, scenario: str, rel_type: str, pairs: list[list[str]]) -> None:
    _check_rel_type(rel_type)
    tx.run(
        f"UNWIND $rows AS r MATCH (a:{ENTITY_LABEL} {{scenario: $scenario, id: r[0]}}) {BY_ID_A} "
        f"MATCH (b:{ENTITY_LABEL} {{scenario: $scenario, id: r[1]}}) {BY_ID_B} "
        f"CREATE (a)-[:{rel_type}]->(b)",
        rows=pairs,
        scenario=scenario,
    ).consume()


def _count_batches(rows: list[Any]) -> int:
    return (len(rows) + BATCH_SIZE - 1) // BATCH_SIZE


def _check_label(label: str) -> None:
    # Labels and types are spliced into Cypher; they may only ever come from the ontology.
    if label not in kinds_by_label():
        raise ValueError(f"not an ontology label: {label!r}")


def _check_rel_type(rel_type: str) -> None:
    if rel_type not in rel_types():
        raise ValueError(f"not an ontology relationship type: {rel_type!r}")


def conflict_message(scenario: str) -> str:
    return (
        f"the staged copy of this load of scenario {scenario!r} was removed by another load; "
        "this load changed nothing: run it again"
    )


def delete_nodes(db: Database, scenario: str, *, name: str | None = None, prefix: str | None = None) -> int:
    """Delete the entities of the physical name `name`, or of every name that starts with
    `prefix`, in batches; each batch holds `scenario`'s lock. Deleting by prefix removes other
    loads' nodes, and so counts as a change of `scenario`."""
    if prefix is not None:
        lock = "MERGE (s:Scenario {name: $scenario}) SET s.lock = coalesce(s.lock, 0) + 1"
        match = f"MATCH (n:{ENTITY_LABEL}) {BY_SCENARIO_N} WHERE n.scenario STARTS WITH $key"
        key = prefix
    elif name is not None:
        lock = "MATCH (s:Scenario {name: $scenario}) SET s.lock = s.lock"
        match = f"MATCH (n:{ENTITY_LABEL} {{scenario: $key}}) {BY_SCENARIO_N}"
        key = name
    else:
        raise ValueError("name or prefix")

    def batch(tx: ManagedTransaction) -> int:
        tx.run(lock, scenario=scenario).consume()
        record = tx.run(
            f"{match} WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS deleted",
            key=key,
            limit=DELETE_BATCH_SIZE,
        ).single(strict=True)
        return int(record["deleted"])

    total = 0
    while True:
        deleted = db.execute_write(batch)
        total += deleted
        if deleted < DELETE_BATCH_SIZE:
            return total


LEGACY_PREFIXES = ("stage-", "old-")
"""Staged loads before versions were kept wrote `S~stage-*` and `S~old-*`."""


def leftovers(db: Database, scenario: str) -> int:
    """How many entities stored under `S~*` belong to no readable copy (staging copies of
    loads, copies being deleted, and what loads before versions left)."""
    rows = db.read(
        f"MATCH (n:{ENTITY_LABEL}) {BY_SCENARIO_N} WHERE n.scenario STARTS WITH $prefix "
        f"AND NOT EXISTS {{ MATCH (c:{COPY_LABEL} {{physical: n.scenario}}) WHERE c.state IN ['ready', 'retired'] }} "
        "RETURN count(n) AS n",
        {"prefix": scenario + STAGE_SEPARATOR},
    )
    return int(rows[0]["n"])


def remove_leftovers(db: Database, scenario: str, policy: HistoryPolicy | None = None) -> int:
    """Delete what loads of `scenario` left behind: staged nodes from before versions were kept,
    staging copies whose loader stopped writing (`policy.lease_s`) and copies retired more than
    `policy.grace_s` ago. Nothing is written when there is nothing to remove."""
    total = 0
    for legacy in LEGACY_PREFIXES:
        prefix = scenario + STAGE_SEPARATOR + legacy
        found = db.read(
            f"MATCH (n:{ENTITY_LABEL}) {BY_SCENARIO_N} WHERE n.scenario STARTS WITH $prefix RETURN 1 AS found LIMIT 1",
            {"prefix": prefix},
        )
        if found:
            total += delete_nodes(db, scenario, prefix=prefix)
    pending = db.read(
        f"MATCH (c:{COPY_LABEL} {{scenario: $scenario}}) WHERE c.state IN ['retired', 'staging', 'deleting'] "
        "RETURN 1 AS found LIMIT 1",
        {"scenario": scenario},
    )
    if pending:
        total += purge(db, scenario, policy or HistoryPolicy())
    return total


def delete_scenario(db: Database, scenario: str) -> None:
    """Remove a scenario and everything kept for it (every version, waivers, snapshots, and
    what loads of it left behind)."""
    delete_nodes(db, scenario, prefix=scenario + STAGE_SEPARATOR)
    with db.errors(), db.session() as session:
        # IN TRANSACTIONS needs an auto-commit transaction, hence session.run.
        session.run(
            f"MATCH (n:{ENTITY_LABEL} {{scenario: $scenario}}) "
            "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
            scenario=scenario,
        ).consume()
        # The scenario's event log (events/): no relationships, possibly millions of nodes.
        session.run(
            "MATCH (e:Event {scenario: $scenario}) CALL (e) { DELETE e } IN TRANSACTIONS OF 10000 ROWS",
            scenario=scenario,
        ).consume()
    db.write("MATCH (n) WHERE n.scenario = $scenario DETACH DELETE n", {"scenario": scenario})
    db.write("MATCH (s:Scenario {name: $scenario}) DETACH DELETE s", {"scenario": scenario})


def digest_of(entities: Iterable[EntityLike]) -> str:
    """A fingerprint of a bundle's content, stored with the scenario."""
    h = hashlib.sha256()
    for e in entities:
        h.update(repr((e.section, sorted(e.props.items()), sorted(e.refs.items()))).encode())
    return h.hexdigest()
