"""PUT /scenarios/{s}/bundle: every form the CLI reads, all or nothing, and hostile uploads refused."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator

import pytest

from graph.settings import Settings
from tests.api.conftest import INSURER, REPO, ApiClient, make_client

EXAMPLES = REPO / "examples"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _zip_of_directory(top: str = "insurer/") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(INSURER.iterdir()):
            zf.write(file, top + file.name)
    return buffer.getvalue()


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buffer.getvalue()


def _entity_count(api: ApiClient, scenario: str) -> int | None:
    for s in api.get("/scenarios").json()["scenarios"]:
        if s["name"] == scenario:
            return int(s["entity_count"])
    return None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param((EXAMPLES / "insurer.yaml").read_bytes(), "application/yaml", id="yaml"),
        pytest.param((EXAMPLES / "insurer.json").read_bytes(), "application/json", id="json"),
        pytest.param((EXAMPLES / "insurer.xlsx").read_bytes(), XLSX, id="xlsx"),
        pytest.param(_zip_of_directory(), "application/zip", id="zip-with-top-folder"),
        pytest.param(_zip_of_directory(top=""), "application/octet-stream", id="zip-sniffed"),
    ],
)
def test_every_form_loads_the_whole_bundle(api: ApiClient, scenario: str, body: bytes, content_type: str) -> None:
    response = api.put(f"/scenarios/{scenario}/bundle", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["scenario"] == scenario
    assert (answer["entity_count"], answer["relationship_count"]) == (153, 426)
    assert (answer["created"], answer["updated"], answer["removed"]) == (153, 0, 0)
    assert answer["entities"]["Model"] == {"created": 13, "updated": 0, "removed": 0}
    again = api.put(f"/scenarios/{scenario}/bundle", content=body, headers={"Content-Type": content_type}).json()
    assert (again["created"], again["updated"], again["removed"]) == (0, 0, 0)


def test_an_invalid_bundle_is_a_422_listing_every_problem_and_changes_nothing(api: ApiClient, scenario: str) -> None:
    api.put(f"/scenarios/{scenario}/bundle", content=(EXAMPLES / "insurer.yaml").read_bytes())
    bad = b"format: 1\nmodels:\n- id: m-a\n  name: A\n  owner: r-nobody\n- id: m-b\n  name: B\n  stage: sideways\n"
    response = api.put(f"/scenarios/{scenario}/bundle", content=bad, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Invalid bundle" and body["detail"] == f"{len(body['errors'])} problems in the bundle"
    fields = {(e["field"], e["place"].split(":")[0]) for e in body["errors"]}
    assert {("stage", "bundle.yaml"), ("owner", "bundle.yaml")} <= fields
    assert all(e["place"].startswith("bundle.yaml:") and e["message"] for e in body["errors"])
    assert _entity_count(api, scenario) == 153


def test_an_editor_may_load_but_a_reader_may_not(api: ApiClient, scenario: str) -> None:
    body = (EXAMPLES / "insurer.yaml").read_bytes()
    assert api.put(f"/scenarios/{scenario}/bundle", content=body, key="reader").status_code == 403
    assert api.put(f"/scenarios/{scenario}/bundle", content=body, key="editor").status_code == 200


def test_an_empty_upload_is_a_422(api: ApiClient, scenario: str) -> None:
    response = api.put(f"/scenarios/{scenario}/bundle", content=b"  \n")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "bundle"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        pytest.param([("../escape/models.yaml", b"[]")], "'..' is not allowed in a bundle archive", id="traversal"),
        pytest.param(
            [("/etc/models.yaml", b"[]")], "absolute paths are not allowed in a bundle archive", id="absolute"
        ),
        pytest.param(
            [("C:/models.yaml", b"[]")], "absolute paths are not allowed in a bundle archive", id="drive-letter"
        ),
    ],
)
def test_zip_entries_outside_the_bundle_are_refused(
    api: ApiClient, scenario: str, entries: list[tuple[str, bytes]], message: str
) -> None:
    response = api.put(
        f"/scenarios/{scenario}/bundle", content=_zip(list(entries)), headers={"Content-Type": "application/zip"}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"place": entries[0][0], "field": "zip", "message": message}]
    assert _entity_count(api, scenario) is None


def test_zip_symlinks_are_refused(api: ApiClient, scenario: str) -> None:
    link = zipfile.ZipInfo("models.yaml")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    response = api.put(
        f"/scenarios/{scenario}/bundle",
        content=_zip([(link, b"/etc/passwd")]),
        headers={"Content-Type": "application/zip"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "symbolic links are not allowed in a bundle archive"


def test_a_decompression_bomb_is_a_413(api: ApiClient, scenario: str) -> None:
    bomb = _zip([("models.yaml", b"\0" * (20 * 1024 * 1024))])
    assert len(bomb) < 100_000
    response = api.put(f"/scenarios/{scenario}/bundle", content=bomb, headers={"Content-Type": "application/zip"})
    assert response.status_code == 413 and response.headers["content-type"] == "application/problem+json"


@pytest.fixture(scope="module")
def small_limit_api(test_settings: Settings, api_keys: dict[str, str]) -> Iterator[ApiClient]:
    client = make_client(test_settings.model_copy(update={"max_file_bytes": 4096}), api_keys)
    yield client
    client.close()


def test_an_upload_over_the_size_limit_is_a_413(small_limit_api: ApiClient, scenario: str) -> None:
    body = (EXAMPLES / "insurer.yaml").read_bytes()
    response = small_limit_api.put(f"/scenarios/{scenario}/bundle", content=body)
    assert response.status_code == 413
    assert response.json()["detail"] == f"the body is {len(body)} bytes; the limit here is 4096"


def test_a_zip_expanding_past_the_size_limit_is_a_413(small_limit_api: ApiClient, scenario: str) -> None:
    body = _zip([(f"f{i}.yaml", bytes(range(256)) * 8) for i in range(3)])
    response = small_limit_api.put(
        f"/scenarios/{scenario}/bundle", content=body, headers={"Content-Type": "application/zip"}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "the archive expands to 6144 bytes; the limit is 4096"
