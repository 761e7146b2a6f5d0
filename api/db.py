"""The API's connections to Neo4j, with short connection timeouts so that a database that is
down turns into a 503 within 2 s instead of the driver's 15 s retry loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, LiteralString, cast

from neo4j import READ_ACCESS, AsyncGraphDatabase, AsyncSession, GraphDatabase, Query
from neo4j.exceptions import AuthError, ClientError, ConnectionAcquisitionTimeoutError
from starlette.concurrency import run_in_threadpool

from api.batching import ReadBatcher
from graph.db import UNAVAILABLE_ERRORS, AsyncDatabase, Connection, Database, DatabaseUnavailable, driver_options
from graph.history import HistoryPolicy
from graph.schema import apply_schema

CONNECT_TIMEOUT_S = 1.0
ACQUIRE_TIMEOUT_S = 1.5
SYNC_RETRY_S = 5.0
"""Loads and waiver writes retry transient errors (lock contention) this long."""

_DOWN: tuple[type[BaseException], ...] = (*UNAVAILABLE_ERRORS, ConnectionAcquisitionTimeoutError)


def _options(retry_s: float) -> dict[str, Any]:
    return {
        **driver_options(),
        "connection_timeout": CONNECT_TIMEOUT_S,
        "connection_acquisition_timeout": ACQUIRE_TIMEOUT_S,
        "max_transaction_retry_time": retry_s,
    }


def _reason(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class ApiDatabase(AsyncDatabase):
    """The async driver for request-path reads: auto-commit reads that fail fast, never retried
    for long, so a request either answers or becomes a 503."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.database = connection.database
        self.driver = AsyncGraphDatabase.driver(
            connection.uri, auth=(connection.user, connection.password), **_options(retry_s=1.0)
        )
        self.batcher = ReadBatcher(self.rows)
        self.writer: Database | None = None
        """The synchronous driver that rebuilds a past version stored as a delta (it writes)."""
        self.history = HistoryPolicy()

    async def close(self) -> None:
        await self.batcher.close()
        await super().close()

    async def one_row(self, cypher: str, params: dict[str, Any]) -> dict[str, Any]:
        """The one row `cypher` returns, read in one query with the concurrent requests for the
        same query (api/batching.py)."""
        return await self.batcher.one_row(cypher, params)

    @asynccontextmanager
    async def read_session(self, **config: Any) -> AsyncIterator[AsyncSession]:
        """A read session whose connection failures become DatabaseUnavailable."""
        try:
            async with self.driver.session(database=self.database, default_access_mode=READ_ACCESS, **config) as s:
                yield s
        except AuthError as e:
            raise DatabaseUnavailable(f"Neo4j at {self.uri} refused the credentials: {e.message}") from e
        except ClientError as e:
            if (e.code or "").startswith("Neo.ClientError.Security.Authentication"):
                raise DatabaseUnavailable(f"Neo4j at {self.uri} refused the credentials: {e.message}") from e
            raise
        except _DOWN as e:
            raise DatabaseUnavailable(f"cannot reach Neo4j at {self.uri}: {_reason(e)}") from e

    async def rows(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of one read query. A pooled connection that died with a restarted Neo4j is
        retried once, at once; anything else unavailable is a DatabaseUnavailable."""
        started = time.monotonic()
        query = Query(cast(LiteralString, cypher))
        try:
            return await self._rows_once(query, params)
        except DatabaseUnavailable:
            if time.monotonic() - started > CONNECT_TIMEOUT_S:
                raise
            return await self._rows_once(query, params)

    async def _rows_once(self, query: Query, params: dict[str, Any] | None) -> list[dict[str, Any]]:
        async with self.read_session() as session:
            result = await session.run(query, params or {})
            # dict(record), not record.data(): our queries return maps, lists and scalars only,
            # and data()'s recursive exporter cost more than the rest of the request's Python.
            return [dict(record) async for record in result]


class ApiSyncDatabase(Database):
    """The synchronous driver for the loader, the check runner and waivers, run in worker threads."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.database = connection.database
        self.driver = GraphDatabase.driver(
            connection.uri, auth=(connection.user, connection.password), **_options(retry_s=SYNC_RETRY_S)
        )


READY_TIMEOUT_S = 2.0


async def ensure_up(db: AsyncDatabase) -> None:
    """Before handing work to the synchronous driver (whose retries take seconds), make sure Neo4j
    answers at all: a 503 within 2 s beats a request that hangs."""
    try:
        await asyncio.wait_for(db.ping(), timeout=READY_TIMEOUT_S)
    except TimeoutError as e:
        raise DatabaseUnavailable(f"Neo4j at {db.uri} did not answer within {READY_TIMEOUT_S:.0f} s") from e


async def ready_for_writes(app_state: Any, db: AsyncDatabase, sync_db: Database) -> None:
    """Before a load (a bundle or an event log): Neo4j answers (`ensure_up`) and the schema is
    applied, once per app (start-up applies it unless Neo4j was down then; `app_state` is the
    app's `state`, whose `schema_applied` says so)."""
    await ensure_up(db)
    if not app_state.schema_applied:
        await run_in_threadpool(apply_schema, sync_db)
        app_state.schema_applied = True
