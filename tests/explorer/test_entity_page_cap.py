"""The entity page reads only the relationships it lists (issue 15's speed target: a vendor of
thousands of models), and still says how many there are."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from explorer import pages
from graph.db import Database
from graph.history import physical_name
from loaders import load_bundle
from tests.api.conftest import ApiClient


def test_entity_page_lists_the_first_relationships_by_type_and_id_and_counts_them_all(
    api: ApiClient, db: Database, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = [
        {
            "id": f"m-{i:02d}",
            "name": f"Model {i:02d}",
            "vendor": "v-big",
            "owner": "r-own",
            "stage": "production",
            "risk_tier": "limited",
        }
        for i in range(12)
    ]
    bundle = {
        "roles": [{"id": "r-own", "name": "Owner"}],
        "vendors": [{"id": "v-big", "name": "Big vendor", "owner": "r-own"}],
        "models": models,
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    load_bundle(db, path, scenario)
    monkeypatch.setattr(pages, "RELATIONSHIPS_SHOWN", 5)

    html = api.get(f"/ui/scenarios/{scenario}/entities/v-big", key="reader").text

    incoming = db.read(
        "MATCH (:Entity {scenario: $s, id: 'v-big'})<-[r]-(m:Entity) RETURN type(r) AS t, m.id AS id ORDER BY t, id",
        {"s": physical_name(db, scenario)},
    )
    assert len(incoming) == 13  # 12 models and the owner
    assert f"<h3>In ({len(incoming)})</h3>" in html
    assert "The first 5 are listed" in html
    listed = re.search(r'<ul class="links" id="incoming">(.*?)</ul>', html, re.S)
    assert listed is not None
    shown = re.findall(r'<a href="/ui/scenarios/[^/]+/entities/([^"?]+)">', listed.group(1))
    assert shown == [r["id"] for r in incoming[:5]]
    whole = api.get(f"/scenarios/{scenario}/entities/v-big", key="reader").json()
    assert (len(whole["incoming"]), whole["incoming_total"]) == (13, 13)
