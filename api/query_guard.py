"""Ad-hoc Cypher for readers (`POST /scenarios/{s}/query`): refused unless its *plan* is a plain
read of the scenario database, then run with a deadline, a row cap and a byte cap, on a small
connection pool of its own.

The decision is taken on Neo4j's own `EXPLAIN` of the query, never on its text, so `CYPHER`
prefixes, comments of every form (`//` ended by `\\r`, U+2028, `/* */`), backticks and odd
spacing change nothing: every operator of the plan tree must be on `READ_OPERATORS`, must run on
the scenario database (no `USE` of another), every procedure call must be on
`ALLOWED_PROCEDURES`, and no user-defined function outside `PURE_FUNCTION_NAMESPACES` may appear
in any operator. Before Neo4j sees it, the text only gets cheap size checks (length, nesting,
`UNION` branches, operators) because Neo4j's parser can hang for minutes on a few hundred bytes.

Time: one deadline (`TOMGRAPH_QUERY_TIMEOUT_S`) covers planning and the run, kept on our side
with asyncio, because Neo4j's own transaction timeout is only checked between rows (a `reduce`
over a billion numbers ignores it). When the deadline passes, the connection is dropped, the
transaction is terminated through the API's main connection, and the query's slot stays taken
until Neo4j has really finished it, so abandoned work can never pile up on the server.

Issue 13 (hardening) lists the attacks this answers; docs/reliability.md records them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, LiteralString, cast

from neo4j import READ_ACCESS, AsyncDriver, AsyncGraphDatabase, Query
from neo4j.exceptions import ClientError, DriverError, Neo4jError, TransientError
from neo4j.graph import Node, Path, Relationship

from api.db import CONNECT_TIMEOUT_S, ApiDatabase, _options
from api.graph_reads import json_value
from api.models import QueryAnswer
from api.problems import ApiProblem, ProblemItem
from graph.db import UNAVAILABLE_ERRORS, DatabaseUnavailable
from graph.history import COPY_LABEL
from graph.settings import Settings
from graph.sync import STAGE_SEPARATOR

log = logging.getLogger("tomgraph.api.query")

_READ_OPERATOR_NAMES = """
    ProduceResults Projection Filter Argument EmptyRow Optional Eager CacheProperties
    AllNodesScan NodeByLabelScan IntersectionNodeByLabelsScan UnionNodeByLabelsScan SubtractionNodeByLabelsScan
    NodeByIdSeek NodeByElementIdSeek DirectedRelationshipByIdSeek UndirectedRelationshipByIdSeek
    DirectedRelationshipByElementIdSeek UndirectedRelationshipByElementIdSeek
    NodeIndexSeek NodeUniqueIndexSeek NodeIndexSeekByRange NodeUniqueIndexSeekByRange NodeIndexScan
    NodeIndexContainsScan NodeIndexEndsWithScan MultiNodeIndexSeek AssertingMultiNodeIndexSeek
    DirectedRelationshipIndexSeek UndirectedRelationshipIndexSeek DirectedRelationshipIndexSeekByRange
    UndirectedRelationshipIndexSeekByRange DirectedRelationshipIndexScan UndirectedRelationshipIndexScan
    DirectedRelationshipIndexContainsScan UndirectedRelationshipIndexContainsScan
    DirectedRelationshipIndexEndsWithScan UndirectedRelationshipIndexEndsWithScan
    DirectedRelationshipUniqueIndexSeek UndirectedRelationshipUniqueIndexSeek
    DirectedRelationshipUniqueIndexSeekByRange UndirectedRelationshipUniqueIndexSeekByRange
    DirectedRelationshipTypeScan UndirectedRelationshipTypeScan DirectedAllRelationshipsScan
    UndirectedAllRelationshipsScan DirectedUnionRelationshipTypesScan UndirectedUnionRelationshipTypesScan
    NodeCountFromCountStore RelationshipCountFromCountStore
    Expand OptionalExpand VarLengthExpand ShortestPath StatefulShortestPath Trail Repeat NullifyMetadata
    ProjectEndpoints TriadicSelection TriadicBuild TriadicFilter AssertSameNode AssertSameRelationship
    Apply SemiApply AntiSemiApply LetSemiApply LetAntiSemiApply SelectOrSemiApply SelectOrAntiSemiApply
    LetSelectOrSemiApply LetSelectOrAntiSemiApply ConditionalApply AntiConditionalApply RollUpApply
    CartesianProduct NodeHashJoin ValueHashJoin NodeLeftOuterHashJoin NodeRightOuterHashJoin
    Union OrderedUnion Distinct OrderedDistinct EagerAggregation OrderedAggregation
    Sort PartialSort Top PartialTop Limit ExhaustiveLimit Skip Unwind PartitionedUnwind
    ProcedureCall
"""
READ_OPERATORS = frozenset(_READ_OPERATOR_NAMES.split())
"""Plan operators that only read the graph (Neo4j 5 operator names, without `(All)`-style
variants and `@database`). Anything else (writes, `LoadCSV`, `TransactionApply`, `Show*`,
`Terminate*`, `AdministrationCommand`, ...) is refused, including operators Neo4j adds later."""

ALLOWED_PROCEDURES = frozenset(
    {
        "db.labels",
        "db.relationshiptypes",
        "db.propertykeys",
        "db.schema.visualization",
        "db.schema.nodetypeproperties",
        "db.schema.reltypeproperties",
    }
)
"""Procedures that only describe the graph's schema (lower case); every other one is refused."""

PURE_FUNCTION_NAMESPACES = ("apoc.coll.", "apoc.text.", "apoc.map.", "apoc.convert.", "apoc.math.", "apoc.date.")
"""User-defined functions that only compute on their arguments; any other user-defined function
(e.g. `apoc.cypher.runFirstColumn`, which runs Cypher of its own) is refused."""

_OPERATOR = re.compile(r"^([A-Za-z]+)(?:\([^)]*\))?(?:@(.*))?$")
_PROCEDURE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*\(")
_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")
_UNION = re.compile(r"\bUNION\b", re.IGNORECASE)
_OPERATORS = re.compile(r"<>|<=|>=|=~|\+=|[-+*/%^=<>]|\b(?:AND|OR|XOR|NOT|IN|IS|STARTS|ENDS|CONTAINS)\b", re.IGNORECASE)
_LINE_ENDS = re.compile("\r\n|[\r\u2028\u2029\u0085]")
_SCENARIO_PARAMETER = re.compile(r"\$(?:scenario|`scenario`)(?![\w`])")


@dataclass(frozen=True)
class QueryLimits:
    """The query route's limits (graph/settings.py `query_*`)."""

    timeout_s: float
    row_cap: int
    max_bytes: int
    max_length: int
    max_nesting: int
    max_unions: int
    max_operators: int

    @classmethod
    def of(cls, settings: Settings) -> QueryLimits:
        return cls(
            timeout_s=settings.query_timeout_s,
            row_cap=settings.query_row_cap,
            max_bytes=settings.query_max_bytes,
            max_length=settings.query_max_length,
            max_nesting=settings.query_max_nesting,
            max_unions=settings.query_max_unions,
            max_operators=settings.query_max_operators,
        )


def _refuse(reason: str) -> ApiProblem:
    return ApiProblem(
        403,
        "Query refused",
        f"only plain reads of the graph may run here: {reason}",
        slug="query-refused",
        errors=[ProblemItem(place="body", field="cypher", message=reason)],
    )


def _too_complex(reason: str) -> ApiProblem:
    return ApiProblem(
        422,
        "Query too complex",
        f"{reason}; split the query or simplify it",
        slug="query-too-complex",
        errors=[ProblemItem(place="body", field="cypher", message=reason)],
    )


def screen_shape(cypher: str, limits: QueryLimits) -> None:
    """Refuse (422 `query-too-complex`) a query text over the cheap limits, before Neo4j parses
    it: bytes (UTF-8), bracket nesting, `UNION` branches, operators. Counted on the raw text,
    strings and comments included, so a limit can only be reached early, never dodged."""
    size = len(cypher.encode("utf-8", "surrogatepass"))
    if size > limits.max_length:
        raise _too_complex(f"the query is {size} bytes, over the limit of {limits.max_length}")
    depth = deepest = 0
    for char in cypher:
        if char in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif char in _CLOSERS:
            depth = max(depth - 1, 0)
    if deepest > limits.max_nesting:
        raise _too_complex(f"brackets nest {deepest} deep, over the limit of {limits.max_nesting}")
    unions = len(_UNION.findall(cypher))
    if unions > limits.max_unions:
        raise _too_complex(f"the query has {unions} UNIONs, over the limit of {limits.max_unions}")
    operators = len(_OPERATORS.findall(cypher))
    if operators > limits.max_operators:
        raise _too_complex(f"the query has {operators} operators, over the limit of {limits.max_operators}")


def _walk(plan: Any) -> Iterator[dict[str, Any]]:
    stack = [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.get("children", ()))


def _details(operator: dict[str, Any]) -> str:
    args = operator.get("args") or operator.get("arguments") or {}
    return " ".join(str(v) for v in args.values()) if isinstance(args, dict) else str(args)


@dataclass(frozen=True)
class PlanVerdict:
    uses_scenario: bool


def check_plan(plan: Any, *, database: str, impure_functions: frozenset[str]) -> PlanVerdict:
    """Raise a 403 problem unless every operator of `plan` (the EXPLAIN plan as the driver
    returns it: a dict with `operatorType`, `args`, `children`) is a read on `database`.

    Returns whether the plan uses the `$scenario` parameter."""
    uses_scenario = False
    # Procedure calls are judged first, so that a refusal names the procedure a person wrote
    # rather than the operator Neo4j planned around it (`EmptyResult` for a void procedure).
    operators = sorted(_walk(plan), key=lambda o: not str(o.get("operatorType", "")).startswith("ProcedureCall"))
    for operator in operators:
        kind = str(operator.get("operatorType", ""))
        match = _OPERATOR.match(kind)
        name, on = (match.group(1), match.group(2)) if match else (kind, None)
        if name not in READ_OPERATORS:
            raise _refuse(f"the plan uses {name}, which is not a plain read")
        if on is not None and on.lower() != database.lower():
            raise _refuse(f"the query reads database {on!r}; only {database!r} may be read")
        details = _details(operator)
        if name == "ProcedureCall":
            args = operator.get("args") or operator.get("arguments") or {}
            own = str(args.get("Details", "")) if isinstance(args, dict) else details
            called = _PROCEDURE.match(own)
            procedure = called.group(1) if called else own or details
            if procedure.lower() not in ALLOWED_PROCEDURES:
                allowed = ", ".join(sorted(ALLOWED_PROCEDURES))
                raise _refuse(f"procedure {procedure} is not allowed (allowed: {allowed})")
        lowered = details.lower()
        for function in impure_functions:
            if f"{function}(" in lowered:
                raise _refuse(f"function {function} may load, write or run other Cypher")
        uses_scenario = uses_scenario or bool(_SCENARIO_PARAMETER.search(details))
    return PlanVerdict(uses_scenario=uses_scenario)


def _cypher_problem(e: Neo4jError) -> ApiProblem:
    code = e.code or ""
    if "TransactionTimedOut" in code:
        return _timeout_problem()
    if "OutOfMemory" in code or "MemoryPoolOutOfMemory" in code or "TransactionOutOfMemory" in code:
        return ApiProblem(
            422,
            "Query used too much memory",
            "Neo4j stopped the query because it needed more memory than a transaction may use; narrow it down",
            slug="query-memory",
            errors=[ProblemItem(place="body", field="cypher", message="used too much memory")],
        )
    if code.startswith("Neo.ClientError.Security") or "AccessMode" in code or "ForbiddenOnReadOnly" in code:
        return _refuse(e.message or code)
    if "`USE` clause" in (e.message or ""):
        # Neo4j declines to plan some `USE other-database ...` queries (`USE system SHOW
        # DATABASES`): naming another database is refused like a plan that reads one.
        return _refuse("the query names another database with USE; only this scenario's database may be read")
    text = (e.message or code).strip()
    message = text.splitlines()[0] if text else code
    return ApiProblem(
        422,
        "Invalid query",
        message,
        slug="invalid-query",
        errors=[ProblemItem(place="body", field="cypher", message=message)],
    )


def _timeout_problem() -> ApiProblem:
    return ApiProblem(
        422,
        "Query timed out",
        "the query ran longer than the time limit and was stopped; narrow it down",
        slug="query-timeout",
        errors=[ProblemItem(place="body", field="cypher", message="ran longer than the time limit")],
    )


def _busy() -> ApiProblem:
    return ApiProblem(
        429,
        "Too many queries",
        "as many ad-hoc queries as allowed are running (or still being stopped); try again shortly",
        slug="query-busy",
        headers={"Retry-After": "1"},
    )


PUBLISHED_COPIES = f"""
MATCH (c:{COPY_LABEL}) WHERE c.state IN ['ready', 'retired'] RETURN collect(c.physical) AS names
"""
"""The physical names of the published copies of versions (graph/history.py), read before a
query runs: a node under any other name with the separator belongs to a load's version still
being written (or published after the query started), or to a copy being deleted."""


def _staged(value: Any, published: frozenset[str] | None = None) -> bool:
    """True for a node or relationship (or a path or list holding one) stored under a physical
    name with the separator (`S~…`) that is not in `published` (`PUBLISHED_COPIES`; None: none
    is): a load's unfinished copy, a copy being deleted, or the staged and superseded copies of
    the layout before versions (`S~stage-…`, `S~old-…`)."""
    if isinstance(value, Node | Relationship):
        scenario = value.get("scenario")
        return isinstance(scenario, str) and STAGE_SEPARATOR in scenario and scenario not in (published or ())
    if isinstance(value, Path):
        return any(_staged(n, published) for n in value.nodes) or any(
            _staged(r, published) for r in value.relationships
        )
    if isinstance(value, list | tuple):
        return any(_staged(v, published) for v in value)
    if isinstance(value, dict):
        return any(_staged(v, published) for v in value.values())
    return False


@dataclass
class _Run:
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    hidden: int = 0


class QueryRunner:
    """The query route's own driver (a pool of `query_pool_size` connections) and its slots
    (`query_concurrency`); the API's other routes never share either."""

    def __init__(self, db: ApiDatabase, settings: Settings) -> None:
        self.db = db
        self.database = db.database
        self.limits = QueryLimits.of(settings)
        connection = db.connection
        self.driver: AsyncDriver = AsyncGraphDatabase.driver(
            connection.uri,
            auth=(connection.user, connection.password),
            **{
                **_options(retry_s=0.0),
                "max_connection_pool_size": settings.query_pool_size,
                "connection_acquisition_timeout": CONNECT_TIMEOUT_S,
            },
        )
        self.slots = asyncio.Semaphore(settings.query_concurrency)
        self._impure: frozenset[str] | None = None
        self._reapers: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for task in self._reapers:
            task.cancel()
        await self.driver.close()

    async def impure_functions(self) -> frozenset[str]:
        """Names (lower case) of the database's user-defined functions outside the pure namespaces."""
        if self._impure is None:
            rows = await self.db.rows("SHOW FUNCTIONS YIELD name, isBuiltIn WHERE NOT isBuiltIn RETURN name")
            self._impure = frozenset(
                str(r["name"]).lower() for r in rows if not str(r["name"]).lower().startswith(PURE_FUNCTION_NAMESPACES)
            )
        return self._impure

    async def run(
        self, cypher: str, params: dict[str, Any], *, first: Callable[[], Awaitable[None]] | None = None
    ) -> QueryAnswer:
        """Check and run `cypher` with `params` (rules in the module docstring).

        `first` runs after the cheap checks and once a slot is taken (the route's own checks).
        Errors: 422 `query-too-complex`, `invalid-query`, `query-timeout`, `query-memory`,
        `query-too-large`; 403 `query-refused`; 429 `query-busy` when every slot is taken;
        DatabaseUnavailable (503) when Neo4j does not answer."""
        # Neo4j's pre-parser and parser disagree on where a `//` comment ends when a line ends in
        # anything but \n, so the plan of `EXPLAIN text` could differ from what `text` runs:
        # every line end becomes \n first (inside strings too; write "\\r" there instead).
        cypher = _LINE_ENDS.sub("\n", cypher)
        screen_shape(cypher, self.limits)
        if self.slots.locked():
            raise _busy()
        await self.slots.acquire()
        if first is not None:
            # The route's own checks (the scenario exists) run only once the cheap checks and
            # the slot let the query through, so a flood of queries never reaches the main pool.
            try:
                await first()
            except BaseException:
                self.slots.release()
                raise
        tag = uuid.uuid4().hex
        task = asyncio.ensure_future(self._attempt(cypher, params, tag))
        released = False
        try:
            done, _ = await asyncio.wait({task}, timeout=self.limits.timeout_s)
            if task in done:
                return task.result()
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            self._keep_slot_until_stopped(tag)
            released = True  # by the reaper, once Neo4j has let go of the transaction
            raise _timeout_problem()
        except asyncio.CancelledError:
            # The caller went away: stop the query as at the deadline, keeping its slot meanwhile.
            task.cancel()
            self._keep_slot_until_stopped(tag)
            released = True
            raise
        finally:
            if not released:
                self.slots.release()

    def _keep_slot_until_stopped(self, tag: str) -> None:
        reaper = asyncio.ensure_future(self._reap(tag))
        self._reapers.add(reaper)
        reaper.add_done_callback(self._reapers.discard)

    async def _reap(self, tag: str) -> None:
        """Terminate the abandoned transaction tagged `tag`, then hold its slot until Neo4j no
        longer lists it (at most 20 timeouts, after which the slot is given back regardless)."""
        find = (
            "SHOW TRANSACTIONS YIELD transactionId, metaData "
            "WHERE metaData.tomgraph_query = $tag RETURN transactionId AS id"
        )
        deadline = time.monotonic() + 20 * self.limits.timeout_s
        try:
            terminated = False
            while time.monotonic() < deadline:
                try:
                    ids = [r["id"] for r in await self.db.rows(find, {"tag": tag})]
                    if not ids:
                        return
                    if not terminated:
                        await self.db.rows("TERMINATE TRANSACTIONS $ids YIELD message RETURN message", {"ids": ids})
                        terminated = True
                except (Neo4jError, DriverError, DatabaseUnavailable) as e:
                    log.warning("could not stop an abandoned ad-hoc query: %s", e)
                await asyncio.sleep(0.25)
            log.warning("an abandoned ad-hoc query still runs in Neo4j after %.0f s", 20 * self.limits.timeout_s)
        finally:
            self.slots.release()

    async def _attempt(self, cypher: str, params: dict[str, Any], tag: str) -> QueryAnswer:
        """A pooled connection that died with a restarted Neo4j fails at once: retried once, at once."""
        started = time.monotonic()
        try:
            return await self._explain_and_run(cypher, params, tag)
        except DatabaseUnavailable:
            if time.monotonic() - started > CONNECT_TIMEOUT_S:
                raise
            return await self._explain_and_run(cypher, params, tag)

    async def _explain_and_run(self, cypher: str, params: dict[str, Any], tag: str) -> QueryAnswer:
        metadata = {"app": "tomgraph-api-query", "tomgraph_query": tag}
        limits = self.limits
        try:
            async with self.driver.session(
                database=self.database, default_access_mode=READ_ACCESS, fetch_size=256
            ) as session:
                explained = await session.run(
                    Query(cast(LiteralString, f"EXPLAIN {cypher}"), metadata=metadata), params
                )
                summary = await explained.consume()
                verdict = check_plan(
                    summary.plan, database=self.database, impure_functions=await self.impure_functions()
                )
                if summary.query_type != "r":
                    raise _refuse(f"Neo4j classifies the query as {summary.query_type!r}, not read-only ('r')")
                tx = await session.begin_transaction(timeout=limits.timeout_s, metadata=metadata)
                try:
                    run = await self._rows(tx, cypher, params)
                finally:
                    await tx.close()
        except ApiProblem:
            raise
        except UNAVAILABLE_ERRORS as e:
            raise DatabaseUnavailable(f"cannot reach Neo4j at {self.db.uri}: {e}") from e
        except TransientError as e:
            if "OutOfMemory" in (e.code or "") or "TransactionTimedOut" in (e.code or ""):
                raise _cypher_problem(e) from e
            raise ApiProblem(
                503, "Neo4j busy", e.message or "transient error", slug="neo4j-busy", headers={"Retry-After": "1"}
            ) from e
        except (ClientError, Neo4jError) as e:
            raise _cypher_problem(e) from e
        warnings: list[str] = []
        if not verdict.uses_scenario:
            warnings.append("this query does not use $scenario: it may read every scenario, not only this one")
        if run.hidden:
            warnings.append(f"{run.hidden} rows from loads still in progress were left out")
        return QueryAnswer(
            columns=run.columns, rows=run.rows, row_count=len(run.rows), truncated=run.truncated, warnings=warnings
        )

    async def _rows(self, tx: Any, cypher: str, params: dict[str, Any]) -> _Run:
        """Stream the records, stopping at the row cap (`truncated`) or refusing at the byte cap."""
        limits = self.limits
        # Before the query, in its transaction: rows holding a node of any copy not published by
        # then are left out (a load's version being written, or one being deleted).
        names = await (await tx.run(cast(LiteralString, PUBLISHED_COPIES))).single()
        published = frozenset(names["names"] if names else ())
        result = await tx.run(cast(LiteralString, cypher), params)
        run = _Run(columns=list(result.keys()))
        size = 2
        async for record in result:
            if len(run.rows) == limits.row_cap:
                # A rollback would first DISCARD, which makes Neo4j compute every remaining
                # row; dropping the connection ends the transaction at once instead.
                tx.cancel()
                run.truncated = True
                return run
            values = dict(record)
            if _staged(list(values.values()), published):
                run.hidden += 1
                continue
            row = {k: json_value(v) for k, v in values.items()}
            size += len(json.dumps(row, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")) + 1
            if size > limits.max_bytes:
                tx.cancel()
                raise ApiProblem(
                    422,
                    "Answer too large",
                    f"the answer passed {limits.max_bytes} bytes at row {len(run.rows) + 1}; "
                    "return fewer or smaller values (TOMGRAPH_QUERY_MAX_BYTES)",
                    slug="query-too-large",
                    errors=[ProblemItem(place="body", field="cypher", message=f"answer over {limits.max_bytes} bytes")],
                )
            run.rows.append(row)
        return run
