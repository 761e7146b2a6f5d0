"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from api.auth import KeyStore, keys_file
from api.db import READY_TIMEOUT_S, ApiDatabase, ApiSyncDatabase
from api.deps import no_unknown_query_parameters
from api.guard import RequestGuard, SecurityHeaders
from api.problems import PROBLEM_JSON, install_handlers, problem, problem_response, unavailable
from api.query_guard import QueryRunner
from api.routes import checks, coverage, entities, events, maturity, query, scenarios, views
from explorer import install as install_explorer
from graph.db import DatabaseUnavailable, connection_for
from graph.history import policy_from
from graph.schema import apply_schema
from graph.settings import Settings
from queries.catalog import load_catalog
from queries.frameworks import load_frameworks

__all__ = ["PROBLEM_JSON", "create_app", "problem"]

log = logging.getLogger("tomgraph.api")


def serve(settings: Settings, host: str, port: int) -> None:
    """Run the API under uvicorn until stopped (`tomgraph serve`, the benchmarks, the demo)."""
    import uvicorn

    from api.server import uvicorn_config

    app = create_app(settings)
    # What exists now lives as long as the process: keep the collector from walking it again on
    # every full collection, which would otherwise stall requests now and then.
    gc.collect()
    gc.freeze()
    uvicorn.Server(uvicorn_config(app, settings, host, port)).run()


def create_app(settings: Settings) -> FastAPI:
    """The API for `settings`; nothing connects until the lifespan starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Starting the local Neo4j (when NEO4J_URI is unset) is the CLI's job; here we only connect.
        connection = connection_for(settings, start_local=False)
        app.state.db = ApiDatabase(connection)
        # The loader, the check runner and waivers are synchronous library code: they get their
        # own sync driver and run in worker threads, never on the event loop.
        app.state.sync_db = ApiSyncDatabase(connection)
        # Ad-hoc queries get a small pool of their own, so they can never starve the other routes.
        app.state.query_runner = QueryRunner(app.state.db, settings)
        app.state.db.writer = app.state.sync_db  # rebuilds past versions (graph/history.py)
        app.state.db.history = policy_from(settings)
        app.state.schema_applied = False
        try:
            await asyncio.wait_for(app.state.db.ping(), timeout=READY_TIMEOUT_S)
            await run_in_threadpool(apply_schema, app.state.sync_db)
            app.state.schema_applied = True
        except (DatabaseUnavailable, TimeoutError) as e:
            log.warning("Neo4j not ready at start-up (%s); /readyz says 503 until it is", e)
        try:
            yield
        finally:
            await app.state.query_runner.close()
            await app.state.db.close()
            await run_in_threadpool(app.state.sync_db.close)

    app = FastAPI(
        title="tomgraph",
        version="1",
        summary="An organisation's AI operating model as a knowledge graph: dependencies, impact and gaps.",
        lifespan=lifespan,
        # /docs and /redoc come from the explorer, with their assets served locally (no CDN).
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(no_unknown_query_parameters)],
        # Off unless asked for: with it on, FastAPI asks the OpenTelemetry providers on every request.
        telemetry=None if settings.api_telemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.catalog = load_catalog(settings.check_dirs)
    app.state.frameworks = load_frameworks(settings.framework_dirs)
    app.state.findings_cache = checks.FindingsCache()
    app.state.key_store = KeyStore(keys_file(settings))
    if app.state.key_store.open_mode:
        log.warning("no API keys file at %s: the API runs open (every caller is admin)", app.state.key_store.path)
    elif not app.state.key_store.keys():
        log.warning("the API keys file %s holds no key: every request is refused (401)", app.state.key_store.path)
    install_handlers(app)
    # Authentication, body size and body time before any body is read (api/guard.py).
    app.add_middleware(RequestGuard, fastapi_app=app)
    if settings.api_cors_origins:
        # Off unless configured: without this middleware a browser on another origin can send
        # nothing but simple requests and read none of the answers.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET", "PUT", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            allow_credentials=False,
            max_age=600,
        )

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """200 while the process runs."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: problem_response("Neo4j does not answer")})
    async def readyz(request: Request) -> JSONResponse:
        """200 when Neo4j answers, else 503 with Retry-After."""
        db: ApiDatabase = request.app.state.db
        try:
            await asyncio.wait_for(db.ping(), timeout=READY_TIMEOUT_S)
        except (DatabaseUnavailable, TimeoutError) as e:
            return unavailable(str(e) or f"Neo4j at {db.uri} did not answer within {READY_TIMEOUT_S:.0f} s")
        return JSONResponse({"status": "ready", "neo4j": db.uri})

    for module in (scenarios, entities, checks, coverage, query, views, maturity, events):
        app.include_router(module.router)
    install_explorer(app)
    _secure_every_answer(app)
    return app


def _secure_every_answer(app: FastAPI) -> None:
    """Wrap the whole middleware stack in `SecurityHeaders`, so that even the 500 answered by
    Starlette's outermost error middleware carries the security headers."""
    build = app.build_middleware_stack

    def build_secured() -> ASGIApp:
        return SecurityHeaders(build())

    app.build_middleware_stack = build_secured  # type: ignore[method-assign]
