"""Constraints and indexes, derived from the ontology and applied idempotently."""

from __future__ import annotations

from graph.db import Database
from graph.history import COPY_LABEL, DELTA_LABEL, VERSION_LABEL
from graph.ontology import ENTITY_LABEL, KINDS

SEARCH_INDEX = "entity_search"
"""The full-text index of entities' scenario, id and name (Lucene, standard tokenizer, lower case)."""
EVENT_SCHEMA: tuple[str, ...] = (
    "CREATE CONSTRAINT event_scenario_id IF NOT EXISTS FOR (e:Event) REQUIRE (e.scenario, e.id) IS UNIQUE",
    "CREATE INDEX event_scenario IF NOT EXISTS FOR (e:Event) ON (e.scenario)",
    "CREATE INDEX event_scenario_day IF NOT EXISTS FOR (e:Event) ON (e.scenario, e.day)",
    "CREATE INDEX event_scenario_activity_day IF NOT EXISTS FOR (e:Event) ON (e.scenario, e.activity, e.day)",
    "CREATE INDEX event_scenario_object_activity_time IF NOT EXISTS FOR (e:Event) "
    "ON (e.scenario, e.object, e.activity, e.time)",
    "CREATE INDEX event_scenario_actor IF NOT EXISTS FOR (e:Event) ON (e.scenario, e.actor)",
    "CREATE CONSTRAINT event_load_lock_scenario IF NOT EXISTS FOR (l:EventLoadLock) REQUIRE l.scenario IS UNIQUE",
)
"""Event logs (events/, docs/graph-model.md "Events"): one event per (scenario, id), the
indexes the conformance checks and the stats seek by (activity and day; object, activity and
time; actor), and one event-load lock node per scenario (events/lock.py: two first loads of a
scenario must not each create one)."""


def _snake(label: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in label).lstrip("_")


def schema_statements() -> list[str]:
    """Every constraint and index tomgraph needs; each is safe to run again."""
    statements = [
        f"CREATE CONSTRAINT entity_scenario_id IF NOT EXISTS "
        f"FOR (n:{ENTITY_LABEL}) REQUIRE (n.scenario, n.id) IS UNIQUE",
        "CREATE CONSTRAINT scenario_name IF NOT EXISTS FOR (s:Scenario) REQUIRE s.name IS UNIQUE",
        f"CREATE INDEX entity_scenario IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.scenario)",
        "CREATE INDEX waiver_scenario IF NOT EXISTS FOR (w:Waiver) ON (w.scenario)",
        "CREATE INDEX snapshot_scenario IF NOT EXISTS FOR (s:Snapshot) ON (s.scenario)",
        f"CREATE INDEX version_scenario_seq IF NOT EXISTS FOR (v:{VERSION_LABEL}) ON (v.scenario, v.seq)",
        f"CREATE INDEX delta_scenario_seq IF NOT EXISTS FOR (d:{DELTA_LABEL}) ON (d.scenario, d.seq)",
        f"CREATE INDEX copy_scenario IF NOT EXISTS FOR (c:{COPY_LABEL}) ON (c.scenario)",
        f"CREATE CONSTRAINT copy_physical IF NOT EXISTS FOR (c:{COPY_LABEL}) REQUIRE c.physical IS UNIQUE",
        # The explorer's catalog search (api/graph_reads.py, `search_query`): words of an entity's
        # scenario, id and name, lower-cased, no stop words; candidates for a substring search.
        f"CREATE FULLTEXT INDEX {SEARCH_INDEX} IF NOT EXISTS "
        f"FOR (n:{ENTITY_LABEL}) ON EACH [n.scenario, n.id, n.name] "
        "OPTIONS {indexConfig: {`fulltext.analyzer`: 'standard-no-stop-words',"
        " `fulltext.eventually_consistent`: false}}",
        *EVENT_SCHEMA,
    ]
    for kind in KINDS:
        statements.append(
            f"CREATE INDEX {_snake(kind.label)}_scenario IF NOT EXISTS FOR (n:{kind.label}) ON (n.scenario)"
        )
    return statements


def apply_schema(db: Database) -> None:
    """Create what is missing and wait until every index is online."""
    for statement in schema_statements():
        db.write(statement)
    db.write("CALL db.awaitIndexes(300)")
