"""The transition plan (maturity.md, "Transition plan"): the diff FROM -> TO grouped by the
initiatives of TO that deliver what each change touches.

A change touches: an entity added, removed or changed (its id); a relationship added or removed
(both ends); a decision right that moved (the entity it is about, and both roles). An initiative
covers a change when it ``delivers`` an entity the change touches; a change may fall under several
initiatives, and the changes no initiative covers are listed apart. The initiatives themselves
(and their delivers/accountable relationships) are the plan, not changes of the operating model,
so they are left out of the changes. A finding FROM has that TO fixes, or one TO introduces,
goes under every initiative whose reach holds one of its subjects (the initiative itself, what it
delivers, and every entity its changes touch), else among the unassigned. A finding whose subjects
the plan does not name (a blocked dependency fixed by granting an access row: the row is not a
subject) stays unassigned: the plan does not guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from graph.consistent import Reader, consistent_view
from graph.db import Database
from graph.ontology import kind
from queries.catalog import Catalog
from queries.diff import diff_views

CLOSED = ("done", "cancelled")
_DELIVERS = kind("initiatives").reference("delivers")
_ACCOUNTABLE = kind("initiatives").reference("accountable")
_HOLDS = kind("people").reference("holds")
assert _DELIVERS and _ACCOUNTABLE and _HOLDS
PLAN_REL_TYPES = {_DELIVERS.rel_type, _ACCOUNTABLE.rel_type}


def transition_plan(
    db: Database,
    catalog: Catalog,
    source: str,
    target: str,
    as_of: date,
    *,
    at_a: date | None = None,
    at_b: date | None = None,
) -> dict[str, Any]:
    """The plan from scenario ``source`` to ``target`` (typically current -> target) as JSON:
    ``{"from", "to", "as_of", "initiatives": [{"id", "name", "status", "due", "budget",
    "accountable": {"role", "name", "holders": [{"id", "name"}]} | null, "overdue", "delivers",
    "changes", "fixes", "introduces"}], "uncovered": [changes], "unassigned_findings": {"fixed",
    "introduced"}, "overdue": [ids], "unowned": [ids], "counts"}``. Initiatives by due date (none
    last), then id. A change is ``{"change": "entity" | "relationship" | "move", "action": ...,
    "touches": [ids], ...}`` with the fields of the diff. ``overdue``: due before ``as_of`` and not
    done or cancelled; ``unowned``: no accountable role. ``source`` is read as in force on ``at_a``
    and ``target`` on ``at_b`` (default today; graph/history.py), in read transactions. Raises
    NotFound for a scenario not loaded or with no version in force then.
    """
    # One view per side for the diff and the initiatives: a load of `target` meanwhile cannot
    # give the plan the changes of one version and the initiatives of another.
    with consistent_view(db, source, at_a) as left, consistent_view(db, target, at_b) as right:
        diff = diff_views(db, catalog, left, right, as_of, at_a=at_a, at_b=at_b)
        initiatives = _initiatives(right, right.physical)
    changes = [
        c
        for c in _changes(diff)
        if not (c["change"] == "entity" and c["kind"] == "Initiative")
        and not (c["change"] == "relationship" and c["type"] in PLAN_REL_TYPES)
    ]
    covered: set[int] = set()
    fixed_done: set[int] = set()
    introduced_done: set[int] = set()
    out = []
    for i in initiatives:
        delivers = set(i["delivers"])
        mine = [n for n, c in enumerate(changes) if delivers & set(c["touches"])]
        covered.update(mine)
        # what the initiative brings about: its own entity, what it delivers, and what its changes touch
        reach = delivers | {i["id"]} | {t for n in mine for t in changes[n]["touches"]}
        fixes = [n for n, f in enumerate(diff["findings"]["fixed"]) if reach & set(f["subjects"])]
        introduces = [n for n, f in enumerate(diff["findings"]["introduced"]) if reach & set(f["subjects"])]
        fixed_done.update(fixes)
        introduced_done.update(introduces)
        overdue = i["due"] is not None and i["due"] < as_of.isoformat() and i["status"] not in CLOSED
        out.append(
            {
                **i,
                "overdue": overdue,
                "changes": [changes[n] for n in mine],
                "fixes": [diff["findings"]["fixed"][n] for n in fixes],
                "introduces": [diff["findings"]["introduced"][n] for n in introduces],
            }
        )
    uncovered = [c for n, c in enumerate(changes) if n not in covered]
    unassigned = {
        "fixed": [f for n, f in enumerate(diff["findings"]["fixed"]) if n not in fixed_done],
        "introduced": [f for n, f in enumerate(diff["findings"]["introduced"]) if n not in introduced_done],
    }
    return {
        "from": source,
        "to": target,
        "as_of": as_of.isoformat(),
        "initiatives": out,
        "uncovered": uncovered,
        "unassigned_findings": unassigned,
        "overdue": [i["id"] for i in out if i["overdue"]],
        "unowned": [i["id"] for i in out if i["accountable"] is None],
        "counts": {
            "initiatives": len(out),
            "changes": len(changes),
            "covered": len(covered),
            "uncovered": len(uncovered),
            "findings_fixed": len(diff["findings"]["fixed"]),
            "findings_introduced": len(diff["findings"]["introduced"]),
        },
    }


def _changes(diff: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for action, items in diff["entities"].items():
        out += [{"change": "entity", "action": action, "touches": [e["id"]], **e} for e in items]
    for action, items in diff["relationships"].items():
        out += [{"change": "relationship", "action": action, "touches": [r["start"], r["end"]], **r} for r in items]
    out += [
        {"change": "move", "action": "moved", "touches": [m["subject"], m["from"], m["to"]], **m} for m in diff["moves"]
    ]
    return out


def _initiatives(db: Reader, scenario: str) -> list[dict[str, Any]]:
    assert _DELIVERS and _ACCOUNTABLE and _HOLDS
    rows = db.read(
        "MATCH (i:Initiative {scenario: $scenario}) "
        f"OPTIONAL MATCH (r:Role)-[:{_ACCOUNTABLE.rel_type}]->(i) "
        "RETURN i.id AS id, i.name AS name, i.status AS status, toString(i.due) AS due, i.budget AS budget, "
        "CASE WHEN r IS NULL THEN null ELSE {role: r.id, name: r.name, "
        f"holders: COLLECT {{ MATCH (p:Person)-[:{_HOLDS.rel_type}]->(r) RETURN {{id: p.id, name: p.name}} AS p "
        "ORDER BY p.id } } END AS accountable, "
        f"COLLECT {{ MATCH (i)-[:{_DELIVERS.rel_type}]->(e) RETURN e.id AS e ORDER BY e }} AS delivers",
        {"scenario": scenario},
    )
    return sorted((dict(r) for r in rows), key=lambda r: (r["due"] is None, r["due"] or "", r["id"]))
