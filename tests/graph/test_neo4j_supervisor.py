"""The local Neo4j is supervised (issue 13): killed with SIGKILL, it comes back by itself and the
crash is logged; `tomgraph neo4j stop` still stops it for good. Real child processes throughout:
the supervisor, the Neo4j JVM, and the `tomgraph` CLI."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from graph import local_neo4j
from graph.db import Database
from graph.settings import Settings
from tests.conftest import TEST_DATA_DIR, TEST_PORT

PORT = TEST_PORT + 300


@pytest.fixture(scope="module")
def supervised() -> Iterator[Settings]:
    settings = Settings(
        neo4j_uri=None,
        data_dir=TEST_DATA_DIR / "supervised",
        local_neo4j_port=PORT,
        local_neo4j_heap="512m",
        local_neo4j_pagecache="64m",
    )
    local_neo4j.stop(settings)
    shutil.rmtree(settings.data_dir / "neo4j", ignore_errors=True)
    local_neo4j.start(settings)
    yield settings
    local_neo4j.stop(settings)


def _answers(settings: Settings) -> bool:
    with Database.from_settings(settings, start_local=False) as db:
        return db.read("RETURN 1 AS one") == [{"one": 1}]


@pytest.mark.slow
def test_a_killed_neo4j_is_restarted_and_the_crash_logged(supervised: Settings) -> None:
    paths = local_neo4j.Paths.of(supervised)
    first = local_neo4j.status(supervised).pid
    assert first is not None and _answers(supervised)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + supervised.local_neo4j_start_timeout_s
    while True:
        current = local_neo4j.status(supervised)
        if current.running and current.pid != first and local_neo4j._port_in_use(PORT):
            try:
                if _answers(supervised):
                    break
            except Exception:  # still starting: Bolt open, databases not yet
                pass
        assert time.monotonic() < deadline, "Neo4j did not come back after the kill"
        time.sleep(0.5)
    crashes = paths.crashes.read_text().splitlines()
    assert len(crashes) == 1
    assert crashes[0].endswith(f"tomgraph-supervisor: Neo4j (pid {first}) died with signal 9 (SIGKILL); restarting it")
    assert crashes[0] in paths.log.read_text()


@pytest.mark.slow
def test_neo4j_stop_stops_it_for_good(supervised: Settings) -> None:
    local_neo4j.start(supervised)
    pid = local_neo4j.status(supervised).pid
    paths = local_neo4j.Paths.of(supervised)
    supervisor = int(paths.supervisor_pid.read_text())
    crashes_before = paths.crashes.read_text() if paths.crashes.exists() else ""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "TOMGRAPH_"))},
        "TOMGRAPH_DATA_DIR": str(supervised.data_dir),
        "TOMGRAPH_LOCAL_NEO4J_PORT": str(PORT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "neo4j", "stop"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    time.sleep(3)  # longer than the supervisor's first back-off: a restart would have begun
    assert pid is not None and not local_neo4j._alive(pid) and not local_neo4j._alive(supervisor)
    assert not local_neo4j.status(supervised).running
    assert not local_neo4j._port_in_use(PORT)
    assert (paths.crashes.read_text() if paths.crashes.exists() else "") == crashes_before  # a stop is no crash
