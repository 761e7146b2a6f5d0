"""Signing in by key into a session cookie (rest.md v1.1), CSRF on every form, and hostile names
rendered as text on every explorer page (catalog, entity, findings, explorer with its authority
paths, coverage, maturity), in Debian's Chromium."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.db import Database
from loaders import load_bundle
from tests.browser import chromium
from tests.browser.chromium import BrowserPage
from tests.explorer.conftest import LiveApi, csp_errors_only, outside, sign_in
from tests.reliability.test_hostile_strings import HOSTILE

browser = chromium.browser
browser_page = chromium.browser_page

HOSTILE_NAME = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2"> `${x}` \u202eRTL 🤖'


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def captured_logs() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


def test_a_person_signs_in_by_key_once_and_out_again(
    live: LiveApi, insurer: str, browser_page: BrowserPage, captured_logs: Captured
) -> None:
    page = browser_page.page
    page.set_default_timeout(90_000)
    page.goto(f"{live.origin}/?scenario={insurer}")
    assert page.url == f"{live.origin}/ui/signin?next=%2F%3Fscenario%3D{insurer}"

    page.fill("#key", "tg_000000000000_" + "x" * 43)
    page.click("#signin")
    assert page.locator("#signin-error").inner_text() == "That key is not valid (unknown, mistyped or revoked)."

    key = live.keys["reader"]
    page.fill("#key", key)
    page.click("#signin")
    page.wait_for_selector("#catalog-search")
    assert page.url == f"{live.origin}/?scenario={insurer}"
    cookies = {c["name"]: c for c in browser_page.context.cookies()}
    session = cookies["tomgraph_session"]
    assert (session["httpOnly"], session["sameSite"], session["secure"]) == (True, "Strict", False)
    assert cookies["tomgraph_csrf"]["httpOnly"] and cookies["tomgraph_csrf"]["sameSite"] == "Strict"
    assert key not in session["value"]

    reads = page.request.get(f"{live.origin}/scenarios/{insurer}/entities/m-uw-risk-score/who")
    assert reads.status == 200
    write = page.request.put(f"{live.origin}/scenarios/{insurer}/waivers", data="[]")
    assert write.status == 401
    forged = page.request.post(f"{live.origin}/ui/signout", form={"csrf": "not-the-token"})
    assert forged.status == 403
    assert page.request.get(f"{live.origin}/scenarios").status == 200

    page.click("#signout")
    page.wait_for_selector("#key")
    page.goto(f"{live.origin}/ui/scenarios/{insurer}/findings")
    assert "/ui/signin?next=" in page.url
    assert page.request.get(f"{live.origin}/scenarios").status == 401

    assert all(key not in url for url in browser_page.requests)
    assert all(key not in line for line in captured_logs.lines)
    assert outside(browser_page, live) == []
    # the one error: the wrong key's answer is a 401 page, and Chromium says so on the console
    assert browser_page.errors == ["Failed to load resource: the server responded with a status of 401 (Unauthorized)"]


def test_sign_in_form_needs_its_csrf_token(live: LiveApi, browser_page: BrowserPage) -> None:
    answer = browser_page.page.request.post(f"{live.origin}/ui/signin", form={"key": live.keys["reader"]})
    assert answer.status == 403
    assert "tomgraph_session" not in {c["name"] for c in browser_page.context.cookies()}


@pytest.fixture
def hostile(db: Database, scenario: str, tmp_path: Path) -> str:
    roles = [{"id": f"r-{i}", "name": text.strip() or f"r{i}", "description": text} for i, text in enumerate(HOSTILE)]
    roles.append({"id": "r-x", "name": HOSTILE_NAME})
    bundle = {
        "units": [{"id": "u-x", "name": HOSTILE_NAME}],
        "roles": roles,
        "people": [{"id": "p-x", "name": HOSTILE_NAME, "holds": ["r-x"]}],
        "vendors": [{"id": "v-x", "name": HOSTILE_NAME, "owner": "r-x"}],
        "models": [
            {
                "id": "m-x",
                "name": HOSTILE_NAME,
                "stage": "production",
                "risk_tier": "high",
                "unit": "u-x",
                "owner": "r-x",
                "vendor": "v-x",
                "developers": ["r-0"],
                "shutdown_authority": ["r-x"],
            }
        ],
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    load_bundle(db, path, scenario)
    return scenario


def test_hostile_names_render_as_text_on_every_page(live: LiveApi, hostile: str, browser_page: BrowserPage) -> None:
    sign_in(browser_page, live, next_path=f"/?scenario={hostile}")
    page = browser_page.page
    names = page.locator("#catalog-results tbody td:first-child a").evaluate_all("a => a.map(x => x.textContent)")
    assert HOSTILE_NAME in names
    # HTML cannot carry NUL (the parser makes it U+FFFD) and reads CR LF as LF: the rest is exact.
    assert {t.strip().replace("\r\n", "\n") for t in HOSTILE if t.strip() and "\x00" not in t} <= set(names)

    page.goto(f"{live.origin}/ui/scenarios/{hostile}/entities/m-x")
    assert page.locator("#entity-name").text_content() == HOSTILE_NAME
    assert f"Owns it: {HOSTILE_NAME} (r-x), held by {HOSTILE_NAME} (p-x)." in page.locator("#who-sentences").evaluate(
        "e => [...e.querySelectorAll('li')].map(li => li.textContent)"
    )
    page.goto(f"{live.origin}/ui/scenarios/{hostile}/entities/r-3")
    assert page.locator("#fields dd").first.text_content() == HOSTILE[3]

    page.goto(f"{live.origin}/ui/scenarios/{hostile}/findings")
    assert HOSTILE_NAME in page.locator("#content").text_content()

    page.goto(f"{live.origin}/ui/scenarios/{hostile}/explore?focus=m-x")
    browser_page.wait_until("window.tomgraphExplorer && tomgraphExplorer.ready", 90)
    assert page.locator("#details-name").text_content() == HOSTILE_NAME
    browser_page.page.click("#btn-authority")
    browser_page.wait_until("document.querySelector('#authority-list li[data-person=\"p-x\"] a') !== null")
    assert page.locator("#authority-list li[data-person='p-x'] > a").text_content() == HOSTILE_NAME
    assert page.locator("#authority-list li[data-person='p-x'] li").first.text_content() == (
        f"shutdown: holds {HOSTILE_NAME} (r-x)"
    )
    browser_page.page.evaluate("tomgraphExplorer.showDetails('v-x')")
    assert page.locator("#details-name").text_content() == HOSTILE_NAME

    page.goto(f"{live.origin}/ui/scenarios/{hostile}/coverage")
    headers = page.locator("#coverage-matrix th.subject a").evaluate_all("a => a.map(x => x.textContent)")
    assert HOSTILE_NAME in headers
    page.goto(f"{live.origin}/ui/scenarios/{hostile}/maturity")
    assert page.locator("#unit-stages tr[data-unit='u-x'] td a").first.text_content() == HOSTILE_NAME

    assert page.evaluate("window.pwned === undefined")
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert csp_errors_only(browser_page) == []
    assert outside(browser_page, live) == []
