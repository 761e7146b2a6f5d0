"""CORS is off unless TOMGRAPH_API_CORS_ORIGINS names origins (issue 8)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.settings import Settings
from tests.api.conftest import ApiClient, make_client

ALLOWED = "https://arch.example.com"
PREFLIGHT = {
    "Origin": ALLOWED,
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}


@pytest.fixture(scope="module")
def cors_api(test_settings: Settings, api_keys: dict[str, str]) -> Iterator[ApiClient]:
    client = make_client(test_settings.model_copy(update={"api_cors_origins": [ALLOWED]}), api_keys)
    yield client
    client.close()


def test_without_configured_origins_no_response_allows_another_origin(api: ApiClient) -> None:
    response = api.get("/scenarios", key="reader", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert not any(h.startswith("access-control-") for h in response.headers)


def test_without_configured_origins_a_preflight_is_refused(api: ApiClient) -> None:
    response = api.request("OPTIONS", "/scenarios", key=None, headers=PREFLIGHT)
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers


def test_a_configured_origin_may_read_answers(cors_api: ApiClient) -> None:
    response = cors_api.get("/scenarios", key="reader", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in response.headers


def test_a_configured_origin_passes_the_preflight(cors_api: ApiClient) -> None:
    response = cors_api.request("OPTIONS", "/scenarios", key=None, headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-allow-methods"] == "GET, PUT, POST"
    assert (
        response.headers["access-control-allow-headers"]
        == "Accept, Accept-Language, Authorization, Content-Language, Content-Type"
    )


def test_an_origin_not_configured_is_not_allowed(cors_api: ApiClient) -> None:
    other = "https://evil.example.net"
    response = cors_api.get("/scenarios", key="reader", headers={"Origin": other})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = cors_api.request("OPTIONS", "/scenarios", key=None, headers={**PREFLIGHT, "Origin": other})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers


def test_origins_are_read_from_the_environment_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOMGRAPH_API_CORS_ORIGINS", "https://a.example, https://b.example:8443")
    assert Settings().api_cors_origins == ["https://a.example", "https://b.example:8443"]


def test_cors_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOMGRAPH_API_CORS_ORIGINS", raising=False)
    assert Settings().api_cors_origins == []
