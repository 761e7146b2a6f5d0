"""Hostile strings from the operating model, rendered in the weekly report and opened in Chromium:
shown as text, never run, never turned into elements.

The strings are those of `test_hostile_strings.py` (Cypher-looking text, newlines, NUL, RTL
override, emoji, `<script>`, ...) and a few aimed at a browser. Each becomes the name of a model
(production, no change approver, no shutdown authority: two findings whose messages carry the
name), of the role that owns it (a "who must act" heading), of its unit (the per-unit table) and
of the person holding the role; the ids are Cypher-looking ones the id pattern allows. The page is
opened as written and again with its Content-Security-Policy removed, so that the escaping is
shown to hold by itself and not only because the policy blocks scripts.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Dialog

from graph.db import Database
from loaders import load_bundle
from queries.catalog import load_catalog
from tests.browser import chromium
from tests.browser.chromium import BrowserPage
from tests.bundles import write_yaml
from tests.reliability.test_hostile_strings import HOSTILE, HOSTILE_IDS
from visualizations import report as report_module
from visualizations.report import Report, build_report, render_html

browser = chromium.browser
browser_page = chromium.browser_page

AS_OF = date(2026, 11, 23)
PNG = b"\x89PNG\r\n\x1a\n"  # a stand-in for the trend chart: no data in it, and no matplotlib run
# Aimed at the page: each would run a script, add an element or fetch something if it were markup.
BROWSER_HOSTILE = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "</td></tr></table><svg onload=window.__pwned=3>",
    '"><iframe src="javascript:window.__pwned=4"></iframe>',
    "</code></h3><style>body{display:none}</style>",
    '<img src="http://203.0.113.7/beacon.png">',
    "<!-- unclosed comment",
    "&lt;b&gt; &amp; &#60;i&#62;",
    "{{ 7*7 }} {% raw %} ${7*7}",
]
STRINGS = [*HOSTILE, *BROWSER_HOSTILE]
CSP = (
    '<meta http-equiv="Content-Security-Policy" '
    """content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">"""
)
INJECTED = """[...document.querySelectorAll('script, iframe, svg, object, embed, body style, img:not(.trend)')].length
    + [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length"""


def _dom_text(text: str) -> str:
    """The text a page shows for `text`: the report shows control characters (BEL among them) as
    U+FFFD, and the HTML parser turns CR LF and CR into LF."""
    shown = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", text)
    return shown.replace("\r\n", "\n").replace("\r", "\n")


def _visible(text: str) -> str:
    """innerText of such text in a normal-flow cell: runs of spaces, tabs and newlines are one space."""
    return re.sub(r"[ \t\n]+", " ", _dom_text(text))


# The findings on each model and the role that owns it: every message carries the name.
CHECKS = [
    "broken-escalation-chain",  # the role
    "model-without-business-case",
    "model-without-change-approver",
    "no-shutdown-authority",
    "unmonitored-production-model",
]


def _model_id(i: int) -> str:
    return f"{HOSTILE_IDS[i % len(HOSTILE_IDS)]}-{i}"


def _hostile_bundle() -> dict[str, Any]:
    units, roles, people, models = [], [], [], []
    for i, text in enumerate(STRINGS):
        model_id = _model_id(i)
        units.append({"id": f"u:{i}", "name": text})
        roles.append({"id": f"r:{i}", "name": text, "unit": f"u:{i}"})
        people.append({"id": f"p:{i}", "name": text, "holds": [f"r:{i}"]})
        models.append({"id": model_id, "name": text, "stage": "production", "risk_tier": "minimal", "owner": f"r:{i}"})
    return {"units": units, "roles": roles, "people": people, "models": models}


@pytest.fixture
def hostile_report(tmp_path: Path, db: Database, scenario: str) -> Report:
    load_bundle(db, write_yaml(_hostile_bundle(), tmp_path / "hostile.yaml"), scenario)
    return build_report(db, load_catalog(), scenario, AS_OF)


def _record_dialogs(browser_page: BrowserPage) -> list[str]:
    """alert(), confirm() and prompt() messages, each dismissed."""
    messages: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    browser_page.page.on("dialog", on_dialog)
    return messages


def _messages_of(report: Report) -> list[str]:
    rows: list[dict[str, Any]] = sorted(report["new"], key=lambda f: (f["check"], f["subjects"]))
    return [f["message"] for f in rows]


def test_the_findings_carry_every_hostile_string_unchanged(hostile_report: Report) -> None:
    """The loader keeps every string as it is, NUL included, and the report's findings carry them."""
    by_role = {g["role"]: g for g in hostile_report["by_role"]}
    for i, text in enumerate(STRINGS):
        group = by_role[f"r:{i}"]
        assert (group["name"], group["unit_name"], [h["name"] for h in group["holders"]]) == (text, text, [text])
        findings = sorted(group["findings"], key=lambda f: f["check"])
        assert [(f["check"], f["subjects"]) for f in findings] == [
            (check, [f"r:{i}"] if check == "broken-escalation-chain" else [_model_id(i)]) for check in CHECKS
        ]
        assert all(text in f["message"] for f in findings), [f["message"] for f in findings]


def test_hostile_strings_in_the_report_render_as_text_in_chromium(
    hostile_report: Report, browser_page: BrowserPage, tmp_path: Path
) -> None:
    dialogs = _record_dialogs(browser_page)
    html = render_html(hostile_report, png=PNG)
    # The loader keeps control characters other than NUL; the page shows them as U+FFFD.
    assert "bell\ufffdinside" in html and "\x07" not in html
    assert html.count(CSP) == 1

    for name, page_html in (("report.html", html), ("no-csp.html", html.replace(CSP, ""))):
        before = len(browser_page.requests)
        browser_page.open_html(page_html, tmp_path, name)
        page = browser_page.page
        assert page.evaluate("window.__pwned") is None, name
        assert dialogs == []
        assert page.evaluate(INJECTED) == 0, name
        assert page.evaluate("document.querySelectorAll('img').length") == 1  # the trend chart
        assert browser_page.external_requests == []
        assert [r for r in browser_page.requests[before:] if not r.startswith("data:")] == [(tmp_path / name).as_uri()]
        assert browser_page.errors == []
        # Every string is the text of its cell, as the parser reads text (in "who must act", which
        # lists every finding here: "All findings" shows only the first 100).
        cells = page.evaluate("[...document.querySelectorAll('#roles td:nth-child(4)')].map(td => td.textContent)")
        assert sorted(cells) == sorted(_dom_text(m) for m in _messages_of(hostile_report))
        headings = page.evaluate("[...document.querySelectorAll('#roles h3')].map(h => h.textContent)")
        holders = page.evaluate("[...document.querySelectorAll('#roles section.role p')].map(p => p.textContent)")
        units = page.evaluate("[...document.querySelectorAll('#units td:first-child')].map(td => td.textContent)")
        visible = page.evaluate("document.body.innerText")
        by_role = {g["role"]: g for g in hostile_report["by_role"]}
        for i, text in enumerate(STRINGS):
            assert f"high {_dom_text(text)} r:{i}, {_dom_text(text)} (5 open)" in headings, text
            assert f"Held by: {_dom_text(text)} p:{i}" in holders, text
            assert f"{_dom_text(text)} u:{i}" in units, text
            assert all(_visible(f["message"]) in visible for f in by_role[f"r:{i}"]["findings"]), text
    assert "bell\ufffdinside" in visible


def test_the_same_checks_catch_the_strings_when_the_report_is_not_escaped(
    hostile_report: Report, browser_page: BrowserPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: with escaping off and no policy, the checks above see scripts, dialogs,
    injected elements and a request leaving the machine, so their passing means something."""
    escaping = report_module._env()
    monkeypatch.setattr(report_module, "_env", lambda: escaping.overlay(autoescape=False))
    dialogs = _record_dialogs(browser_page)
    html = render_html(hostile_report, png=PNG)
    assert html.count(CSP) == 1
    browser_page.open_html(html.replace(CSP, ""), tmp_path, "unescaped.html")

    assert browser_page.page.evaluate("window.__pwned") is not None
    assert dialogs and set(dialogs) == {"x"}
    assert browser_page.page.evaluate(INJECTED) > 0
    assert "http://203.0.113.7/beacon.png" in browser_page.external_requests
