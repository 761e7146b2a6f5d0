"""Dependencies as `Annotated` aliases: the database, the settings, the catalog, and the caller's
key with its role. Routes declare the role they need as a dependency; nothing checks by hand.

Every dependency is `async def`, even where it awaits nothing: FastAPI runs a plain `def`
dependency in the threadpool, a thread hop per dependency per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from api.auth import (
    OPEN_KEY_ID,
    SESSION_COOKIE,
    Forbidden,
    KeyStore,
    Role,
    SessionStore,
    StoredKey,
    Unauthorized,
    authenticate_request,
    check_role,
)
from api.db import ApiDatabase, ApiSyncDatabase
from api.guard import CALLER_SCOPE_KEY
from api.problems import ApiProblem, ProblemItem
from graph.days import DayError, check_day
from graph.ontology import ID_PATTERN, SCENARIO_PATTERN
from graph.settings import Settings
from queries.catalog import Catalog


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _db(request: Request) -> ApiDatabase:
    db: ApiDatabase = request.app.state.db
    return db


async def _sync_db(request: Request) -> ApiSyncDatabase:
    db: ApiSyncDatabase = request.app.state.sync_db
    return db


async def _catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


SettingsDep = Annotated[Settings, Depends(_settings)]
DbDep = Annotated[ApiDatabase, Depends(_db)]
SyncDbDep = Annotated[ApiSyncDatabase, Depends(_sync_db)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]

ScenarioName = Annotated[
    str, Path(pattern=SCENARIO_PATTERN, description="Scenario name, e.g. `current`.", examples=["current"])
]
EntityId = Annotated[
    str, Path(pattern=ID_PATTERN, description="Entity id from the bundle.", examples=["m-fraud-score"])
]


def _in_range(day: date) -> date:
    try:
        return check_day(day)
    except DayError as e:
        raise PydanticCustomError("date_out_of_range", str(e)) from None


Day = Annotated[date, AfterValidator(_in_range)]
"""A day given as a parameter (`as_of=`, `at=`, `since=`, `effective=`, ...): YYYY-MM-DD within
graph.days' range, else a 422 naming the parameter. Every date parameter of a route is a `Day`, so
that no read steps outside the calendar (a 500); tests/api/test_day_range.py walks the routes."""

AtQuery = Annotated[
    Day | None,
    Query(description="Read the scenario as it was in force on this day, YYYY-MM-DD (default today)."),
]
"""`at=` of every read route (rest.md, "Added in v1.1")."""

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <api key>` (`tomgraph keys create`).")


@dataclass(frozen=True)
class Caller:
    """Who is calling: a key id and its role (`open` when the server runs without keys)."""

    key_id: str
    role: Role


OPEN_CALLER = Caller(key_id=OPEN_KEY_ID, role=Role.admin)


def session_key(request: Request) -> StoredKey | None:
    """The key behind the request's explorer session cookie, if any (api/auth.py, SessionStore)."""
    sessions: SessionStore | None = getattr(request.app.state, "sessions", None)
    if sessions is None:
        return None
    store: KeyStore = request.app.state.key_store
    return sessions.key_for(request.cookies.get(SESSION_COOKIE), store)


def unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "Unauthorized", detail, slug="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> ApiProblem:
    return ApiProblem(403, "Forbidden", detail, slug="forbidden")


async def _current_key(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    # `_credentials` only documents the scheme in OpenAPI; the header is read by the same
    # function the request guard uses before the body (api/guard.py).
    checked = request.scope.get(CALLER_SCOPE_KEY)
    if checked is not None:  # authenticated before the body by api.guard.RequestGuard
        return Caller(key_id=checked[0], role=checked[1])
    store: KeyStore = request.app.state.key_store
    try:
        key_id, role = authenticate_request(
            store,
            getattr(request.app.state, "sessions", None),
            request.method,
            request.headers.get("authorization"),
            request.cookies.get(SESSION_COOKIE),
        )
    except Unauthorized as e:
        raise unauthorized(e.detail) from None
    return Caller(key_id=key_id, role=role)


CurrentKey = Annotated[Caller, Depends(_current_key)]


def require_role(role: Role) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency that lets through keys of `role` or above and answers 403 to the rest."""

    async def check(caller: CurrentKey) -> Caller:
        try:
            check_role(caller.key_id, caller.role, role)
        except Forbidden as e:
            raise forbidden(e.detail) from None
        return caller

    check.required_role = role  # type: ignore[attr-defined]
    return check


ReaderKey = Annotated[Caller, Depends(require_role(Role.reader))]
EditorKey = Annotated[Caller, Depends(require_role(Role.editor))]
AdminKey = Annotated[Caller, Depends(require_role(Role.admin))]


def _query_parameters(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_parameters(sub)
    return names


_known: dict[int, frozenset[str]] = {}


def _known_query_parameters(dependant: Dependant) -> frozenset[str]:
    known = _known.get(id(dependant))
    if known is None:
        # Routes live as long as the app, so their ids stay theirs.
        known = _known[id(dependant)] = frozenset(_query_parameters(dependant))
    return known


async def no_unknown_query_parameters(request: Request) -> None:
    """A misspelt parameter (`?dept=3`) is a 422, not silently ignored."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return
    unknown = sorted(set(request.query_params) - _known_query_parameters(dependant))
    if unknown:
        raise ApiProblem(
            422,
            "Invalid input",
            f"unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            slug="invalid-input",
            errors=[ProblemItem(place="query", field=name, message="unknown query parameter") for name in unknown],
        )
