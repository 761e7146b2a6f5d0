"""Decision rights and who holds them: the one place for "who owns it, who approves its changes
and deployments, who can stop it".

Two parts, one module:

- *Effectively holds* (gap-checks.md, catalog 1.1, "Terms"): a person effectively holds a decision
  right on a model when they hold a role that has it, or a delegation of it in force names them or
  a role they hold. A delegation passes on only what its ``from`` role holds, and is not passed on
  again. A delegation is in force on the as-of date from ``valid_from`` up to and including
  ``valid_to`` (either missing: unbounded), bundle-format.md 1.1. The rule is written once, as the
  Cypher fragment ``EFFECTIVE_HOLDERS``; a check file includes it by writing
  ``{{effective_holders}}`` on a line of its Cypher (``queries.catalog`` expands it when the file is
  loaded); Python code runs it through ``effective_holders()``.
- *Who* (``who_query()`` and ``who_answer(row)``): every role holding a decision right on an entity
  with the people who hold that role, in words, for ``GET /scenarios/{s}/entities/{id}/who``,
  ``tomgraph who`` and the explorer's entity page. It is plain Cypher with parameters, run by the
  API's async driver and the CLI's sync driver alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Protocol

from events.cypher import REQUEST_ANSWERED
from graph.history import FOUND_AT, RESOLVE_AT
from graph.ontology import DECISION_RIGHTS, edge_types, kind, kinds_by_label, kinds_by_section


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
    """One read: the version of scenario `$scenario` in force on `$at` (graph/history.py
    `RESOLVE_AT`: `physical` is the name it is stored under), the entity `$id`, and every role
    holding a decision right on it with the people who hold that role. Relationship types come
    from `RIGHTS`, never from input."""
    types = "|".join(r.rel_type for r in RIGHTS)
    return f"""{RESOLVE_AT}
OPTIONAL MATCH (n:Entity {{scenario: tg_p, id: $id}})
RETURN {FOUND_AT}, tg_p AS physical, n IS NOT NULL AS found, labels(n) AS labels, n.name AS name,
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
    if holder.get("delegation"):
        person = ", ".join(_named(p["name"], p["id"]) for p in people)
        return f"{person}, by delegation {holder['delegation']} from {role}"
    if not people:
        return f"{role}, a role nobody holds"
    return f"{role}, held by " + ", ".join(_named(p["name"], p["id"]) for p in people)


def who_answer(
    scenario: str, entity_id: str, row: dict[str, Any], delegated: list[dict[str, Any]] | None = None
) -> dict[str, Any] | None:
    """Shape one row of `who_query()` as the answer (None if the entity does not exist):

    ``{"scenario", "id", "kind", "name", "rights": [{"right", "relationship", "verb", "holders":
    [{"role": {"id", "name"}, "people": [{"id", "name"}], "vacant": bool}], "people": [ids],
    "sentence"}], "sentences": [str]}``. Every right the ontology allows over the entity's kind
    is listed, held or not; a right held by no role, or only by vacant roles, says so in words.
    `delegated` are the rows of `delegated_query()` (delegations in force): each adds a holder
    ``{"role": the delegating role, "people": [the person], "vacant": false, "delegation": id}``,
    so that the rights read as they are effectively held (gap-checks.md 1.1, "Terms").
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
    for d in delegated or ():
        section_field = DECISION_RIGHTS.get(d["right"])
        if section_field is None:
            continue
        rel_type = kind(section_field[0]).reference(section_field[1]).rel_type  # type: ignore[union-attr]
        by_right.setdefault(rel_type, []).append(
            {
                "role": {"id": d["giver"], "name": d["giver_name"]},
                "people": [{"id": d["holder"], "name": d["holder_name"]}],
                "vacant": False,
                "delegation": d["delegation"],
            }
        )
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


def _effective_holders(day: str | None) -> str:
    """The fragment below; with `day` (a variable name), delegations are in force on that
    variable's date instead of ``$as_of``."""
    on = day or "$as_of"
    with_day = f", {day}" if day else ""
    return f"""CALL (m, right{with_day}) {{
  WITH m, right{with_day}, {_right_to_rel_type()} AS rel_type
  CALL (m, right, rel_type) {{
    MATCH (giver:Role)-[g:{_rel_types()}]->(m)
    WHERE type(g) = rel_type
    RETURN giver
    UNION
    MATCH (m:AccessRequest)-[:FOR_DATA]->(:DataDomain)<-[:OWNS]-(giver:Role)
    WHERE right = 'access_approval' AND NOT EXISTS {{ (:Role)-[:DECIDES_ACCESS]->(m) }}
    RETURN giver
  }}
  CALL (m, right, giver{with_day}) {{
    MATCH (holder:Person)-[:HOLDS]->(giver)
    RETURN holder, null AS delegation
    UNION
    MATCH (giver)-[:DELEGATES]->(delegation:Delegation)-[:DELEGATED_TO]->(to)
    WHERE delegation.right = right
      AND (delegation.valid_from IS NULL OR delegation.valid_from <= {on})
      AND (delegation.valid_to IS NULL OR {on} <= delegation.valid_to)
      AND (NOT EXISTS {{ (delegation)-[:COVERS]->(:Model) }}
           OR EXISTS {{ (delegation)-[:COVERS]->(m) }}
           OR EXISTS {{ (delegation)-[:COVERS]->(:Model)<-[:REQUESTED_BY]-(m:AccessRequest) }})
    MATCH (to)<-[:HOLDS*0..1]-(holder:Person)
    RETURN holder, delegation
  }}
  RETURN giver, holder, delegation
}}"""


EFFECTIVE_HOLDERS = _effective_holders(None)
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
    through a role), sorted. ``scenario`` is the name the version read is stored under (a
    view's ``physical``, graph/consistent.py; ``graph.history.physical_name``). ``right`` must be
    a key of ``graph.ontology.DECISION_RIGHTS`` (ValueError otherwise)."""
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


def authority_paths_query() -> str:
    """Every way a person reaches a decision right (``DECISION_RIGHTS``) on the model or access
    row ``$id`` of ``$scenario`` on ``$as_of``: the ``EFFECTIVE_HOLDERS`` rule (roles held and
    delegations in force), plus the people holding a *deputy* of a role that itself holds the
    right (roles.deputy: "acts for this role when its holders are absent"; domain.md, "Effective
    authority"). One row per (right, holder, giver, delegation, through, deputy), each a map
    ``{id, name}`` or null; ``through`` is the role a delegation names when it names a role the
    holder holds. For ``authority_paths(rows)``."""
    return f"""
MATCH (m:Entity {{scenario: $scenario, id: $id}}) WHERE m:Model OR m:AccessRequest
UNWIND $rights AS right
CALL (m, right) {{
  {EFFECTIVE_HOLDERS}
  OPTIONAL MATCH (delegation)-[:DELEGATED_TO]->(through:Role)<-[:HOLDS]-(holder)
  RETURN giver, holder, delegation, through, null AS deputy
  UNION
  WITH m, right, {_right_to_rel_type()} AS rel_type
  MATCH (giver:Role)-[g:{_rel_types()}]->(m)
  WHERE type(g) = rel_type
  MATCH (holder:Person)-[:HOLDS]->(deputy:Role)-[:DEPUTIZES_FOR]->(giver)
  RETURN giver, holder, null AS delegation, null AS through, deputy
}}
WITH DISTINCT right, holder, giver, delegation, through, deputy
RETURN right, {{id: holder.id, name: holder.name}} AS holder, {{id: giver.id, name: giver.name}} AS giver,
  CASE WHEN delegation IS NULL THEN null ELSE {{id: delegation.id, name: delegation.name}} END AS delegation,
  CASE WHEN through IS NULL THEN null ELSE {{id: through.id, name: through.name}} END AS through,
  CASE WHEN deputy IS NULL THEN null ELSE {{id: deputy.id, name: deputy.name}} END AS deputy
ORDER BY holder.id, right, giver.id, delegation.id, through.id, deputy.id
"""


def _rel_type_of(right: str) -> str:
    section, field = DECISION_RIGHTS[right]
    return kind(section).reference(field).rel_type  # type: ignore[union-attr]


def authority_paths(
    scenario: str, entity_id: str, section: str, name: str | None, as_of: date, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Shape the rows of ``authority_paths_query()`` as the answer of ``GET
    /scenarios/{s}/entities/{id}/authority``: ``{"scenario", "id", "kind", "name", "as_of",
    "people": [{"id", "name", "paths": [{"right", "how", "text", "nodes": [{"id", "kind", "name"}],
    "relationships": [{"start", "type", "end"}]}]}]}``, people by id. ``how`` is ``role`` (the
    person holds a role that holds the right), ``delegation`` (a delegation in force names the
    person, or a role the person holds) or ``deputy`` (the person holds the deputy of a role that
    holds the right: only while its holders are absent). Each path runs from the person to the
    entity along relationships as stored (``start`` -[``type``]-> ``end``)."""
    target = {"id": entity_id, "kind": section, "name": name}
    people: dict[str, dict[str, Any]] = {}
    for r in rows:
        holder, giver, delegation, through, deputy = (
            r["holder"],
            r["giver"],
            r["delegation"],
            r["through"],
            r["deputy"],
        )
        right_rel = {"start": giver["id"], "type": _rel_type_of(r["right"]), "end": entity_id}
        person = {"id": holder["id"], "kind": "people", "name": holder["name"]}
        role = {"id": giver["id"], "kind": "roles", "name": giver["name"]}
        giver_name = _named(giver["name"], giver["id"])
        verb = r["right"].replace("_", " ")
        if delegation is not None:
            d = {"id": delegation["id"], "kind": "delegations", "name": delegation["name"]}
            rels = [
                {"start": giver["id"], "type": "DELEGATES", "end": delegation["id"]},
                right_rel,
            ]
            if through is not None:
                via = {"id": through["id"], "kind": "roles", "name": through["name"]}
                nodes = [person, via, d, role, target]
                rels = [
                    {"start": holder["id"], "type": "HOLDS", "end": through["id"]},
                    {"start": delegation["id"], "type": "DELEGATED_TO", "end": through["id"]},
                    *rels,
                ]
                text = (
                    f"{verb}: holds {_named(through['name'], through['id'])}, to which delegation "
                    f"{delegation['id']} passes it from {giver_name}"
                )
            else:
                nodes = [person, d, role, target]
                rels = [{"start": delegation["id"], "type": "DELEGATED_TO", "end": holder["id"]}, *rels]
                text = f"{verb}: by delegation {delegation['id']} from {giver_name}"
            how = "delegation"
        elif deputy is not None:
            dep = {"id": deputy["id"], "kind": "roles", "name": deputy["name"]}
            nodes = [person, dep, role, target]
            rels = [
                {"start": holder["id"], "type": "HOLDS", "end": deputy["id"]},
                {"start": deputy["id"], "type": "DEPUTIZES_FOR", "end": giver["id"]},
                right_rel,
            ]
            text = (
                f"{verb}: holds {_named(deputy['name'], deputy['id'])}, the deputy of {giver_name}"
                " (only while its holders are absent)"
            )
            how = "deputy"
        else:
            nodes = [person, role, target]
            rels = [{"start": holder["id"], "type": "HOLDS", "end": giver["id"]}, right_rel]
            text = f"{verb}: holds {giver_name}"
            how = "role"
        entry = people.setdefault(holder["id"], {"id": holder["id"], "name": holder["name"], "paths": []})
        entry["paths"].append({"right": r["right"], "how": how, "text": text, "nodes": nodes, "relationships": rels})
    return {
        "scenario": scenario,
        "id": entity_id,
        "kind": section,
        "name": name,
        "as_of": as_of.isoformat(),
        "people": [people[k] for k in sorted(people)],
    }


EFFECTIVE_HOLDERS_ON_DAY = _effective_holders("on_day")
"""`EFFECTIVE_HOLDERS` with delegations in force on the date ``on_day`` (a variable bound before
it, like ``m`` and ``right``) instead of ``$as_of``: the rights in force at an event's time
(events.md, "Conformance checks")."""

FRAGMENTS: dict[str, str] = {
    "effective_holders": EFFECTIVE_HOLDERS,
    "effective_holders_on_day": EFFECTIVE_HOLDERS_ON_DAY,
    "request_answered": REQUEST_ANSWERED,
}
"""Cypher fragments a check file may include as ``{{name}}`` (expanded by queries.catalog)."""


def delegated_query() -> str:
    """Who holds a decision right on the model or access row `$id` of `$scenario` (the physical
    name of a version, as `who_query()` returns it) only through a
    delegation in force on `$as_of` (the `EFFECTIVE_HOLDERS` rule): one row per (right, person,
    delegating role, delegation), ``{right, holder, holder_name, giver, giver_name, delegation}``,
    sorted. For `who_answer(..., delegated=rows)`."""
    return f"""
MATCH (m:Entity {{scenario: $scenario, id: $id}}) WHERE m:Model OR m:AccessRequest
UNWIND $rights AS right
{EFFECTIVE_HOLDERS}
WITH right, holder, giver, delegation WHERE delegation IS NOT NULL
RETURN DISTINCT right, holder.id AS holder, holder.name AS holder_name, giver.id AS giver,
  giver.name AS giver_name, delegation.id AS delegation
ORDER BY right, holder, giver, delegation
"""


__all__ = [
    "EFFECTIVE_HOLDERS",
    "EFFECTIVE_HOLDERS_ON_DAY",
    "RIGHTS",
    "Right",
    "authority_paths",
    "authority_paths_query",
    "delegated_query",
    "effective_holders",
    "rights_for",
    "who_answer",
    "who_query",
]
