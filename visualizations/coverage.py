"""Coverage as people read it: by obligation, by model, by unit; crosswalk; CSV and an HTML matrix.

Input is always ``queries.coverage.coverage_in``'s result (obligations.md JSON). Everything here is
pure formatting plus ``subject_units`` (one read: which unit each subject belongs to).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape

from graph.consistent import ScenarioView
from queries.coverage import CoverageResult, item_label
from visualizations.spreadsheet import guard_cell

TEMPLATES = Path(__file__).parent / "templates"
ENTITY_URL = "/ui/scenarios/{scenario}/entities/{id}"
"""The explorer's entity page (explorer/pages.py; failing cells link to it)."""
NO_UNIT = "(no unit)"


class SubjectRow(TypedDict):
    framework: str
    subject: str
    unit: str
    applicable: int
    satisfied: int
    failing: list[str]


def subject_units(view: ScenarioView, result: CoverageResult) -> dict[str, str]:
    """Each subject's unit id (``IN_UNIT``; a vendor or incident: the unit of a model it touches), or NO_UNIT."""
    rows = view.read(
        "UNWIND $ids AS sid MATCH (s:Entity {scenario: $scenario, id: sid}) "
        "OPTIONAL MATCH (s)-[:IN_UNIT]->(u:Unit) "
        "OPTIONAL MATCH (s)-[:INVOLVES|SUPPLIED_BY]-(:Model)-[:IN_UNIT]->(mu:Unit) "
        "RETURN s.id AS id, coalesce(min(u.id), min(mu.id)) AS unit",
        {"scenario": view.physical, "ids": sorted(_subjects(result))},
    )
    return {r["id"]: r["unit"] or NO_UNIT for r in rows}


def entity_url(scenario: str, entity_id: str) -> str:
    """The path of an entity's page in the explorer (ENTITY_URL), both parts percent-encoded."""
    return ENTITY_URL.format(scenario=quote(scenario, safe=""), id=quote(entity_id, safe=""))


def _subjects(result: CoverageResult) -> set[str]:
    return {s for f in result["frameworks"] for o in f["obligations"] for s in o.get("subjects", [])}


def by_subject(result: CoverageResult, units: dict[str, str]) -> list[SubjectRow]:
    """Per framework and subject: obligations applicable, satisfied, and the failing ``ref: item`` lines."""
    table: dict[tuple[str, str], SubjectRow] = {}
    for framework in result["frameworks"]:
        for obligation in framework["obligations"]:
            failing = {u["subject"]: u["failing"] for u in obligation["unsatisfied"]}
            for subject in obligation.get("subjects", []):
                row = table.setdefault(
                    (framework["framework"], subject),
                    {
                        "framework": framework["framework"],
                        "subject": subject,
                        "unit": units.get(subject, NO_UNIT),
                        "applicable": 0,
                        "satisfied": 0,
                        "failing": [],
                    },
                )
                row["applicable"] += 1
                if subject in failing:
                    row["failing"] += [f"{obligation['ref']}: {item_label(i)}" for i in failing[subject]]
                else:
                    row["satisfied"] += 1
    return [table[k] for k in sorted(table)]


def by_unit(rows: list[SubjectRow]) -> list[dict[str, Any]]:
    """Per framework and unit: (subject, obligation) pairs applicable and satisfied, subjects failing."""
    units: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        u = units.setdefault(
            (row["framework"], row["unit"]),
            {
                "framework": row["framework"],
                "unit": row["unit"],
                "applicable": 0,
                "satisfied": 0,
                "failing_subjects": [],
            },
        )
        u["applicable"] += row["applicable"]
        u["satisfied"] += row["satisfied"]
        if row["failing"]:
            u["failing_subjects"].append(row["subject"])
    return [units[k] for k in sorted(units)]


def crosswalk(result: CoverageResult) -> list[dict[str, Any]]:
    """Each ``maps_to`` link: an obligation's result shown against the obligation it maps to
    (when that framework was evaluated too; otherwise ``target_satisfied`` is null)."""
    index = {f"{f['framework']}:{o['id']}": o for f in result["frameworks"] for o in f["obligations"]}
    links = []
    for framework in result["frameworks"]:
        for obligation in framework["obligations"]:
            for target in obligation["maps_to"]:
                other = index.get(target)
                links.append(
                    {
                        "from": f"{framework['framework']}:{obligation['id']}",
                        "ref": obligation["ref"],
                        "satisfied": obligation["satisfied"],
                        "applicable": obligation["applicable"],
                        "to": target,
                        "target_satisfied": None if other is None else other["satisfied"],
                        "target_applicable": None if other is None else other["applicable"],
                    }
                )
    return links


def to_csv(result: CoverageResult) -> str:
    """One row per (framework, obligation, subject) that applies: status held/fails and the failing items."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["framework", "obligation", "ref", "title", "subject", "status", "failing"])
    for framework in result["frameworks"]:
        for obligation in framework["obligations"]:
            failing = {u["subject"]: u["failing"] for u in obligation["unsatisfied"]}
            for subject in obligation.get("subjects", []):
                items = failing.get(subject)
                writer.writerow(
                    [
                        guard_cell(v)
                        for v in (
                            framework["framework"],
                            obligation["id"],
                            obligation["ref"],
                            obligation["title"],
                            subject,
                            "fails" if items else "holds",
                            " | ".join(item_label(i) for i in items or []),
                        )
                    ]
                )
    return out.getvalue()


def to_html(result: CoverageResult) -> str:
    """A page per run: for each framework a matrix of obligations (rows) by subjects (columns);
    a failing cell links to the explorer's entity page and lists the failing items (Jinja2, autoescaped)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2", "html"]))
    frameworks = []
    for framework in result["frameworks"]:
        subjects = sorted({s for o in framework["obligations"] for s in o.get("subjects", [])})
        rows = []
        for obligation in framework["obligations"]:
            failing = {u["subject"]: u["failing"] for u in obligation["unsatisfied"]}
            applies = set(obligation.get("subjects", []))
            cells = [
                {
                    "subject": s,
                    "state": "fails" if s in failing else ("holds" if s in applies else "n/a"),
                    "failing": [item_label(i) for i in failing.get(s, [])],
                    "url": entity_url(result["scenario"], s),
                }
                for s in subjects
            ]
            rows.append({"obligation": obligation, "cells": cells})
        frameworks.append({"framework": framework, "subjects": subjects, "rows": rows})
    return env.get_template("coverage.html.j2").render(
        scenario=result["scenario"], as_of=result["as_of"], frameworks=frameworks, crosswalk=crosswalk(result)
    )


def group_failing(result: CoverageResult) -> dict[str, list[str]]:
    """Subject -> ``framework ref`` of every obligation it fails (for summaries)."""
    out: dict[str, list[str]] = defaultdict(list)
    for framework in result["frameworks"]:
        for obligation in framework["obligations"]:
            for u in obligation["unsatisfied"]:
                out[u["subject"]].append(f"{framework['framework']} {obligation['ref']}")
    return dict(out)
