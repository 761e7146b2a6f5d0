"""What every explorer page shares: the templates, who is asking (key, session or open), CSRF
tokens for forms, the scenario and date switchers, and HTML error pages."""

from __future__ import annotations

import hmac
import inspect
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.auth import SESSION_COOKIE, Unauthorized, authenticate_request, is_loopback
from api.deps import OPEN_CALLER, Caller, _bearer
from api.problems import ApiProblem, validation_items
from graph.ontology import KINDS

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
CSRF_COOKIE = "tomgraph_csrf"
CSRF_FIELD = "csrf"
KIND_LABELS = {k.section: k.singular for k in KINDS}
TEMPLATES.globals.update(kind_labels=KIND_LABELS, kinds=[k.section for k in KINDS])
TEMPLATES.filters["finding_view"] = lambda f: {**f, "open": "waived" not in f}


def secure_cookies(request: Request) -> bool:
    """Cookies are `Secure` unless the page was asked for on a loopback address (rest.md)."""
    return not is_loopback(request.url.hostname or "")


class SignInRequired(Exception):
    """The page needs a signed-in person; answered by a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class PageError(Exception):
    """A page that cannot be shown (no such scenario or entity, bad input): an HTML error page."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        self.status, self.title, self.detail = status, title, detail


def here(request: Request) -> str:
    """The request's path and query, for `next=` after signing in (same origin only)."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def _page_caller(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    # `_credentials` documents the scheme; the rule is api.auth.authenticate_request, as for the API.
    try:
        key_id, role = authenticate_request(
            request.app.state.key_store,
            getattr(request.app.state, "sessions", None),
            request.method,
            request.headers.get("authorization"),
            request.cookies.get(SESSION_COOKIE),
        )
    except Unauthorized:
        raise SignInRequired(here(request)) from None
    return Caller(key_id=key_id, role=role)


PageCaller = Annotated[Caller, Depends(_page_caller)]


def csrf_token(request: Request) -> str:
    """The request's CSRF token (double-submit: a cookie and a hidden form field that must match)."""
    token: str | None = getattr(request.state, "csrf", None) or request.cookies.get(CSRF_COOKIE)
    if not token or len(token) < 32:
        token = secrets.token_urlsafe(32)
    request.state.csrf = token
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """A state-changing form is accepted only with the cookie's token in its body, and (when the
    browser says where it comes from) from this origin."""
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        return False
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and submitted and hmac.compare_digest(cookie, submitted))


def set_csrf_cookie(request: Request, response: Response) -> None:
    token = getattr(request.state, "csrf", None)
    if token and token != request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies(request), path="/ui"
        )


@dataclass(frozen=True)
class PageState:
    """The switchers' state, carried by every link: the scenario, the day findings are run for
    (`as_of`) and the day the scenario is read at (`at`: every read of the page is of the version
    in force that day, default today; carried by every link)."""

    scenario: str | None
    as_of: date | None = None
    at: date | None = None

    def query(self, **extra: Any) -> str:
        """`?as_of=...&at=...&extra...` (empty values left out)."""
        values = {"as_of": self.as_of, "at": self.at, **extra}
        pairs = [(k, str(v)) for k, v in values.items() if v not in (None, "", False)]
        return f"?{urlencode(pairs)}" if pairs else ""


def render(
    request: Request, template: str, *, state: PageState, caller: Caller, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page: the template with the switchers, the signed-in key and a CSRF token for forms."""
    signed_in = caller.key_id != OPEN_CALLER.key_id
    catalog = getattr(request.app.state, "catalog", None)
    html = TEMPLATES.get_template(template).render(
        request_path=request.url.path,
        # An event-log check's first subject is an event id, not an entity (events.md).
        event_checks=catalog.event_check_ids() if catalog else frozenset(),
        state=state,
        caller=caller,
        signed_in=signed_in,
        csrf=csrf_token(request),
        scenarios=getattr(request.state, "scenarios", []),
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    set_csrf_cookie(request, response)
    return response


def install_page_errors(app: FastAPI) -> None:
    """Pages answer in HTML: a redirect to sign in, or an error page saying what is wrong."""

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(f"/ui/signin?{urlencode({'next': exc.next_url})}", status_code=303)

    def error_page(exc: PageError) -> HTMLResponse:
        html = TEMPLATES.get_template("error.html.j2").render(
            title=exc.title, detail=exc.detail, status=exc.status, state=PageState(None), scenarios=[]
        )
        return HTMLResponse(html, status_code=exc.status)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return error_page(exc)

    # What FastAPI refuses before a page runs (an unknown or invalid query parameter) is a problem
    # document for the API and an error page, saying the same, for a page.
    api_problem = app.exception_handlers[ApiProblem]
    api_validation = app.exception_handlers[RequestValidationError]

    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, exc: ApiProblem) -> Response:
        if is_page(request) and exc.status < 500:
            return error_page(PageError(exc.status, exc.title, exc.detail))
        return await _answer(api_problem(request, exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if is_page(request):
            detail = "; ".join(f"{i.place}: {i.field}: {i.message}" for i in validation_items(exc))
            return error_page(PageError(422, "Invalid input", detail))
        return await _answer(api_validation(request, exc))


async def _answer(response: Response | Awaitable[Response]) -> Response:
    return await response if inspect.isawaitable(response) else response


def is_page(request: Request) -> bool:
    """Whether `request` asks for an explorer page (`/` or `/ui/...`), answered in HTML."""
    path = request.url.path
    return path == "/" or path.startswith("/ui/")
