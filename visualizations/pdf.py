"""HTML to PDF with Chromium's print-to-PDF, driven by Playwright, with no network.

Debian's Chromium (``/usr/bin/chromium``, or ``TOMGRAPH_CHROMIUM``) is used; Playwright's own
browser downloads never are. Every request that would leave the machine is aborted, so a page
prints exactly what it holds (the report pages are self-contained).
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOCAL_SCHEMES = ("file", "data", "about", "blob")


class PdfError(Exception):
    """The PDF could not be made (no Chromium, or Chromium failed); the message says why and what to do."""


def chromium_path() -> str:
    """Where Chromium is: ``TOMGRAPH_CHROMIUM`` or Debian's ``/usr/bin/chromium``."""
    return os.environ.get("TOMGRAPH_CHROMIUM", "/usr/bin/chromium")


def html_to_pdf(html: str, *, timeout_s: float = 60.0) -> bytes:
    """Print ``html`` (a whole self-contained document) to PDF bytes, with the page size and
    margins of its own ``@page`` CSS (A4 when it says none). Raises :class:`PdfError`.

    Runs Playwright's sync API in a thread of its own, so it may be called from code that already
    runs an asyncio loop (Playwright refuses to run its sync API inside one).
    """
    executable = chromium_path()
    if not Path(executable).is_file():
        raise PdfError(
            f"Chromium not found at {executable}: install it (Debian: apt-get install chromium) "
            "or set TOMGRAPH_CHROMIUM to its path"
        )
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_print, html, executable, timeout_s).result()


def _print(html: str, executable: str, timeout_s: float) -> bytes:
    from playwright.sync_api import Error, Route, sync_playwright

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).scheme in LOCAL_SCHEMES:
            route.fallback()
        else:
            route.abort("blockedbyclient")

    with tempfile.TemporaryDirectory(prefix="tomgraph-pdf-") as tmp:
        page_file = Path(tmp) / "page.html"
        page_file.write_text(html, encoding="utf-8")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=executable, args=list(CHROMIUM_ARGS), timeout=timeout_s * 1000
                )
                try:
                    context = browser.new_context()
                    context.route("**/*", guard)
                    page = context.new_page()
                    page.goto(page_file.as_uri(), wait_until="load", timeout=timeout_s * 1000)
                    return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
                finally:
                    browser.close()
        except Error as exc:
            raise PdfError(f"Chromium could not print the page to PDF: {exc.message.splitlines()[0]}") from exc
