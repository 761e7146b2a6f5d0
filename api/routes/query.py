"""Ad-hoc read-only Cypher."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api import graph_reads
from api.deps import AtQuery, DbDep, ReaderKey, ScenarioName
from api.models import QueryAnswer, QueryRequest
from api.problems import READ_RESPONSES, invalid, problem_response
from api.query_guard import QueryRunner
from loaders.problems import printable

router = APIRouter(tags=["query"])


@router.post(
    "/scenarios/{s}/query",
    responses={
        **READ_RESPONSES,
        403: problem_response("The key's role does not allow this, or the query's plan is not a plain read"),
        422: problem_response(
            "Invalid body, a Cypher error, a query over the size limits, past the time limit, "
            "over the memory limit, or an answer over the byte cap"
        ),
        413: problem_response("The request body is larger than the limit (api/guard.py)"),
        429: problem_response("As many ad-hoc queries as allowed are running; retry after Retry-After"),
    },
)
async def run_query(
    request: Request, s: ScenarioName, body: QueryRequest, db: DbDep, _: ReaderKey, at: AtQuery = None
) -> QueryAnswer:
    """Run a read-only Cypher query on scenario `s` as in force on `at` (default today), with
    `$scenario` set to the name that version is stored under: a query that matches
    `{scenario: $scenario}` reads exactly that version (docs/graph-model.md).

    Input: `{"cypher": TEXT, "params": {NAME: JSON}}`. Output: `columns`, `rows` (maps),
    `row_count`, `truncated` (the row cap cut the rows), `warnings` (e.g. the query does not use
    `$scenario` and so may read every scenario).

    The decision is taken on Neo4j's `EXPLAIN` plan, never on the text (api/query_guard.py): 403
    `query-refused` unless every operator is a plain read of this database and every procedure is
    one of `db.labels`, `db.relationshipTypes`, `db.propertyKeys`, `db.schema.*`. Limits
    (docs/api.md): 422 `query-too-complex` (length, nesting, UNIONs, operators), `query-timeout`
    (one deadline for planning and run), `query-memory`, `query-too-large` (answer bytes);
    429 `query-busy` when every ad-hoc slot is taken. Issue 13 lists the attacks these answer.
    """
    if "scenario" in body.params:
        raise invalid("body", "params.scenario", "is reserved: it is set to the scenario in the path")
    damaged = damaged_text(body.params, "params")  # pydantic refuses them in `cypher`, not in JSON values
    if damaged:
        raise invalid("body", *damaged)
    runner: QueryRunner = request.app.state.query_runner
    params = {**body.params, "scenario": s}

    async def resolve() -> None:
        # After the runner's cheap checks: 404 for a missing scenario or version, and `$scenario`
        # bound to the physical name of the version in force on `at`.
        params["scenario"] = await graph_reads.physical_name(db, s, at)

    return await runner.run(body.cypher, params, first=resolve)


def damaged_text(value: Any, where: str = "") -> tuple[str, str] | None:
    """The first text in `value` (JSON: objects, arrays, strings) that cannot be sent to Neo4j, a
    string or key holding a lone surrogate (JSON allows `"\\ud800"`; UTF-8 does not), as
    (`params.x.0`-style path, message worded as the bundle loader words it); None if there is none."""
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return path, _surrogate(item)
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                name = f"{path}.{printable(key)}" if path else printable(key)
                if not _encodable(key):
                    return name, f"the name {_surrogate(key)}"
                stack.append((name, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}", child) for i, child in reversed(list(enumerate(item))))
    return None


def _surrogate(text: str) -> str:
    """As loaders.values.text_problem words it, less "before it reached this file"."""
    code = next(ord(c) for c in text if 0xD800 <= ord(c) <= 0xDFFF)
    return f"contains a lone surrogate (U+{code:04X}), which is not a Unicode character"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
