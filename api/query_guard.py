"""Ad-hoc Cypher for readers: refused unless it is a plain read, then run with a time limit and a
row cap in a read transaction.

Two independent gates, both must pass: the text (with strings and comments removed) may not use
LOAD CSV, `IN TRANSACTIONS`, administrative commands or any procedure outside a small allow-list;
and Neo4j's own `EXPLAIN` must call the query read-only (`query_type == "r"`) and its plan may not
call a procedure outside the allow-list. The read transaction is a third line: Neo4j refuses
writes in it whatever slipped past.
"""

from __future__ import annotations

import re
from typing import Any, LiteralString, cast

from neo4j import Query
from neo4j.exceptions import ClientError, Neo4jError, TransientError

from api.db import ApiDatabase
from api.graph_reads import json_value
from api.models import QueryAnswer
from api.problems import ApiProblem, ProblemItem

ALLOWED_PROCEDURES = re.compile(r"^db\.(labels|relationshipTypes|propertyKeys|schema\.[A-Za-z]+)$", re.IGNORECASE)
"""Schema procedures that only describe the graph; every other procedure is refused."""

ALLOWED_FUNCTION_NAMESPACES = ("apoc.coll.", "apoc.text.", "apoc.map.", "apoc.convert.", "apoc.math.", "apoc.date.")
"""APOC functions that only compute on their arguments; every other `apoc.` name is refused."""

_STRIP = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/""", re.DOTALL)
_ADMIN = re.compile(
    r"^\s*(SHOW|CREATE\s+(OR\s+REPLACE\s+)?(DATABASE|COMPOSITE|ALIAS|USER|ROLE|INDEX|CONSTRAINT|"
    r"RANGE|TEXT|POINT|LOOKUP|FULLTEXT|VECTOR)|DROP|ALTER|GRANT|DENY|REVOKE|START|STOP|RENAME|ENABLE|DEALLOCATE|"
    r"TERMINATE|USE)\b",
    re.IGNORECASE,
)
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bLOAD\s+CSV\b", re.IGNORECASE), "LOAD CSV reads files and URLs"),
    (re.compile(r"\bIN\s+(\d+\s+)?(CONCURRENT\s+)?TRANSACTIONS\b", re.IGNORECASE), "CALL { } IN TRANSACTIONS"),
    (re.compile(r"\bUSE\b", re.IGNORECASE), "USE selects another database"),
    (re.compile(r"\bPERIODIC\s+COMMIT\b", re.IGNORECASE), "PERIODIC COMMIT"),
)
_CALL = re.compile(r"\bCALL\s+([A-Za-z_][\w.]*)", re.IGNORECASE)
_APOC = re.compile(r"\bapoc\.[\w.]+", re.IGNORECASE)
_PLAN_PROCEDURE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*\(")


def _refuse(reason: str) -> ApiProblem:
    return ApiProblem(
        403,
        "Query refused",
        f"only read-only queries may run here: {reason}",
        slug="query-refused",
        errors=[ProblemItem(place="body", field="cypher", message=reason)],
    )


def screen_text(cypher: str) -> None:
    """Refuse by the text alone, before Neo4j sees it."""
    code = _STRIP.sub(" ", cypher).replace("`", "")
    if _ADMIN.match(code):
        raise _refuse("administrative commands are not allowed")
    for pattern, reason in _RULES:
        if pattern.search(code):
            raise _refuse(f"{reason} is not allowed")
    for name in _CALL.findall(code):
        if not ALLOWED_PROCEDURES.match(name):
            raise _refuse(
                f"procedure {name} is not allowed (allowed: db.labels, db.relationshipTypes, "
                "db.propertyKeys, db.schema.*)"
            )
    for name in _APOC.findall(code):
        if not name.lower().startswith(ALLOWED_FUNCTION_NAMESPACES):
            raise _refuse(f"{name} may load, write or run other Cypher")


def _plan_procedures(plan: Any) -> list[str]:
    if not isinstance(plan, dict):
        return []
    found: list[str] = []
    operator = str(plan.get("operatorType", ""))
    if operator.startswith("ProcedureCall"):
        details = str(plan.get("args", {}).get("Details", plan.get("arguments", {}).get("Details", "")))
        match = _PLAN_PROCEDURE.match(details)
        found.append(match.group(1) if match else details or operator)
    if operator.startswith(("LoadCSV", "Transaction")):
        found.append(operator)
    for child in plan.get("children", ()):
        found += _plan_procedures(child)
    return found


def _cypher_problem(e: Neo4jError) -> ApiProblem:
    code = e.code or ""
    if "TransactionTimedOut" in code or "Transaction.TransactionTimedOut" in code:
        return ApiProblem(
            422,
            "Query timed out",
            "the query ran longer than the server's time limit and was stopped; narrow it down",
            slug="query-timeout",
            errors=[ProblemItem(place="body", field="cypher", message="ran longer than the time limit")],
        )
    if code.startswith("Neo.ClientError.Security") or "AccessMode" in code or "ForbiddenOnReadOnly" in code:
        return _refuse(e.message or code)
    message = (e.message or code).strip().splitlines()[0] if (e.message or code).strip() else code
    return ApiProblem(
        422,
        "Invalid query",
        message,
        slug="invalid-query",
        errors=[ProblemItem(place="body", field="cypher", message=message)],
    )


async def run_read_only(
    db: ApiDatabase, cypher: str, params: dict[str, Any], *, timeout_s: float, row_cap: int
) -> QueryAnswer:
    """Check, then run `cypher`; stop at `row_cap` rows and say so."""
    screen_text(cypher)
    try:
        async with db.read_session(fetch_size=min(row_cap + 1, 1000)) as session:
            explained = await session.run(Query(cast(LiteralString, f"EXPLAIN {cypher}")), params)
            summary = await explained.consume()
            if summary.query_type != "r":
                raise _refuse(f"Neo4j classifies the query as {summary.query_type!r}, not read-only ('r')")
            refused = [p for p in _plan_procedures(summary.plan) if not ALLOWED_PROCEDURES.match(p)]
            if refused:
                raise _refuse(f"the plan calls {', '.join(refused)}")
            tx = await session.begin_transaction(timeout=timeout_s, metadata={"app": "tomgraph-api-query"})
            try:
                result = await tx.run(cast(LiteralString, cypher), params)
                columns = list(result.keys())
                rows: list[dict[str, Any]] = []
                async for record in result:
                    if len(rows) == row_cap:
                        # A rollback would first DISCARD, which makes Neo4j compute every remaining
                        # row; dropping the connection ends the transaction at once instead.
                        tx.cancel()
                        return QueryAnswer(columns=columns, rows=rows, row_count=len(rows), truncated=True)
                    rows.append({k: json_value(v) for k, v in record.data().items()})
                return QueryAnswer(columns=columns, rows=rows, row_count=len(rows), truncated=False)
            finally:
                await tx.close()
    except (ClientError, TransientError) as e:
        if isinstance(e, TransientError) and "TransactionTimedOut" not in (e.code or ""):
            raise ApiProblem(
                503, "Neo4j busy", e.message or "transient error", slug="neo4j-busy", headers={"Retry-After": "1"}
            ) from e
        raise _cypher_problem(e) from e
    except Neo4jError as e:
        raise _cypher_problem(e) from e
