"""Headless Debian Chromium driven by Playwright, with every request outside this machine
blocked and recorded, and console errors collected.

Use from a test module (pytest sees fixtures that are attributes of the module)::

    from tests.browser import chromium
    from tests.browser.chromium import BrowserPage

    browser = chromium.browser
    browser_page = chromium.browser_page

    def test_page(browser_page: BrowserPage, tmp_path: Path) -> None:
        browser_page.open_html("<p>hi</p>", tmp_path)
        assert browser_page.external_requests == []
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Route,
    sync_playwright,
)

from visualizations.pdf import CHROMIUM_ARGS  # the one set of flags, shared with summary.pdf

CHROMIUM_PATH = os.environ.get("TOMGRAPH_CHROMIUM", "/usr/bin/chromium")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
LOCAL_SCHEMES = ("file", "data", "about", "blob", "chrome-error")


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium (Playwright's own browser downloads are not used)."""
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=list(CHROMIUM_ARGS))


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or (parts.hostname or "") in LOCAL_HOSTS


@dataclass
class BrowserPage:
    """A page whose requests leaving this machine are aborted and recorded."""

    page: Page
    context: BrowserContext
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open_file(self, path: Path, *, wait_until: str = "load") -> None:
        self.page.goto(path.resolve().as_uri(), wait_until=wait_until)  # type: ignore[arg-type]

    def open_html(self, html: str, directory: Path, name: str = "page.html") -> Path:
        path = directory / name
        path.write_text(html, encoding="utf-8")
        self.open_file(path)
        return path

    def wait_until(self, expression: str, timeout_s: float = 30.0) -> Any:
        """Poll a JavaScript expression until it is truthy and return it.

        Unlike ``page.wait_for_function`` this works on pages whose Content-Security-Policy
        forbids eval (Playwright's polling evaluates the predicate with it).
        """
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.page.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout_s} s: {expression}")
            time.sleep(0.05)

    @property
    def errors(self) -> list[str]:
        return self.console_errors + self.page_errors


def watch(context: BrowserContext) -> BrowserPage:
    page = context.new_page()
    watched = BrowserPage(page, context)

    def on_request(request: Request) -> None:
        watched.requests.append(request.url)
        if not is_local(request.url):
            watched.external_requests.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    def guard(route: Route) -> None:
        if is_local(route.request.url):
            route.fallback()
        else:
            route.abort("blockedbyclient")

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    context.route("**/*", guard)
    return watched


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: Playwright's sync API keeps an asyncio loop running in the
    # main thread while it is open, and every later `asyncio.run` in the session would fail.
    with sync_playwright() as playwright:
        instance = launch_chromium(playwright)
        yield instance
        instance.close()


@pytest.fixture
def browser_page(browser: Browser) -> Iterator[BrowserPage]:
    """A fresh context and page (1280x800), closed afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield watch(context)
    finally:
        context.close()
