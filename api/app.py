"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from graph.db import AsyncDatabase, DatabaseUnavailable, connection_for
from graph.settings import Settings

PROBLEM_JSON = "application/problem+json"
READY_TIMEOUT_S = 2.0


def problem(status: int, title: str, detail: str, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Starting the local Neo4j (when NEO4J_URI is unset) is the CLI's job; here we only connect.
        app.state.db = AsyncDatabase(connection_for(settings, start_local=False))
        try:
            yield
        finally:
            await app.state.db.close()

    app = FastAPI(
        title="tomgraph",
        version="1",
        summary="An organisation's AI operating model as a knowledge graph: dependencies, impact and gaps.",
        lifespan=lifespan,
    )
    app.state.settings = settings

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """200 while the process runs."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "Neo4j does not answer"}})
    async def readyz(request: Request) -> JSONResponse:
        """200 when Neo4j answers, else 503 with Retry-After."""
        db: AsyncDatabase = request.app.state.db
        try:
            await asyncio.wait_for(db.ping(), timeout=READY_TIMEOUT_S)
        except (DatabaseUnavailable, TimeoutError) as e:
            detail = str(e) or f"Neo4j at {db.uri} did not answer within {READY_TIMEOUT_S:.0f} s"
            return problem(503, "Neo4j unavailable", detail, headers={"Retry-After": "5"})
        return JSONResponse({"status": "ready", "neo4j": db.uri})

    return app
