"""Keys and roles: every route refuses no key (401) and a key of too low a role (403); the route
list is read from the app, so routes added later are covered without touching this file."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from typer.testing import CliRunner

from api.app import create_app
from api.auth import KEYS_FILE_ENV, LastKey, RefuseToServe, Role, check_can_serve, create_key, keys_file, revoke_key
from graph.settings import Settings
from tests.api.conftest import ApiClient, make_client

PUBLIC = {"/healthz", "/readyz"}


def _is_browser_page(path: str) -> bool:
    """The explorer's HTML pages and the docs: they send a person without a session to the sign-in
    page (303) instead of answering 401 (tests/explorer/test_sessions.py covers them)."""
    return path in ("/", "/docs", "/redoc") or path.startswith("/ui/")


def _required_role(dependant: Dependant) -> Role | None:
    role = getattr(dependant.call, "required_role", None)
    if role is not None:
        return Role(role)
    for sub in dependant.dependencies:
        found = _required_role(sub)
        if found is not None:
            return found
    return None


def _route_views(app: FastAPI) -> list[tuple[str, set[str], Dependant | None]]:
    """(path, methods, dependant) of every HTTP route, routers included (FastAPI >= 0.16x includes lazily)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are plain APIRoutes in app.routes
        return [(r.path, set(r.methods), r.dependant) for r in app.routes if isinstance(r, APIRoute)]
    views = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            views.append((str(context.path), set(context.methods or ()), getattr(context, "dependant", None)))
    return views


def _routes() -> list[tuple[str, str, Role]]:
    app = create_app(Settings(neo4j_uri="bolt://127.0.0.1:1", neo4j_password="x"))
    out = []
    for path, methods, dependant in _route_views(app):
        if path in PUBLIC or _is_browser_page(path):
            continue
        role = _required_role(dependant) if dependant is not None else None
        assert role is not None, f"{path} declares no role dependency (ReaderKey, EditorKey or AdminKey)"
        out += [(method, path, role) for method in sorted(methods)]
    assert len(out) >= 11
    return out


ROUTES = _routes()


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: {"{s}": "current", "{id}": "m-fraud-score"}.get(m.group(0), "x1"), path)


@pytest.mark.parametrize(("method", "path", "role"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_no_key_is_401_and_a_key_of_too_low_a_role_is_403(api: ApiClient, method: str, path: str, role: Role) -> None:
    url = _url(path)
    for key, why in ((None, "no key"), ("tg_000000000000_" + "x" * 43, "unknown key"), ("not-a-key", "garbage")):
        response = api.request(method, url, key=key)
        assert response.status_code == 401, (why, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
    for lower in (r for r in Role if not r.allows(role)):
        response = api.request(method, url, key=lower.value)
        assert response.status_code == 403, (lower, response.text)
        assert response.json()["detail"].startswith(f"this needs the {role.value} role")


def test_every_data_route_is_covered_and_the_roles_are_as_the_spec_says() -> None:
    roles = {(m, p): r for m, p, r in ROUTES}
    assert roles[("PUT", "/scenarios/{s}/bundle")] is Role.editor
    assert roles[("PUT", "/scenarios/{s}/waivers")] is Role.editor
    assert roles[("POST", "/scenarios/{s}/query")] is Role.reader
    assert all(r is Role.reader for (m, _), r in roles.items() if m == "GET")


def test_health_routes_need_no_key(api: ApiClient) -> None:
    assert api.get("/healthz", key=None).status_code == 200
    assert api.get("/readyz", key=None).status_code == 200


def test_a_revoked_key_is_refused_from_the_next_request(api: ApiClient, api_keys: dict[str, str]) -> None:
    path = keys_file(Settings())
    stored, plain = create_key(path, Role.reader, "short-lived")
    assert api.get("/checks", key=plain).status_code == 200
    assert revoke_key(path, stored.id)
    assert api.get("/checks", key=plain).status_code == 401


@pytest.fixture
def no_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "api-keys.json"
    monkeypatch.setenv(KEYS_FILE_ENV, str(path))
    return path


def test_without_keys_the_api_runs_open_and_serves_only_loopback(test_settings: Settings, no_keys: Path) -> None:
    client = make_client(test_settings, {})
    try:
        assert client.get("/checks", key=None).status_code == 200
    finally:
        client.close()
    check_can_serve(test_settings, "127.0.0.1")
    check_can_serve(test_settings, "localhost")
    with pytest.raises(RefuseToServe, match=r"refusing to listen on 0\.0\.0\.0 without API keys"):
        check_can_serve(test_settings, "0.0.0.0")
    create_key(no_keys, Role.admin)
    check_can_serve(test_settings, "0.0.0.0")


def test_an_unreadable_keys_file_refuses_to_serve(test_settings: Settings, no_keys: Path) -> None:
    no_keys.write_text("{not json")
    with pytest.raises(RefuseToServe, match="cannot read the API keys file"):
        check_can_serve(test_settings, "127.0.0.1")


@pytest.fixture
def keys_cli(no_keys: Path) -> Iterator[tuple[CliRunner, object]]:
    import typer

    from cli.keys_cmd import register

    class Context:
        settings = Settings()

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app, lambda: Context())
    yield CliRunner(), app


def test_keys_create_prints_the_key_once_and_stores_only_its_hash(
    keys_cli: tuple[CliRunner, object], no_keys: Path
) -> None:
    runner, app = keys_cli
    created = runner.invoke(app, ["keys", "create", "--role", "editor", "--name", "ci"])  # type: ignore[arg-type]
    assert created.exit_code == 0, created.output
    plain = created.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"tg_[0-9a-f]{12}_[A-Za-z0-9_\-]{43}", plain)
    stored = no_keys.read_text()
    assert plain not in stored and plain.split("_", 2)[2] not in stored
    assert (no_keys.stat().st_mode & 0o777) == 0o600
    [entry] = json.loads(stored)["keys"]
    assert entry["role"] == "editor" and entry["name"] == "ci" and len(entry["sha256"]) == 64
    listed = runner.invoke(app, ["keys", "list"])  # type: ignore[arg-type]
    assert entry["id"] in listed.stdout and "editor" in listed.stdout and plain not in listed.stdout
    refused = runner.invoke(app, ["keys", "revoke", entry["id"]])  # type: ignore[arg-type]
    assert refused.exit_code == 1 and "is the last API key" in refused.stderr
    assert [k["id"] for k in json.loads(no_keys.read_text())["keys"]] == [entry["id"]]
    revoked = runner.invoke(app, ["keys", "revoke", entry["id"], "--force"])  # type: ignore[arg-type]
    assert revoked.exit_code == 0 and json.loads(no_keys.read_text())["keys"] == []
    assert "the API refuses every request" in revoked.stderr
    again = runner.invoke(app, ["keys", "revoke", entry["id"], "--force"])  # type: ignore[arg-type]
    assert again.exit_code == 1
    bad = runner.invoke(app, ["keys", "create", "--role", "root"])  # type: ignore[arg-type]
    assert bad.exit_code == 2


def test_no_key_or_secret_reaches_a_log_or_an_answer(
    api: ApiClient, api_keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    reader = api_keys["reader"]
    forged = reader[: reader.rindex("_") + 1] + "A" * 43  # a real key id with a wrong secret
    unknown = "tg_0123456789ab_" + "B" * 43
    malformed = "not-a-tomgraph-key-" + "C" * 20
    caplog.set_level(logging.DEBUG)
    answers = [
        api.get("/scenarios", key=reader),
        api.put("/scenarios/current/waivers", key=reader, json=[]),
        api.get("/scenarios", key=forged),
        api.get("/scenarios", key=unknown),
        api.get("/scenarios", key=malformed),
    ]
    assert [a.status_code for a in answers] == [200, 403, 401, 401, 401]
    secrets = [reader.split("_", 2)[2], forged.split("_", 2)[2], unknown.split("_", 2)[2], malformed]
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in logged
        assert all(secret not in a.text and secret not in str(a.headers) for a in answers)


def test_revoking_the_last_key_closes_the_api_and_never_reopens_it(test_settings: Settings, no_keys: Path) -> None:
    """Issue 13: started open (no keys file), a key created and then revoked left the API open
    to anonymous admin again. Now open mode ends when a keys file appears, for good."""
    client = make_client(test_settings, {})
    try:
        assert client.get("/checks", key=None).status_code == 200  # open: no keys file yet
        stored, plain = create_key(no_keys, Role.admin, "only")
        assert client.get("/checks", key=None).status_code == 401
        assert client.get("/checks", key=plain).status_code == 200
        assert revoke_key(no_keys, stored.id, force=True)
        for key in (None, plain):
            answer = client.get("/checks", key=key)
            assert answer.status_code == 401, answer.text
        assert "every key was revoked" in client.get("/checks", key=plain).json()["detail"]
        no_keys.unlink()  # deleting the file does not reopen a running API either
        assert client.get("/checks", key=None).status_code == 401
    finally:
        client.close()


def test_an_api_started_on_an_empty_keys_file_refuses_everyone(test_settings: Settings, no_keys: Path) -> None:
    stored, _ = create_key(no_keys, Role.admin)
    with pytest.raises(LastKey, match="is the last API key"):
        revoke_key(no_keys, stored.id)
    assert revoke_key(no_keys, stored.id, force=True)
    client = make_client(test_settings, {})
    try:
        answer = client.put("/scenarios/x/waivers", key=None, json=[])
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    finally:
        client.close()
    check_can_serve(test_settings, "127.0.0.1")
    with pytest.raises(RefuseToServe, match="without API keys"):
        check_can_serve(test_settings, "0.0.0.0")
