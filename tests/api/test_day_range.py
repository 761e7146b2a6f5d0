"""Every date parameter of the API (as_of=, at=, since=, effective=, at_a=, at_b=, a report's day)
refuses a day outside graph.days' range with a 422 naming it: 9999-12-31 once gave a 500 (the
day after it is out of the calendar)."""

from __future__ import annotations

import re
from typing import Any

from graph.days import OUT_OF_RANGE
from tests.api.conftest import ApiClient

PATH_VALUES = {"s": "current", "a": "current", "b": "target", "id": "m-fraud-score", "kind": "models"}


def _date_parameters(api: ApiClient) -> list[tuple[str, str, str, str]]:
    """(method, path template, place, name) of every date parameter in the OpenAPI document."""
    found = []
    for path, operations in api.app.openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                formats = {s.get("format") for s in schema.get("anyOf", [schema])}
                if "date" in formats:
                    found.append((method.upper(), path, parameter["in"], parameter["name"]))
    return found


def _url(template: str, place: str, name: str, day: str) -> str:
    def fill(m: re.Match[str]) -> str:
        return day if place == "path" and m.group(1) == name else PATH_VALUES.get(m.group(1), "x")

    path = re.sub(r"\{(\w+)\}", fill, template)
    return f"{path}?{name}={day}" if place == "query" else path


def test_every_date_parameter_refuses_days_outside_the_calendar_margin(api: ApiClient) -> None:
    parameters = _date_parameters(api)
    # the routes the tester found, and the report's path day, are among them
    assert {
        ("GET", "/scenarios/{s}/findings", "query", "as_of"),
        ("GET", "/scenarios/{s}/findings", "query", "since"),
        ("GET", "/scenarios/{s}/events/stats", "query", "as_of"),
        ("GET", "/scenarios/{s}/entities/{id}/neighbours", "query", "as_of"),
        ("GET", "/diff/{a}/{b}", "query", "at_b"),
        ("GET", "/plan/{a}/{b}", "query", "as_of"),
        ("GET", "/scenarios/{s}/view", "query", "at"),
        ("PUT", "/scenarios/{s}/bundle", "query", "effective"),
    } <= set(parameters)
    assert any(place == "path" for _m, _p, place, _n in parameters)
    wrong: list[Any] = []
    for method, template, place, name in parameters:
        for day in ("9999-12-31", "9999-12-30", "0001-01-01"):
            response = api.request(method, _url(template, place, name, day))
            expected = {"place": place, "field": name, "message": OUT_OF_RANGE}
            if response.status_code != 422 or expected not in response.json().get("errors", []):
                wrong.append((method, template, name, day, response.status_code, response.text[:200]))
    assert wrong == []


def test_the_findings_refuse_9999_12_31_and_run_on_the_last_day(api: ApiClient, insurer: str) -> None:
    refused = api.get(f"/scenarios/{insurer}/findings?as_of=9999-12-31")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "query: as_of: must be a day from 0002-01-01 to 9998-12-31"
    last = api.get(f"/scenarios/{insurer}/findings?as_of=9998-12-31&since=9998-12-31")
    assert last.status_code == 200 and last.json()["as_of"] == "9998-12-31"


def test_the_event_stats_and_neighbours_run_on_the_last_day(api: ApiClient, insurer: str) -> None:
    stats = api.get(f"/scenarios/{insurer}/events/stats?as_of=9998-12-31")
    assert stats.status_code == 200 and stats.json()["as_of"] == "9998-12-31"
    neighbours = api.get(f"/scenarios/{insurer}/entities/m-fraud-score/neighbours?as_of=9998-12-31&at=9998-12-31")
    assert neighbours.status_code == 200 and neighbours.json()["as_of"] == "9998-12-31"
