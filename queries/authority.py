"""Who *effectively holds* a decision right: the one definition, shared by checks and commands.

gap-checks.md (catalog 1.1, "Terms"): a person effectively holds a decision right on a model when
they hold a role that has it, or a delegation of it in force names them or a role they hold. A
delegation passes on only what its ``from`` role holds, and is not passed on again. A delegation
is in force on the as-of date from ``valid_from`` up to and including ``valid_to`` (either
missing: unbounded), bundle-format.md 1.1.

The rule is written once, as the Cypher fragment ``EFFECTIVE_HOLDERS``. A check file includes it
by writing ``{{effective_holders}}`` on a line of its Cypher (``queries.catalog`` expands it when
the file is loaded); Python code runs it through ``effective_holders()``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from graph.ontology import DECISION_RIGHTS, kind


class Reader(Protocol):
    def read(self, cypher: str, params: dict[str, Any]) -> list[dict[str, Any]]: ...


def _right_to_rel_type() -> str:
    cases = " ".join(
        f"WHEN '{right}' THEN '{kind(section).reference(field).rel_type}'"  # type: ignore[union-attr]
        for right, (section, field) in DECISION_RIGHTS.items()
    )
    return f"CASE right {cases} END"


def _rel_types() -> str:
    return "|".join(
        sorted({kind(section).reference(field).rel_type for section, field in DECISION_RIGHTS.values()})  # type: ignore[union-attr]
    )


EFFECTIVE_HOLDERS = f"""CALL (m, right) {{
  WITH m, right, {_right_to_rel_type()} AS rel_type
  CALL (m, right, rel_type) {{
    MATCH (giver:Role)-[g:{_rel_types()}]->(m)
    WHERE type(g) = rel_type
    RETURN giver
    UNION
    MATCH (m:AccessRequest)-[:FOR_DATA]->(:DataDomain)<-[:OWNS]-(giver:Role)
    WHERE right = 'access_approval' AND NOT EXISTS {{ (:Role)-[:DECIDES_ACCESS]->(m) }}
    RETURN giver
  }}
  CALL (m, right, giver) {{
    MATCH (holder:Person)-[:HOLDS]->(giver)
    RETURN holder, null AS delegation
    UNION
    MATCH (giver)-[:DELEGATES]->(delegation:Delegation)-[:DELEGATED_TO]->(to)
    WHERE delegation.right = right
      AND (delegation.valid_from IS NULL OR delegation.valid_from <= $as_of)
      AND (delegation.valid_to IS NULL OR $as_of <= delegation.valid_to)
      AND (NOT EXISTS {{ (delegation)-[:COVERS]->(:Model) }}
           OR EXISTS {{ (delegation)-[:COVERS]->(m) }}
           OR EXISTS {{ (delegation)-[:COVERS]->(:Model)<-[:REQUESTED_BY]-(m:AccessRequest) }})
    MATCH (to)<-[:HOLDS*0..1]-(holder:Person)
    RETURN holder, delegation
  }}
  RETURN giver, holder, delegation
}}"""
"""Cypher fragment: who effectively holds the decision right ``right`` on ``m``.

Contract. Before it, the variables ``m`` (a ``Model`` node, or an ``AccessRequest`` node for
``access_approval``) and ``right`` (a string: ``change_approval``, ``deployment_approval``,
``shutdown`` or ``access_approval``, the values of ``delegations.right``) must be bound, and the
query must have the parameter ``$as_of`` (a DATE; every check has it). After it, one row per way
the right reaches a person, with ``m`` and ``right`` still bound and three new variables:

- ``holder``: the ``Person`` who effectively holds the right;
- ``giver``: the ``Role`` that itself holds the right on ``m`` (``models.change_approvers``,
  ``deployment_approvers``, ``shutdown_authority``, ``access.approver``; for an access row with
  no approver, the owners of its data domain, bundle-format.md "default: the domain's owner"),
  which the holder holds or which delegated it;
- ``delegation``: ``null`` when the holder holds ``giver``; otherwise the ``Delegation`` in
  force on ``$as_of``, from ``giver``, for ``right``, whose ``models`` are empty or include ``m``
  (for an access row: include its consumer), naming the holder or a role the holder holds.

A person may appear in several rows (several roles, several delegations); ``m`` with no holder
gives no row. Delegations are followed one step only: a delegation to a role passes nothing that
role received by delegation, since ``giver`` must hold the right itself.
"""


def effective_holders(db: Reader, scenario: str, target_id: str, right: str, as_of: date) -> list[dict[str, Any]]:
    """Who effectively holds ``right`` on the model or access row ``target_id`` of ``scenario``
    on ``as_of``: a list of ``{holder, giver, delegation}`` ids (``delegation`` null when held
    through a role), sorted. ``right`` must be a key of ``graph.ontology.DECISION_RIGHTS``
    (ValueError otherwise)."""
    if right not in DECISION_RIGHTS:
        raise ValueError(f"unknown decision right {right!r}; known: {', '.join(DECISION_RIGHTS)}")
    rows = db.read(
        "MATCH (m:Entity {scenario: $scenario, id: $id}) WHERE m:Model OR m:AccessRequest "
        "WITH m, $right AS right "
        f"{EFFECTIVE_HOLDERS} "
        "RETURN DISTINCT holder.id AS holder, giver.id AS giver, delegation.id AS delegation "
        "ORDER BY holder, giver, delegation",
        {"scenario": scenario, "id": target_id, "right": right, "as_of": as_of},
    )
    return [dict(r) for r in rows]


FRAGMENTS: dict[str, str] = {"effective_holders": EFFECTIVE_HOLDERS}
"""Cypher fragments a check file may include as ``{{name}}`` (expanded by queries.catalog)."""
