"""Reads of one scenario that see exactly one version of it.

Neo4j's transactions are read committed: a reader can see a load commit half way through a run
of many queries (checks 1-10 on the old version, 11-25 on the new one). A load's first statement
takes the write lock of the scenario's `(:Scenario)` node (graph/sync.py), so a reader that
takes the same lock first can neither start while a load is in progress (it waits for the
commit) nor be overtaken by one (the load waits for it). The lock is taken with a no-op write in
a transaction that is always rolled back: nothing a reader does in it is ever kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, LiteralString, Protocol, cast

from neo4j import Transaction

from graph.db import Database

LOCK_SCENARIO = "MATCH (s:Scenario {name: $scenario}) SET s.lock = s.lock RETURN count(s) AS found"


class Reader(Protocol):
    """Anything that runs a read query and returns its rows as dicts: a `Database`, or a
    `ScenarioView` that holds one scenario still."""

    def read(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...


class ScenarioView:
    """Queries in one transaction that holds a scenario's lock; see `consistent_view`."""

    def __init__(self, tx: Transaction, scenario: str, found: bool) -> None:
        self.tx = tx
        self.scenario = scenario
        self.found = found

    def read(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [record.data() for record in self.tx.run(cast(LiteralString, cypher), params or {})]

    def query_type(self, cypher: str, params: dict[str, Any] | None = None) -> str:
        """Neo4j's query type of `cypher` (`r` for read-only), from EXPLAIN: nothing runs."""
        summary = self.tx.run(cast(LiteralString, "EXPLAIN " + cypher), params or {}).consume()
        return str(summary.query_type)


@contextmanager
def consistent_view(db: Database, scenario: str) -> Iterator[ScenarioView]:
    """A view of `scenario` that no load changes until the block ends (loads of it wait).

    `view.found` says whether the scenario exists. Keep the block short: a load of the same
    scenario waits for it.
    """
    with db.errors(), db.session() as session:
        tx = session.begin_transaction()
        try:
            found = tx.run(LOCK_SCENARIO, scenario=scenario).single(strict=True)["found"] > 0
            yield ScenarioView(tx, scenario, found)
        finally:
            if not tx.closed():
                tx.rollback()
