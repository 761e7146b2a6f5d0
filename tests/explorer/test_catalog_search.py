"""The catalog's search through the full-text index finds exactly what a substring scan finds
(ids and names containing the text, any case), and falls back to the scan when it cannot be sure
or when the words are too common."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from api import graph_reads
from api.graph_reads import lucene_search
from graph.db import Database
from graph.history import physical_name
from loaders import load_bundle
from tests.api.conftest import ApiClient

NAMES = [
    "Risk-Score v2",
    "risk_score legacy",
    "O'Brien claims triage",
    "a.b.c pricing",
    "The model of the year",
    "Straße der Modelle",
    "ΑΒΓ scoring",
    "1,000 claims a day",
    "UPPER case NAME",
    "fraud08x",
]
QUERIES = [
    "risk",
    "risk-score",
    "SCORE",
    "o'brien",
    "a.b",
    "the",
    "of the",
    "straße",
    "βγ",
    "1,0",
    "case name",
    "d08",
    "-",
    "zzz-none",
    "e",
]


def test_lucene_query_words_and_when_it_gives_up() -> None:
    assert lucene_search("current", "risk-score") == (
        'scenario:"current" AND (id:*risk* OR name:*risk*) AND (id:*score* OR name:*score*)'
    )
    assert lucene_search("current", "a.b a") == 'scenario:"current" AND (id:*a* OR name:*a*) AND (id:*b* OR name:*b*)'
    assert lucene_search("current", "-.,") is None
    assert lucene_search("current", "straße") is None


@pytest.fixture
def named(db: Database, scenario: str, tmp_path: Path) -> str:
    models = [
        {"id": f"m-{i:02d}", "name": name, "stage": "production", "risk_tier": "limited" if i % 3 else "high"}
        for i, name in enumerate(NAMES)
    ]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"models": models}, ensure_ascii=False), encoding="utf-8")
    load_bundle(db, path, scenario)
    return scenario


def shown(api: ApiClient, scenario: str, q: str) -> list[str]:
    html = api.get("/", params={"scenario": scenario, "q": q}, key="reader").text
    return re.findall(r'<tr data-id="([^"]+)"', html)


def expected(db: Database, scenario: str, q: str) -> list[str]:
    rows = db.read(
        "MATCH (n:Entity {scenario: $s}) WHERE toLower(n.id) CONTAINS $q OR toLower(coalesce(n.name, '')) CONTAINS $q "
        "RETURN n.id AS id ORDER BY id",
        {"s": physical_name(db, scenario), "q": q.lower()},
    )
    return [r["id"] for r in rows]


def test_search_finds_what_a_substring_scan_finds(api: ApiClient, db: Database, named: str) -> None:
    for q in QUERIES:
        assert shown(api, named, q) == expected(db, named, q), q
    assert shown(api, named, "risk") == ["m-00", "m-01"]


def test_too_many_candidates_fall_back_to_the_scan(
    api: ApiClient, db: Database, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graph_reads, "SEARCH_CANDIDATES", 1)
    graph_reads._search_query.cache_clear()
    try:
        assert shown(api, named, "risk") == ["m-00", "m-01"]
        assert shown(api, named, "e") == expected(db, named, "e")
    finally:
        graph_reads._search_query.cache_clear()


def test_open_findings_filter_reads_ids_a_chunk_at_a_time(
    api: ApiClient, db: Database, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = api.get(f"/scenarios/{named}/findings", key="reader").json()["findings"]
    flagged = sorted({s for f in findings if "waived" not in f for s in f["subjects"]})
    high = {
        r["id"]
        for r in db.read(
            "MATCH (n:Model {scenario: $s, risk_tier: 'high'}) RETURN n.id AS id", {"s": physical_name(db, named)}
        )
    }
    wanted = [i for i in flagged if i in high]
    assert 1 < len(wanted) < len(flagged)
    monkeypatch.setattr(graph_reads, "OPEN_IDS_CHUNK", 2)
    html = api.get("/", params={"scenario": named, "open_only": "true", "risk_tier": "high"}, key="reader").text
    assert re.findall(r'<tr data-id="([^"]+)"', html) == wanted
    html = api.get("/", params={"scenario": named, "open_only": "true"}, key="reader").text
    assert re.findall(r'<tr data-id="([^"]+)"', html) == flagged[:50]
