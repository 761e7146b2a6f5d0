"""Framework coverage: each obligation evaluated structurally against one scenario (obligations.md
"Coverage"), and the ``obligation-unmet`` findings that follow from it.

``coverage(view, frameworks, catalog, as_of)`` returns the spec's JSON shape::

    {"scenario", "as_of", "frameworks": [{"framework", "coverage", "obligations": [
        {"id", "ref", "title", "applicable", "satisfied",
         "unsatisfied": [{"subject", "failing": [item, ...]}], "maps_to"}]}]}

``coverage`` is satisfied (subject, obligation) pairs / applicable pairs (1.0 when nothing applies).
An item in ``failing`` is the ``satisfied_by`` item as written in the framework file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NotRequired, TypedDict

from neo4j.exceptions import Neo4jError

from graph.consistent import ScenarioView
from graph.ontology import DECISION_RIGHTS, kinds_by_section
from queries.authority import EFFECTIVE_HOLDERS
from queries.catalog import Catalog, UnknownCheckError
from queries.findings import Finding
from queries.frameworks import OVERSIGHT_LEVELS, RIGHT_ALIASES, Framework, Item, Obligation
from queries.runner import run_check

OBLIGATION_UNMET = "obligation-unmet"
"""The check id of every unsatisfied (obligation, subject) pair (obligations.md)."""
OBLIGATION_UNMET_REMEDIATION = "Make each failing item hold for the subject, or waive the finding with a reason."


class CoverageError(Exception):
    """An obligation's query failed in Neo4j, or names an unknown check; names framework and obligation."""


class Unsatisfied(TypedDict):
    subject: str
    failing: list[dict[str, Any]]


class ObligationResult(TypedDict):
    id: str
    ref: str
    title: str
    applicable: int
    satisfied: int
    unsatisfied: list[Unsatisfied]
    maps_to: list[str]
    subjects: NotRequired[list[str]]
    """The ids it applies to; kept for the by-model/unit views and dropped by ``public()``."""


class FrameworkResult(TypedDict):
    framework: str
    coverage: float
    obligations: list[ObligationResult]


class CoverageResult(TypedDict):
    scenario: str
    as_of: str
    frameworks: list[FrameworkResult]


def frameworks_in_force(view: ScenarioView) -> list[str]:
    """The bundle's ``meta.frameworks`` (bundle-format.md 1.1), in order; [] without meta."""
    rows = view.read(
        "MATCH (m:Meta {scenario: $scenario}) RETURN m.frameworks AS frameworks", {"scenario": view.physical}
    )
    if not rows or not rows[0]["frameworks"]:
        return []
    return [str(f) for f in rows[0]["frameworks"]]


def _label(section: str) -> str:
    return kinds_by_section()[section].label


def _properties(view: ScenarioView, section: str, props: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every entity of ``section`` in the scenario: id -> its properties, read once per run."""
    if section not in props:
        rows = view.read(
            f"MATCH (s:{_label(section)} {{scenario: $scenario}}) RETURN s.id AS id, properties(s) AS p",
            {"scenario": view.physical},
        )
        props[section] = {str(r["id"]): r["p"] for r in rows}
    return props[section]


def _targets(view: ScenarioView, what: str, as_of: date, props: dict[str, Any]) -> dict[str, set[str]]:
    """Read once per run: for ``controls``, kind -> ids of the models a control of that kind applies
    to; for ``evidence``, kind -> ids of what evidence of that kind in force on ``as_of`` is about
    (issued on or before it, expiring after it; bundle-format.md 1.1)."""
    key = f"~{what}"
    if key not in props:
        cypher = (
            "MATCH (c:Control {scenario: $scenario})-[:APPLIES_TO]->(x) RETURN c.kind AS kind, collect(x.id) AS ids"
            if what == "controls"
            else "MATCH (e:Evidence {scenario: $scenario})-[:ABOUT]->(x) "
            "WHERE e.issued <= $as_of AND (e.expires IS NULL OR $as_of < e.expires) "
            "RETURN e.kind AS kind, collect(x.id) AS ids"
        )
        targets: dict[str, set[str]] = {}
        for r in view.read(cypher, {"scenario": view.physical, "as_of": as_of}):
            targets.setdefault(str(r["kind"]), set()).update(str(i) for i in r["ids"])
        props[key] = targets
    result: dict[str, set[str]] = props[key]
    return result


def _applicable(view: ScenarioView, obligation: Obligation, as_of: date, props: dict[str, Any]) -> list[str]:
    applies = obligation.applies_to
    entities = _properties(view, applies.kind, props)
    if applies.cypher is not None:
        rows = view.read(applies.cypher, {"scenario": view.physical, "as_of": as_of})
        return sorted({str(r["id"]) for r in rows} & entities.keys())
    where = {name: value if isinstance(value, list) else [value] for name, value in applies.where.items()}
    return sorted(
        i
        for i, p in entities.items()
        if all(p.get(name) is not None and p.get(name) in values for name, values in where.items())
    )


def _holding(
    view: ScenarioView,
    item: Item,
    section: str,
    ids: list[str],
    as_of: date,
    catalog: Catalog,
    checks: dict[str, list[Finding]],
    props: dict[str, Any],
) -> set[str]:
    """The ids among ``ids`` for which ``item`` holds on ``as_of``."""
    label = _label(section)
    entities = _properties(view, section, props)
    if item.oversight is not None:
        levels = OVERSIGHT_LEVELS[OVERSIGHT_LEVELS.index(item.oversight) :]
        return {i for i in ids if entities[i].get("human_oversight") in levels}
    if item.field is not None and not any(r.name == item.field for r in kinds_by_section()[section].references):
        if item.equals is None:
            return {i for i in ids if entities[i].get(item.field) is not None}
        return {i for i in ids if entities[i].get(item.field) == item.equals}
    params: dict[str, Any] = {"scenario": view.physical, "as_of": as_of, "ids": ids}
    # One index seek per applicable id (the (scenario, id) constraint), not a scan filtered by a list.
    match = f"UNWIND $ids AS sid MATCH (m:Entity {{scenario: $scenario, id: sid}}) WHERE m:{label} "
    if item.right is not None:
        params["right"] = RIGHT_ALIASES.get(item.right, item.right)
        # Held by someone: the first row of the one definition is enough (LIMIT 1 stops it there).
        cypher = (
            f"{match}CALL (m) {{ WITH m, $right AS right {EFFECTIVE_HOLDERS} RETURN holder LIMIT 1 }} "
            "RETURN DISTINCT m.id AS id"
        )
    elif item.control is not None:
        return set(ids) & _targets(view, "controls", as_of, props).get(item.control, set())
    elif item.evidence is not None:
        params["kind"] = item.evidence
        in_force = "e.kind = $kind AND e.issued <= $as_of AND (e.expires IS NULL OR $as_of < e.expires)"
        found = set(ids) & _targets(view, "evidence", as_of, props).get(item.evidence, set())
        rest = [i for i in ids if i not in found]
        if label != "Model" or not rest:
            return found
        # A model's evidence may also be about a person who effectively holds a decision right on it
        # (obligations.md: a training record of the person who can stop the model).
        params.update(ids=rest, rights=list(DECISION_RIGHTS))
        cypher = (
            f"{match}CALL (m) {{ UNWIND $rights AS right WITH m, right {EFFECTIVE_HOLDERS} "
            f"WITH holder WHERE EXISTS {{ MATCH (e:Evidence)-[:ABOUT]->(holder) WHERE {in_force} }} "
            "RETURN holder LIMIT 1 } RETURN m.id AS id"
        )
        return found | {str(r["id"]) for r in view.read(cypher, params)}
    elif item.oversight is not None:
        params["levels"] = list(OVERSIGHT_LEVELS[OVERSIGHT_LEVELS.index(item.oversight) :])
        cypher = f"{match}AND m.human_oversight IN $levels RETURN m.id AS id"
    elif item.field is not None:
        kind = kinds_by_section()[section]
        reference = next((r for r in kind.references if r.name == item.field), None)
        if reference is not None:
            arrow = f"<-[:{reference.rel_type}]-(x)" if reference.reverse else f"-[:{reference.rel_type}]->(x)"
            params["equals"] = item.equals
            test = " WHERE x.id = $equals" if item.equals is not None else ""
            cypher = f"{match}AND EXISTS {{ MATCH (m){arrow}{test} }} RETURN m.id AS id"
        else:
            params["field"] = item.field
            params["equals"] = item.equals
            test = "m[$field] = $equals" if item.equals is not None else "m[$field] IS NOT NULL"
            cypher = f"{match}AND {test} RETURN m.id AS id"
    elif item.check_absent is not None:
        if item.check_absent not in checks:
            checks[item.check_absent] = run_check(view, catalog.get(item.check_absent), view.physical, as_of)
        flagged = {s for f in checks[item.check_absent] for s in f["subjects"]}
        return set(ids) - flagged
    else:
        assert item.cypher is not None
        return {str(r["id"]) for r in view.read(item.cypher, params)} & set(ids)
    return {str(r["id"]) for r in view.read(cypher, params)}


def evaluate(
    view: ScenarioView,
    framework: Framework,
    obligation: Obligation,
    as_of: date,
    catalog: Catalog,
    checks: dict[str, list[Finding]],
    memo: dict[tuple[str, str], dict[str, bool]] | None = None,
    props: dict[str, Any] | None = None,
) -> ObligationResult:
    """One obligation on the scenario of ``view``: who it applies to, who satisfies it, what fails.
    ``checks`` and ``memo`` carry check findings and item results between obligations of one run."""
    memo = {} if memo is None else memo
    props = {} if props is None else props
    try:
        ids = _applicable(view, obligation, as_of, props)
        failing: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for item in obligation.satisfied_by:
                # An item is evaluated once per subject in a run, however many obligations share it.
                known = memo.setdefault((item.model_dump_json(), obligation.applies_to.kind), {})
                todo = [i for i in ids if i not in known]
                if todo:
                    held = _holding(view, item, obligation.applies_to.kind, todo, as_of, catalog, checks, props)
                    known.update({i: i in held for i in todo})
                holding = {i for i in ids if known[i]}
                for subject in ids:
                    if subject not in holding:
                        failing[subject].append(item.as_dict())
    except Neo4jError as exc:
        raise CoverageError(
            f"framework {framework.id} ({framework.source}), obligation {obligation.id}: {exc.message or exc}"
        ) from exc
    except UnknownCheckError as exc:
        raise CoverageError(
            f"framework {framework.id} ({framework.source}), obligation {obligation.id}: check_absent: {exc}"
        ) from exc
    unsatisfied: list[Unsatisfied] = [{"subject": s, "failing": f} for s, f in sorted(failing.items()) if f]
    return {
        "id": obligation.id,
        "ref": obligation.ref,
        "title": obligation.title,
        "applicable": len(ids),
        "satisfied": len(ids) - len(unsatisfied),
        "unsatisfied": unsatisfied,
        "maps_to": list(obligation.maps_to),
        "subjects": ids,
    }


def coverage_in(view: ScenarioView, frameworks: Sequence[Framework], catalog: Catalog, as_of: date) -> CoverageResult:
    """Coverage of ``frameworks`` on the scenario of ``view`` as of ``as_of`` (obligations.md JSON)."""
    checks: dict[str, list[Finding]] = {}
    memo: dict[tuple[str, str], dict[str, bool]] = {}
    props: dict[str, Any] = {}
    results: list[FrameworkResult] = []
    for framework in frameworks:
        obligations = [
            evaluate(view, framework, o, as_of, catalog, checks, memo, props) for o in framework.spec.obligations
        ]
        applicable = sum(o["applicable"] for o in obligations)
        satisfied = sum(o["satisfied"] for o in obligations)
        results.append(
            {
                "framework": framework.id,
                "coverage": round(satisfied / applicable, 4) if applicable else 1.0,
                "obligations": obligations,
            }
        )
    return {"scenario": view.scenario, "as_of": as_of.isoformat(), "frameworks": results}


def item_label(item: dict[str, Any]) -> str:
    """``{"right": "shutdown_authority"}`` -> ``right: shutdown_authority``; field+equals -> ``field: x = v``."""
    if "equals" in item:
        return f"field: {item['field']} = {item['equals']}"
    return "; ".join(f"{k}: {' '.join(str(v).split())}" for k, v in item.items())


def public(result: CoverageResult) -> CoverageResult:
    """The result in exactly obligations.md's JSON shape (without the per-obligation subject lists)."""
    return {
        "scenario": result["scenario"],
        "as_of": result["as_of"],
        "frameworks": [
            {
                "framework": f["framework"],
                "coverage": f["coverage"],
                "obligations": [
                    {k: v for k, v in o.items() if k != "subjects"}  # type: ignore[misc]
                    for o in f["obligations"]
                ],
            }
            for f in result["frameworks"]
        ],
    }


def unmet_findings(view: ScenarioView, result: CoverageResult) -> list[Finding]:
    """One ``obligation-unmet`` finding per unsatisfied (obligation, subject) pair: severity high,
    subjects [subject], accountable the subject's owner, details {framework, obligation, ref, failing}."""
    pairs = [(f, o, u) for f in result["frameworks"] for o in f["obligations"] for u in o["unsatisfied"]]
    if not pairs:
        return []
    rows = view.read(
        "UNWIND $ids AS id MATCH (s:Entity {scenario: $scenario, id: id}) "
        "OPTIONAL MATCH (owner:Role)-[:OWNS]->(s) RETURN id, s.name AS name, min(owner.id) AS owner",
        {"scenario": view.physical, "ids": sorted({u["subject"] for _, _, u in pairs})},
    )
    about = {r["id"]: r for r in rows}
    findings: list[Finding] = []
    for framework, obligation, unsatisfied in pairs:
        subject = unsatisfied["subject"]
        name = (about.get(subject) or {}).get("name") or subject
        findings.append(
            {
                "check": OBLIGATION_UNMET,
                "severity": "high",
                "subjects": [subject],
                "accountable": (about.get(subject) or {}).get("owner"),
                "message": f"{name} does not meet {framework['framework']} {obligation['ref']}"
                f" ({obligation['title']}); failing: {', '.join(item_label(i) for i in unsatisfied['failing'])}",
                "remediation": OBLIGATION_UNMET_REMEDIATION,
                "details": {
                    "framework": framework["framework"],
                    "obligation": obligation["id"],
                    "ref": obligation["ref"],
                    "failing": unsatisfied["failing"],
                },
            }
        )
    return findings
