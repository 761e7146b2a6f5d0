"""The tests' Neo4j: NEO4J_URI when set, testcontainers' Neo4j where Docker runs, otherwise
tomgraph's own local Neo4j in a data directory of its own (never the user's data).

Each test that writes gets a scenario of its own (`scenario` fixture), removed afterwards, so
tests are isolated from each other and from anything else in the database. There is no skip:
a test that needs a database and gets none fails, in CI and everywhere else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph import local_neo4j
from graph.db import Database, connection_for
from graph.schema import apply_schema
from graph.settings import Settings
from graph.sync import delete_scenario

REPO = Path(__file__).resolve().parent.parent
TEST_PORT = int(os.environ.get("TOMGRAPH_TEST_NEO4J_PORT", "7689"))
# A test run on another port gets its own directory, so two runs in one checkout do not share
# (and fight over) one Neo4j's files and PID file.
TEST_DATA_DIR = REPO / (".tomgraph-test" if TEST_PORT == 7689 else f".tomgraph-test-{TEST_PORT}")
LIFECYCLE_NEO4J_PORT = TEST_PORT + 8
"""The second local Neo4j that tests/graph/test_local_neo4j.py starts and stops (7697 by default)."""
OUTAGE_NEO4J_PORT = TEST_PORT + 9
"""The local Neo4j that tests/api/test_neo4j_outage.py stops under the API (7698 by default)."""


def _docker_available() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    return subprocess.run([docker, "info"], capture_output=True, timeout=20).returncode == 0


def local_test_settings(**overrides: object) -> Settings:
    """Settings for the tests' own local Neo4j (separate data directory and port)."""
    values: dict[str, object] = {
        "neo4j_uri": None,
        "data_dir": TEST_DATA_DIR,
        "local_neo4j_port": TEST_PORT,
        "local_neo4j_heap": "3g",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def test_settings() -> Iterator[Settings]:
    """Settings pointing at the tests' Neo4j, started for the session when it is ours."""
    if os.environ.get("NEO4J_URI"):
        yield Settings()
        return
    if _docker_available() and not os.environ.get("TOMGRAPH_TEST_NO_DOCKER"):
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community", password="tomgraph-test") as container:
            yield Settings(neo4j_uri=container.get_connection_url(), neo4j_user="neo4j", neo4j_password="tomgraph-test")
        return
    settings = local_test_settings()
    was_running = local_neo4j.status(settings).running
    try:
        local_neo4j.start(settings)
    except local_neo4j.LocalNeo4jError as error:
        # Typically a Neo4j of another checkout, or of a killed run, still holds the port:
        # stop the whole run with the reason rather than let every database test error alike.
        pytest.exit(
            f"the tests' Neo4j cannot start: {error}. For the tests the port is set with "
            f"TOMGRAPH_TEST_NEO4J_PORT (now {TEST_PORT}); or stop the other Neo4j (`tomgraph neo4j stop`)",
            returncode=3,
        )
    yield settings
    if not was_running:
        local_neo4j.stop(settings)


@pytest.fixture(scope="session")
def db(test_settings: Settings) -> Iterator[Database]:
    database = Database.from_settings(test_settings)
    database.verify()
    apply_schema(database)
    yield database
    database.close()


@pytest.fixture
def scenario(db: Database) -> Iterator[str]:
    """A fresh scenario name for one test; everything in it is removed afterwards."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    yield name
    delete_scenario(db, name)


@pytest.fixture(scope="session")
def cli_env(test_settings: Settings) -> dict[str, str]:
    """Environment for running `tomgraph` as a child process against the tests' Neo4j."""
    connection = connection_for(test_settings, start_local=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "TOMGRAPH_"))}
    env.update(
        {
            "NEO4J_URI": connection.uri,
            "NEO4J_USER": connection.user,
            "NEO4J_PASSWORD": connection.password,
            "NEO4J_DATABASE": connection.database,
            "TOMGRAPH_DATA_DIR": str(TEST_DATA_DIR / "cli"),
        }
    )
    return env
