"""Neo4j stops under a running API: every data route answers 503 with Retry-After within 2 s,
/readyz says so, and the API recovers by itself once Neo4j is back. Uses a Neo4j of its own
(own data directory and port) so the shared test database is not disturbed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from graph import local_neo4j
from graph.db import Database
from graph.schema import apply_schema
from graph.settings import Settings
from loaders import load_bundle
from tests.api.conftest import INSURER, ApiClient, make_client
from tests.conftest import OUTAGE_NEO4J_PORT, TEST_DATA_DIR

SCENARIO = "outage"
INSURER_YAML = (INSURER.parent / "insurer.yaml").read_bytes()

DATA_ROUTES: list[tuple[str, str, dict[str, object]]] = [
    ("GET", "/scenarios", {}),
    ("GET", f"/scenarios/{SCENARIO}/entities", {}),
    ("GET", f"/scenarios/{SCENARIO}/entities/m-fraud-score", {}),
    ("GET", f"/scenarios/{SCENARIO}/entities/m-fraud-score/dependencies?depth=2", {}),
    ("GET", f"/scenarios/{SCENARIO}/impact/v-riskwise", {}),
    ("GET", f"/scenarios/{SCENARIO}/paths?from=v-riskwise&to=r-uw-head", {}),
    ("GET", f"/scenarios/{SCENARIO}/findings", {}),
    ("POST", f"/scenarios/{SCENARIO}/query", {"json": {"cypher": "RETURN 1 AS one"}}),
    ("PUT", f"/scenarios/{SCENARIO}/waivers", {"json": []}),
    ("PUT", f"/scenarios/{SCENARIO}/bundle", {"content": INSURER_YAML}),
]


@pytest.fixture(scope="module")
def own_neo4j() -> Iterator[Settings]:
    settings = Settings(
        neo4j_uri=None,
        data_dir=TEST_DATA_DIR / "api-outage",
        local_neo4j_port=OUTAGE_NEO4J_PORT,
        local_neo4j_heap="512m",
        local_neo4j_pagecache="64m",
    )
    local_neo4j.stop(settings)
    local_neo4j.start(settings)
    with Database.from_settings(settings, start_local=False) as db:
        apply_schema(db)
        load_bundle(db, INSURER, SCENARIO)
    yield settings
    local_neo4j.stop(settings)


@pytest.mark.slow
def test_neo4j_down_is_a_fast_503_and_the_api_recovers_by_itself(own_neo4j: Settings, api_keys: dict[str, str]) -> None:
    api: ApiClient = make_client(own_neo4j, api_keys)
    try:
        for method, path, kwargs in DATA_ROUTES:
            assert api.request(method, path, **kwargs).status_code == 200, path

        assert local_neo4j.stop(own_neo4j)
        for method, path, kwargs in [*DATA_ROUTES, ("GET", "/readyz", {})]:
            started = time.monotonic()
            response = api.request(method, path, **kwargs)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, (path, response.text)
            assert elapsed < 2.0, (path, elapsed)
            assert response.headers["retry-after"] == "5"
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["title"] == "Neo4j unavailable"

        local_neo4j.start(own_neo4j)
        back = time.monotonic()
        while api.get(f"/scenarios/{SCENARIO}/impact/v-riskwise").status_code != 200:
            assert time.monotonic() - back < 5.0, "the API did not recover within 5 s of Neo4j's return"
            time.sleep(0.1)
        assert api.get("/readyz", key=None).status_code == 200
        for method, path, kwargs in DATA_ROUTES:
            assert api.request(method, path, **kwargs).status_code == 200, path
    finally:
        api.close()
