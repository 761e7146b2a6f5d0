"""Inputs from real files over REST (issue 13): through the existing upload route, each bad
value is a 422 problem+json `errors` item (place, field, message), never a 500; and the
catalog says when a check raises its severity."""

from __future__ import annotations

import io

from openpyxl import Workbook

from tests.api.conftest import ApiClient
from tests.api.test_bundle_upload import XLSX, _entity_count

NUL = "contains a NUL character (U+0000), which tomgraph refuses in any text"


def test_nul_nan_and_blank_names_are_a_422_naming_each_value(api: ApiClient, scenario: str) -> None:
    body = '{"units": [\n{"id": "u1", "name": " ", "properties": {"cost\\u0000centre": 7, "auc": NaN}}]}'
    response = api.put(
        f"/scenarios/{scenario}/bundle", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"place": "bundle.json:2", "field": "name", "message": "must not be empty"},
        {
            "place": "bundle.json:2",
            "field": "properties.auc",
            "message": "nan is not a finite number (NaN or infinity); tomgraph stores only finite numbers",
        },
        {
            "place": "bundle.json:2",
            "field": "properties.cost\\x00centre",
            "message": f"the key 'cost\\x00centre' {NUL}",
        },
    ]
    assert _entity_count(api, scenario) is None


def test_a_formula_without_a_stored_value_is_a_422_naming_sheet_row_and_column(api: ApiClient, scenario: str) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "roles"
    sheet.append(["id", "name", "executive"])
    sheet.append(["r1", "Role one", "=TRUE()"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = api.put(f"/scenarios/{scenario}/bundle", content=buffer.getvalue(), headers={"Content-Type": XLSX})
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "place": "roles!row 2",
            "field": "executive",
            "message": "formula =TRUE() has no stored value; open and save the workbook in Excel or LibreOffice so "
            "that its result is stored, or type the value",
        }
    ]


def test_the_catalog_says_when_a_check_raises_its_severity(api: ApiClient) -> None:
    checks = {c["id"]: c for c in api.get("/checks", key="reader").json()["checks"]}
    assert [(i, c["severity"], c["escalation"]) for i, c in sorted(checks.items()) if c["escalation"]] == [
        ("delegated-self-approval", "high", {"critical": "risk tier high"}),
        ("model-without-change-approver", "high", {"critical": "risk tier high"}),
        ("self-approval-in-practice", "high", {"critical": "risk tier high"}),
        ("self-approved-model", "high", {"critical": "risk tier high"}),
        ("unapproved-deployment", "high", {"critical": "risk tier high"}),
    ]
