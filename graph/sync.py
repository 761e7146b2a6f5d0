"""Making a scenario equal to a bundle, all or nothing.

A load first reads the scenario's current nodes and relationships, compares them with the
bundle, and writes only the difference. How it writes depends on the size of that difference
(rows: entities created, updated or removed, plus relationships created or removed), measured
against `TOMGRAPH_LOAD_TX_MAX_ROWS` (default 2,000,000):

**Up to the limit, one transaction.** The load is one write transaction whose first statement
locks the scenario's `(:Scenario)` node (`SET s.lock = coalesce(s.lock, 0) + 1`), so two loads of
one scenario never interleave (the second waits) and a reader that takes the same lock
(graph/consistent.py) never sees a half-written scenario. The difference is written in batched
`UNWIND` statements. If anything fails, or the loading process dies, the transaction rolls back
and the scenario is exactly as before.

**Over the limit, a staged load**, so that no transaction holds the whole bundle (Neo4j keeps a
transaction's changes in its heap):

1. The read and the comparison run as above, in a transaction that takes the scenario's lock
   and is then rolled back; it remembers the lock counter `s.lock` it saw.
2. The complete new version is written under a private scenario name, `S~stage-<token>`, in
   batches of `BATCH_SIZE` rows, each its own transaction (nodes, then relationships). `~`
   cannot occur in a scenario name and every reader filters by `{scenario: $scenario}`, so no
   reader sees these nodes, and they cannot collide with a user's scenario.
3. The switch, one small transaction: lock the scenario; if its lock counter is no longer the
   one read in step 1, another load committed meanwhile and this one fails with `LoadConflict`
   (nothing changed; run it again). Otherwise check that the staged copy is complete (its
   entity and relationship counts), rename the current nodes to `S~old-<token>` and the staged
   ones to `S`, and set the scenario's metadata as the one-transaction load does. Relationships
   carry no scenario, so only the nodes' `scenario` property changes.
4. After the switch, the `S~old-<token>` nodes are deleted in batches.

A reader that holds the scenario's lock sees the old version or the new one, never a mix (the
switch takes the same lock). A loader killed before the switch commits leaves the scenario as
it was, after it exactly the new version; either way it may leave `S~stage-*` or `S~old-*`
nodes, invisible to readers, which the next load of `S` (staged or not) and `delete_scenario`
remove before anything else. That clean-up takes the scenario's lock for each batch, so it can
never delete nodes that a concurrent switch is moving into `S`, and counts as a change of `S`
(it bumps the lock counter): a staged load whose staging it removed fails with `LoadConflict`
at its switch. The summary of a staged load is the difference of step 1, the same as the
one-transaction load reports.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from neo4j import ManagedTransaction

from graph.db import Database
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


def _native(value: Any) -> Any:
    if hasattr(value, "to_native"):
        return value.to_native()
    return value


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

# A load's first statement: takes the scenario's lock and returns the counter it found.
LOCK_FOR_LOAD = (
    "MERGE (s:Scenario {name: $scenario}) WITH s, s.lock AS before SET s.lock = coalesce(s.lock, 0) + 1 RETURN before"
)
SET_METADATA = (
    "MATCH (s:Scenario {name: $scenario}) "
    "SET s.loaded_at = datetime(), s.entity_count = $entities, s.relationship_count = $relationships, "
    "s.bundle_digest = $digest"
)


class _StageInstead(Exception):
    """Raised inside the one-transaction load to roll it back and load in stages instead."""

    def __init__(self, result: SyncResult, lock: int | None) -> None:
        super().__init__("staged")
        self.result = result
        self.lock = lock


def sync_scenario(
    db: Database,
    scenario: str,
    entities: Sequence[EntityLike],
    *,
    bundle_digest: str = "",
    progress: ProgressFn | None = None,
    tx_max_rows: int = DEFAULT_TX_MAX_ROWS,
) -> SyncResult:
    """Make `scenario` equal to `entities`; return what changed.

    In one transaction when at most `tx_max_rows` rows change, otherwise staged (module docstring).
    """
    check_scenario_name(scenario)
    if tx_max_rows <= 0:
        raise ValueError(f"tx_max_rows must be positive, not {tx_max_rows}")
    started = time.monotonic()
    sections = kinds_by_section()
    wanted_nodes = {e.id: (sections[e.section].label, e.props) for e in entities}
    wanted_rels = set(desired_relationships(entities))
    remove_leftovers(db, scenario)

    def work(tx: ManagedTransaction) -> SyncResult:
        lock = tx.run(LOCK_FOR_LOAD, scenario=scenario).single(strict=True)["before"]
        plan = _plan(tx, scenario, wanted_nodes, wanted_rels)
        if plan.result.rows > tx_max_rows:
            raise _StageInstead(plan.result, lock)  # rolls this transaction back
        _write(tx, scenario, plan, progress)
        tx.run(
            SET_METADATA,
            scenario=scenario,
            entities=plan.result.entity_count,
            relationships=plan.result.relationship_count,
            digest=bundle_digest,
        ).consume()
        return plan.result

    try:
        result = db.execute_write(work)
    except _StageInstead as stage:
        result = stage.result
        _staged_load(db, scenario, wanted_nodes, wanted_rels, stage.lock, bundle_digest, progress)
        result.staged = True
    result.seconds = time.monotonic() - started
    return result


@dataclass
class _Plan:
    result: SyncResult
    removed_nodes: list[str]
    created: dict[str, list[dict[str, Any]]]
    updated: list[dict[str, Any]]
    by_type_removed: dict[str, list[list[str]]]
    by_type_added: dict[str, list[list[str]]]


def _plan(
    tx: ManagedTransaction,
    scenario: str,
    wanted_nodes: dict[str, tuple[str, dict[str, Any]]],
    wanted_rels: set[Rel],
) -> _Plan:
    """Read the scenario as it is and work out what to write to make it the bundle."""
    result = SyncResult(scenario, {k.label: KindChanges() for k in KINDS})
    # Read back grouped, a few large records rather than one per node or relationship: the
    # driver's cost is per record, and this read is all a no-change re-load does.
    current_nodes: dict[str, tuple[str, dict[str, Any]]] = {}
    for record in tx.run(
        f"MATCH (n:{ENTITY_LABEL} {{scenario: $scenario}}) "
        f"WITH coalesce([l IN labels(n) WHERE l <> '{ENTITY_LABEL}'][0], '{ENTITY_LABEL}') AS label, n "
        "RETURN label, collect(properties(n)) AS nodes",
        scenario=scenario,
    ):
        for node in record["nodes"]:
            props = {k: _native(v) for k, v in node.items() if k != "scenario"}
            current_nodes[props["id"]] = (record["label"], props)
    current_rels: set[Rel] = set()
    for record in tx.run(
        f"MATCH (a:{ENTITY_LABEL} {{scenario: $scenario}})-[r]->(b:{ENTITY_LABEL} {{scenario: $scenario}}) "
        "RETURN type(r) AS type, collect([a.id, b.id]) AS pairs",
        scenario=scenario,
    ):
        rel_type = record["type"]
        current_rels.update((rel_type, start, end) for start, end in record["pairs"])

    removed_nodes: list[str] = []
    created: dict[str, list[dict[str, Any]]] = defaultdict(list)
    updated: list[dict[str, Any]] = []
    for node_id, (label, _props) in current_nodes.items():
        wanted = wanted_nodes.get(node_id)
        if wanted is None or wanted[0] != label:
            removed_nodes.append(node_id)
            result.entities.setdefault(label, KindChanges()).removed += 1
    for node_id, (label, props) in wanted_nodes.items():
        current = current_nodes.get(node_id)
        row = {**props, "scenario": scenario}
        if current is None or current[0] != label:
            created[label].append(row)
            result.entities[label].created += 1
        elif current[1] != props:
            updated.append(row)
            result.entities[label].updated += 1
    removed_set = set(removed_nodes)
    # Relationships of removed nodes go with them (DETACH DELETE); count them, don't delete twice.
    removed_rels = current_rels - wanted_rels
    explicit_removals = [r for r in removed_rels if r[1] not in removed_set and r[2] not in removed_set]
    added_rels = wanted_rels - current_rels
    # A node re-created under a new kind loses its relationships; re-add the wanted ones.
    added_rels |= {r for r in wanted_rels & current_rels if r[1] in removed_set or r[2] in removed_set}
    for rel_type, *_ in removed_rels:
        result.relationships.setdefault(rel_type, KindChanges()).removed += 1
    for rel_type, *_ in wanted_rels - current_rels:
        result.relationships.setdefault(rel_type, KindChanges()).created += 1

    by_type_removed: dict[str, list[list[str]]] = defaultdict(list)
    for rel_type, start, end in explicit_removals:
        by_type_removed[rel_type].append([start, end])
    by_type_added: dict[str, list[list[str]]] = defaultdict(list)
    for rel_type, start, end in sorted(added_rels):
        by_type_added[rel_type].append([start, end])

    result.entity_count = len(wanted_nodes)
    result.relationship_count = len(wanted_rels)
    return _Plan(result, removed_nodes, created, updated, by_type_removed, by_type_added)


def _write(tx: ManagedTransaction, scenario: str, plan: _Plan, progress: ProgressFn | None) -> None:
    """Write a plan's difference in the load's one transaction."""
    steps = (
        sum(_count_batches(v) for v in plan.by_type_removed.values())
        + _count_batches(plan.removed_nodes)
        + sum(_count_batches(v) for v in plan.created.values())
        + _count_batches(plan.updated)
        + sum(_count_batches(v) for v in plan.by_type_added.values())
    )
    step = _Steps(steps, progress)

    for rel_type, pairs in plan.by_type_removed.items():
        _check_rel_type(rel_type)
        for batch in _batches(pairs):
            tx.run(
                f"UNWIND $rows AS r MATCH (a:{ENTITY_LABEL} {{scenario: $scenario, id: r[0]}})"
                f"-[x:{rel_type}]->(b:{ENTITY_LABEL} {{scenario: $scenario, id: r[1]}}) {BY_ID_A} DELETE x",
                rows=batch,
                scenario=scenario,
            ).consume()
            step()
    for batch in _batches(plan.removed_nodes):
        tx.run(
            f"UNWIND $ids AS id MATCH (n:{ENTITY_LABEL} {{scenario: $scenario, id: id}}) {BY_ID_N} DETACH DELETE n",
            ids=batch,
            scenario=scenario,
        ).consume()
        step()
    for label, rows in plan.created.items():
        for batch in _batches(rows):
            _create_nodes(tx, label, batch)
            step()
    for batch in _batches(plan.updated):
        tx.run(
            f"UNWIND $rows AS r MATCH (n:{ENTITY_LABEL} {{scenario: $scenario, id: r.id}}) {BY_ID_N} SET n = r",
            rows=batch,
            scenario=scenario,
        ).consume()
        step()
    for rel_type, pairs in plan.by_type_added.items():
        for batch in _batches(pairs):
            _create_relationships(tx, scenario, rel_type, batch)
            step()
    if progress and steps == 0:
        progress(0, 0)


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


# --- staged loads ---------------------------------------------------------------------------


def conflict_message(scenario: str) -> str:
    return (
        f"another load of scenario {scenario!r} committed while this one was being staged; "
        "this load changed nothing: run it again"
    )


def _staged_load(
    db: Database,
    scenario: str,
    wanted_nodes: dict[str, tuple[str, dict[str, Any]]],
    wanted_rels: set[Rel],
    lock: int | None,
    bundle_digest: str,
    progress: ProgressFn | None,
) -> None:
    """Steps 2 to 4 of the module docstring: stage, switch in one small transaction, clean up."""
    token = secrets.token_hex(8)
    stage = f"{scenario}{STAGE_SEPARATOR}stage-{token}"
    old = f"{scenario}{STAGE_SEPARATOR}old-{token}"
    nodes_by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for label, props in wanted_nodes.values():
        nodes_by_label[label].append({**props, "scenario": stage})
    rels_by_type: dict[str, list[list[str]]] = defaultdict(list)
    for rel_type, start, end in sorted(wanted_rels):
        rels_by_type[rel_type].append([start, end])
    steps = (
        sum(_count_batches(v) for v in nodes_by_label.values())
        + sum(_count_batches(v) for v in rels_by_type.values())
        + 1  # the switch
    )
    step = _Steps(steps, progress)

    try:
        for label, rows in nodes_by_label.items():
            for batch in _batches(rows):
                db.execute_write(functools.partial(_create_nodes, label=label, rows=batch))
                step()
        for rel_type, pairs in rels_by_type.items():
            for batch in _batches(pairs):
                db.execute_write(
                    functools.partial(_create_relationships, scenario=stage, rel_type=rel_type, pairs=batch)
                )
                step()

        def switch(tx: ManagedTransaction) -> None:
            before = tx.run(LOCK_FOR_LOAD, scenario=scenario).single(strict=True)["before"]
            if before != lock:
                raise LoadConflict(conflict_message(scenario))
            counts = tx.run(
                f"MATCH (n:{ENTITY_LABEL} {{scenario: $stage}}) {BY_SCENARIO_N} "
                "RETURN count(n) AS nodes, sum(COUNT { (n)-->() }) AS rels",
                stage=stage,
            ).single(strict=True)
            if (counts["nodes"], counts["rels"]) != (len(wanted_nodes), len(wanted_rels)):
                raise StagingIncomplete(
                    f"the staged copy of scenario {scenario!r} holds {counts['nodes']} of {len(wanted_nodes)} "
                    f"entities and {counts['rels']} of {len(wanted_rels)} relationships; "
                    "this load changed nothing: run it again"
                )
            tx.run(
                f"MATCH (n:{ENTITY_LABEL} {{scenario: $scenario}}) {BY_SCENARIO_N} SET n.scenario = $old",
                scenario=scenario,
                old=old,
            ).consume()
            tx.run(
                f"MATCH (n:{ENTITY_LABEL} {{scenario: $stage}}) {BY_SCENARIO_N} SET n.scenario = $scenario",
                scenario=scenario,
                stage=stage,
            ).consume()
            tx.run(
                SET_METADATA,
                scenario=scenario,
                entities=len(wanted_nodes),
                relationships=len(wanted_rels),
                digest=bundle_digest,
            ).consume()

        db.execute_write(switch)
    except BaseException as error:
        # Nothing of this load is visible; take its staged nodes away again (best effort: what
        # is left is removed by the next load of the scenario).
        with contextlib.suppress(Exception):
            _delete_nodes(db, scenario, name=stage)
        if isinstance(error, Exception) and not isinstance(error, LoadConflict | StagingIncomplete):
            # A batch that failed because another load removed the staged nodes is a conflict too.
            current: Any = lock
            with contextlib.suppress(Exception):
                rows = db.read("MATCH (s:Scenario {name: $scenario}) RETURN s.lock AS lock", {"scenario": scenario})
                current = rows[0]["lock"] if rows else None
            if current != lock:
                raise LoadConflict(conflict_message(scenario)) from error
        raise
    step()
    # The load has committed; what is left of the old version is invisible, and if deleting it
    # fails here the next load of the scenario does it.
    with contextlib.suppress(Exception):
        _delete_nodes(db, scenario, name=old)


def _delete_nodes(db: Database, scenario: str, *, name: str | None = None, prefix: str | None = None) -> int:
    """Delete the entities of the private scenario `name`, or of every name that starts with
    `prefix`, in batches; each batch holds `scenario`'s lock (so none runs during a switch).
    Deleting by prefix removes other loads' nodes, and so counts as a change of `scenario`."""
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


def leftovers(db: Database, scenario: str) -> int:
    """How many nodes of staged loads of `scenario` (`S~stage-*`, `S~old-*`) exist."""
    rows = db.read(
        f"MATCH (n:{ENTITY_LABEL}) {BY_SCENARIO_N} WHERE n.scenario STARTS WITH $prefix RETURN count(n) AS n",
        {"prefix": scenario + STAGE_SEPARATOR},
    )
    return int(rows[0]["n"])


def remove_leftovers(db: Database, scenario: str) -> int:
    """Delete what staged loads of `scenario` left behind (killed, or still running: those then
    fail with `LoadConflict`); returns how many nodes. Nothing is written when there are none."""
    prefix = scenario + STAGE_SEPARATOR
    found = db.read(
        f"MATCH (n:{ENTITY_LABEL}) {BY_SCENARIO_N} WHERE n.scenario STARTS WITH $prefix RETURN 1 AS found LIMIT 1",
        {"prefix": prefix},
    )
    if not found:
        return 0
    return _delete_nodes(db, scenario, prefix=prefix)


def delete_scenario(db: Database, scenario: str) -> None:
    """Remove a scenario and everything kept for it (entities, waivers, snapshots, and what
    staged loads of it left behind)."""
    remove_leftovers(db, scenario)
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
