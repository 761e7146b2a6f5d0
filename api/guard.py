"""The request guard: who may call, how big and how slow a body may be, decided before the body
is read; and the security headers every answer carries (issue 13).

FastAPI parses a route's body before it runs the route's dependencies, so the key dependency
alone would let an anonymous client make the server read (and hold) a 200 MB body before its
401. `RequestGuard` is a pure ASGI middleware in front of the app: from the request line and
headers only it finds the route, checks the `Authorization` header against the role the route
declares (`ReaderKey`, `EditorKey`, `AdminKey`, the same dependency the route runs again), and
refuses with 401/403 before one byte of the body is received. It then refuses a body that
`Content-Length` says is over the route's limit (413), and counts the bytes as they stream in
(413 as soon as they pass the limit, chunked bodies too) against a deadline for the whole body
(408). A refused request's answer carries `Connection: close`, so the server stops reading.

`SecurityHeaders` adds `nosniff`, `no-store`, `Referrer-Policy`, `X-Frame-Options` to every
answer, and to HTML a Content-Security-Policy built for the page: its inline scripts by
SHA-256 hash, its external scripts and style sheets by URL, nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect, cookie_parser
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import SESSION_COOKIE, Forbidden, KeyStore, Role, Unauthorized, authenticate_request, check_role
from api.problems import problem

log = logging.getLogger("tomgraph.api")

BODY_LIMIT_ATTR = "tomgraph_body_limit"
CALLER_SCOPE_KEY = "tomgraph.caller"
"""(key id, role) of a caller the guard has authenticated, for `api.deps` to reuse."""


def body_limit(setting: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a route's endpoint as taking bodies up to the `Settings` field `setting` (bytes),
    instead of `api_max_json_bytes`. Used by the bundle upload (`max_file_bytes`)."""

    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        setattr(endpoint, BODY_LIMIT_ATTR, setting)
        return endpoint

    return mark


@dataclass(frozen=True)
class RoutePolicy:
    """What a route allows: the role it needs (None: public) and its largest body in bytes."""

    role: Role | None
    max_body: int


@dataclass(frozen=True)
class _RouteEntry:
    regex: re.Pattern[str]
    methods: frozenset[str]
    policy: RoutePolicy


def required_role(dependant: Dependant | None) -> Role | None:
    """The role a route's dependencies demand (`require_role` marks its check), or None."""
    if dependant is None:
        return None
    role = getattr(dependant.call, "required_role", None)
    if role is not None:
        return Role(role)
    for sub in dependant.dependencies:
        found = required_role(sub)
        if found is not None:
            return found
    return None


def _api_routes(app: FastAPI) -> Iterator[tuple[str, frozenset[str], APIRoute, Dependant | None]]:
    """(path, methods, route, dependant) of every API route, included routers too."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are plain APIRoutes in app.routes
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, frozenset(route.methods or ()), route, route.dependant
        return
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            dependant = getattr(context, "dependant", None) or route.dependant
            yield str(context.path), frozenset(context.methods or route.methods or ()), route, dependant


class RequestGuard:
    """Authentication, body size and body time, before the app reads a body (module docstring)."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self._routes: list[_RouteEntry] | None = None

    def _table(self) -> list[_RouteEntry]:
        if self._routes is None:
            settings = self.fastapi_app.state.settings
            entries = []
            for path, methods, route, dependant in _api_routes(self.fastapi_app):
                setting = getattr(route.endpoint, BODY_LIMIT_ATTR, "api_max_json_bytes")
                policy = RoutePolicy(required_role(dependant), int(getattr(settings, setting)))
                entries.append(_RouteEntry(compile_path(path)[0], methods, policy))
            self._routes = entries
        return self._routes

    def policy_for(self, method: str, path: str) -> RoutePolicy | None:
        """The policy of the route that will answer, or None (no route: the app answers 404/405)."""
        for entry in self._table():
            if entry.regex.match(path) and method in entry.methods:
                return entry.policy
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.fastapi_app.state.settings
        headers = Headers(scope=scope)
        has_body = _announces_body(headers)
        policy = self.policy_for(scope["method"], scope["path"])
        limit = policy.max_body if policy else settings.api_max_json_bytes
        if policy is not None and policy.role is not None:
            refusal = self._auth_refusal(scope, headers, policy.role)
            if refusal is not None:
                await _answer(refusal, scope, send, close=has_body)
                return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _answer(
                _too_large(f"the body is {declared} bytes; the limit here is {limit}"), scope, send, close=True
            )
            return
        if not has_body:
            await self.app(scope, receive, send)
            return
        await _GuardedBody(self.app, limit, settings.api_body_timeout_s)(scope, receive, send)

    def _auth_refusal(self, scope: Scope, headers: Headers, role: Role) -> dict[str, Any] | None:
        store: KeyStore = self.fastapi_app.state.key_store
        try:
            key_id, key_role = authenticate_request(
                store,
                getattr(self.fastapi_app.state, "sessions", None),
                scope["method"],
                headers.get("authorization"),
                cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE),
            )
            check_role(key_id, key_role, role)
            scope[CALLER_SCOPE_KEY] = (key_id, key_role)  # the route's dependency reuses it
        except Unauthorized as e:
            return {
                "status": 401,
                "title": "Unauthorized",
                "detail": e.detail,
                "slug": "unauthorized",
                "headers": {"WWW-Authenticate": "Bearer"},
            }
        except Forbidden as e:
            return {"status": 403, "title": "Forbidden", "detail": e.detail, "slug": "forbidden"}
        return None


def _announces_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in headers


def _too_large(detail: str) -> dict[str, Any]:
    return {"status": 413, "title": "Content too large", "detail": detail, "slug": "too-large"}


async def _answer(refusal: dict[str, Any], scope: Scope, send: Send, *, close: bool) -> None:
    headers = dict(refusal.get("headers") or {})
    if close:
        # The body was not read: the server must not try to read the next request after it.
        headers["Connection"] = "close"
    response = problem(refusal["status"], refusal["title"], refusal["detail"], slug=refusal["slug"], headers=headers)

    async def no_receive() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_receive, send)


class _GuardedBody:
    """Runs the app with a `receive` that counts the body's bytes and watches its deadline.

    On a breach the guard answers itself (413 or 408, `Connection: close`), hands the app a
    disconnect, and drops whatever the app then tries to send; the app's resulting
    `ClientDisconnect` is swallowed here, so nothing is logged as an error.
    """

    def __init__(self, app: ASGIApp, limit: int, timeout_s: float) -> None:
        self.app = app
        self.limit = limit
        self.timeout_s = timeout_s
        self.received = 0
        self.body_done = False
        self.refused = False
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deadline = time.monotonic() + self.timeout_s

        async def guarded_send(message: Message) -> None:
            if self.refused:
                return
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        async def refuse(refusal: dict[str, Any], why: str) -> Message:
            if not self.started and not self.refused:
                self.refused = True
                log.info("%s %s refused: %s", scope["method"], scope["path"], why)
                await _answer(refusal, scope, send, close=True)
            self.refused = True
            return {"type": "http.disconnect"}

        async def guarded_receive() -> Message:
            if self.refused:
                return {"type": "http.disconnect"}
            if self.body_done:
                return await receive()
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), timeout=remaining)
            except TimeoutError:
                detail = f"the body did not arrive within {self.timeout_s:g} s"
                return await refuse(
                    {"status": 408, "title": "Request timeout", "detail": detail, "slug": "timeout"}, detail
                )
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    detail = f"the body passed the limit of {self.limit} bytes here"
                    return await refuse(_too_large(detail), detail)
                if not message.get("more_body", False):
                    self.body_done = True
            return message

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except ClientDisconnect:
            # The guard cut the body off and has answered, or the client hung up mid-body:
            # nobody is left to answer, and it is no server error.
            if not self.refused:
                log.info("%s %s: the client hung up before its body was complete", scope["method"], scope["path"])
        except Exception:
            if not self.refused:
                raise
            # The app failed because the guard cut its body off; the guard has answered.


# --- security headers ---------------------------------------------------------------------

_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC = re.compile(rb"""\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_TYPE = re.compile(rb"""\btype\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_STYLESHEET = re.compile(rb"""<link\b[^>]*\brel\s*=\s*["']stylesheet["'][^>]*>""", re.IGNORECASE)
_HREF = re.compile(rb"""\bhref\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_NOT_SCRIPT_TYPES = (b"application/json", b"application/ld+json", b"text/template")


def html_csp(body: bytes) -> str:
    """A Content-Security-Policy for one of our HTML pages, allowing exactly what it uses.

    Inline scripts are allowed by their SHA-256 (an injected script has another hash), scripts
    and style sheets with a `src`/`href` by their exact URL; inline styles are allowed (the view
    and the report style themselves; a style cannot run code). Data is fetched from the API
    itself (`connect-src 'self'`), images are the page's own or `data:` URIs. The page cannot be
    framed, submits forms only to this API (the explorer's search and sign-in), and cannot change
    its base URL.
    """
    scripts: list[str] = []
    styles: list[str] = []
    for match in _SCRIPT.finditer(body):
        attributes, content = match.group(1), match.group(2)
        src = _SRC.search(attributes)
        if src:
            url = src.group(1).decode("utf-8", "replace")
            # a path on this server is only expressible as 'self' in CSP source syntax
            scripts.append("'self'" if url.startswith("/") and not url.startswith("//") else url)
            continue
        kind = _TYPE.search(attributes)
        if kind and kind.group(1).strip().lower() in _NOT_SCRIPT_TYPES:
            continue
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        scripts.append(f"'sha256-{digest}'")
    for link in _STYLESHEET.finditer(body):
        href = _HREF.search(link.group(0))
        if href:
            url = href.group(1).decode("utf-8", "replace")
            if not (url.startswith("/") and not url.startswith("//")):  # own paths: 'self' below
                styles.append(url)
    directives = [
        "default-src 'none'",
        f"script-src {' '.join(dict.fromkeys(scripts))}" if scripts else "script-src 'none'",
        f"style-src 'self' 'unsafe-inline' {' '.join(dict.fromkeys(styles))}".rstrip(),
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
"""On every answer. `no-store`: answers hold an organisation's model and findings, which no
browser or proxy cache should keep."""


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` to every answer and `html_csp` to HTML answers (module docstring).

    An HTML answer is held until its body is complete (our pages are rendered whole, in memory)
    so that its scripts can be hashed into the header.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def secured_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if headers.get("content-type", "").startswith("text/html"):
                    held = message
                    return
                await send(message)
                return
            if held is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                held_headers = MutableHeaders(scope=held)
                if "content-security-policy" not in held_headers:  # a page's own, stricter, policy stays
                    held_headers["Content-Security-Policy"] = html_csp(body)
                await send(held)
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, secured_send)
