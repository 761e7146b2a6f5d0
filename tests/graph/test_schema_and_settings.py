"""Schema application is idempotent; settings come from the environment; docs are fresh."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graph.db import Database
from graph.docs import render_graph_model
from graph.ontology import KINDS, dependency_rel_types
from graph.schema import apply_schema, schema_statements
from graph.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def test_schema_applies_twice_without_change(db: Database) -> None:
    apply_schema(db)
    before = db.read("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS c")[0]["c"]
    apply_schema(db)
    after = db.read("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS c")[0]["c"]
    assert sorted(before) == sorted(after)
    assert {"entity_scenario_id", "scenario_name"} <= set(after)


def test_schema_has_a_scenario_index_per_kind() -> None:
    statements = "\n".join(schema_statements())
    for kind in KINDS:
        assert f"FOR (n:{kind.label}) ON (n.scenario)" in statements


def test_dependency_edges_follow_rest_spec() -> None:
    assert dependency_rel_types() == (
        "CONSUMES",
        "DELIVERED_BY",
        "DEPENDS_ON",
        "MEASURED_BY",
        "READS",
        "RUNS_ON",
        "SUPPLIED_BY",
        "USES",
    )


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j://cluster.example:7687")
    monkeypatch.setenv("NEO4J_USER", "alice")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret")
    monkeypatch.setenv("NEO4J_DATABASE", "tom")
    monkeypatch.setenv("TOMGRAPH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TOMGRAPH_API_PORT", "9001")
    monkeypatch.setenv("TOMGRAPH_CHECK_DIRS", f"/a{':'}/b")
    settings = Settings()
    assert settings.neo4j_uri == "neo4j://cluster.example:7687"
    assert settings.neo4j_user == "alice"
    assert settings.neo4j_password is not None and settings.neo4j_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.neo4j_database == "tom"
    assert settings.data_dir == tmp_path
    assert settings.api_port == 9001
    assert settings.check_dirs == [Path("/a"), Path("/b")]
    assert not settings.uses_local_neo4j


def test_graph_model_doc_is_fresh() -> None:
    assert (REPO / "docs" / "graph-model.md").read_text() == render_graph_model(), (
        "docs/graph-model.md is stale: run `make graph-model`"
    )


def test_compose_file_runs_neo4j_and_the_api() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    neo4j = compose["services"]["neo4j"]
    api = compose["services"]["api"]
    assert neo4j["image"].startswith("neo4j:5.26") and neo4j["image"].endswith("community")
    assert "cypher-shell" in " ".join(neo4j["healthcheck"]["test"])
    assert any(v.endswith(":/data") for v in neo4j["volumes"])
    assert neo4j["environment"]["NEO4J_AUTH"] == "neo4j/${NEO4J_PASSWORD:?set NEO4J_PASSWORD}"
    assert api["build"] == "."
    assert api["depends_on"] == {"neo4j": {"condition": "service_healthy"}}
    assert api["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"
    assert api["environment"]["NEO4J_PASSWORD"] == "${NEO4J_PASSWORD:?set NEO4J_PASSWORD}"
    assert api["ports"] == ["127.0.0.1:8000:8000"]
    assert (REPO / "Dockerfile").exists()
