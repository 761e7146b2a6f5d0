"""Bad input to a page is an HTML error page saying what is wrong, like every other page error,
while the same input to the API stays a problem document (rest.md)."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient


def _detail(html: str) -> str:
    start = html.index('<p class="error" id="error-detail">') + len('<p class="error" id="error-detail">')
    return html[start : html.index("</p>", start)]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("since=bad", "unknown query parameter: since"),
        ("as_of=9999-12-31", "query: as_of: must be a day from 0002-01-01 to 9998-12-31: 9999-12-31"),
        ("at=0001-01-01", "query: at: must be a day from 0002-01-01 to 9998-12-31: 0001-01-01"),
        ("as_of=2026-01-01T00", "query: as_of: String should have at most 10 characters"),
    ],
)
def test_bad_input_to_the_findings_page_is_an_html_error_page(
    api: ApiClient, insurer: str, query: str, detail: str
) -> None:
    page = api.get(f"/ui/scenarios/{insurer}/findings?{query}")
    assert page.status_code == 422
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert _detail(page.text) == detail


def test_a_day_outside_the_range_on_the_diff_page_is_an_html_error_page(api: ApiClient, insurer: str) -> None:
    page = api.get(f"/ui/diff/{insurer}/{insurer}?at_b=9999-12-31")
    assert (page.status_code, page.headers["content-type"]) == (422, "text/html; charset=utf-8")
    assert _detail(page.text) == "query: at_b: must be a day from 0002-01-01 to 9998-12-31: 9999-12-31"


def test_the_api_still_answers_a_problem_document(api: ApiClient, insurer: str) -> None:
    answer = api.get(f"/scenarios/{insurer}/findings?since=bad&sort=x")
    assert (answer.status_code, answer.headers["content-type"]) == (422, "application/problem+json")
    assert answer.json()["detail"] == "unknown query parameter: sort"
