"""Coalesced reads (api/batching.py): each request gets exactly its own query's row, concurrent
requests share queries, and failures and cancellations reach exactly the requests they concern."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

import pytest

from api.batching import MAX_BATCH, MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_QUERY, batched_query
from api.db import ApiDatabase
from api.graph_reads import ENTITY, FINDINGS_STATE, _entities_query, _paths_query, dependencies_query
from graph.db import Connection, Database, DatabaseUnavailable, connection_for
from graph.history import physical_name
from graph.settings import Settings

T = TypeVar("T")


TODAY = date.today()


def _with_db(settings: Settings, work: Callable[[ApiDatabase], Awaitable[T]]) -> T:
    async def run() -> T:
        db = ApiDatabase(connection_for(settings, start_local=False))
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def _requests(db: Database, insurer: str) -> list[tuple[str, dict[str, Any]]]:
    """A mix of every batched query, with hits, misses, cursors and unknown scenarios."""
    ids = [
        r["id"]
        for r in db.read(
            "MATCH (n:Entity {scenario: $s}) RETURN n.id AS id ORDER BY id", {"s": physical_name(db, insurer)}
        )
    ]
    assert len(ids) > 20
    out: list[tuple[str, dict[str, Any]]] = []
    for n, entity_id in enumerate(ids):
        depth = 1 + n % 5
        direction = "upstream" if n % 2 else "downstream"
        out.append(
            (
                dependencies_query(direction, depth),
                {"at": TODAY, "scenario": insurer, "id": entity_id, "after": None, "take": 3},
            )
        )
        out.append((ENTITY, {"at": TODAY, "scenario": insurer, "id": entity_id}))
    after = {"distance": 1, "kind": "models", "id": ids[0]}
    out += [
        (
            dependencies_query("downstream", 5),
            {"at": TODAY, "scenario": insurer, "id": ids[0], "after": after, "take": 101},
        ),
        (ENTITY, {"at": TODAY, "scenario": insurer, "id": "no-such-entity"}),
        (ENTITY, {"at": TODAY, "scenario": "no-such-scenario", "id": ids[0]}),
        (FINDINGS_STATE, {"at": TODAY, "scenario": insurer}),
        (FINDINGS_STATE, {"at": TODAY, "scenario": "no-such-scenario"}),
    ]
    return out


def test_each_request_gets_the_row_its_own_query_returns(test_settings: Settings, db: Database, insurer: str) -> None:
    requests = _requests(db, insurer)

    async def work(api_db: ApiDatabase) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        alone = [(await api_db.rows(cypher, params))[0] for cypher, params in requests]
        together = await asyncio.gather(*(api_db.one_row(cypher, params) for cypher, params in requests))
        return alone, list(together), api_db.batcher.batches

    alone, together, batches = _with_db(test_settings, work)
    assert together == alone
    # The answers are not trivially equal: dependencies were found, and the misses were misses.
    assert sum(1 for row in alone if row.get("page")) > 10
    assert [row["found"] for row in alone[-5:]] == [True, False, False, True, False]
    # A few query texts for the gathered requests (more for the dependency depths): far fewer
    # queries than requests.
    assert batches < len(requests) / 5


def test_a_lone_request_is_a_batch_of_one(test_settings: Settings, insurer: str) -> None:
    async def work(api_db: ApiDatabase) -> tuple[dict[str, Any], int, int]:
        row = await api_db.one_row(FINDINGS_STATE, {"at": TODAY, "scenario": insurer})
        return row, api_db.batcher.batches, api_db.batcher.requests

    row, batches, requests = _with_db(test_settings, work)
    assert (row["found"], batches, requests) == (True, 1, 1)


def test_more_requests_than_a_batch_holds_are_split_and_all_answered(test_settings: Settings, insurer: str) -> None:
    count = 2 * MAX_BATCH + 5

    async def work(api_db: ApiDatabase) -> tuple[list[dict[str, Any]], int]:
        rows = await asyncio.gather(
            *(api_db.one_row(FINDINGS_STATE, {"at": TODAY, "scenario": insurer}) for _ in range(count))
        )
        return list(rows), api_db.batcher.batches

    rows, batches = _with_db(test_settings, work)
    assert len(rows) == count and all(r["found"] for r in rows)
    assert batches == 3


def _most_batches_at_once(
    settings: Settings, requests: list[tuple[str, dict[str, Any]]], rounds: int
) -> tuple[int, int]:
    """Each request sent `rounds` times in a row by a client of its own, all clients at once:
    the most batches that ran at the same time, and how many ran in all."""
    running = 0
    most = 0

    async def work(api_db: ApiDatabase) -> int:
        nonlocal running, most
        run_rows = api_db.rows

        async def counted(cypher: str, params: dict[str, Any]) -> list[dict[str, Any]]:
            nonlocal running, most
            running += 1
            most = max(most, running)
            try:
                return await run_rows(cypher, params)
            finally:
                running -= 1

        api_db.batcher._run_rows = counted

        async def client(cypher: str, params: dict[str, Any]) -> None:
            for _ in range(rounds):
                await api_db.one_row(cypher, params)

        await asyncio.gather(*(client(cypher, params) for cypher, params in requests))
        return api_db.batcher.batches

    batches = _with_db(settings, work)
    return most, batches


def test_no_more_than_max_in_flight_batches_run_at_once(test_settings: Settings, insurer: str) -> None:
    shapes = [
        (ENTITY, {"at": TODAY, "scenario": insurer, "id": "x"}),
        (FINDINGS_STATE, {"at": TODAY, "scenario": insurer}),
        (dependencies_query("upstream", 2), {"at": TODAY, "scenario": insurer, "id": "x", "after": None, "take": 1}),
        (dependencies_query("downstream", 3), {"at": TODAY, "scenario": insurer, "id": "x", "after": None, "take": 1}),
    ]
    most, batches = _most_batches_at_once(test_settings, [shapes[n % 4] for n in range(20)], rounds=10)
    # Four queues and three slots: three batches run while the fourth waits.
    assert most == MAX_IN_FLIGHT == 3
    assert batches < 200


def test_one_query_never_takes_every_slot(test_settings: Settings, insurer: str) -> None:
    # 133 requests of one query: three batches (64, 64, 5), of which two may run at once.
    request = (FINDINGS_STATE, {"at": TODAY, "scenario": insurer})
    most, batches = _most_batches_at_once(test_settings, [request] * (2 * MAX_BATCH + 5), rounds=1)
    assert (most, batches) == (MAX_IN_FLIGHT_PER_QUERY, 3)
    assert MAX_IN_FLIGHT_PER_QUERY < MAX_IN_FLIGHT


def test_a_cancelled_request_is_dropped_and_the_others_are_answered(test_settings: Settings, insurer: str) -> None:
    async def work(api_db: ApiDatabase) -> tuple[list[bool], bool, int]:
        tasks = [
            asyncio.create_task(
                api_db.one_row(FINDINGS_STATE, {"at": TODAY, "scenario": insurer if n != 2 else "other"})
            )
            for n in range(5)
        ]
        await asyncio.sleep(0)  # every task has queued its request; the batch is not sent yet
        tasks[2].cancel()
        answers = await asyncio.gather(*tasks, return_exceptions=True)
        return (
            [isinstance(a, dict) and a["found"] for a in answers],
            isinstance(answers[2], asyncio.CancelledError),
            api_db.batcher.requests,
        )

    found, cancelled, sent = _with_db(test_settings, work)
    assert found == [True, True, False, True, True]
    assert cancelled
    assert sent == 4


def test_an_unreachable_database_fails_every_request_with_an_error_of_its_own() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there

    async def work() -> list[BaseException]:
        api_db = ApiDatabase(Connection(f"bolt://127.0.0.1:{port}", "neo4j", "x", "neo4j"))
        try:
            answers = await asyncio.gather(
                *(api_db.one_row(FINDINGS_STATE, {"scenario": "s"}) for _ in range(3)), return_exceptions=True
            )
        finally:
            await api_db.close()
        return [a for a in answers if isinstance(a, BaseException)]

    errors = asyncio.run(work())
    assert [type(e) for e in errors] == [DatabaseUnavailable] * 3
    assert len({id(e) for e in errors}) == 3
    assert all(f"127.0.0.1:{port}" in str(e) for e in errors)


def test_a_query_error_reaches_every_request_of_its_batch(test_settings: Settings) -> None:
    broken = "RETURN 1 / size($scenario) AS n"

    async def work(api_db: ApiDatabase) -> list[str]:
        answers = await asyncio.gather(
            *(api_db.one_row(broken, {"scenario": ""}) for _ in range(2)),
            api_db.one_row(FINDINGS_STATE, {"scenario": "x"}),
            return_exceptions=True,
        )
        return [type(a).__name__ for a in answers]

    assert _with_db(test_settings, work) == ["ClientError", "ClientError", "dict"]


@pytest.mark.parametrize(
    "cypher",
    [
        _entities_query("Entity"),  # LIMIT $take
        _paths_query(3),  # LIMIT $take
        "MATCH (n) WITH DISTINCT n.scenario AS s RETURN count(s) AS n",
        "MATCH (n) WITH * RETURN count(n) AS n",
        "MATCH (tg_req) RETURN count(tg_req) AS n",
        "MATCH (n {id: $tg_i}) RETURN count(n) AS n",
    ],
)
def test_queries_the_rewrite_cannot_carry_are_refused(cypher: str) -> None:
    with pytest.raises(ValueError, match="cannot batch"):
        batched_query(cypher)


def test_parameters_become_fields_of_the_request_and_every_with_carries_it() -> None:
    query = batched_query("MATCH (n {id: $id}) WITH n, n.name STARTS WITH $p AS x RETURN x")
    assert query == (
        "UNWIND $batch AS tg_req\nCALL {\nWITH tg_req\n"
        "MATCH (n {id: tg_req.id}) WITH tg_req, n, n.name STARTS WITH tg_req.p AS x RETURN x\n"
        "}\nRETURN *, tg_req.tg_i AS tg_i"
    )
