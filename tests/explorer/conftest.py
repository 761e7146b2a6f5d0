"""The explorer's tests: the API tests' client, keys and read-only insurer scenario, and the real
app served by uvicorn on a loopback port for Chromium, under a strict Content-Security-Policy."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from api.app import create_app
from graph.db import Database
from graph.settings import Settings
from tests.api.conftest import api, api_keys, insurer
from tests.browser.chromium import BrowserPage

__all__ = ["api", "api_keys", "insurer"]

STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""What the pages must work under: no inline script or style, nothing from another origin."""
VIS_STYLE_REFUSED = ("inline style", "style-src")
"""The one console error a strict CSP causes: vis-network's standalone build inserting its own
<style> element (the same rules come from the linked vis-network.min.css)."""


class StrictCsp(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        docs = request.url.path in ("/docs", "/redoc")
        if response.headers.get("content-type", "").startswith("text/html") and not docs:
            response.headers["Content-Security-Policy"] = STRICT_CSP
        return response


@dataclass
class LiveApi:
    origin: str
    app: FastAPI
    keys: dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live(test_settings: Settings, api_keys: dict[str, str], db: Database) -> Iterator[LiveApi]:
    """The app on http://127.0.0.1:PORT in a thread of its own, with API keys configured."""
    app = create_app(test_settings)
    app.add_middleware(StrictCsp)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.05)
    yield LiveApi(f"http://127.0.0.1:{port}", app, api_keys)
    server.should_exit = True
    thread.join(timeout=30)


def sign_in(page: BrowserPage, live: LiveApi, role: str = "reader", next_path: str = "/") -> None:
    """Sign in as a person does: the sign-in form, the key pasted, the button pressed."""
    # A loaded machine (CI's 2 cores) can take a while for the first check run behind a page.
    page.page.set_default_timeout(90_000)
    page.page.goto(f"{live.origin}/ui/signin?next={quote(next_path, safe='/')}")
    page.page.fill("#key", live.keys[role])
    page.page.click("#signin")
    page.page.wait_for_load_state()


def outside(page: BrowserPage, live: LiveApi) -> list[str]:
    """Every request the page made that did not go to the API's origin (a `blob:` or `data:` URL
    the page made itself stays in the page)."""
    own = (live.origin + "/", f"blob:{live.origin}/", "data:")
    return [u for u in page.requests if not u.startswith(own)]


def csp_errors_only(page: BrowserPage) -> list[str]:
    """Console and page errors other than vis-network's refused <style> element."""
    return [e for e in page.errors if not all(part in e for part in VIS_STYLE_REFUSED)]
