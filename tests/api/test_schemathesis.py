"""schemathesis against the app's own OpenAPI document, over real HTTP, with a reader and an
editor key: any 5xx, undocumented status, or response that breaks the schema fails."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from api.server import uvicorn_config
from graph.db import Database
from graph.settings import Settings
from graph.sync import delete_scenario

MAX_EXAMPLES = 40
# All built-in checks but `positive_data_acceptance`: the API validates what JSON Schema cannot
# say (bundle contents, opaque cursors, known check ids, Cypher), so a schema-valid request may
# rightly get a 422 problem. Those 422s are still held to the problem schema by the other checks.


FRAMING_HEADERS = {"content-length", "transfer-encoding", "host", "connection", "expect"}
"""Answered by the HTTP server (uvicorn/h11) before the app sees the request; not the API's contract."""


def _no_framing_headers(case: Any) -> bool:
    return not any(name.lower() in FRAMING_HEADERS for name in case.headers or {})


def _body_within_limit(case: Any) -> bool:
    """A JSON body over `TOMGRAPH_API_MAX_JSON_BYTES` is refused with 413 before it is read
    (api/guard.py, docs/api.md): a documented answer, but not one of the rejections the
    negative-data check expects, so such cases are not generated."""
    body = getattr(case, "body", None)
    if not isinstance(body, dict | list | str):
        return True
    size = len(json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return size <= Settings().api_max_json_bytes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served_api(test_settings: Settings, api_keys: dict[str, str], db: Database, insurer: str) -> Iterator[str]:
    """The app under uvicorn in a thread; scenarios the fuzzer manages to create are removed after."""
    before = {r["name"] for r in db.read("MATCH (s:Scenario) RETURN s.name AS name")}
    port = _free_port()
    settings = test_settings.model_copy(update={"query_timeout_s": 2.0})
    # The server exactly as `tomgraph serve` configures it (api/server.py), limits included.
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings, "127.0.0.1", port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    for name in {r["name"] for r in db.read("MATCH (s:Scenario) RETURN s.name AS name")} - before:
        delete_scenario(db, name)


@pytest.mark.slow
@pytest.mark.parametrize("role", ["reader", "editor"])
def test_the_api_keeps_its_openapi_contract(served_api: str, api_keys: dict[str, str], role: str) -> None:
    """Every operation, valid and invalid inputs, every built-in check; failures are collected so
    one run reports them all."""
    schema = schemathesis.openapi.from_url(f"{served_api}/openapi.json")
    checks = [c for c in CHECKS.get_all() if c is not positive_data_acceptance]
    assert len(checks) == len(CHECKS.get_all()) - 1
    headers = {"Authorization": f"Bearer {api_keys[role]}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(
                case=operation.as_strategy(generation_mode=mode).filter(_no_framing_headers).filter(_body_within_limit)
            )
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate],
                database=None,
                derandomize=True,  # the same cases on every run, so CI is reproducible
            )
            def check(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=checks)

            try:
                check()
            except Unsatisfiable:
                continue  # nothing to make invalid (no parameters, no body)
            except Exception as e:  # every failure of every operation, not just the first
                failures.append(f"{operation.label} ({mode.value}): {e}")
    assert not failures, "\n\n".join(failures)
