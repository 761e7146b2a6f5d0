"""A `Database` that may only read, for the tests that every read path runs in READ transactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from neo4j import READ_ACCESS, ManagedTransaction, RoutingControl, Session

from graph.db import Database

T = TypeVar("T")


class ReadOnly(Database):
    """A `Database` whose every session is in READ access mode: Neo4j refuses any write made
    through it. `write` and `execute_write` also go through READ mode (and are counted), so a
    read path that tries to write fails here and shows in `write_attempts`."""

    def __init__(self, inner: Database) -> None:
        self.connection = inner.connection
        self.database = inner.database
        self.driver = inner.driver
        self.write_attempts: list[str] = []

    def session(self, **config: Any) -> Session:
        config["default_access_mode"] = READ_ACCESS
        return super().session(**config)

    def write(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.write_attempts.append(cypher)
        with self.errors():
            records, _, _ = self.driver.execute_query(
                cypher, params or {}, database_=self.database, routing_=RoutingControl.READ
            )
        return [r.data() for r in records]

    def execute_write(self, work: Callable[[ManagedTransaction], T]) -> T:
        self.write_attempts.append(getattr(work, "__name__", repr(work)))
        with self.errors(), self.session() as session:
            return session.execute_read(work)

    def close(self) -> None:  # the inner database owns the driver
        pass
