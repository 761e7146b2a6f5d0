"""Making a scenario equal to a bundle, all or nothing.

A load runs as one write transaction that first locks the scenario's `(:Scenario)` node, so two
loads of one scenario never interleave (the second waits) and a reader never sees a half-written
scenario. Inside it the scenario's current nodes and relationships are read, compared with the
bundle, and only the difference is written in batched `UNWIND` statements. If anything fails,
or the loading process dies, the transaction rolls back and the scenario is exactly as before.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from neo4j import ManagedTransaction

from graph.db import Database
from graph.ontology import ENTITY_LABEL, KINDS, SCENARIO_PATTERN, kinds_by_label, kinds_by_section, rel_types

BATCH_SIZE = 10_000

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

    @property
    def changed(self) -> bool:
        return any(c.total for c in (*self.entities.values(), *self.relationships.values()))

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


def _batches(rows: list[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# Plans are cached per query text, and a plan made while a scenario was empty may scan instead of
# seeking; the hints pin every lookup by id to the (scenario, id) uniqueness index.
BY_ID_A = f"USING INDEX a:{ENTITY_LABEL}(scenario, id)"
BY_ID_B = f"USING INDEX b:{ENTITY_LABEL}(scenario, id)"
BY_ID_N = f"USING INDEX n:{ENTITY_LABEL}(scenario, id)"

ProgressFn = Callable[[int, int], None]
"""Called with (steps done, steps in all) as batches are written."""


def sync_scenario(
    db: Database,
    scenario: str,
    entities: Sequence[EntityLike],
    *,
    bundle_digest: str = "",
    progress: ProgressFn | None = None,
) -> SyncResult:
    """Make `scenario` equal to `entities` in one transaction; return what changed."""
    check_scenario_name(scenario)
    started = time.monotonic()
    sections = kinds_by_section()
    wanted_nodes = {e.id: (sections[e.section].label, e.props) for e in entities}
    wanted_rels = set(desired_relationships(entities))

    def work(tx: ManagedTransaction) -> SyncResult:
        tx.run("MERGE (s:Scenario {name: $scenario}) SET s.lock = coalesce(s.lock, 0) + 1", scenario=scenario).consume()
        result = _apply(tx, scenario, wanted_nodes, wanted_rels, progress)
        tx.run(
            "MATCH (s:Scenario {name: $scenario}) "
            "SET s.loaded_at = datetime(), s.entity_count = $entities, s.relationship_count = $relationships, "
            "s.bundle_digest = $digest",
            scenario=scenario,
            entities=result.entity_count,
            relationships=result.relationship_count,
            digest=bundle_digest,
        ).consume()
        return result

    result = db.execute_write(work)
    result.seconds = time.monotonic() - started
    return result


def _apply(
    tx: ManagedTransaction,
    scenario: str,
    wanted_nodes: dict[str, tuple[str, dict[str, Any]]],
    wanted_rels: set[Rel],
    progress: ProgressFn | None,
) -> SyncResult:
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

    steps = (
        sum(_count_batches(v) for v in by_type_removed.values())
        + _count_batches(removed_nodes)
        + sum(_count_batches(v) for v in created.values())
        + _count_batches(updated)
        + sum(_count_batches(v) for v in by_type_added.values())
    )
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, steps)

    for rel_type, pairs in by_type_removed.items():
        _check_rel_type(rel_type)
        for batch in _batches(pairs):
            tx.run(
                f"UNWIND $rows AS r MATCH (a:{ENTITY_LABEL} {{scenario: $scenario, id: r[0]}})"
                f"-[x:{rel_type}]->(b:{ENTITY_LABEL} {{scenario: $scenario, id: r[1]}}) {BY_ID_A} DELETE x",
                rows=batch,
                scenario=scenario,
            ).consume()
            step()
    for batch in _batches(removed_nodes):
        tx.run(
            f"UNWIND $ids AS id MATCH (n:{ENTITY_LABEL} {{scenario: $scenario, id: id}}) {BY_ID_N} DETACH DELETE n",
            ids=batch,
            scenario=scenario,
        ).consume()
        step()
    for label, rows in created.items():
        _check_label(label)
        for batch in _batches(rows):
            tx.run(f"UNWIND $rows AS r CREATE (n:{ENTITY_LABEL}:{label}) SET n = r", rows=batch).consume()
            step()
    for batch in _batches(updated):
        tx.run(
            f"UNWIND $rows AS r MATCH (n:{ENTITY_LABEL} {{scenario: $scenario, id: r.id}}) {BY_ID_N} SET n = r",
            rows=batch,
            scenario=scenario,
        ).consume()
        step()
    for rel_type, pairs in by_type_added.items():
        _check_rel_type(rel_type)
        for batch in _batches(pairs):
            tx.run(
                f"UNWIND $rows AS r MATCH (a:{ENTITY_LABEL} {{scenario: $scenario, id: r[0]}}) {BY_ID_A} "
                f"MATCH (b:{ENTITY_LABEL} {{scenario: $scenario, id: r[1]}}) {BY_ID_B} "
                f"CREATE (a)-[:{rel_type}]->(b)",
                rows=batch,
                scenario=scenario,
            ).consume()
            step()
    if progress and steps == 0:
        progress(0, 0)

    result.entity_count = len(wanted_nodes)
    result.relationship_count = len(wanted_rels)
    return result


def _count_batches(rows: list[Any]) -> int:
    return (len(rows) + BATCH_SIZE - 1) // BATCH_SIZE


def _check_label(label: str) -> None:
    # Labels and types are spliced into Cypher; they may only ever come from the ontology.
    if label not in kinds_by_label():
        raise ValueError(f"not an ontology label: {label!r}")


def _check_rel_type(rel_type: str) -> None:
    if rel_type not in rel_types():
        raise ValueError(f"not an ontology relationship type: {rel_type!r}")


def delete_scenario(db: Database, scenario: str) -> None:
    """Remove a scenario and everything kept for it (entities, waivers, snapshots)."""
    with db.errors(), db.session() as session:
        # IN TRANSACTIONS needs an auto-commit transaction, hence session.run.
        session.run(
            f"MATCH (n:{ENTITY_LABEL} {{scenario: $scenario}}) "
            "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
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
