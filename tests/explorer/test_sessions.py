"""Explorer sessions over the API (no browser): a session reads, never writes, and dies with its key."""

from __future__ import annotations

import os
import re
from pathlib import Path

from api.auth import KEYS_FILE_ENV, Role, create_key, revoke_key
from tests.api.conftest import ApiClient


def _sign_in(api: ApiClient, key: str) -> dict[str, str]:
    form = api.get("/ui/signin", key=None)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    cookies = {"tomgraph_csrf": form.cookies["tomgraph_csrf"]}
    answer = api.post("/ui/signin", key=None, cookies=cookies, data={"csrf": token[1], "key": key, "next": "/"})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie  # http://test is no loopback
    return {"tomgraph_session": answer.cookies["tomgraph_session"]}


def test_a_session_reads_cannot_write_and_ends_when_its_key_is_revoked(api: ApiClient, insurer: str) -> None:
    path = Path(os.environ[KEYS_FILE_ENV])
    stored, key = create_key(path, Role.editor, "session-test")
    try:
        _check_session(api, insurer, path, stored.id, key)
    finally:
        api.client.cookies.clear()  # the shared client must not carry this test's cookies on


def _check_session(api: ApiClient, insurer: str, path: Path, key_id: str, key: str) -> None:
    session = _sign_in(api, key)
    assert api.get("/scenarios", key=None, cookies=session).status_code == 200
    assert api.put(f"/scenarios/{insurer}/waivers", key=None, cookies=session, json=[]).status_code == 401

    assert revoke_key(path, key_id)
    assert api.get("/scenarios", key=None, cookies=session).status_code == 401
    page = api.get(f"/?scenario={insurer}", key=None, cookies=session)
    assert page.status_code == 303 and page.headers["location"].startswith("/ui/signin?next=")


def test_every_page_sends_a_person_without_a_session_to_sign_in(api: ApiClient, insurer: str) -> None:
    from tests.api.test_auth import _route_views

    pages = sorted(
        p for p, methods, _ in _route_views(api.app) if "GET" in methods and (p == "/" or p.startswith("/ui/"))
    )
    open_pages = {"/ui/signin", "/ui/switch"}
    assert set(pages) >= {"/", "/ui/scenarios/{s}/entities/{id}", "/ui/scenarios/{s}/explore", "/ui/diff/{a}/{b}"}
    for path in pages:
        url = (
            path.replace("{s}", insurer)
            .replace("{a}", insurer)
            .replace("{b}", insurer)
            .replace("{id}", "m-uw-risk-score")
        )
        answer = api.get(url, key=None)
        if path in open_pages:
            assert answer.status_code in (200, 303) and "signin?next" not in answer.headers.get("location", ""), path
        else:
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/ui/signin?next=%2F"), path
        reader = api.get(url, key="reader")
        assert reader.status_code in (200, 303) and "signin" not in reader.headers.get("location", ""), path
