"""The driver layer: one long-lived driver per process, the database name always passed,
reads routed as reads, and a one-line error naming the URI when Neo4j cannot be reached."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from neo4j import READ_ACCESS, Driver, GraphDatabase, ManagedTransaction, RoutingControl, Session
from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired

from graph import local_neo4j
from graph.settings import Settings

T = TypeVar("T")

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (ServiceUnavailable, SessionExpired, OSError)


class DatabaseUnavailable(RuntimeError):
    """Neo4j cannot be reached (or refused our credentials); the message names the URI."""


@dataclass(frozen=True)
class Connection:
    uri: str
    user: str
    password: str
    database: str

    def __repr__(self) -> str:  # never show the password
        return f"Connection(uri={self.uri!r}, user={self.user!r}, database={self.database!r})"


def connection_for(settings: Settings, *, start_local: bool = True) -> Connection:
    """Where the graph lives: NEO4J_URI when set, else tomgraph's local Neo4j (started if needed)."""
    if settings.neo4j_uri:
        secret = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
        return Connection(settings.neo4j_uri, settings.neo4j_user, secret, settings.neo4j_database)
    if start_local:
        local_neo4j.start(settings, quiet=True)
    return Connection(local_neo4j.uri(settings), "neo4j", local_neo4j.password(settings), settings.neo4j_database)


def driver_options() -> dict[str, Any]:
    return {
        "connection_timeout": 5.0,
        "connection_acquisition_timeout": 10.0,
        "max_transaction_retry_time": 15.0,
        "liveness_check_timeout": 30.0,
        # Optional fields are often absent from a whole scenario; Neo4j's "property does not exist"
        # warnings for them would only be noise on the user's terminal.
        "notifications_min_severity": "OFF",
    }


class Database:
    """A synchronous driver bound to one database, for the CLI, loaders and checks."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.database = connection.database
        self.driver: Driver = GraphDatabase.driver(
            connection.uri, auth=(connection.user, connection.password), **driver_options()
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, start_local: bool = True) -> Database:
        return cls(connection_for(settings, start_local=start_local))

    @property
    def uri(self) -> str:
        return self.connection.uri

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.driver.close()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Turn "cannot connect" failures into one DatabaseUnavailable naming the URI."""
        try:
            yield
        except AuthError as e:
            raise DatabaseUnavailable(f"Neo4j at {self.uri} refused the credentials: {e.message}") from e
        except UNAVAILABLE_ERRORS as e:
            raise DatabaseUnavailable(f"cannot reach Neo4j at {self.uri}: {_reason(e)}") from e

    def verify(self) -> None:
        with self.errors():
            self.driver.verify_connectivity()

    def read(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one read query (routed as a read, retried on transient errors); rows as dicts."""
        with self.errors():
            records, _, _ = self.driver.execute_query(
                cypher, params or {}, database_=self.database, routing_=RoutingControl.READ
            )
        return [r.data() for r in records]

    def write(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one idempotent write query in its own transaction (retried on transient errors)."""
        with self.errors():
            records, _, _ = self.driver.execute_query(
                cypher, params or {}, database_=self.database, routing_=RoutingControl.WRITE
            )
        return [r.data() for r in records]

    def session(self, **config: Any) -> Session:
        return self.driver.session(database=self.database, **config)

    def execute_read(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run a unit of read work in one read transaction; `work` must be safe to retry."""
        with self.errors(), self.session() as session:
            return session.execute_read(work)

    def execute_write(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run a unit of write work in one transaction; `work` must be safe to retry."""
        with self.errors(), self.session() as session:
            return session.execute_write(work)


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class AsyncDatabase:
    """The async counterpart for the API: one driver for the server's lifetime."""

    def __init__(self, connection: Connection) -> None:
        from neo4j import AsyncGraphDatabase

        self.connection = connection
        self.database = connection.database
        self.driver = AsyncGraphDatabase.driver(
            connection.uri, auth=(connection.user, connection.password), **driver_options()
        )

    @property
    def uri(self) -> str:
        return self.connection.uri

    async def close(self) -> None:
        await self.driver.close()

    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless Neo4j answers a trivial read."""
        try:
            # A plain session, not execute_query: a readiness probe must fail fast, not retry.
            async with self.driver.session(database=self.database, default_access_mode=READ_ACCESS) as session:
                result = await session.run("RETURN 1")
                await result.consume()
        except AuthError as e:
            raise DatabaseUnavailable(f"Neo4j at {self.uri} refused the credentials: {e.message}") from e
        except UNAVAILABLE_ERRORS as e:
            raise DatabaseUnavailable(f"cannot reach Neo4j at {self.uri}: {_reason(e)}") from e

    async def read(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        try:
            records, _, _ = await self.driver.execute_query(
                cypher, params or {}, database_=self.database, routing_=RoutingControl.READ
            )
        except UNAVAILABLE_ERRORS as e:
            raise DatabaseUnavailable(f"cannot reach Neo4j at {self.uri}: {_reason(e)}") from e
        return [r.data() for r in records]
