"""A scenario as plain sorted data, for comparing graphs (the four bundle forms, before and after
a failed load, current against target).

The dump reads through `graph.consistent.consistent_view`: one version, in one read transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from graph.consistent import consistent_view
from graph.db import Database
from graph.ontology import ENTITY_LABEL


def plain(value: Any) -> Any:
    """A property value as plain data: temporals as ISO text, lists element by element."""
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def dump_scenario(db: Database, scenario: str, at: date | None = None) -> dict[str, list[Any]]:
    """Every entity (labels and properties) and relationship (type, start id, end id) of the
    version in force on `at` (default today), sorted; empty lists for a scenario never loaded."""
    with consistent_view(db, scenario, at) as view:
        nodes = view.read(
            f"MATCH (n:{ENTITY_LABEL} {{scenario: $scenario}}) RETURN labels(n) AS labels, properties(n) AS props",
            {"scenario": view.physical},
        )
        rels = view.read(
            f"MATCH (a:{ENTITY_LABEL} {{scenario: $scenario}})-[r]->(b:{ENTITY_LABEL}) "
            "RETURN type(r) AS type, a.id AS start, b.id AS end",
            {"scenario": view.physical},
        )
    return {
        "nodes": sorted(
            (
                {"labels": sorted(n["labels"]), **{k: plain(v) for k, v in n["props"].items() if k != "scenario"}}
                for n in nodes
            ),
            key=lambda n: str(n["id"]),
        ),
        "relationships": sorted((r["type"], r["start"], r["end"]) for r in rels),
    }
