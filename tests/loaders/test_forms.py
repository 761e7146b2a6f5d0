"""The four forms of a bundle mean the same thing and produce the same graph."""

from __future__ import annotations

from pathlib import Path

from graph.db import Database
from graph.dump import dump_scenario
from graph.history import physical_name
from graph.sync import delete_scenario
from loaders import load_bundle, read_bundle
from tests.bundles import BUNDLE_11, SMALL_BUNDLE, write_directory, write_json, write_xlsx, write_yaml


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


def _forms_11(tmp_path: Path) -> dict[str, Path]:
    csv_sections = set(BUNDLE_11) - {"units", "roles"}
    yaml_dir = write_directory(BUNDLE_11, tmp_path / "yaml-dir", set())
    return {
        "yaml": write_yaml(BUNDLE_11, tmp_path / "bundle.yaml", 1.1),
        "json": write_json(BUNDLE_11, tmp_path / "bundle.json", 1.1),
        "csv-directory": write_directory(BUNDLE_11, tmp_path / "dir", csv_sections),
        "yaml-directory": yaml_dir,
        "xlsx": write_xlsx(BUNDLE_11, tmp_path / "bundle.xlsx"),
    }


def test_format_11_forms_read_to_identical_entities(tmp_path: Path) -> None:
    read = {name: read_bundle(path).entities for name, path in _forms_11(tmp_path).items()}
    reference = sorted((e.id, e.section, sorted(e.props.items()), sorted(e.refs.items())) for e in read["yaml"])
    assert len(reference) == sum(len(v) for k, v in BUNDLE_11.items() if k != "meta") + 1
    for name, entities in read.items():
        got = sorted((e.id, e.section, sorted(e.props.items()), sorted(e.refs.items())) for e in entities)
        assert got == reference, name


def test_format_11_forms_load_to_identical_graphs_with_the_new_edges(
    tmp_path: Path, db: Database, scenario: str
) -> None:
    dumps = {}
    for name, path in _forms_11(tmp_path).items():
        load_bundle(db, path, f"{scenario}-{name}")
        dumps[name] = dump_scenario(db, f"{scenario}-{name}")
    rels = db.read(
        "MATCH (a:Entity {scenario: $s})-[r]->(b:Entity) "
        "WHERE type(r) IN ['SUPPLIED_BY', 'DEPENDS_ON', 'RUNS_ON', 'OPERATES', 'DELEGATED_TO', 'HEADS', "
        "'DEPUTIZES_FOR'] OR b:Meta RETURN a.id AS a, type(r) AS t, b.id AS b ORDER BY a, t, b",
        {"s": physical_name(db, f"{scenario}-yaml")},
    )
    meta = db.read(
        "MATCH (m:Meta {scenario: $s}) RETURN properties(m) AS p", {"s": physical_name(db, f"{scenario}-yaml")}
    )
    for name in dumps:
        delete_scenario(db, f"{scenario}-{name}")
    assert all(d == dumps["yaml"] for d in dumps.values())
    assert [(r["a"], r["t"], r["b"]) for r in rels] == [
        ("dl-1", "DELEGATED_TO", "p-ana"),
        ("dl-2", "DELEGATED_TO", "r-ds"),
        ("m-score", "DEPENDS_ON", "s-core"),
        ("m-score", "SUPPLIED_BY", "v-acme"),
        ("m-score", "SUPPLIED_BY", "v-beta"),
        ("r-ceo", "OWNS", "~meta"),
        ("r-ds", "OPERATES", "c-mon"),
        ("r-uw-head", "DEPUTIZES_FOR", "r-ds"),
        ("r-uw-head", "HEADS", "u-uw"),
        ("s-core", "SUPPLIED_BY", "v-acme"),
        ("s-core", "SUPPLIED_BY", "v-beta"),
        ("s-portal", "DEPENDS_ON", "m-score"),
        ("s-portal", "DEPENDS_ON", "s-core"),
        ("v-beta", "OPERATES", "c-audit"),
        ("w-quote", "RUNS_ON", "s-core"),
    ]
    props = meta[0]["p"]
    assert (props["id"], props["reviewed"].iso_format(), props["frameworks"]) == (
        "~meta",
        "2026-03-01",
        ["eu-ai-act", "iso-42001"],
    )
    policy = [n for n in dumps["yaml"]["nodes"] if n.get("id") == "pol-high"]
    assert policy and policy[0]["review_max_age_days"] == 180


def test_a_10_bundle_and_format_1_are_read_as_before(tmp_path: Path) -> None:
    one = read_bundle(write_yaml(SMALL_BUNDLE, tmp_path / "a.yaml", 1)).entities
    eleven = read_bundle(write_yaml(SMALL_BUNDLE, tmp_path / "b.yaml", 1.1)).entities
    assert [(e.id, e.props, e.refs) for e in one] == [(e.id, e.props, e.refs) for e in eleven]
    assert not any(e.section == "meta" for e in one)
