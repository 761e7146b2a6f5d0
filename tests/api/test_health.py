"""/healthz and /readyz (rest.md)."""

from __future__ import annotations

import asyncio

import httpx

from api.app import create_app
from graph.settings import Settings


async def _get(settings: Settings, path: str) -> httpx.Response:
    app = create_app(settings)
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
