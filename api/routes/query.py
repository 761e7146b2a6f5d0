"""Ad-hoc read-only Cypher."""

from __future__ import annotations

from fastapi import APIRouter

from api import graph_reads
from api.deps import AtQuery, DbDep, ReaderKey, ScenarioName, SettingsDep
from api.models import QueryAnswer, QueryRequest
from api.problems import READ_RESPONSES, invalid, problem_response
from api.query_guard import run_read_only

router = APIRouter(tags=["query"])


@router.post(
    "/scenarios/{s}/query",
    responses={
        **READ_RESPONSES,
        403: problem_response("The key's role does not allow this, or the query is not a plain read"),
        422: problem_response("Invalid body, a Cypher error, or the query ran past the time limit"),
    },
)
async def run_query(
    s: ScenarioName, body: QueryRequest, db: DbDep, settings: SettingsDep, _: ReaderKey, at: AtQuery = None
) -> QueryAnswer:
    """Run a read-only Cypher query on scenario `s` as in force on `at` (default today), with
    `$scenario` set to the name that version is stored under: a query that matches
    `{scenario: $scenario}` reads exactly that version (docs/graph-model.md).

    Refused with 403: anything Neo4j's `EXPLAIN` does not classify as read-only, `LOAD CSV`,
    `CALL { } IN TRANSACTIONS`, administrative commands, and every procedure except
    `db.labels`, `db.relationshipTypes`, `db.propertyKeys` and `db.schema.*`. It runs in a read
    transaction with a server-side time limit (422 `query-timeout` when it is reached) and
    stops at the row cap (`truncated: true`).
    """
    if "scenario" in body.params:
        raise invalid("body", "params.scenario", "is reserved: it is set to the scenario in the path")
    physical = await graph_reads.physical_name(db, s, at)
    return await run_read_only(
        db,
        body.cypher,
        {**body.params, "scenario": physical},
        timeout_s=settings.query_timeout_s,
        row_cap=settings.query_row_cap,
    )
