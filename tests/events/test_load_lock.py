"""Loads of events into one scenario run one at a time (events/lock.py, docs/events.md "Loading"):
a second load waits for the first and then sees its events, a load into another scenario does
not wait, the wait is bounded, and a failed load gives the lock back. Against the tests' real
Neo4j; the waits are ended by events, never by sleeping."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from events import batches as event_batches
from events import lock as event_lock
from events import store as event_store
from events.lock import METADATA_KEY, EventLoadBusy, event_load_lock
from events.store import EventLoadResult, EventLogError, load_events
from graph.db import Database
from graph.sync import LoadConflict, delete_scenario
from tests.events.forms import write_form
from tests.events.test_interfaces import tomgraph
from tests.events.test_load import _count, _fixture, _load_bundle

SETTLE_S = 10.0
"""Longest a test waits for something that happens at once (a generous bound, never a sleep)."""


@pytest.fixture
def other_scenario(db: Database) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:12]}"
    yield name
    delete_scenario(db, name)


def _settles(condition: Callable[[], bool]) -> bool:
    """Whether `condition` holds within SETTLE_S (for what Neo4j shows a moment after it happened)."""
    deadline = time.monotonic() + SETTLE_S
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def _lock_transactions(db: Database, scenario: str) -> list[str]:
    """The status of each open transaction that holds or waits for `scenario`'s lock."""
    rows = db.read(
        f"SHOW TRANSACTIONS YIELD metaData, status WHERE metaData.{METADATA_KEY} = $s RETURN status", {"s": scenario}
    )
    return [r["status"] for r in rows]


def test_a_second_load_into_a_scenario_waits_for_the_first_and_then_sees_its_events(
    db: Database, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_store, "TX_MAX_EVENTS", 3)
    monkeypatch.setattr(event_batches, "BATCH_SIZE", 2)
    monkeypatch.setattr(event_lock, "NOTICE_AFTER_S", 0.2)
    bundle, events = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    log = write_form("jsonl", events, tmp_path)
    first_writing, go_on, second_waiting = threading.Event(), threading.Event(), threading.Event()

    def pause_after_first_batch(done: int, total: int) -> None:
        first_writing.set()
        assert go_on.wait(SETTLE_S)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first: Future[EventLoadResult] = pool.submit(load_events, db, log, scenario, progress=pause_after_first_batch)
        assert first_writing.wait(SETTLE_S)
        second = pool.submit(load_events, db, log, scenario, wait_s=SETTLE_S, waiting=lambda _: second_waiting.set())
        assert second_waiting.wait(SETTLE_S)  # not the lock after NOTICE_AFTER_S: it waits
        assert not second.done()
        assert _settles(
            lambda: [s.split(":")[0] for s in sorted(_lock_transactions(db, scenario))] == ["Blocked by", "Running"]
        )
        assert _count(db, scenario) < len(events)  # the first load's batches written so far
        go_on.set()
        loaded_first, loaded_second = first.result(SETTLE_S), second.result(SETTLE_S)
    assert (loaded_first.added, loaded_first.event_count) == (9, 9)
    # Its checks ran after the first load ended: every event was stored by then, with this content.
    assert (loaded_second.read, loaded_second.added, loaded_second.unchanged, loaded_second.event_count) == (9, 0, 9, 9)
    assert _lock_transactions(db, scenario) == []


def test_a_load_into_another_scenario_does_not_wait(
    db: Database, scenario: str, other_scenario: str, tmp_path: Path
) -> None:
    bundle, events = _fixture()
    _load_bundle(db, other_scenario, tmp_path, bundle)
    waited: list[float] = []
    with event_load_lock(db, scenario):
        loaded = load_events(
            db, write_form("csv", events, tmp_path), other_scenario, wait_s=SETTLE_S, waiting=waited.append
        )
    assert (loaded.added, loaded.event_count, waited) == (9, 9, [])


def test_a_load_that_waits_longer_than_it_may_fails_with_the_reason_and_stores_nothing(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    bundle, events = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    log = write_form("csv", events, tmp_path)
    with event_load_lock(db, scenario):
        started = time.monotonic()
        with pytest.raises(EventLoadBusy) as caught:
            load_events(db, log, scenario, wait_s=0.3)
        assert time.monotonic() - started < SETTLE_S
        assert re.fullmatch(
            f"another load of events into scenario '{scenario}' has held it for \\d+ s; this load waited 0.3 s "
            r"\(TOMGRAPH_EVENTS_LOAD_WAIT_S\) and nothing was stored; try again when it ends",
            str(caught.value),
        )
        assert isinstance(caught.value, LoadConflict)  # CLI exit 1, REST 409
        assert _count(db, scenario) == 0
        # The given-up wait was ended in Neo4j too: only the holder's transaction is left.
        assert _settles(lambda: _lock_transactions(db, scenario) == ["Running"])
    assert load_events(db, log, scenario, wait_s=SETTLE_S).added == 9


def test_a_failed_load_gives_the_lock_back(db: Database, scenario: str, tmp_path: Path) -> None:
    bundle, events = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    broken = [dict(e) for e in events]
    broken[0]["activity"] = "launched"
    with pytest.raises(EventLogError):
        load_events(db, write_form("csv", broken, tmp_path), scenario)
    assert _lock_transactions(db, scenario) == []
    with event_load_lock(db, scenario, wait_s=0.5):  # EventLoadBusy if the failed load still held it
        assert _count(db, scenario) == 0
    assert load_events(db, write_form("csv", events, tmp_path), scenario, wait_s=0.5).added == 9


def test_the_cli_says_it_waits_then_exits_1_with_the_reason(
    db: Database, scenario: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    bundle, events = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    log = write_form("csv", events, tmp_path)
    with event_load_lock(db, scenario):
        result = tomgraph(
            "events", "load", str(log), "--scenario", scenario, env={**cli_env, "TOMGRAPH_EVENTS_LOAD_WAIT_S": "1.5"}
        )
    assert (result.returncode, result.stdout) == (1, "")
    waiting, error = result.stderr.splitlines()
    assert waiting == (
        f"Waiting for another load of events into scenario '{scenario}' to end"
        " (at most 1.5 s, TOMGRAPH_EVENTS_LOAD_WAIT_S)"
    )
    assert re.fullmatch(
        f"error: another load of events into scenario '{scenario}' has held it for \\d+ s; this load waited 1.5 s "
        r"\(TOMGRAPH_EVENTS_LOAD_WAIT_S\) and nothing was stored; try again when it ends",
        error,
    )
    assert _count(db, scenario) == 0
