"""docs/graph-model.md, generated from the ontology (`tomgraph graph-model --out docs/graph-model.md`)."""

from __future__ import annotations

from graph.ontology import ENTITY_LABEL, KINDS, edge_types


def render_graph_model() -> str:
    lines = [
        "# Graph model",
        "",
        "Generated from `graph/ontology.py` by `tomgraph graph-model --out docs/graph-model.md`; "
        "do not edit by hand (a test fails when this file is stale).",
        "",
        f"Every entity is a node with the label `{ENTITY_LABEL}` and the label of its kind, and the "
        "properties `scenario` (the scenario it belongs to), `id` and `name`; `description` and "
        "`tags` (a list) when given. Each field below is a property of the same name: enums as "
        "strings, dates as Neo4j `DATE` values, booleans as booleans (a boolean with a default is "
        "always stored). A bundle's free `properties: {KEY: value}` become properties named "
        "`properties.KEY` (write ``n.`properties.KEY` `` in Cypher). Relationships only join nodes "
        "of the same scenario, so always start a match from `{scenario: $scenario}`.",
        "",
        "## Labels",
        "",
        "| bundle section | label | fields |",
        "| --- | --- | --- |",
    ]
    for kind in KINDS:
        fields = []
        for f in kind.fields:
            text = f"`{f.name}` ({f.type.value}"
            if f.choices:
                text += ": " + ", ".join(f.choices)
            if f.default is not None:
                text += f"; default {str(f.default).lower()}"
            text += ", required)" if f.required else ")"
            fields.append(text)
        lines.append(f"| `{kind.section}` | `{kind.label}` | {'; '.join(fields) or '-'} |")
    lines += [
        "",
        "## Relationship types",
        "",
        "`depends on` marks the dependency edges that `/dependencies` and `/impact` follow "
        "(from the dependent entity to what it depends on).",
        "",
        "| pattern | from the bundle field | depends on |",
        "| --- | --- | --- |",
    ]
    for e in edge_types():
        pattern = f"`(:{e.start})-[:{e.rel_type}]->(:{e.end})`"
        lines.append(f"| {pattern} | `{e.section}.{e.field}` | {'yes' if e.dependency else ''} |")
    lines += [
        "",
        "## Other nodes",
        "",
        "| label | what |",
        "| --- | --- |",
        "| `Scenario` | one per scenario: `name`, `loaded_at`, `entity_count`, `relationship_count`, `bundle_digest` |",
        "",
    ]
    lines += _history_section()
    return "\n".join(lines)


def _history_section() -> list[str]:
    return [
        "## History: the scenario at a date",
        "",
        "Every load that changes a scenario makes a new version of it, in force from the load's "
        "`--effective` date (default: the day of the load); `tomgraph history` lists them. Each "
        "version's entities are stored under a **physical name** of their own, `S~v-<token>`, "
        "in the `scenario` property, and never change once the version is published. The version "
        "in force on day D is the one with the latest `effective` on or before D (of two on one "
        "day, the one loaded last).",
        "",
        "**In tomgraph, write `{scenario: $scenario}` as before.** For every query it runs (the "
        "built-in and custom checks, the query route `POST /scenarios/{s}/query`, reports, views, "
        "the diff), tomgraph binds `$scenario` to the physical name of the version in force on "
        "the day asked (`--at DATE`, `at=DATE`; default today). A query that starts its matches "
        "from `{scenario: $scenario}` therefore sees exactly one version, whole, and never a "
        "load's unfinished work. A check written for 1.0 keeps working unchanged and sees the "
        "version in force today (the latest load, unless that one is dated in the future).",
        "",
        "**Outside tomgraph** (Neo4j Browser, your own driver code), resolve the name first. "
        "Today's version: `MATCH (s:Scenario {name: 'current'}) WITH s.physical AS p MATCH "
        "(n:Entity {scenario: p}) ...`. The version in force on a day (a version kept only as a "
        "delta has no copy until tomgraph has read it once at that day, e.g. `tomgraph check "
        "--at DAY`):",
        "",
        "```cypher",
        "MATCH (v:ScenarioVersion {scenario: 'current'}) WHERE v.effective <= date('2026-03-01')",
        "WITH v ORDER BY v.effective DESC, v.seq DESC LIMIT 1",
        "MATCH (c:ScenarioCopy {scenario: 'current', seq: v.seq, state: 'ready'})",
        "WITH c.physical AS p LIMIT 1",
        "MATCH (n:Entity {scenario: p}) RETURN n",
        "```",
        "",
        "**What unfiltered Cypher sees.** A match that does not start from one scenario's "
        "physical name (`MATCH (n:Entity) ...`, or `scenario STARTS WITH 'current'`) sees every "
        "stored copy: the latest version, rebuilt past versions kept in the cache, copies "
        "superseded within the last `TOMGRAPH_HISTORY_GRACE_S` seconds, and the staging copy of "
        "a load in progress. Neo4j Community has no per-node security, so nothing hides those "
        "nodes from such a query; always filter by `$scenario`. A scenario loaded before "
        "versions were kept has its entities under its own name (version 0) until its next "
        "load that changes something.",
        "",
        "| label | what |",
        "| --- | --- |",
        "| `ScenarioVersion` | one per version: `scenario`, `seq` (1, 2, ... in load order), `effective` (DATE), "
        "`loaded_at`, `entity_count`, `relationship_count`, `changes` (JSON: created, updated, removed per kind "
        "and relationship type), `digest` |",
        "| `ScenarioCopy` | one per stored copy: `scenario`, `physical` (the name in the entities' `scenario`), "
        "`seq`, `kind` (`version` or `cache`), `state` (`staging`, `ready`, `retired`, `deleting`) |",
        "| `ScenarioDelta` | what turns version `seq + 1` back into version `seq`: `scenario`, `seq`, `part`, "
        "`data` (JSON) |",
        "",
        "On `Scenario`: `seq`, `physical` and `effective` of the latest version, and `newest` (whether it also "
        "has the latest effective date).",
        "",
    ]
