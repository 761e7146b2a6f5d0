"""Faults with real processes and real signals: the loader, or Neo4j itself, SIGKILLed mid-load."""

from __future__ import annotations

import os
import random
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph import local_neo4j
from graph.db import Database, connection_for
from graph.dump import dump_scenario
from graph.schema import apply_schema
from graph.settings import Settings
from graph.sync import delete_scenario
from loaders import load_bundle
from tests.bundles import write_json
from tests.children import LoaderChild
from tests.conftest import TEST_DATA_DIR

# `make test` runs one round; TOMGRAPH_RELIABILITY_SCALE=N runs N (the figures in docs/reliability.md).
ROUNDS = int(os.environ.get("TOMGRAPH_RELIABILITY_SCALE", "1"))


def large_bundle(n: int, variant: int) -> dict[str, Any]:
    """Units, roles, people, data domains and models with many references; `variant` changes
    names, drops a tenth of the people and moves references, so a load creates, updates and removes."""
    rng = random.Random(variant)
    units = [
        {"id": f"u{i}", "name": f"Unit {i} v{variant}", **({"parent": f"u{rng.randrange(i)}"} if i else {})}
        for i in range(n // 10)
    ]
    roles = [{"id": f"r{i}", "name": f"Role {i}", "unit": f"u{rng.randrange(len(units))}"} for i in range(n)]
    people = [
        {"id": f"p{i}", "name": f"Person {i}", "holds": [f"r{i}", f"r{rng.randrange(n)}"]}
        for i in range(n)
        if variant == 0 or i % 10 != variant % 10
    ]
    domains = [{"id": f"d{i}", "name": f"Domain {i}", "owners": [f"r{rng.randrange(n)}"]} for i in range(n // 20)]
    models = [
        {
            "id": f"m{i}",
            "name": f"Model {i}",
            "stage": rng.choice(["pilot", "production"]),
            "owner": f"r{rng.randrange(n)}",
            "consumes": [f"d{rng.randrange(len(domains))}"],
        }
        for i in range(n // 10)
    ]
    return {"units": units, "roles": roles, "people": people, "data_domains": domains, "models": models}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("fault-bundles")
    return (
        write_json(large_bundle(6_000, 0), directory / "old.json"),
        write_json(large_bundle(6_000, 1), directory / "new.json"),
    )


def test_loader_killed_at_points_spread_over_the_whole_load(
    db: Database, scenario: str, cli_env: dict[str, str], bundles: tuple[Path, Path]
) -> None:
    old, new = bundles
    load_bundle(db, old, scenario)
    before = dump_scenario(db, scenario)
    # How long the writing takes, measured on a scratch scenario, to spread the kill points over it.
    scratch = f"{scenario}-calibrate"
    try:
        load_bundle(db, old, scratch)
        child = LoaderChild("tests.reliability._load_child", [str(new), scratch], cli_env)
        child.wait_for("read")
        started = time.monotonic()
        child.wait_for("done")
        write_s = time.monotonic() - started
        child.process.wait()
        new_dump = dump_scenario(db, scratch)
    finally:
        delete_scenario(db, scratch)
    rng = random.Random(8)
    # Fractions of the writing time, plus a kill the moment the last batch is written (in the
    # final statement and commit): a kill there may land before or after the commit.
    points: list[float | str] = [
        p for _ in range(ROUNDS) for p in (rng.uniform(0, 0.1), rng.uniform(0.3, 0.7), 0.95, "commit")
    ]
    outcomes = []
    for point in points:
        child = LoaderChild("tests.reliability._load_child", [str(new), scenario], cli_env)
        child.wait_for("read")
        if point == "commit":
            child.wait_for("commit")
        else:
            time.sleep(float(point) * write_s)
        child.kill()
        _settle(db, scenario)
        after = dump_scenario(db, scenario)
        assert after in (before, new_dump), f"killed at {point}: the scenario is neither the old nor the new one"
        if after == new_dump:
            # the load had committed before the signal landed; restore the old one for the next kill
            outcomes.append("new")
            load_bundle(db, old, scenario)
        else:
            outcomes.append("old")
    print(f"\nloader kills: {len(points)} over {write_s:.1f} s of writing: {outcomes}")
    # killed in the first tenth of the writing, the load cannot have committed
    assert all(o == "old" for p, o in zip(points, outcomes, strict=True) if p != "commit" and float(p) < 0.1)
    result = load_bundle(db, new, scenario)
    assert result.changed and dump_scenario(db, scenario) == new_dump


def _settle(db: Database, scenario: str) -> None:
    """Wait until the killed loader's transaction is over. Neo4j notices the dead connection a
    little later; a COMMIT already sent may even complete then. Taking the scenario's lock (as
    a load does) waits for that, so the dump sees the settled scenario, not a commit under way."""
    db.write("MATCH (s:Scenario {name: $s}) SET s.lock = s.lock", {"s": scenario})


def _wait_port_free(port: int, timeout_s: float = 30.0) -> None:
    """After SIGKILL the JVM's main thread can be a zombie while other threads still hold the
    Bolt socket; `local_neo4j.kill` returns then, so wait for the port before starting again."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"port {port} still in use {timeout_s} s after the kill")


# --- Neo4j killed under a load ------------------------------------------------------------


class _OwnNeo4j(Settings):
    """A local Neo4j of this module's own (data directory and port), sharing the built runtime."""

    @property
    def local_neo4j_dir(self) -> Path:
        return TEST_DATA_DIR / "reliability-neo4j"


@pytest.fixture(scope="module")
def own_neo4j() -> Iterator[Settings]:
    settings = _OwnNeo4j(
        neo4j_uri=None,
        data_dir=TEST_DATA_DIR,
        local_neo4j_port=7713,
        local_neo4j_heap="1g",
        local_neo4j_pagecache="128m",
    )
    local_neo4j.stop(settings)
    shutil.rmtree(settings.local_neo4j_dir, ignore_errors=True)
    local_neo4j.start(settings)
    yield settings
    local_neo4j.stop(settings)


def _env_for(settings: Settings, base: dict[str, str]) -> dict[str, str]:
    connection = connection_for(settings, start_local=False)
    return {**base, "NEO4J_URI": connection.uri, "NEO4J_PASSWORD": connection.password}


def test_neo4j_killed_during_a_load_leaves_the_old_or_the_new_scenario(
    own_neo4j: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    bundles = (
        write_json(large_bundle(3_000, 0), tmp_path / "old.json"),
        write_json(large_bundle(3_000, 1), tmp_path / "new.json"),
    )
    env = _env_for(own_neo4j, cli_env)
    with Database.from_settings(own_neo4j, start_local=False) as db:
        apply_schema(db)
        expected = []
        for i, path in enumerate(bundles):
            load_bundle(db, path, f"ref-{i}")
            expected.append(dump_scenario(db, f"ref-{i}"))
        load_bundle(db, bundles[0], "s")
    rng = random.Random(4)
    outcomes = []
    for attempt in range(2 * ROUNDS):
        with Database.from_settings(own_neo4j, start_local=False) as db:
            before = dump_scenario(db, "s")
        current = expected.index(before)
        target = 1 - current
        child = LoaderChild("tests.reliability._load_child", [str(bundles[target]), "s"], env)
        child.wait_for("read")
        if attempt % 2 == 1:
            child.wait_for("commit")
        else:
            time.sleep(rng.uniform(0.0, 1.0))
        assert local_neo4j.kill(own_neo4j)
        child.kill()  # its driver would otherwise retry for 15 s; its fate is not under test here
        started = time.monotonic()
        _wait_port_free(own_neo4j.local_neo4j_port)
        local_neo4j.start(own_neo4j)
        restart_s = time.monotonic() - started
        with Database.from_settings(own_neo4j, start_local=False) as db:
            after = dump_scenario(db, "s")
            assert after in expected, f"attempt {attempt}: a mix of the old and new scenario"
            outcomes.append(("old" if after == before else "new", round(restart_s, 1)))
            # and the next load succeeds
            assert load_bundle(db, bundles[target], "s").entity_count == len(expected[target]["nodes"])
    print(f"\nNeo4j kills: {outcomes}")
