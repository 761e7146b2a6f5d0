"""The API under test: the real app, over httpx's ASGI transport, against the tests' Neo4j.

Tests are synchronous; a blocking portal runs the app's event loop in a thread, so the async
driver lives on one loop for the whole session. `examples/insurer` is loaded once into a
read-only scenario for the read tests; tests that write use the `scenario` fixture.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from api.app import create_app
from api.auth import KEYS_FILE_ENV, Role, create_key
from graph.db import Database
from graph.settings import Settings
from graph.sync import delete_scenario
from loaders import load_bundle

REPO = Path(__file__).resolve().parents[2]
INSURER = REPO / "examples" / "insurer"


class ApiClient:
    """A synchronous face on an httpx.AsyncClient talking to the app in-process."""

    def __init__(self, app: FastAPI, keys: dict[str, str]) -> None:
        self.app = app
        self.keys = keys
        self._stack = ExitStack()
        self.portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())
        self.portal.call(self._start)

    async def _start(self) -> None:
        self._lifespan: AbstractAsyncContextManager[Any] = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        transport = httpx.ASGITransport(app=self.app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60)

    async def _stop(self) -> None:
        await self.client.aclose()
        await self._lifespan.__aexit__(None, None, None)

    def close(self) -> None:
        self.portal.call(self._stop)
        self._stack.close()

    def request(self, method: str, path: str, *, key: str | None = "admin", **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {self.keys.get(key, key)}"
        return self.portal.call(partial(self.client.request, method, path, headers=headers, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


@pytest.fixture(scope="session")
def api_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One key per role in a keys file of the tests' own, named by TOMGRAPH_API_KEYS_FILE."""
    path = tmp_path_factory.mktemp("keys") / "api-keys.json"
    keys = {role.value: create_key(path, role, f"test-{role.value}")[1] for role in Role}
    previous = os.environ.get(KEYS_FILE_ENV)
    os.environ[KEYS_FILE_ENV] = str(path)
    yield keys
    if previous is None:
        os.environ.pop(KEYS_FILE_ENV, None)
    else:
        os.environ[KEYS_FILE_ENV] = previous


def make_client(settings: Settings, keys: dict[str, str]) -> ApiClient:
    return ApiClient(create_app(settings), keys)


@pytest.fixture(scope="session")
def api(test_settings: Settings, api_keys: dict[str, str], db: Database) -> Iterator[ApiClient]:
    client = make_client(test_settings.model_copy(update={"query_timeout_s": 5.0, "query_row_cap": 10_000}), api_keys)
    yield client
    client.close()


@pytest.fixture(scope="session")
def insurer(db: Database) -> Iterator[str]:
    """examples/insurer loaded once into a scenario that read tests share and never change."""
    name = f"t-api-{uuid.uuid4().hex[:10]}"
    load_bundle(db, INSURER, name)
    yield name
    delete_scenario(db, name)


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app for `settings` under a real uvicorn in a thread; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped while starting"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
