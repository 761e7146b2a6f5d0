"""What changes from scenario A to scenario B: entities, relationships, moved decision rights, and
the findings B fixes and introduces.

The comparison runs in Cypher, one pass per side: each entity of one scenario is looked up by
(scenario, id) in the other through the uniqueness index, and each relationship is checked with
an expand-into between the two looked-up endpoints, so only the differences travel to Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import cache
from typing import Any

from graph.consistent import ScenarioView, consistent_view, pinned_view
from graph.db import Database
from graph.dump import plain
from graph.errors import NotFound
from graph.ontology import ENTITY_LABEL, edge_types, kinds_by_label
from queries.catalog import Catalog
from queries.findings import Finding, finding_identity
from queries.runner import run_checks_in

DECISION_RIGHT_TYPES: tuple[str, ...] = (
    "OWNS",
    "APPROVES_CHANGE",
    "APPROVES_DEPLOYMENT",
    "CAN_SHUT_DOWN",
    "SPONSORS",
    "FUNDS",
    "APPROVES_USE_CASE",
    "DECIDES_ACCESS",
    "OPERATES",
)
"""Relationships that give a role a decision right; when one passes from a role to another for the
same entity, the diff shows it as a move."""

RIGHT_PHRASES: dict[str, str] = {
    "owner": "ownership",
    "owners": "ownership",
    "change_approvers": "change approval",
    "deployment_approvers": "deployment approval",
    "shutdown_authority": "shutdown authority",
    "sponsor": "sponsorship",
    "budget_owner": "budget ownership",
    "approved_by": "approval",
    "approver": "access decision",
    "operated_by": "operation",
}
"""How each decision-right field of the ontology reads in a move; other fields read as their name."""

IGNORED_PROPERTIES = frozenset({"scenario"})
DIFF_PARALLEL_READS = 2
"""Queries of one diff that run at the same time (the machine the benchmarks target has 2 cores)."""

_BY_ID_Y = f"USING INDEX y:{ENTITY_LABEL}(scenario, id)"
_BY_ID_Y2 = f"USING INDEX y2:{ENTITY_LABEL}(scenario, id)"

_ONLY_LEFT_OR_CHANGED = f"""
MATCH (x:{ENTITY_LABEL} {{scenario: $left}})
OPTIONAL MATCH (y:{ENTITY_LABEL} {{scenario: $right, id: x.id}}) {_BY_ID_Y}
WITH x, y
WHERE y IS NULL
   OR size(labels(x)) <> size(labels(y)) OR any(l IN labels(x) WHERE NOT l IN labels(y))
   OR any(k IN keys(x) + keys(y) WHERE k <> 'scenario' AND (x[k] IS NULL OR y[k] IS NULL OR x[k] <> y[k]))
RETURN x.id AS id, labels(x) AS labels, properties(x) AS left,
       CASE WHEN y IS NULL THEN null ELSE {{labels: labels(y), props: properties(y)}} END AS right
"""

_ONLY_RIGHT = f"""
MATCH (y:{ENTITY_LABEL} {{scenario: $right}})
WHERE NOT EXISTS {{ MATCH (x:{ENTITY_LABEL} {{scenario: $left, id: y.id}}) }}
RETURN y.id AS id, labels(y) AS labels, y.name AS name
"""

# Cheap first pass: an entity whose outgoing relationships read the same on both sides (compared
# as sorted lists, one expansion per node) is skipped; only the rest are compared edge by edge.
_RELS_ONLY_LEFT = f"""
MATCH (x:{ENTITY_LABEL} {{scenario: $left}})
OPTIONAL MATCH (y:{ENTITY_LABEL} {{scenario: $right, id: x.id}}) {_BY_ID_Y}
WITH x, y
WHERE y IS NULL
   OR COLLECT {{ MATCH (x)-[r]->(e) RETURN type(r) + '>' + e.id AS edge ORDER BY edge }}
      <> COLLECT {{ MATCH (y)-[r]->(e) RETURN type(r) + '>' + e.id AS edge ORDER BY edge }}
MATCH (x)-[r]->(x2:{ENTITY_LABEL})
OPTIONAL MATCH (y2:{ENTITY_LABEL} {{scenario: $right, id: x2.id}}) {_BY_ID_Y2}
WITH x, r, x2, y, y2
WHERE y IS NULL OR y2 IS NULL OR NOT EXISTS {{ MATCH (y)-[r2]->(y2) WHERE type(r2) = type(r) }}
RETURN type(r) AS type, x.id AS start, x2.id AS end, labels(x2) AS end_labels, y2 IS NOT NULL AS end_in_both
"""


def diff_scenarios(
    db: Database,
    catalog: Catalog,
    a: str,
    b: str,
    as_of: date,
    *,
    at_a: date | None = None,
    at_b: date | None = None,
) -> dict[str, Any]:
    """Everything that changes from scenario ``a`` (as in force on ``at_a``, default today) to
    ``b`` (on ``at_b``), and the findings that go and come. ``a`` and ``b`` may be one scenario
    at two dates (`tomgraph diff S@D1 S@D2`).

    Each side is read in a view of its own (one version each, read transactions). Raises
    ``graph.errors.NotFound`` when either scenario has not been loaded or had no version then.
    """
    with consistent_view(db, a, at_a) as left, consistent_view(db, b, at_b) as right:
        return diff_views(db, catalog, left, right, as_of, at_a=at_a, at_b=at_b)


def diff_views(
    db: Database,
    catalog: Catalog,
    left: ScenarioView,
    right: ScenarioView,
    as_of: date,
    *,
    at_a: date | None = None,
    at_b: date | None = None,
) -> dict[str, Any]:
    """`diff_scenarios` of two open views (`graph.consistent.consistent_view`), for a caller
    that reads more of the same versions (the transition plan reads the target's initiatives in
    ``right``). ``at_a``/``at_b`` only name the sides (``S@DATE``). Raises ``NotFound`` for a
    view of a scenario that has not been loaded."""
    for view in (left, right):
        if not view.found:
            raise NotFound(f"scenario '{view.scenario}' has not been loaded")
    params = {"left": left.physical, "right": right.physical}

    def read(cypher: str, read_params: dict[str, Any]) -> list[dict[str, Any]]:
        # Both copies are immutable once published: any read transaction can read both.
        with pinned_view(db, left) as view:
            return view.read(cypher, read_params)

    def findings_of(side: ScenarioView) -> list[Finding]:
        with pinned_view(db, side) as view:
            # One check at a time: the diff already reads two things at once.
            return run_checks_in(view, catalog, as_of, workers=1)["findings"]

    # The four comparisons and the two runs of the checks are independent: run them side by
    # side, so that Neo4j works on two at a time instead of one (each query runs on one core).
    with ThreadPoolExecutor(max_workers=DIFF_PARALLEL_READS) as pool:
        reads = [
            pool.submit(read, cypher, reads_params)
            for cypher, reads_params in (
                (_RELS_ONLY_LEFT, params),
                (_RELS_ONLY_LEFT, {"left": right.physical, "right": left.physical}),
                (_ONLY_LEFT_OR_CHANGED, params),
                (_ONLY_RIGHT, params),
            )
        ]
        runs = [pool.submit(findings_of, side) for side in (left, right)]
        removed_rels, added_rels, left_rows, added_rows = (r.result() for r in reads)
        findings_a, findings_b = (r.result() for r in runs)

    removed, changed = [], []
    for row in left_rows:
        if row["right"] is None:
            removed.append(_entity(row["id"], row["labels"], row["left"].get("name")))
        else:
            changed.append(_changed(row))
    added = [_entity(row["id"], row["labels"], row["name"]) for row in added_rows]

    moves, rels_removed, rels_added = _moves(removed_rels, added_rels)

    ids_a = {finding_identity(f["check"], f["subjects"]) for f in findings_a}
    ids_b = {finding_identity(f["check"], f["subjects"]) for f in findings_b}
    fixed = [f for f in findings_a if finding_identity(f["check"], f["subjects"]) not in ids_b]
    introduced = [f for f in findings_b if finding_identity(f["check"], f["subjects"]) not in ids_a]

    entity_key = lambda e: (e["kind"], e["id"])  # noqa: E731
    result: dict[str, Any] = {
        "a": _side(left.scenario, at_a),
        "b": _side(right.scenario, at_b),
        "as_of": as_of.isoformat(),
        "entities": {
            "added": sorted(added, key=entity_key),
            "removed": sorted(removed, key=entity_key),
            "changed": sorted(changed, key=entity_key),
        },
        "relationships": {"added": rels_added, "removed": rels_removed},
        "moves": moves,
        "findings": {"fixed": _strip(fixed), "introduced": _strip(introduced), "unchanged": len(ids_a & ids_b)},
    }
    result["counts"] = {
        "entities": {k: len(v) for k, v in result["entities"].items()},
        "relationships": {k: len(v) for k, v in result["relationships"].items()},
        "moves": len(moves),
        "findings": {"fixed": len(fixed), "introduced": len(introduced), "unchanged": len(ids_a & ids_b)},
    }
    return result


def _side(scenario: str, at: date | None) -> str:
    """How a side of the diff is named: `S`, or `S@DATE` for a version at a date."""
    return scenario if at is None else f"{scenario}@{at.isoformat()}"


def _kind_label(labels: Iterable[str]) -> str:
    kinds = [label for label in labels if label in kinds_by_label()]
    return kinds[0] if kinds else next((label for label in labels if label != ENTITY_LABEL), ENTITY_LABEL)


def _entity(entity_id: str, labels: Iterable[str], name: Any) -> dict[str, Any]:
    return {"id": entity_id, "kind": _kind_label(labels), "name": name}


def _changed(row: dict[str, Any]) -> dict[str, Any]:
    old, new = row["left"], row["right"]["props"]
    changes: dict[str, dict[str, Any]] = {}
    old_kind, new_kind = _kind_label(row["labels"]), _kind_label(row["right"]["labels"])
    if old_kind != new_kind:
        changes["kind"] = {"old": old_kind, "new": new_kind}
    for key in sorted((set(old) | set(new)) - IGNORED_PROPERTIES):
        before, after = plain(old.get(key)), plain(new.get(key))
        if before != after:
            changes[key] = {"old": before, "new": after}
    return {"id": row["id"], "kind": new_kind, "name": new.get("name"), "changes": changes}


@cache
def _right_phrases() -> dict[tuple[str, str], str]:
    """(relationship type, label of the entity the right is over) -> how the right reads."""
    out: dict[tuple[str, str], str] = {}
    for edge in edge_types():
        if edge.rel_type in DECISION_RIGHT_TYPES:
            out[(edge.rel_type, edge.end)] = RIGHT_PHRASES.get(edge.field, edge.field.replace("_", " "))
    return out


def right_phrase(rel_type: str, end_label: str) -> str:
    return _right_phrases().get((rel_type, end_label), rel_type.lower().replace("_", " "))


def _moves(
    removed_rows: list[dict[str, Any]], added_rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, str]], list[dict[str, str]]]:
    """Pair a decision right taken from one role with the same right given to another role over the
    same entity (present in both scenarios) as a move; the rest stay removed or added."""
    taken: dict[tuple[str, str], list[str]] = defaultdict(list)
    given: dict[tuple[str, str], list[str]] = defaultdict(list)
    end_kind: dict[str, str] = {}
    for rows, side in ((removed_rows, taken), (added_rows, given)):
        for row in rows:
            if row["type"] in DECISION_RIGHT_TYPES and row["end_in_both"]:
                side[(row["type"], row["end"])].append(row["start"])
                end_kind[row["end"]] = _kind_label(row["end_labels"])
    moves: list[dict[str, Any]] = []
    moved: set[tuple[str, str, str]] = set()
    for key in sorted(taken.keys() & given.keys()):
        rel_type, subject = key
        for old, new in zip(sorted(taken[key]), sorted(given[key]), strict=False):
            phrase = right_phrase(rel_type, end_kind[subject])
            moves.append(
                {
                    "right": phrase,
                    "type": rel_type,
                    "subject": subject,
                    "subject_kind": end_kind[subject],
                    "from": old,
                    "to": new,
                    "text": f"{phrase} of {subject}: from {old} to {new}",
                }
            )
            moved.add((rel_type, old, subject))
            moved.add((rel_type, new, subject))

    def rest(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
        return sorted(
            (
                {"type": r["type"], "start": r["start"], "end": r["end"]}
                for r in rows
                if (r["type"], r["start"], r["end"]) not in moved
            ),
            key=lambda r: (r["type"], r["start"], r["end"]),
        )

    return moves, rest(removed_rows), rest(added_rows)


def _strip(findings: list[Finding]) -> list[dict[str, Any]]:
    return [dict(f) for f in findings]
