"""Who holds the decision rights on an entity: the one function for "who owns it, who approves its
changes and deployments, who can stop it", used by `GET /scenarios/{s}/entities/{id}/who`,
`tomgraph who` and the explorer's entity page.

Rights reach people through the roles they hold (domain.md, "Effective authority"). Bundle format
1.1 adds delegations; when it lands, they are added in `_HOLDERS` (one more `COLLECT` per grant:
the delegations in force from the role) and in `Holder.delegations`, and every caller shows them.

The query is plain Cypher with parameters, run by the API's async driver and the CLI's sync
driver alike (`who_query()` and `who_answer(row)`), so the rule lives in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from graph.ontology import edge_types, kinds_by_label, kinds_by_section


@dataclass(frozen=True)
class Right:
    """A decision right as the ontology draws it: (Role)-[rel_type]->(entity)."""

    rel_type: str
    key: str
    verb: str
    """How the right reads after a role's name: "approves its changes"."""
    nobody: str
    """The sentence when no role holds it."""


RIGHTS: tuple[Right, ...] = (
    Right("OWNS", "ownership", "owns it", "Nobody is named as its owner."),
    Right("SPONSORS", "sponsorship", "sponsors it", "Nobody sponsors it."),
    Right("FUNDS", "funding", "decides its funding", "Nobody decides its funding."),
    Right("APPROVES_USE_CASE", "use_case_approval", "approves it", "Nobody is named to approve it."),
    Right("APPROVES_CHANGE", "change_approval", "approves its changes", "Nobody is named to approve its changes."),
    Right(
        "APPROVES_DEPLOYMENT",
        "deployment_approval",
        "approves its deployments",
        "Nobody is named to approve its deployments.",
    ),
    Right("CAN_SHUT_DOWN", "shutdown", "can shut it down", "Nobody is named who can shut it down."),
    Right("DECIDES_ACCESS", "access_decision", "decides this access", "Nobody is named to decide this access."),
    Right("OPERATES", "operation", "operates it", "Nobody operates it."),
)
"""The decision rights, in the order a person asks about them (domain.md, "Decision rights")."""


@cache
def rights_for(section: str) -> tuple[Right, ...]:
    """The decision rights the ontology lets a role hold over an entity of `section` (e.g. a
    model: ownership, change and deployment approval, shutdown)."""
    label = kinds_by_section()[section].label
    held = {e.rel_type for e in edge_types() if e.start == "Role" and e.end == label}
    return tuple(r for r in RIGHTS if r.rel_type in held)


@cache
def who_query() -> str:
    """One read: the scenario, the entity, and every role holding a decision right on it with the
    people who hold that role. Relationship types come from `RIGHTS`, never from input."""
    types = "|".join(r.rel_type for r in RIGHTS)
    return f"""
OPTIONAL MATCH (sc:Scenario {{name: $scenario}})
OPTIONAL MATCH (n:Entity {{scenario: $scenario, id: $id}})
RETURN sc IS NOT NULL AS scenario_found, n IS NOT NULL AS found, labels(n) AS labels, n.name AS name,
  COLLECT {{
    MATCH (n)<-[r:{types}]-(role:Role)
    RETURN {{right: type(r), role: role.id, role_name: role.name,
            people: COLLECT {{ MATCH (p:Person)-[:HOLDS]->(role) RETURN {{id: p.id, name: p.name}} ORDER BY p.id }}}}
    ORDER BY role.id
  }} AS grants
"""


def _kind(labels: list[str] | None) -> str | None:
    return next((kinds_by_label()[x].section for x in labels or () if x in kinds_by_label()), None)


def _named(name: str | None, entity_id: str) -> str:
    return f"{name} ({entity_id})" if name and name != entity_id else entity_id


def _holder_phrase(holder: dict[str, Any]) -> str:
    role = _named(holder["role"]["name"], holder["role"]["id"])
    people = holder["people"]
    if not people:
        return f"{role}, a role nobody holds"
    return f"{role}, held by " + ", ".join(_named(p["name"], p["id"]) for p in people)


def who_answer(scenario: str, entity_id: str, row: dict[str, Any]) -> dict[str, Any] | None:
    """Shape one row of `who_query()` as the answer (None if the entity does not exist):

    ``{"scenario", "id", "kind", "name", "rights": [{"right", "relationship", "verb", "holders":
    [{"role": {"id", "name"}, "people": [{"id", "name"}], "vacant": bool}], "people": [ids],
    "sentence"}], "sentences": [str]}``. Every right the ontology allows over the entity's kind
    is listed, held or not; a right held by no role, or only by vacant roles, says so in words.
    """
    if not row["found"]:
        return None
    section = _kind(row["labels"])
    rights = rights_for(section) if section else ()
    by_right: dict[str, list[dict[str, Any]]] = {}
    for grant in row["grants"]:
        people = [{"id": p["id"], "name": p["name"]} for p in grant["people"]]
        holder = {"role": {"id": grant["role"], "name": grant["role_name"]}, "people": people, "vacant": not people}
        by_right.setdefault(grant["right"], []).append(holder)
    out = []
    for right in rights:
        holders = by_right.get(right.rel_type, [])
        people = sorted({p["id"] for h in holders for p in h["people"]})
        if not holders:
            sentence = right.nobody
        else:
            sentence = f"{right.verb[0].upper()}{right.verb[1:]}: " + "; or ".join(_holder_phrase(h) for h in holders)
            if not people:
                sentence += ". Nobody can act on it today."
            else:
                sentence += "."
        out.append(
            {
                "right": right.key,
                "relationship": right.rel_type,
                "verb": right.verb,
                "holders": holders,
                "people": people,
                "sentence": sentence,
            }
        )
    singular = kinds_by_section()[section].singular if section else "entity"
    intro = f"{_named(row['name'], entity_id)} is a {singular} in scenario '{scenario}'."
    if not rights:
        intro += f" No decision rights are held over a {singular}."
    return {
        "scenario": scenario,
        "id": entity_id,
        "kind": section or "unknown",
        "name": row["name"],
        "rights": out,
        "sentences": [intro, *(r["sentence"] for r in out)],
    }


__all__ = ["RIGHTS", "Right", "rights_for", "who_answer", "who_query"]
