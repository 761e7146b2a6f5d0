"""Ad-hoc read-only Cypher."""

from __future__ import annotations

from fastapi import APIRouter

from api import graph_reads
from api.deps import DbDep, ReaderKey, ScenarioName, SettingsDep
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
async def run_query(s: ScenarioName, body: QueryRequest, db: DbDep, settings: SettingsDep, _: ReaderKey) -> QueryAnswer:
    """Run a read-only Cypher query on scenario `s`, with `$scenario` set to `s`.

    Refused with 403: anything Neo4j's `EXPLAIN` does not classify as read-only, `LOAD CSV`,
    `CALL { } IN TRANSACTIONS`, administrative commands, and every procedure except
    `db.labels`, `db.relationshipTypes`, `db.propertyKeys` and `db.schema.*`. It runs in a read
    transaction with a server-side time limit (422 `query-timeout` when it is reached) and
    stops at the row cap (`truncated: true`).
    """
    if "scenario" in body.params:
        raise invalid("body", "params.scenario", "is reserved: it is set to the scenario in the path")
    await graph_reads.require_scenario(db, s)
    return await run_read_only(
        db,
        body.cypher,
        {**body.params, "scenario": s},
        timeout_s=settings.query_timeout_s,
        row_cap=settings.query_row_cap,
    )
