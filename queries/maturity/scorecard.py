"""The maturity scorecard (maturity.md, "Scorecard"): every criterion measured per scope, and the
stage each scope reaches.

A scope is the organisation (the whole scenario) or one unit with its sub-units. An entity is in
a unit through its own ``unit``, or else through its owner role's unit (for a use case, which has
no owner, its sponsor's). Each criterion's Cypher runs once for the whole scenario and its rows are
then counted per scope, so a scorecard of every unit costs the same number of queries as one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from graph.consistent import Reader, ScenarioView, consistent_view
from graph.db import Database
from graph.errors import NotFound
from graph.ontology import ENTITY_LABEL, kind
from queries.catalog import Catalog
from queries.findings import Finding
from queries.maturity.catalog import STAGES, Criterion
from queries.runner import run_checks_in
from queries.waivers import UnknownScenarioError

ORGANISATION = "organisation"

_PART_OF = kind("units").reference("parent")
_IN_UNIT = kind("models").reference("unit")
_OWNS = kind("models").reference("owner")
_SPONSORS = kind("use_cases").reference("sponsor")
assert _PART_OF and _IN_UNIT and _OWNS and _SPONSORS


@dataclass
class _Row:
    evidence: list[str]
    scope_ids: list[str]
    units: set[str | None] = field(default_factory=set)
    ok: bool = True
    value: float = 0.0


@dataclass
class _Units:
    parent: dict[str, str | None]
    children: dict[str | None, list[str]]

    def subtree(self, unit: str) -> set[str]:
        """The unit and every unit below it; a loop in `parent` (which the bundle format does not
        forbid) is walked once."""
        out: set[str] = set()
        stack = [unit]
        while stack:
            u = stack.pop()
            if u in out:
                continue
            out.add(u)
            stack.extend(self.children.get(u, []))
        return out

    def top_level(self, scope: str | None) -> set[str]:
        """The scope's top level of units: the scope unit's children (the organisation's: the root
        units), descending while a level holds a single unit (a group with one root unit counts
        its divisions, not itself)."""
        level = self.children.get(scope, [])
        passed: set[str] = set()
        while len(level) == 1 and self.children.get(level[0]) and level[0] not in passed:
            passed.add(level[0])
            level = self.children[level[0]]
        return set(level)

    def top_of(self, unit: str | None, tops: set[str]) -> str | None:
        """The unit among ``tops`` that ``unit`` is in (itself or an ancestor), or None."""
        seen = set()
        while unit is not None and unit not in seen:
            if unit in tops:
                return unit
            seen.add(unit)
            unit = self.parent.get(unit)
        return None


def scorecard(
    db: Database,
    catalog: Catalog,
    criteria: Sequence[Criterion],
    scenario: str,
    as_of: date,
    *,
    unit: str | None = None,
    by_unit: bool = False,
    at: date | None = None,
    findings: Sequence[Finding] | None = None,
) -> dict[str, Any]:
    """The scorecard JSON of maturity.md: ``{"scenario", "as_of", "scopes": [{"scope", "stage",
    "criteria": [{"id", "stage", "passed", "value", "threshold", "evidence", "assessment"}]}]}``.

    Scopes: the organisation only (default); ``unit`` alone; or with ``by_unit`` the organisation
    then every unit (by id). Raises UnknownScenarioError (scenario not loaded) and NotFound (no
    such unit). ``evidence`` lists entity ids: for ``at_most`` criteria those at fault, for
    ``at_least`` ones those that support it (for ``ratio``, those that do not count as ok).

    Reads the version of the scenario in force on ``at`` (default today), in one read transaction
    (graph/consistent.py); a criterion's ``$scenario`` is bound to that version's physical name.
    Raises ``graph.history.NoVersionAt`` (a NotFound) when no version was in force then.

    ``findings``: the findings of a run of the whole catalog on the same version of the scenario and
    as-of date (``queries.runner.run_checks_in``), for the criteria that count findings; None runs the
    checks those criteria name. The weekly report passes its own, so the checks run once.
    """
    with consistent_view(db, scenario, at) as view:
        inputs = _inputs(view, catalog, criteria, as_of, unit, findings)
    # the scopes are counted after the view, so a waiting load is not held up by them
    return _card(scenario, as_of, criteria, inputs, unit, by_unit)


def scorecard_in(
    view: ScenarioView,
    catalog: Catalog,
    criteria: Sequence[Criterion],
    as_of: date,
    *,
    unit: str | None = None,
    by_unit: bool = False,
    findings: Sequence[Finding] | None = None,
) -> dict[str, Any]:
    """:func:`scorecard` inside a view the caller holds (the weekly report reads the scenario once)."""
    inputs = _inputs(view, catalog, criteria, as_of, unit, findings)
    return _card(view.scenario, as_of, criteria, inputs, unit, by_unit)


@dataclass
class _Inputs:
    units: _Units
    rows: dict[str, list[_Row]]
    assessments: dict[tuple[str, str | None], str]


def _inputs(
    view: ScenarioView,
    catalog: Catalog,
    criteria: Sequence[Criterion],
    as_of: date,
    unit: str | None,
    findings: Sequence[Finding] | None,
) -> _Inputs:
    """Everything the scorecard reads from the scenario, in one view."""
    scenario = view.scenario
    if not view.found:
        raise UnknownScenarioError(f"scenario '{scenario}' has not been loaded")
    units = _unit_tree(view, view.physical)
    if unit is not None and unit not in units.parent:
        raise NotFound(f"no unit '{unit}' in scenario '{scenario}'")
    rows = _rows(view, catalog, criteria, view.physical, as_of, findings)
    return _Inputs(units, rows, _assessments(view, view.physical, as_of))


def _card(
    scenario: str,
    as_of: date,
    criteria: Sequence[Criterion],
    inputs: _Inputs,
    unit: str | None,
    by_unit: bool,
) -> dict[str, Any]:
    units, rows, assessments = inputs.units, inputs.rows, inputs.assessments
    scopes: list[str | None] = [unit] if unit is not None else [None]
    if by_unit and unit is None:
        scopes += sorted(units.parent)
    # rows by unit, so that a scope gathers its rows from its units instead of filtering them all
    index: dict[str, dict[str | None, list[int]]] = {}
    for cid, cid_rows in rows.items():
        by_unit_rows: dict[str | None, list[int]] = defaultdict(list)
        for n, row in enumerate(cid_rows):
            for u in row.units:
                by_unit_rows[u].append(n)
        index[cid] = by_unit_rows
    return {
        "scenario": scenario,
        "as_of": as_of.isoformat(),
        "scopes": [_scope(s, criteria, rows, index, units, assessments) for s in scopes],
    }


def _scope(
    scope: str | None,
    criteria: Sequence[Criterion],
    rows: Mapping[str, list[_Row]],
    index: Mapping[str, Mapping[str | None, list[int]]],
    units: _Units,
    assessments: Mapping[tuple[str, str | None], str],
) -> dict[str, Any]:
    in_scope = units.subtree(scope) if scope is not None else None
    tops = units.top_level(scope)
    results = []
    for c in criteria:
        answer = assessments.get((c.id, scope))
        value: float | None
        evidence: list[str]
        if c.spec.cypher is None and c.spec.findings is None:
            value, evidence, measured = None, [], False
        else:
            if in_scope is None or c.spec.scope == ORGANISATION:
                mine = rows[c.id]
            else:
                found = sorted({n for u in in_scope for n in index[c.id].get(u, ())})
                mine = [rows[c.id][n] for n in found]
            value, evidence = _measure(c, mine, units, tops)
            measured = c.passes(value)
        results.append(
            {
                "id": c.id,
                "stage": c.spec.stage,
                "passed": measured or (c.spec.self_assessed and answer == "yes"),
                "value": value,
                "threshold": _number(c.spec.threshold),
                "evidence": evidence,
                "assessment": answer,
            }
        )
    stage = "none"
    for s in STAGES:
        if all(r["passed"] for r in results if STAGES.index(r["stage"]) <= STAGES.index(s)):
            stage = s
        else:
            break
    return {"scope": scope if scope is not None else ORGANISATION, "stage": stage, "criteria": results}


def _measure(c: Criterion, rows: list[_Row], units: _Units, tops: set[str]) -> tuple[float, list[str]]:
    metric = c.spec.metric
    if metric == "ratio":
        value: float = round(sum(1 for r in rows if r.ok) / len(rows), 4) if rows else 0
        return value, sorted({e for r in rows if not r.ok for e in r.evidence})
    if metric == "top_units":
        found = {t for r in rows for u in r.units if (t := units.top_of(u, tops)) is not None}
        return len(found), sorted(found)
    evidence = sorted({e for r in rows for e in r.evidence})
    if metric == "sum":
        return _number(sum(r.value for r in rows)), evidence
    return len(rows), evidence


def _number(value: float) -> float:
    return int(value) if float(value).is_integer() else value


def _unit_tree(db: Reader, scenario: str) -> _Units:
    assert _PART_OF is not None
    rows = db.read(
        f"MATCH (u:Unit {{scenario: $scenario}}) OPTIONAL MATCH (u)-[:{_PART_OF.rel_type}]->(p:Unit) "
        "RETURN u.id AS id, p.id AS parent",
        {"scenario": scenario},
    )
    parent = {r["id"]: r["parent"] for r in rows}
    children: dict[str | None, list[str]] = defaultdict(list)
    for uid, p in sorted(parent.items()):
        children[p].append(uid)
    return _Units(parent, dict(children))


def _rows(
    db: ScenarioView,
    catalog: Catalog,
    criteria: Sequence[Criterion],
    scenario: str,
    as_of: date,
    findings: Sequence[Finding] | None = None,
) -> dict[str, list[_Row]]:
    """Each criterion's rows, with the units of the entities that decide their scope. ``findings``:
    those of a run the caller made (None: run the checks the criteria name)."""
    out: dict[str, list[_Row]] = {}
    needed = sorted({check for c in criteria for check in c.spec.findings or ()})
    if findings is None:
        findings = run_checks_in(db, catalog, as_of, needed)["findings"] if needed else []
    for c in criteria:
        rows: list[_Row] = []
        if c.spec.findings is not None:
            rows = [_Row(list(f["subjects"]), list(f["subjects"])) for f in findings if f["check"] in c.spec.findings]
        elif c.spec.cypher is not None:
            params = {"scenario": scenario, "scenario_name": db.scenario, "as_of": as_of}
            for r in db.read(c.spec.cypher, params):
                ident = r["id"]
                scope_of = r.get("scope_of") or ident
                rows.append(
                    _Row(
                        [str(ident)] if ident is not None else [],
                        [str(scope_of)] if scope_of is not None else [],
                        ok=bool(r.get("ok", True)),
                        value=float(r.get("value") or 0),
                    )
                )
        out[c.id] = rows
    unit_of = _units_of(db, scenario, {i for rows in out.values() for row in rows for i in row.scope_ids})
    for rows in out.values():
        for row in rows:
            row.units = {unit_of.get(i) for i in row.scope_ids}
    return out


def _units_of(db: Reader, scenario: str, ids: Iterable[str]) -> dict[str, str | None]:
    """Entity id -> its unit: a unit is its own; else its own ``unit``; else its owner's (or, for a
    use case, its sponsor's) role's unit."""
    assert _IN_UNIT and _OWNS and _SPONSORS
    rows = db.read(
        f"UNWIND $ids AS eid MATCH (x:{ENTITY_LABEL} {{scenario: $scenario, id: eid}}) "
        f"RETURN x.id AS id, CASE WHEN x:Unit THEN x.id ELSE coalesce("
        f"COLLECT {{ MATCH (x)-[:{_IN_UNIT.rel_type}]->(u:Unit) RETURN u.id ORDER BY u.id LIMIT 1 }}[0], "
        f"COLLECT {{ MATCH (x)<-[:{_OWNS.rel_type}|{_SPONSORS.rel_type}]-(:Role)-[:{_IN_UNIT.rel_type}]->(u:Unit) "
        "RETURN u.id ORDER BY u.id LIMIT 1 }[0]) END AS unit",
        {"scenario": scenario, "ids": sorted(ids)},
    )
    return {r["id"]: r["unit"] for r in rows}


def _assessments(db: Reader, scenario: str, as_of: date) -> dict[tuple[str, str | None], str]:
    """(question, unit or None) -> the latest answer dated on or before ``as_of``."""
    assert _IN_UNIT is not None
    rows = db.read(
        "MATCH (a:Assessment {scenario: $scenario}) WHERE a.date <= $as_of "
        f"OPTIONAL MATCH (a)-[:{_IN_UNIT.rel_type}]->(u:Unit) "
        "RETURN a.question AS question, u.id AS unit, a.answer AS answer ORDER BY a.date, a.id",
        {"scenario": scenario, "as_of": as_of},
    )
    return {(r["question"], r["unit"]): r["answer"] for r in rows}
