"""docs/graph-model.md, generated from the ontology (`tomgraph graph-model --out docs/graph-model.md`)."""

from __future__ import annotations

from graph.ontology import ENTITY_LABEL, KINDS, SINGLETON_ID, Field, edge_types


def field_summary(f: Field) -> str:
    """`name` (required; list of enum: a, b; default false): one field's type in a few words."""
    text = f"`{f.name}` ("
    if f.required:
        text += "required; "
    text += f"list of {f.type.value}" if f.many else f.type.value
    if f.choices:
        text += ": " + ", ".join(f.choices)
    if f.default is not None:
        text += f"; default {str(f.default).lower()}"
    if f.unique:
        text += "; unique"
    return text + ")"


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
        "of the same scenario, so always start a match from `{scenario: $scenario}`. Lists "
        "(`list of ...`) are list properties. The bundle's `meta` mapping is one node labelled "
        f"`Meta` (and `{ENTITY_LABEL}`) per scenario, with the id `{SINGLETON_ID}` (which no entity id "
        "can take), the name `Operating model`, and its `owner` as an `OWNS` relationship from the role.",
        "",
        "## Labels",
        "",
        "| bundle section | label | fields |",
        "| --- | --- | --- |",
    ]
    for kind in KINDS:
        fields = [field_summary(f) for f in kind.fields]
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
    return "\n".join(lines)
