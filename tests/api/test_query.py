"""POST /scenarios/{s}/query: reads run with `$scenario`, a time limit and a row cap; anything else is a 403."""

from __future__ import annotations

import json
import time

import pytest

from graph.db import Database
from tests.api.conftest import ApiClient


def _query(api: ApiClient, scenario_name: str, cypher: str, **params: object) -> tuple[int, dict[str, object]]:
    response = api.post(f"/scenarios/{scenario_name}/query", json={"cypher": cypher, "params": params}, key="reader")
    if response.status_code != 200:
        assert response.headers["content-type"] == "application/problem+json"
    return response.status_code, response.json()


def test_a_read_runs_with_the_scenario_and_user_parameters(api: ApiClient, insurer: str) -> None:
    status, body = _query(
        api,
        insurer,
        "MATCH (m:Model {scenario: $scenario}) WHERE m.risk_tier = $tier "
        "RETURN m.id AS id, m.last_reviewed AS reviewed ORDER BY id LIMIT 2",
        tier="high",
    )
    assert status == 200
    assert body == {
        "columns": ["id", "reviewed"],
        "rows": [
            {"id": "m-fraud-score", "reviewed": "2026-04-21"},
            {"id": "m-health-pricing", "reviewed": "2026-03-16"},
        ],
        "row_count": 2,
        "truncated": False,
        "warnings": [],
    }


def test_harmless_schema_procedures_are_allowed(api: ApiClient, insurer: str) -> None:
    status, body = _query(api, insurer, "CALL db.labels() YIELD label RETURN label ORDER BY label")
    assert status == 200
    assert "Model" in [row["label"] for row in body["rows"]]  # type: ignore[union-attr, index]


INVALID_HERE = [
    pytest.param("/* hide */ CALL /* it */ dbms.killQueries(['1'])", id="comments"),
    pytest.param("MATCH (n) RETURN n UNION SHOW SETTINGS YIELD name AS n RETURN n", id="show-in-union"),
    pytest.param("CALL { SHOW TRANSACTIONS YIELD transactionId AS t RETURN t } RETURN t", id="show-in-subquery"),
    pytest.param("CREATE DATABASE evil", id="create-database"),
    pytest.param("CALL apoc.periodic.iterate('MATCH (n) RETURN n', 'DELETE n', {})", id="apoc-periodic"),
    pytest.param("RETURN apoc.cypher.runFirstColumnSingle('MATCH (n) RETURN n', {}) AS x", id="apoc-function"),
    pytest.param("CALL apoc.cypher.runWrite('CREATE (n)', {}) YIELD value RETURN value", id="apoc-cypher"),
    pytest.param("CALL apoc.load.json('file:///etc/passwd') YIELD value RETURN value", id="apoc-load"),
    pytest.param("CALL dbms.security.createUser('eve', 'pw', false)", id="dbms-create-user"),
]
"""Unknown to this Neo4j (no APOC, no such command in community, not valid Cypher): Neo4j refuses
them while planning, so they never run; with APOC installed the apoc ones are a 403 instead."""


REFUSED = [
    pytest.param("CREATE (n:Model {id: 'x'}) RETURN n", id="create"),
    pytest.param("MERGE (n:Role {scenario: $scenario, id: 'r-new'}) RETURN n", id="merge"),
    pytest.param("MATCH (n:Model {scenario: $scenario}) SET n.stage = 'retired'", id="set"),
    pytest.param("MATCH (n:Entity {scenario: $scenario}) DETACH DELETE n", id="delete"),
    pytest.param("MATCH (n:Model {scenario: $scenario}) REMOVE n.owner", id="remove"),
    pytest.param("MATCH (n) FOREACH (x IN [1] | SET n.hacked = true)", id="foreach-set"),
    pytest.param("LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line", id="load-csv"),
    pytest.param("load   csv with headers from 'https://example.com/x.csv' AS row RETURN row", id="load-csv-lower"),
    pytest.param("CALL dbms.components() YIELD name RETURN name", id="dbms-components"),
    pytest.param("CALL `dbms`.`listConfig`()", id="dbms-backticked"),
    pytest.param("CALL db.createLabel('Evil')", id="db-create-label"),
    pytest.param("CALL db.clearQueryCaches()", id="db-clear-caches"),
    pytest.param("CALL db.awaitIndexes(1000)", id="db-await-indexes"),
    pytest.param("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10 ROWS", id="in-transactions"),
    pytest.param("UNWIND [1] AS x CALL { WITH x RETURN x AS y } IN TRANSACTIONS RETURN y", id="read-in-transactions"),
    pytest.param("SHOW USERS", id="show-users"),
    pytest.param("DROP INDEX entity_scenario IF EXISTS", id="drop-index"),
    pytest.param("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", id="terminate"),
    pytest.param("USE system CALL db.labels() YIELD label RETURN label", id="use-system"),
    pytest.param("/* hide */ CALL /* it */ dbms.listConfig()", id="comments"),
    pytest.param("SHOW SETTINGS", id="show-settings"),
    pytest.param("SHOW TRANSACTIONS", id="show-transactions"),
    pytest.param("SHOW PROCEDURES", id="show-procedures"),
    pytest.param("SHOW FUNCTIONS", id="show-functions"),
    pytest.param("SHOW INDEXES", id="show-indexes"),
    pytest.param("SHOW CONSTRAINTS", id="show-constraints"),
    pytest.param("SHOW CURRENT USER", id="show-current-user"),
    pytest.param("CYPHER runtime=slotted SHOW SETTINGS YIELD name RETURN name", id="cypher-runtime-prefix"),
    pytest.param("CALL db.ping()", id="db-ping"),
]


@pytest.mark.parametrize("cypher", REFUSED)
def test_writes_loads_admin_and_procedures_are_refused_with_403(
    api: ApiClient, scenario: str, insurer: str, cypher: str
) -> None:
    status, body = _query(api, insurer, cypher)
    assert status == 403, body
    assert body["title"] == "Query refused" and body["type"] == "urn:tomgraph:problem:query-refused"
    assert body["errors"][0]["field"] == "cypher"  # type: ignore[index]
    _, count = _query(api, insurer, "MATCH (n:Entity {scenario: $scenario}) RETURN count(n) AS n")
    assert count["rows"] == [{"n": 153}]


@pytest.mark.parametrize("cypher", INVALID_HERE)
def test_unknown_procedures_functions_and_commands_are_invalid(api: ApiClient, insurer: str, cypher: str) -> None:
    status, body = _query(api, insurer, cypher)
    assert status == 422, body
    assert body["type"] == "urn:tomgraph:problem:invalid-query"
    _, count = _query(api, insurer, "MATCH (n:Entity {scenario: $scenario}) RETURN count(n) AS n")
    assert count["rows"] == [{"n": 153}]


def test_strings_that_merely_mention_keywords_are_fine(api: ApiClient, insurer: str) -> None:
    status, body = _query(api, insurer, "RETURN 'LOAD CSV, CALL dbms.x(), CREATE' AS text // DELETE")
    assert status == 200 and body["rows"] == [{"text": "LOAD CSV, CALL dbms.x(), CREATE"}]


def test_ten_million_rows_are_capped_and_say_so(api: ApiClient, insurer: str) -> None:
    started = time.monotonic()
    # Two small lists, so that the ten million rows are produced lazily rather than built up front.
    status, body = _query(
        api, insurer, "UNWIND range(0, 999) AS a UNWIND range(1, 10000) AS b RETURN a * 10000 + b AS x"
    )
    assert status == 200, body
    assert body["truncated"] is True and body["row_count"] == 10_000
    assert body["rows"][-1] == {"x": 10_000}  # type: ignore[index]
    assert time.monotonic() - started < 10


def test_a_never_ending_query_times_out_with_a_422(api: ApiClient, insurer: str) -> None:
    started = time.monotonic()
    status, body = _query(api, insurer, "UNWIND range(1, 9223372036854775807) AS x WITH x WHERE x < 0 RETURN x")
    assert status == 422
    assert body["type"] == "urn:tomgraph:problem:query-timeout" and body["title"] == "Query timed out"
    assert time.monotonic() - started < 5.0 + 3.0  # the fixture's limit, plus the request's own work


def test_query_input_errors(api: ApiClient, insurer: str) -> None:
    status, body = _query(api, insurer, "MATCH (n RETURN n")
    assert status == 422 and body["title"] == "Invalid query"
    status, body = _query(api, insurer, "RETURN $scenario AS s", scenario="other")
    assert status == 422 and body["errors"] == [
        {"place": "body", "field": "params.scenario", "message": "is reserved: it is set to the scenario in the path"}
    ]
    response = api.post(f"/scenarios/{insurer}/query", json={"params": {}})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cypher"
    status, body = _query(api, "never-loaded", "RETURN 1 AS one")
    assert status == 404


def test_non_finite_numbers_and_graph_values_come_back_as_json(api: ApiClient, insurer: str) -> None:
    status, body = _query(
        api,
        insurer,
        "MATCH (m:Model {scenario: $scenario, id: 'm-churn'}) RETURN 0.0/0.0 AS nan, m.id AS id, "
        "duration('P1D') AS d, date('2026-01-02') AS day",
    )
    assert status == 200 and body["rows"] == [{"nan": "nan", "id": "m-churn", "d": "P1D", "day": "2026-01-02"}]


def test_an_integer_beyond_64_bits_in_params_is_a_422(api: ApiClient, insurer: str) -> None:
    response = api.post(
        f"/scenarios/{insurer}/query",
        json={"cypher": "RETURN $big AS big", "params": {"big": [37086417807942461484584402944]}},
        key="reader",
    )
    assert response.status_code == 422
    assert "does not fit in 64 bits" in json.dumps(response.json()["errors"])


LONE = "contains a lone surrogate (U+D800), which is not a Unicode character"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (r'{"cypher": "RETURN $x AS x", "params": {"x": "\ud800"}}', "params.x", LONE),
        (r'{"cypher": "RETURN $x AS x", "params": {"x": [1, {"y": "a\ud800"}]}}', "params.x.1.y", LONE),
        (r'{"cypher": "RETURN 1 AS x", "params": {"\ud800": 1}}', r"params.\ud800", f"the name {LONE}"),
    ],
)
def test_a_lone_surrogate_in_the_query_or_its_params_is_a_422_naming_where(
    api: ApiClient, insurer: str, body: str, field: str, message: str
) -> None:
    response = api.post(
        f"/scenarios/{insurer}/query",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
        key="reader",
    )
    assert (response.status_code, response.headers["content-type"]) == (422, "application/problem+json")
    assert response.json()["errors"] == [{"place": "body", "field": field, "message": message}]


TERMINATE_ALL = (
    "SHOW TRANSACTIONS YIELD transactionId AS t, currentQuery WHERE NOT currentQuery CONTAINS 'SHOW' "
    "TERMINATE TRANSACTIONS t YIELD message RETURN message"
)
ISSUE_ATTACKS = [
    pytest.param(f"CYPHER 5 {TERMINATE_ALL}", id="issue-cypher-5"),
    pytest.param(f"// hidden\r{TERMINATE_ALL}", id="comment-ended-by-cr"),
    pytest.param(f"// hidden\r\n{TERMINATE_ALL}", id="comment-ended-by-crlf"),
    pytest.param(f"// hidden\u2028{TERMINATE_ALL}", id="comment-ended-by-u2028"),
    pytest.param(f"// hidden\u2029{TERMINATE_ALL}", id="comment-ended-by-u2029"),
    pytest.param(f"/* hidden */{TERMINATE_ALL}", id="block-comment"),
    pytest.param(f"CYPHER runtime=slotted {TERMINATE_ALL}", id="runtime-prefix"),
    pytest.param("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", id="terminate-one"),
]


@pytest.mark.parametrize("cypher", ISSUE_ATTACKS)
def test_no_reader_can_end_another_callers_transaction(
    api: ApiClient, insurer: str, db: Database, scenario: str, cypher: str
) -> None:
    """Issue 13: a reader terminated an editor's load in progress. An open write transaction
    survives every form of the attack and commits afterwards."""
    with db.driver.session(database=db.database) as session:
        tx = session.begin_transaction(metadata={"app": "test-editor-load"})
        tx.run("CREATE (:Entity {scenario: $s, id: 'in-flight'})", s=scenario).consume()
        status, body = _query(api, insurer, cypher)
        assert status == 403, body
        assert body["type"] == "urn:tomgraph:problem:query-refused"
        tx.commit()
    assert db.read("MATCH (n:Entity {scenario: $s}) RETURN n.id AS id", {"s": scenario}) == [{"id": "in-flight"}]


ALLOWED_READS = [
    pytest.param("CYPHER 5 MATCH (n:Entity {scenario: $scenario}) RETURN count(n) AS n", id="cypher-5"),
    pytest.param("CYPHER runtime=slotted MATCH (n:Entity {scenario: $scenario}) RETURN count(n) AS n", id="runtime"),
    pytest.param("MATCH (n:Entity {scenario: $scenario}) // SHOW SETTINGS\rRETURN count(n) AS n", id="comment-cr"),
    pytest.param("// SHOW SETTINGS\rMATCH (n:Entity {scenario: $scenario}) RETURN count(n) AS n", id="leading-cr"),
    pytest.param("MATCH (n:Entity {scenario: $scenario})\u2028RETURN /* CREATE */ count(n) AS n", id="u2028"),
    pytest.param("CALL { MATCH (n:Entity {scenario: $scenario}) RETURN n } RETURN count(n) AS n", id="subquery"),
]


@pytest.mark.parametrize("cypher", ALLOWED_READS)
def test_plain_reads_pass_whatever_their_prefix_or_comments(api: ApiClient, insurer: str, cypher: str) -> None:
    status, body = _query(api, insurer, cypher)
    assert status == 200, body
    assert body["rows"] == [{"n": 153}] and body["warnings"] == []


def test_use_of_another_database_is_refused_even_where_neo4j_cannot_plan_it(api: ApiClient, insurer: str) -> None:
    status, body = _query(api, insurer, "USE system SHOW DATABASES")
    assert status == 403 and body["type"] == "urn:tomgraph:problem:query-refused", body


def test_a_query_without_scenario_is_answered_with_a_warning(api: ApiClient, insurer: str) -> None:
    status, body = _query(api, insurer, "MATCH (n:Model) WHERE n.id = 'm-churn' RETURN count(n) > 0 AS found")
    assert status == 200
    assert body["warnings"] == ["this query does not use $scenario: it may read every scenario, not only this one"]


def test_the_unfinished_copy_of_a_load_is_hidden(api: ApiClient, insurer: str, db: Database, scenario: str) -> None:
    """A staged load writes `S~stage-…` nodes (graph/sync.py); a query that finds them leaves them out."""
    db.write(
        "CREATE (:Scenario {name: $s}), (:Entity:Model {scenario: $s, id: 'm-done'}), "
        "(:Entity:Model {scenario: $staged, id: 'm-half'})",
        {"s": scenario, "staged": f"{scenario}~stage-abc"},
    )
    status, body = _query(
        api, scenario, "MATCH (n:Model) WHERE n.scenario STARTS WITH $scenario RETURN n.id AS id, n AS node"
    )
    assert status == 200, body
    assert [row["id"] for row in body["rows"]] == ["m-done"]  # type: ignore[index]
    assert body["warnings"] == ["1 rows from loads still in progress were left out"]


def test_nodes_relationships_and_paths_come_back_as_json_objects(api: ApiClient, insurer: str) -> None:
    status, body = _query(
        api,
        insurer,
        "MATCH p = (m:Model {scenario: $scenario, id: 'm-churn'})-[r]->(d {id: 'd-customer'}) RETURN m, r, p",
    )
    assert status == 200, body
    [row] = body["rows"]  # type: ignore[misc]
    assert sorted(row["m"]) == ["labels", "properties"] and row["m"]["labels"] == ["Entity", "Model"]
    assert row["m"]["properties"]["id"] == "m-churn"
    assert row["m"]["properties"]["name"] == "Customer churn predictor"
    assert row["r"] == {"type": "CONSUMES", "start": "m-churn", "end": "d-customer", "properties": {}}
    assert [n["properties"]["id"] for n in row["p"]["nodes"]] == ["m-churn", "d-customer"]
    assert row["p"]["relationships"] == [row["r"]]


def test_a_refused_procedure_is_named_not_the_operator_around_it(api: ApiClient, insurer: str) -> None:
    status, body = _query(api, insurer, "CALL db.createLabel('Evil')")
    assert status == 403
    prefix = "only plain reads of the graph may run here: procedure db.createLabel is not allowed (allowed: "
    assert str(body["detail"]).startswith(prefix), body
