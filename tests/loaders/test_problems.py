"""Every class of bundle problem is reported with its exact place and field, all in one pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from graph.db import Database
from graph.dump import dump_scenario
from loaders import BundleError, Limits, load_bundle, read_bundle
from tests.bundles import SMALL_BUNDLE, write_yaml


def problems_of(path: Path, limits: Limits | None = None) -> list[str]:
    with pytest.raises(BundleError) as caught:
        read_bundle(path, limits)
    return [str(p) for p in caught.value.problems]


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_yaml_problems_name_the_item_line_and_field(tmp_path: Path) -> None:
    bundle = write(
        tmp_path / "b.yaml",
        "format: 1\n"
        "units:\n"
        "  - {id: u1, name: Unit one, parent: nowhere}\n"
        "roles:\n"
        "  - {id: u1, name: Clash}\n"
        "  - {id: r1, nme: Typo}\n"
        "models:\n"
        "  - id: m1\n"
        "    name: Model\n"
        "    stage: prod\n"
        "    owner: u1\n"
        "    last_reviewed: 2026-02-30\n"
        "  - {id: m2, name: M2}\n"
        "teams: []\n",
    )
    assert problems_of(bundle) == [
        "b.yaml:3: parent: 'nowhere' does not exist; expected a unit",
        "b.yaml:5: id: duplicate id 'u1', already used at b.yaml:3",
        "b.yaml:6: name: required field is missing",
        "b.yaml:6: nme: unknown field",
        "b.yaml:8: last_reviewed: '2026-02-30' is not a real date",
        "b.yaml:8: owner: 'u1' is a unit, expected a role",
        "b.yaml:8: stage: 'prod' is not one of 'idea', 'experiment', 'pilot', 'production' or 'retired'",
        "b.yaml:13: stage: required field is missing",
        "b.yaml:14: teams: unknown section (known: units, people, roles, data_domains, vendors, models, "
        "workflows, use_cases, kpis, controls, access, systems, delegations, policies, evidence, incidents, "
        "initiatives, assessments, meta)",
    ]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bundle = write(tmp_path / "b.yaml", "units:\n  - {id: u1, name: [unclosed\nroles: []\n")
    (problem,) = problems_of(bundle)
    assert problem.startswith("b.yaml:3: yaml: ")


def test_json_problems_name_the_item_line(tmp_path: Path) -> None:
    data = {"units": [{"id": "u1", "name": "One"}, {"id": "u2", "name": "Two", "colour": "red"}]}
    bundle = write(tmp_path / "b.json", json.dumps(data, indent=2))
    assert problems_of(bundle) == ["b.json:7: colour: unknown field"]


def test_json_syntax_error_names_the_line(tmp_path: Path) -> None:
    bundle = write(tmp_path / "b.json", '{\n  "units": [\n    {"id": "u1",}\n  ]\n}\n')
    assert problems_of(bundle) == ["b.json:3: json: Expecting property name enclosed in double quotes"]


def test_csv_problems_name_the_row(tmp_path: Path) -> None:
    directory = tmp_path / "bundle"
    directory.mkdir()
    write(directory / "roles.yaml", "- {id: r1, name: Role one}\n")
    write(
        directory / "models.csv",
        "id,name,stage,owner,colour\nm1,Model one,pilot,r1,\nm2,Model two,live,r9,\n",
    )
    write(directory / "vendors.csv", 'id,name,exit_plan\nv1,"Vendor, one",maybe\n')
    assert problems_of(directory) == [
        "models.csv:row 1: colour: unknown field",
        "models.csv:row 3: owner: 'r9' does not exist; expected a role",
        "models.csv:row 3: stage: 'live' is not one of 'idea', 'experiment', 'pilot', 'production' or 'retired'",
        "vendors.csv:row 2: exit_plan: 'maybe' is not a boolean (use true/false, yes/no or 1/0)",
    ]


def test_csv_quoting_error_names_the_row(tmp_path: Path) -> None:
    directory = tmp_path / "bundle"
    directory.mkdir()
    write(directory / "units.csv", 'id,name\nu1,One\nu2,"Two"x\n')
    assert problems_of(directory) == ["units.csv:row 3: csv: malformed row: ',' expected after '\"'"]


def test_encoding_error_names_the_line(tmp_path: Path) -> None:
    directory = tmp_path / "bundle"
    directory.mkdir()
    write(directory / "units.csv", b"id,name\nu1,Caf\xe9\n")
    assert problems_of(directory) == ["units.csv:2: encoding: not UTF-8 (byte 0xe9)"]


def test_csv_with_bom_is_read(tmp_path: Path) -> None:
    directory = tmp_path / "bundle"
    directory.mkdir()
    write(directory / "units.csv", "\ufeffid,name\nu1,One\n".encode())
    assert [e.id for e in read_bundle(directory).entities] == ["u1"]


def test_directory_file_rules(tmp_path: Path) -> None:
    directory = tmp_path / "bundle"
    directory.mkdir()
    write(directory / "units.yaml", "- {id: u1, name: One}\n")
    write(directory / "units.csv", "id,name\nu2,Two\n")
    write(directory / "teams.yaml", "[]\n")
    write(directory / "notes.txt", "ignored")
    assert problems_of(directory) == [
        "teams.yaml: file: no section is called 'teams' (known: units, people, roles, data_domains, vendors, "
        "models, workflows, use_cases, kpis, controls, access, systems, delegations, policies, evidence, "
        "incidents, initiatives, assessments, meta)",
        "units.yaml: file: section 'units' is also in units.csv; keep one file per section",
    ]


def test_excel_problems_name_sheet_and_row(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "models"
    sheet.append(["id", "name", "stage"])
    sheet.append(["m1", "Model one", "pilot"])
    sheet.append(["m2", None, "pilot"])
    workbook.save(tmp_path / "b.xlsx")
    assert problems_of(tmp_path / "b.xlsx") == ["models!row 3: name: required field is missing"]


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    bundle = write(tmp_path / "bomb.yaml", "\n".join(lines) + "\n")
    assert problems_of(bundle, Limits(max_yaml_nodes=100_000)) == [
        "bomb.yaml: yaml: the document expands to more than 100,000 nodes through anchors and aliases; "
        "refused (TOMGRAPH_MAX_YAML_NODES)"
    ]


def test_file_size_limit(tmp_path: Path) -> None:
    bundle = write_yaml(SMALL_BUNDLE, tmp_path / "b.yaml")
    size = bundle.stat().st_size
    assert problems_of(bundle, Limits(max_file_bytes=1000)) == [
        f"b.yaml: size: the file is {size:,} bytes, over the limit of 1,000 (TOMGRAPH_MAX_FILE_BYTES)"
    ]


def test_entity_count_limit(tmp_path: Path) -> None:
    bundle = write_yaml(SMALL_BUNDLE, tmp_path / "b.yaml")
    assert problems_of(bundle, Limits(max_entities=10)) == [
        "bundle: entities: 15 entities, over the limit of 10 (TOMGRAPH_MAX_ENTITIES)"
    ]


def test_invalid_bundle_leaves_the_scenario_unchanged(tmp_path: Path, db: Database, scenario: str) -> None:
    load_bundle(db, write_yaml(SMALL_BUNDLE, tmp_path / "good.yaml"), scenario)
    before = dump_scenario(db, scenario)
    broken = {**SMALL_BUNDLE, "units": [{"id": "u-group", "name": "Group", "parent": "u-missing"}]}
    with pytest.raises(BundleError):
        load_bundle(db, write_yaml(broken, tmp_path / "bad.yaml"), scenario)
    assert dump_scenario(db, scenario) == before


def test_a_property_integer_beyond_64_bits_is_a_problem(tmp_path: Path) -> None:
    bundle = write(tmp_path / "b.yaml", "units:\n  - {id: u1, name: One, properties: {budget: 99999999999999999999}}\n")
    assert problems_of(bundle) == [
        "b.yaml:2: properties.budget: 99999999999999999999 does not fit in a 64-bit integer; write it as text"
    ]
