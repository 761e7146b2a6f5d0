"""/healthz and /readyz (rest.md)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from api.app import create_app
from graph.settings import Settings
from graph.sync import LoadConflict, conflict_message


async def _get(settings: Settings, path: str, app: FastAPI | None = None) -> httpx.Response:
    app = app or create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)


def test_healthz_answers_while_the_process_runs(test_settings: Settings) -> None:
    response = asyncio.run(_get(test_settings, "/healthz"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_200_when_neo4j_answers(test_settings: Settings) -> None:
    response = asyncio.run(_get(test_settings, "/readyz"))
    assert response.status_code == 200 and response.json()["status"] == "ready"


def test_readyz_is_503_with_retry_after_when_neo4j_is_unreachable() -> None:
    settings = Settings(neo4j_uri="bolt://127.0.0.1:1", neo4j_password="x")
    response = asyncio.run(_get(settings, "/readyz"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 503 and body["title"] == "Neo4j unavailable"
    assert body["detail"].startswith("cannot reach Neo4j at bolt://127.0.0.1:1")


def test_a_load_conflict_is_a_409_problem(test_settings: Settings) -> None:
    app = create_app(test_settings)

    @app.get("/conflict-for-test")
    async def conflict() -> None:
        raise LoadConflict(conflict_message("current"))

    response = asyncio.run(_get(test_settings, "/conflict-for-test", app))
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == conflict_message("current")
