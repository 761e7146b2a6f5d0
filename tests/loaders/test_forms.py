"""The four forms of a bundle mean the same thing and produce the same graph."""

from __future__ import annotations

from pathlib import Path

from graph.db import Database
from graph.dump import dump_scenario
from graph.history import physical_name
from graph.sync import delete_scenario
from loaders import load_bundle, read_bundle
from tests.bundles import SMALL_BUNDLE, write_directory, write_json, write_xlsx, write_yaml


def _forms(tmp_path: Path) -> dict[str, Path]:
    return {
        "yaml": write_yaml(SMALL_BUNDLE, tmp_path / "bundle.yaml"),
        "json": write_json(SMALL_BUNDLE, tmp_path / "bundle.json"),
        "directory": write_directory(SMALL_BUNDLE, tmp_path / "dir", {"people", "models", "access", "vendors"}),
        "xlsx": write_xlsx(SMALL_BUNDLE, tmp_path / "bundle.xlsx"),
    }


def test_four_forms_read_to_identical_entities(tmp_path: Path) -> None:
    read = {name: read_bundle(path).entities for name, path in _forms(tmp_path).items()}
    reference = sorted((e.id, e.section, sorted(e.props.items()), sorted(e.refs.items())) for e in read["yaml"])
    for name, entities in read.items():
        got = sorted((e.id, e.section, sorted(e.props.items()), sorted(e.refs.items())) for e in entities)
        assert got == reference, name


def test_four_forms_load_to_identical_graphs(tmp_path: Path, db: Database, scenario: str) -> None:
    dumps = {}
    for name, path in _forms(tmp_path).items():
        load_bundle(db, path, f"{scenario}-{name}")
        dumps[name] = dump_scenario(db, f"{scenario}-{name}")
    for name in dumps:
        delete_scenario(db, f"{scenario}-{name}")
    assert dumps["yaml"] == dumps["json"] == dumps["directory"] == dumps["xlsx"]
    assert len(dumps["yaml"]["nodes"]) == 15


def test_loaded_graph_follows_the_ontology(tmp_path: Path, db: Database, scenario: str) -> None:
    load_bundle(db, write_yaml(SMALL_BUNDLE, tmp_path / "b.yaml"), scenario)
    model = db.read(
        "MATCH (m:Model:Entity {scenario: $s, id: 'm-score'}) RETURN properties(m) AS p",
        {"s": physical_name(db, scenario)},
    )[0]["p"]
    assert model["last_reviewed"].iso_format() == "2026-05-01"
    assert model["properties.latency_ms"] == 40
    assert model["properties.cost_centre"] == "CC-12"
    assert model["description"] == "Prices new business."
    rels = db.read(
        "MATCH (a:Entity {scenario: $s})-[r]->(b:Entity {id: 'm-score'}) RETURN a.id AS a, type(r) AS t",
        {"s": physical_name(db, scenario)},
    )
    assert sorted((r["a"], r["t"]) for r in rels) == [
        ("c-mon", "APPLIES_TO"),
        ("r-ceo", "CAN_SHUT_DOWN"),
        ("r-ds", "DEVELOPS"),
        ("r-uw-head", "APPROVES_CHANGE"),
        ("r-uw-head", "OWNS"),
        ("uc-quote", "USES"),
        ("w-quote", "USES"),
    ]
    role = db.read(
        "MATCH (r:Role {scenario: $s, id: 'r-ds'}) RETURN r.executive AS e", {"s": physical_name(db, scenario)}
    )
    assert role == [{"e": False}]
