"""RFC 9457 problem documents: the one shape every error of the API takes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from neo4j.exceptions import ConnectionAcquisitionTimeoutError, ServiceUnavailable, SessionExpired
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph.db import DatabaseUnavailable
from graph.errors import NotFound
from graph.history import HistoryError
from loaders import BundleError, LoadConflict
from queries.waivers import UnknownScenarioError

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 5

log = logging.getLogger("tomgraph.api")


class ProblemItem(BaseModel):
    """One invalid input: where it is (`path`, `query`, `body`, a bundle file and line) and which field."""

    place: str
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] | None = None
    errors_omitted: int | None = Field(
        default=None,
        description=(
            "For an invalid bundle or event log: how many problems were found beyond the first 1,000 listed in"
            " `errors`."
        ),
    )


class ApiProblem(Exception):
    """Raised anywhere below a route; rendered as a problem document with its status."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        slug: str | None = None,
        errors: list[ProblemItem] | None = None,
        headers: dict[str, str] | None = None,
        errors_omitted: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug
        self.errors = errors
        self.headers = headers
        self.errors_omitted = errors_omitted


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: list[ProblemItem] | None = None,
    headers: dict[str, str] | None = None,
    errors_omitted: int | None = None,
) -> JSONResponse:
    """An RFC 9457 problem document as a response."""
    body: dict[str, Any] = {
        "type": f"urn:tomgraph:problem:{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [e.model_dump() for e in errors]
    if errors_omitted is not None:
        body["errors_omitted"] = errors_omitted
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def unavailable(detail: str) -> JSONResponse:
    return problem(
        503, "Neo4j unavailable", detail, slug="neo4j-unavailable", headers={"Retry-After": str(RETRY_AFTER_S)}
    )


def not_found(detail: str) -> ApiProblem:
    return ApiProblem(404, "Not found", detail, slug="not-found")


def invalid(place: str, field: str, message: str) -> ApiProblem:
    """A 422 for one invalid input found after FastAPI's own validation."""
    return ApiProblem(
        422,
        "Invalid input",
        f"{place}: {field}: {message}",
        slug="invalid-input",
        errors=[ProblemItem(place=place, field=field, message=message)],
    )


def validation_items(exc: RequestValidationError) -> list[ProblemItem]:
    """One item per error FastAPI found: place (`query`, `path`, `body`), field and message."""
    items = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        place = loc[0] if loc else "request"
        field = ".".join(loc[1:]) or place
        items.append(ProblemItem(place=place, field=field, message=str(error.get("msg", "invalid"))))
    return items


_STATUS_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    408: "Request timeout",
    413: "Content too large",
    415: "Unsupported media type",
}


def install_handlers(app: FastAPI) -> None:
    """Every error becomes a problem document; nothing ever shows a stack trace."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem(
            exc.status,
            exc.title,
            exc.detail,
            slug=exc.slug,
            errors=exc.errors,
            headers=exc.headers,
            errors_omitted=exc.errors_omitted,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        items = validation_items(exc)
        detail = "; ".join(f"{i.place}: {i.field}: {i.message}" for i in items)
        return problem(422, "Invalid input", detail, slug="invalid-input", errors=items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body FastAPI cannot parse: invalid input like any other
            message = exc.detail if isinstance(exc.detail, str) else "the body cannot be parsed"
            items = [ProblemItem(place="body", field="body", message=message)]
            return problem(422, "Invalid input", f"body: {message}", slug="invalid-input", errors=items)
        title = _STATUS_TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        slug = title.lower().replace(" ", "-") if exc.status_code in _STATUS_TITLES else None
        return problem(exc.status_code, title, detail, slug=slug, headers=getattr(exc, "headers", None))

    @app.exception_handler(DatabaseUnavailable)
    async def _db_down(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return unavailable(str(exc))

    for driver_error in (ServiceUnavailable, SessionExpired, ConnectionAcquisitionTimeoutError, TimeoutError):

        @app.exception_handler(driver_error)
        async def _driver_down(request: Request, exc: Exception) -> JSONResponse:
            return unavailable(f"Neo4j did not answer in time ({type(exc).__name__})")

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, "Not found", str(exc), slug="not-found")

    @app.exception_handler(UnknownScenarioError)
    async def _no_scenario(request: Request, exc: UnknownScenarioError) -> JSONResponse:
        return problem(404, "Not found", str(exc), slug="not-found")

    @app.exception_handler(BundleError)
    async def _bundle(request: Request, exc: BundleError) -> JSONResponse:
        # At most loaders.problems.MAX_PROBLEMS items; `errors_omitted` counts the rest.
        items = [ProblemItem(**p.as_dict()) for p in exc.problems]
        return problem(
            422, "Invalid bundle", exc.summary(), slug="invalid-bundle", errors=items, errors_omitted=exc.omitted
        )

    @app.exception_handler(HistoryError)
    async def _history(request: Request, exc: HistoryError) -> JSONResponse:
        return problem(409, "Version not readable", str(exc), slug="version-not-readable")

    @app.exception_handler(LoadConflict)
    async def _load_conflict(request: Request, exc: LoadConflict) -> JSONResponse:
        return problem(409, "Load conflict", str(exc), slug="load-conflict")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(500, "Internal error", "the server failed to answer; the error is in its log", slug="internal")


def problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI response entry for a problem document."""
    return {
        "description": description,
        "model": Problem,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: problem_response("No API key, or an unknown one"),
    403: problem_response("The key's role does not allow this"),
    503: problem_response("Neo4j unavailable; retry after `Retry-After` seconds"),
}
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    404: problem_response("No such scenario or entity"),
    422: problem_response("Invalid parameters; `errors` names each place and field"),
}
