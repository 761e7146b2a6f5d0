"""An entity page shows the entity's recent events, most recent first, with the conformance
findings on each event marked (issue 17, "Explorer"): examples/insurer with its event quarter."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from events.store import load_events
from explorer import pages
from graph.db import Database
from graph.sync import delete_scenario
from loaders import load_bundle
from tests.api.conftest import ApiClient
from tests.browser import chromium
from tests.browser.chromium import BrowserPage
from tests.explorer.conftest import LiveApi, outside, sign_in
from tests.explorer.test_governance_pages import shot

browser = chromium.browser
browser_page = chromium.browser_page

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MODEL = "m-fraud-score"
AS_OF = "2026-11-23"
"""The day examples/insurer-events.expected-findings.json lists the findings for."""


@pytest.fixture(scope="module")
def with_events(db: Database) -> Iterator[str]:
    name = f"t-ev-{uuid.uuid4().hex[:10]}"
    load_bundle(db, EXAMPLES / "insurer", name)
    load_events(db, EXAMPLES / "insurer-events.csv", name)
    yield name
    delete_scenario(db, name)


def _table(html: str) -> list[tuple[str, bool]]:
    return [(m[0], bool(m[1])) for m in re.findall(r'<tr data-event="([^"]+)"( class="nonconforming")?>', html)]


def _log_rows(object_id: str, until: date) -> list[dict[str, str]]:
    """The CSV's events on `object_id` up to `until`, most recent first (times are all UTC `Z`)."""
    import csv

    with (EXAMPLES / "insurer-events.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["object"] == object_id and r["time"][:10] <= until.isoformat()]
    return sorted(rows, key=lambda r: (r["time"], r["id"]), reverse=True)


def test_the_entity_page_lists_its_events_and_marks_exactly_the_nonconforming_ones(
    api: ApiClient, with_events: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "RECENT_EVENTS", 100)
    html = api.get(f"/ui/scenarios/{with_events}/entities/{MODEL}?as_of={AS_OF}", key="reader").text

    rows = _table(html)
    assert [event_id for event_id, _ in rows] == [r["id"] for r in _log_rows(MODEL, date.fromisoformat(AS_OF))]
    expected = json.loads((EXAMPLES / "insurer-events.expected-findings.json").read_text())
    flagged = {f["subjects"][0] for f in expected if MODEL in f["subjects"]}
    assert len(flagged) == 5
    assert {event_id for event_id, marked in rows if marked} == flagged


def test_the_entity_page_shows_the_most_recent_events_up_to_its_as_of_day(
    api: ApiClient, with_events: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "RECENT_EVENTS", 4)
    html = api.get(f"/ui/scenarios/{with_events}/entities/{MODEL}?as_of=2026-09-30", key="reader").text

    assert [event_id for event_id, _ in _table(html)] == [r["id"] for r in _log_rows(MODEL, date(2026, 9, 30))[:4]]
    assert f"GET /scenarios/{with_events}/events?object={MODEL}" in html


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("2026-10-16T16:00:00.000000000+00:00", "2026-10-16 16:00 UTC"),
        ("2026-10-16T18:00:00+02:00", "2026-10-16 18:00 +02:00"),
        ("2026-10-16T16:00:00Z", "2026-10-16 16:00 UTC"),
        ("not a time", "not a time"),
    ],
)
def test_event_times_read_as_day_minute_and_offset(stored: str, shown: str) -> None:
    assert pages._when(stored) == shown


def test_an_entity_without_events_has_no_events_section(api: ApiClient, with_events: str) -> None:
    html = api.get(f"/ui/scenarios/{with_events}/entities/v-riskwise", key="reader").text

    assert 'id="events"' not in html


def test_the_events_table_in_chromium(live: LiveApi, with_events: str, browser_page: BrowserPage) -> None:
    sign_in(browser_page, live, next_path=f"/ui/scenarios/{with_events}/entities/{MODEL}?as_of={AS_OF}")
    page = browser_page.page
    page.locator("#events").scroll_into_view_if_needed()
    shot(browser_page, "entity-events.png")

    shown = [r["id"] for r in _log_rows(MODEL, date.fromisoformat(AS_OF))[: pages.RECENT_EVENTS]]
    expected = json.loads((EXAMPLES / "insurer-events.expected-findings.json").read_text())
    checks: dict[str, list[str]] = {}
    for f in expected:
        if f["subjects"][0] in shown:
            checks.setdefault(f["subjects"][0], []).append(f["check"])
    assert checks  # the example plants findings among the model's latest events
    assert page.locator("#events-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.event)") == shown
    marked = page.locator("#events-table tr.nonconforming")
    assert {
        marked.nth(i).get_attribute("data-event"): sorted(marked.nth(i).locator("code.check").all_inner_texts())
        for i in range(marked.count())
    } == {event_id: sorted(found) for event_id, found in checks.items()}
    assert outside(browser_page, live) == []
    assert browser_page.errors == []


def test_a_conformance_finding_names_its_event_without_linking_it_as_an_entity(
    api: ApiClient, with_events: str
) -> None:
    html = api.get(f"/ui/scenarios/{with_events}/entities/{MODEL}?as_of={AS_OF}", key="reader").text

    findings = html[html.index('id="findings-list"') : html.index('id="relationships"')]
    expected = json.loads((EXAMPLES / "insurer-events.expected-findings.json").read_text())
    event_ids = sorted(f["subjects"][0] for f in expected if MODEL in f["subjects"])
    assert sorted(re.findall(r'<span class="event-subject">event <code>([^<]+)</code></span>', findings)) == event_ids
    assert not re.search(r"/entities/EV-", findings)
