"""The local Neo4j: starts with the database answering on loopback, stops cleanly, and says
clearly what is wrong with a stale PID file or a port in use."""

from __future__ import annotations

import shutil
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph import local_neo4j
from graph.db import Database, DatabaseUnavailable
from graph.settings import Settings
from tests.conftest import LIFECYCLE_NEO4J_PORT, TEST_DATA_DIR


@pytest.fixture(scope="module")
def own_instance() -> Iterator[Settings]:
    """A second local Neo4j with its own data directory and port, started and stopped here."""
    settings = Settings(
        neo4j_uri=None,
        data_dir=TEST_DATA_DIR / "lifecycle",
        local_neo4j_port=LIFECYCLE_NEO4J_PORT,
        local_neo4j_heap="512m",
        local_neo4j_pagecache="64m",
    )
    local_neo4j.stop(settings)
    shutil.rmtree(settings.data_dir / "neo4j", ignore_errors=True)
    yield settings
    local_neo4j.stop(settings)


def test_launcher_pins_the_version_the_code_names() -> None:
    pom = (local_neo4j.LAUNCHER_DIR / "pom.xml").read_text()
    assert f"<neo4j.version>{local_neo4j.NEO4J_VERSION}</neo4j.version>" in pom
    assert local_neo4j.NEO4J_VERSION.startswith("5.26.")


def test_start_waits_for_bolt_and_a_second_start_reuses_it(own_instance: Settings) -> None:
    status = local_neo4j.start(own_instance)
    assert status.running and status.uri == f"bolt://127.0.0.1:{LIFECYCLE_NEO4J_PORT}"
    assert local_neo4j.start(own_instance).pid == status.pid
    with Database.from_settings(own_instance, start_local=False) as db:
        assert db.read("CALL dbms.components() YIELD versions RETURN versions[0] AS v") == [
            {"v": local_neo4j.NEO4J_VERSION}
        ]
        db.write("MERGE (:Probe {name: 'survives'})")


def test_authentication_is_required_and_the_secret_is_private(own_instance: Settings) -> None:
    local_neo4j.start(own_instance)
    paths = local_neo4j.Paths.of(own_instance)
    assert stat.S_IMODE(paths.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(paths.password.stat().st_mode) == 0o600
    assert len(paths.password.read_text().strip()) >= 32
    wrong = Settings(neo4j_uri=local_neo4j.uri(own_instance), neo4j_password="neo4j")
    with Database.from_settings(wrong) as db, pytest.raises(DatabaseUnavailable, match="refused the credentials"):
        db.verify()


def test_bolt_listens_on_loopback_only(own_instance: Settings) -> None:
    local_neo4j.start(own_instance)
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    for address in (a for a in addresses if not a.startswith("127.")):
        with socket.socket() as sock:
            sock.settimeout(1)
            assert sock.connect_ex((address, own_instance.local_neo4j_port)) != 0
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", own_instance.local_neo4j_port)) == 0


def test_stop_then_a_stale_pid_file_then_restart_keeps_the_data(own_instance: Settings) -> None:
    local_neo4j.start(own_instance)
    assert local_neo4j.stop(own_instance) is True
    assert local_neo4j.status(own_instance).running is False
    assert local_neo4j.stop(own_instance) is False
    local_neo4j.Paths.of(own_instance).pid.write_text("999999")
    status = local_neo4j.start(own_instance)
    assert status.running and status.pid != 999999
    with Database.from_settings(own_instance, start_local=False) as db:
        assert db.read("MATCH (p:Probe) RETURN p.name AS n") == [{"n": "survives"}]
    local_neo4j.stop(own_instance)


def test_port_in_use_gives_a_clear_message(own_instance: Settings) -> None:
    local_neo4j.stop(own_instance)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT of the last run
        squatter.bind(("127.0.0.1", own_instance.local_neo4j_port))
        squatter.listen()
        with pytest.raises(local_neo4j.LocalNeo4jError) as caught:
            local_neo4j.start(own_instance)
    assert str(caught.value) == (
        f"port {LIFECYCLE_NEO4J_PORT} on 127.0.0.1 is already in use by another program; "
        "stop it or choose another port with TOMGRAPH_LOCAL_NEO4J_PORT"
    )


def test_java_version_parsing() -> None:
    assert local_neo4j._java_major('openjdk version "17.0.15" 2025-04-15') == 17
    assert local_neo4j._java_major('java version "1.8.0_392"') == 8
    assert local_neo4j._java_major('openjdk version "21" 2023-09-19') == 21


def test_unreachable_neo4j_is_one_line_naming_the_uri(tmp_path: Path) -> None:
    settings = Settings(neo4j_uri="bolt://127.0.0.1:1", neo4j_password="x")
    with Database.from_settings(settings) as db, pytest.raises(DatabaseUnavailable) as caught:
        db.verify()
    message = str(caught.value)
    assert message.startswith("cannot reach Neo4j at bolt://127.0.0.1:1: ")
    assert "\n" not in message
