"""Reads of one scenario that see exactly one version of it, in read transactions.

Every version of a scenario is stored under a physical name and never changed once published
(graph/history.py). A view resolves "scenario S on day D" to that name once, at its start, and
runs every query with `$scenario` bound to it: whatever loads commit meanwhile, the view reads
the same version, without taking any lock. The transaction is opened in READ access mode (so
it is routed to a reader in a cluster, works for a Neo4j user that may only read, and Neo4j
refuses any write in it) and is always rolled back.

At its end a view checks that its copy was not being deleted while it read (a copy is deleted
`TOMGRAPH_HISTORY_GRACE_S` after it stopped being resolved); if it was, the view raises
`HistoryError` instead of answering from a half-deleted version.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, LiteralString, Protocol, cast

from neo4j import READ_ACCESS, Transaction

from graph.db import Database
from graph.history import HistoryError, HistoryPolicy, NoVersionAt, Resolved, materialize, resolve_in, still_readable
from graph.history import no_version_message as _no_version_message


class Reader(Protocol):
    """Anything that runs a read query and returns its rows as dicts: a `Database`, or a
    `ScenarioView` that holds one version of a scenario."""

    def read(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...


class ScenarioView:
    """Queries in one read transaction on one version of a scenario; see `consistent_view`.

    `scenario` is the scenario's name, `physical` the name its entities are stored under in
    this version (bind `$scenario` to it), `found` whether the scenario exists, `resolved` the
    version."""

    def __init__(self, tx: Transaction, scenario: str, resolved: Resolved, database: Database | None = None) -> None:
        self.tx = tx
        self.database = database
        """The database the view reads (for reads of other versions, e.g. the event log's)."""
        self.scenario = scenario
        self.resolved = resolved
        self.found = resolved.found
        self.physical = resolved.physical or scenario

    def read(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [record.data() for record in self.tx.run(cast(LiteralString, cypher), params or {})]

    def query_type(self, cypher: str, params: dict[str, Any] | None = None) -> str:
        """Neo4j's query type of `cypher` (`r` for read-only), from EXPLAIN: nothing runs."""
        summary = self.tx.run(cast(LiteralString, "EXPLAIN " + cypher), params or {}).consume()
        return str(summary.query_type)


@contextmanager
def consistent_view(
    db: Database, scenario: str, at: date | None = None, *, policy: HistoryPolicy | None = None
) -> Iterator[ScenarioView]:
    """A read-only view of `scenario` as it was in force on `at` (default today).

    `view.found` says whether the scenario exists. Raises `graph.history.NoVersionAt` when it
    exists but had no version in force on `at`. A version stored only as a delta is rebuilt
    first (graph/history.py `materialize`, which writes); every read of the view itself is a read.
    """
    with db.errors(), db.session(default_access_mode=READ_ACCESS) as session:
        tx = session.begin_transaction()
        try:
            # Resolved in the view's own transaction: in a cluster, the same server (and its
            # state) answers the resolution and the reads.
            resolved = resolve_in(tx, scenario, at)
            if resolved.found and resolved.seq is not None and resolved.physical is None:
                tx.rollback()
                materialize(db, scenario, resolved.seq, policy or HistoryPolicy())
                tx = session.begin_transaction()
                resolved = resolve_in(tx, scenario, at)
            if resolved.found and (resolved.seq is None or resolved.physical is None):
                raise NoVersionAt(_no_version_message(scenario, resolved.at))
            view = ScenarioView(tx, scenario, resolved, db)
            yield view
            if resolved.physical is not None and not still_readable(tx, resolved.physical):
                raise HistoryError(
                    f"the version of scenario '{scenario}' being read was deleted meanwhile "
                    "(it had been superseded for longer than TOMGRAPH_HISTORY_GRACE_S); run again"
                )
        finally:
            if not tx.closed():
                tx.rollback()


@contextmanager
def pinned_view(db: Database, view: ScenarioView) -> Iterator[ScenarioView]:
    """Another read transaction on exactly the version `view` reads, without resolving again: a
    published copy never changes, so several threads can read one version side by side (the
    diff does). Hold `view` open meanwhile: its end checks that the copy was not deleted."""
    with db.errors(), db.session(default_access_mode=READ_ACCESS) as session:
        tx = session.begin_transaction()
        try:
            yield ScenarioView(tx, view.scenario, view.resolved, db)
        finally:
            if not tx.closed():
                tx.rollback()
