"""docs/graph-model.md, generated from the ontology (`tomgraph graph-model --out docs/graph-model.md`)."""

from __future__ import annotations

from typing import Any

import yaml

from graph.ontology import ENTITY_LABEL, KINDS, SINGLETON_ID, Field, Kind, Reference, edge_types


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
        "| `Scenario` | one per scenario: `name`, `loaded_at`, `entity_count`, `relationship_count`, `bundle_digest`;"
        " after an event log is loaded, `events_loaded_at` and `event_count` |",
        "| `Event` | one event of the scenario's event log (below) |",
        "| `EventLoadLock` | one per scenario that event logs were loaded into: `scenario`, and `holder` and `since`"
        " of the last load that succeeded. A load of events holds a write lock on it while it runs, so that loads"
        ' into one scenario run one at a time (docs/events.md, "Loading"); unique by `scenario` (constraint'
        " `event_load_lock_scenario`) |",
        "",
        *EVENTS_SECTION,
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
        "built-in and custom checks, maturity criteria, framework obligations, the query route "
        "`POST /scenarios/{s}/query`, reports, views, the diff and the plan, the explorer's pages), "
        "tomgraph binds `$scenario` to the physical name of the version in force on "
        "the day asked (`--at DATE`, `at=DATE`; default today). A maturity criterion also gets "
        "`$scenario_name`, the scenario's own name, for what is kept per scenario rather than per "
        "version (report snapshots, waivers). A query that starts its matches "
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


EVENTS_SECTION: tuple[str, ...] = (
    "## Events",
    "",
    "An event log (`tomgraph events load`, docs/events.md) is stored as `(:Event)` nodes, one per event, with no "
    "relationships: an event names its object and actor by id, and is joined to the entities when it is read "
    "(`MATCH (m:Entity {scenario: $scenario, id: e.object})`). Entities are replaced when a bundle is loaded "
    "again (and a large load writes new nodes), so a relationship to an entity node would break; an id does not.",
    "",
    "| property | what |",
    "| --- | --- |",
    "| `scenario` | the scenario's name (the events of a scenario outlive its versions) |",
    "| `id` | the event's id, unique per scenario (constraint `event_scenario_id`) |",
    "| `time` | a Neo4j `DATETIME` with the UTC offset the log gave |",
    "| `day` | a Neo4j `DATE`: the calendar day of `time` in its own offset (delegations and versions in force "
    "are judged on it) |",
    "| `activity` | one of the activities of docs/events.md |",
    "| `object` | the id of the entity acted on (possibly no entity: shadow AI) |",
    "| `actor` | as the log wrote it: a person id or an alias (resolved through `Person.aliases` when read); "
    "missing for `incident_opened` |",
    "| `request` | for an approval or rejection: the id of the request event it answers |",
    "| `to_stage` | for `stage_changed`: the stage moved to |",
    "| `properties.KEY` | the event's free properties |",
    "| `digest` | a digest of the event's content: a reload with the same id and digest adds nothing, "
    "another digest is an error |",
    "",
    "Indexes: `(scenario)`, `(scenario, day)`, `(scenario, activity, day)`, `(scenario, object, activity, time)`, "
    "`(scenario, actor)`.",
    "",
)
"""docs/graph-model.md's section on the event log's nodes (events/store.py writes them)."""


# --- docs/bundle-format.md ------------------------------------------------------------------

EXAMPLE_BUNDLE: dict[str, Any] = {
    "format": 1.1,
    "meta": {"owner": "r-coo", "reviewed": "2026-10-01", "frameworks": ["eu-ai-act"]},
    "units": [
        {"id": "u-group", "name": "Group"},
        {"id": "u-uw", "name": "Underwriting", "parent": "u-group", "head": "r-uw-head"},
    ],
    "roles": [
        {"id": "r-coo", "name": "Chief Operating Officer", "executive": True},
        {
            "id": "r-uw-head",
            "name": "Head of Underwriting",
            "unit": "u-uw",
            "reports_to": "r-coo",
            "escalates_to": "r-coo",
            "deputy": "r-pricing-lead",
        },
        {"id": "r-pricing-lead", "name": "Pricing Analytics Lead", "unit": "u-uw", "escalates_to": "r-uw-head"},
        {"id": "r-mrm", "name": "Model Risk Manager", "escalates_to": "r-coo"},
    ],
    "people": [
        {"id": "p-ana", "name": "Ana Ortiz", "email": "ana@example.com", "holds": ["r-uw-head"], "aliases": ["aortiz"]},
        {"id": "p-liam", "name": "Liam Byrne", "holds": ["r-pricing-lead"]},
        {"id": "p-cy", "name": "Cy Diaz", "holds": ["r-mrm", "r-coo"]},
    ],
    "data_domains": [
        {"id": "d-policy", "name": "Policy data", "classification": "confidential", "owners": ["r-uw-head"]},
    ],
    "vendors": [
        {"id": "v-riskwise", "name": "RiskWise", "owner": "r-uw-head", "contract_end": "2028-03-31"},
        {"id": "v-audit", "name": "Northwind Assurance", "owner": "r-mrm", "exit_plan": True},
    ],
    "systems": [
        {
            "id": "s-policy-admin",
            "name": "Policy administration",
            "stage": "production",
            "unit": "u-uw",
            "owner": "r-uw-head",
            "reads": ["d-policy"],
        },
    ],
    "models": [
        {
            "id": "m-uw-score",
            "name": "Underwriting risk score",
            "stage": "production",
            "risk_tier": "high",
            "unit": "u-uw",
            "owner": "r-uw-head",
            "developers": ["r-pricing-lead"],
            "change_approvers": ["r-mrm"],
            "deployment_approvers": ["r-mrm"],
            "shutdown_authority": ["r-uw-head", "r-mrm"],
            "vendor": ["v-riskwise"],
            "consumes": ["d-policy"],
            "depends_on": ["s-policy-admin"],
            "human_oversight": "in_the_loop",
            "operator_role": "deployer",
            "first_use": "2024-04-01",
            "last_reviewed": "2026-05-12",
            "properties": {"inventory_id": "MI-0007"},
        },
    ],
    "workflows": [
        {
            "id": "w-new-business",
            "name": "New-business underwriting",
            "stage": "production",
            "unit": "u-uw",
            "owner": "r-uw-head",
            "uses": ["m-uw-score"],
            "reads": ["d-policy"],
            "systems": ["s-policy-admin"],
        },
    ],
    "kpis": [
        {
            "id": "k-stp",
            "name": "Straight-through rate",
            "owner": "r-uw-head",
            "target": ">= 55% of applications",
            "status": "at_risk",
            "measured": "2026-10-31",
        },
    ],
    "use_cases": [
        {
            "id": "uc-stp",
            "name": "Straight-through underwriting",
            "stage": "live",
            "unit": "u-uw",
            "sponsor": "r-uw-head",
            "budget_owner": "r-coo",
            "approved_by": ["r-coo"],
            "models": ["m-uw-score"],
            "workflows": ["w-new-business"],
            "kpis": ["k-stp"],
        },
    ],
    "controls": [
        {
            "id": "c-drift",
            "name": "Drift monitoring",
            "kind": "monitoring",
            "applies_to": ["m-uw-score"],
            "operated_by": "r-pricing-lead",
        },
        {
            "id": "c-audit",
            "name": "External model audit",
            "kind": "audit",
            "applies_to": ["m-uw-score"],
            "operated_by": "v-audit",
        },
    ],
    "access": [
        {"id": "a-1", "data_domain": "d-policy", "consumer": "w-new-business", "status": "granted"},
    ],
    "delegations": [
        {
            "id": "dl-leave",
            "from": "r-mrm",
            "to": "p-ana",
            "right": "change_approval",
            "models": ["m-uw-score"],
            "valid_from": "2026-12-01",
            "valid_to": "2026-12-31",
        },
    ],
    "policies": [
        {
            "id": "pol-high",
            "risk_tier": "high",
            "require_rights": ["owner", "change_approvers", "shutdown_authority"],
            "require_controls": ["monitoring"],
            "human_oversight": "on_the_loop",
            "review_max_age_days": 365,
            "approval_max_days": 10,
            "require_evidence": ["model_card"],
        },
    ],
    "evidence": [
        {
            "id": "ev-card",
            "name": "Model card: underwriting risk score",
            "kind": "model_card",
            "about": ["m-uw-score"],
            "issued": "2026-05-12",
            "expires": "2027-05-12",
            "owner": "r-pricing-lead",
            "uri": "https://wiki.example.com/cards/uw-score",
        },
    ],
    "incidents": [
        {
            "id": "inc-1",
            "name": "Mispriced batch",
            "models": ["m-uw-score"],
            "severity": "high",
            "serious": True,
            "category": "widespread",
            "aware": "2026-09-02",
            "reported": "2026-09-03",
            "closed": "2026-09-20",
            "owner": "r-uw-head",
        },
    ],
    "initiatives": [
        {
            "id": "ini-second-supplier",
            "name": "Second supplier for the risk score",
            "status": "approved",
            "accountable": "r-coo",
            "due": "2027-06-30",
            "budget": "EUR 1.2M",
            "delivers": ["v-audit"],
        },
    ],
    "assessments": [
        {"id": "as-1", "question": "gov-01", "answer": "partly", "unit": "u-uw", "date": "2026-10-15", "by": "p-ana"},
    ],
}
"""The examples of docs/bundle-format.md: one valid format 1.1 bundle (a test loads it)."""


def _reference_type(ref: Reference) -> str:
    names = {k.section: k.singular for k in KINDS}
    if set(ref.targets) == {k.section for k in KINDS if not k.singleton}:
        return "any entities (list)" if ref.many else "any entity"
    kinds = " or ".join(names[t] for t in ref.targets)
    if ref.one_or_many:
        return f"{kinds}, or a list"
    return f"{kinds} (list)" if ref.many else kinds


def _field_type(f: Field) -> str:
    base = {"string": "text", "bool": "`true` or `false`", "date": "date `YYYY-MM-DD`", "int": "whole number"}
    text = ", ".join(f"`{c}`" for c in f.choices) if f.choices else base.get(f.type.value, f.type.value)
    if f.many:
        text = f"list of {text}"
    if f.default is not None:
        text += f" (default `{str(f.default).lower()}`)"
    return text


def _section_example(kind: Kind) -> str:
    data = EXAMPLE_BUNDLE.get(kind.section)
    if data is None:
        return ""
    return yaml.safe_dump(
        {kind.section: data}, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    ).strip()


def render_bundle_format() -> str:
    """docs/bundle-format.md: the user's guide to the bundle, its sections and fields from the
    ontology (graph/ontology.py), the examples from EXAMPLE_BUNDLE."""
    lines = [
        "# The bundle format",
        "",
        "Generated from `graph/ontology.py` and `graph/docs.py` by `make docs`; do not edit by hand "
        "(a test fails when this file is stale).",
        "",
        "A *bundle* is one state of an organisation's AI operating model, as files you keep in git or "
        "as a spreadsheet: who holds which role, who owns which data, which models and applications run "
        "where, who may approve, change or stop them, which vendors supply them, which controls watch "
        "them, and the policies, evidence, incidents and transition plan around them. `tomgraph load "
        "BUNDLE --scenario NAME` validates it and makes the scenario equal to it, all or nothing.",
        "",
        "## Forms",
        "",
        "One bundle can be written in any of four forms; all mean the same:",
        "",
        "| form | layout |",
        "| --- | --- |",
        "| one YAML file (`.yaml`, `.yml`) or JSON file (`.json`) | a mapping whose keys are the section "
        "names below, plus optional `format:` and `meta:` |",
        "| a directory | one file per section named after it: `models.yaml`, `models.yml`, `models.json` "
        "or `models.csv`; `meta.yaml`, `meta.json` or `meta.csv`. A `.yaml`/`.yml`/`.json`/`.csv` file "
        "with another name is an error, as are two files for one section; other files are ignored |",
        "| an Excel workbook (`.xlsx`) | one sheet per section named after it, the first row holding the "
        "column names; a sheet `meta` with the two columns `field` and `value` |",
        "",
        "In CSV and Excel, a list holds its items separated by `;` (spaces around items are ignored), a "
        "boolean is `true`/`false`/`yes`/`no`/`1`/`0`, a whole number is digits, and an empty cell means "
        '"not given". CSV files are UTF-8 (a byte-order mark is accepted). A column `properties.KEY` '
        "fills `properties` with `KEY`.",
        "",
        "`format: 1.1` says the bundle may use the fields and sections added in format 1.1; `format: 1` "
        "and no `format` are read the same way, and every format 1 bundle means the same in 1.1.",
        "",
        "## Ids and references",
        "",
        "- Every entity has an `id`: 1 to 128 characters, a letter or digit first, then letters, digits, "
        "`.`, `_`, `:` or `-`.",
        "- Ids are unique across the whole bundle, not only within a section, so a reference never says "
        "what kind of entity it points to.",
        "- A reference must name an entity of a kind the field expects (an `owner` is a role, `consumes` "
        "lists data domains, ...). A missing or wrongly-typed reference is an error, reported where it "
        "was written.",
        "- An unknown field is an error, except inside `properties:` (a free mapping of text, numbers and "
        "booleans, kept on the node for your own queries).",
        "- Every problem is reported at once, as `PLACE: FIELD: MESSAGE`, where PLACE is the file and "
        "line (YAML, JSON) or the file or sheet and row (CSV, Excel).",
        "",
        "## Fields every entity has",
        "",
        "| field | type | meaning |",
        "| --- | --- | --- |",
        "| `id` | id | required, unique in the bundle |",
        "| `name` | text | required, not empty (in `access`, `delegations`, `policies` and `assessments` "
        "it may be left out and defaults to the id) |",
        "| `description` | text | |",
        "| `tags` | list of text | |",
        "| `properties` | mapping | your own fields; in CSV and Excel, columns `properties.KEY` |",
        "",
        "## Sections",
        "",
    ]
    for kind in KINDS:
        if kind.singleton:
            continue
        lines += [f"### `{kind.section}`", "", kind.doc, ""]
        lines += ["| field | type | required | meaning |", "| --- | --- | --- | --- |"]
        for f in kind.fields:
            doc = f.doc + ("; unique across the section" if f.unique and "unique" not in f.doc else "")
            lines.append(f"| `{f.name}` | {_field_type(f)} | {'yes' if f.required else ''} | {doc} |")
        for ref in kind.references:
            lines.append(f"| `{ref.name}` | {_reference_type(ref)} | {'yes' if ref.required else ''} | {ref.doc} |")
        example = _section_example(kind)
        if example:
            lines += ["", "```yaml", example, "```"]
        lines.append("")
    meta = next(k for k in KINDS if k.singleton)
    lines += [
        "## `meta`",
        "",
        "A mapping (not a list) about the operating model itself; optional. In a directory it is "
        "`meta.yaml` (or `meta.json`, or `meta.csv` with the columns `field` and `value`), in Excel a "
        "sheet `meta` with those two columns.",
        "",
        "| field | type | meaning |",
        "| --- | --- | --- |",
    ]
    for f in meta.fields:
        lines.append(f"| `{f.name}` | {_field_type(f)} | {f.doc} |")
    for ref in meta.references:
        lines.append(f"| `{ref.name}` | {_reference_type(ref)} | {ref.doc} |")
    lines += ["", "```yaml", _section_example(meta), "```", ""]
    lines += [
        "## Scenarios",
        "",
        "Every load goes into a named scenario (default `current`); several live side by side, "
        "typically `current` and `target`. Loading a bundle makes its scenario equal to the bundle: what "
        "is no longer in the bundle is removed from that scenario, other scenarios are untouched, and an "
        "invalid bundle or a failure half way leaves the scenario as it was.",
        "",
        "## What the fields become",
        "",
        "Every entity becomes a node and every reference a relationship; see "
        "[the graph model](graph-model.md). The gap checks that read these fields are in "
        "[the check catalog](checks.md).",
        "",
    ]
    return "\n".join(lines)
