"""`tomgraph template` (issue 14): a sheet per section with drop-downs for enums and references
(from the hidden `_lists` sheet), a README; filled in, it loads; it opens in LibreOffice."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from graph.db import Database
from graph.dump import dump_scenario
from graph.ontology import kinds_by_section
from importers.template import LISTS_SHEET, README_SHEET, build_template, columns
from loaders import load_bundle


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tom.xlsx"
    build_template(path)
    return path


@pytest.fixture(scope="module")
def workbook(template: Path):
    return load_workbook(template)


def _sections() -> list[str]:
    return [s for s, k in kinds_by_section().items() if not k.singleton]


def _rule(sheet, column: str) -> tuple[str, bool] | None:
    """(list formula, refuses other values) of the drop-down on a column of a section sheet."""
    header = [c.value for c in sheet[1]]
    letter = get_column_letter(header.index(column) + 1)
    for rule in sheet.data_validations.dataValidation:
        for cell_range in rule.sqref.ranges:
            if cell_range.coord == f"{letter}2:{letter}1001":
                return rule.formula1, bool(rule.showErrorMessage)
    return None


def _list_column(formula: str) -> str:
    return formula.split("!")[1].split(":")[0].replace("$", "").rstrip("0123456789")


def test_one_sheet_per_section_with_its_headers_and_a_hidden_list_sheet(workbook) -> None:
    assert workbook.sheetnames == [README_SHEET, LISTS_SHEET, *_sections(), "meta"]
    assert [[c.value for c in row] for row in workbook["meta"].iter_rows()] == [
        ["field", "value"],
        ["reviewed", None],
        ["frameworks", None],
        ["owner", None],
    ]
    assert workbook[LISTS_SHEET].sheet_state == "hidden"
    models = workbook["models"]
    assert [c.value for c in models[1]] == columns(kinds_by_section()["models"])
    assert [c.value for c in models[1]][:4] == ["id", "name", "description", "stage"]


def test_enums_and_references_have_drop_downs_from_the_list_sheet(workbook) -> None:
    models, lists = workbook["models"], workbook[LISTS_SHEET]
    stage = _rule(models, "stage")
    assert stage is not None and stage[1] is True
    column = _list_column(stage[0])
    values = [lists[f"{column}{row}"].value for row in range(1, 7)]
    assert values == ["models.stage", "idea", "experiment", "pilot", "production", "retired"]
    owner = _rule(models, "owner")
    assert owner is not None and owner[0].startswith("'_lists'!$") and owner[1] is True
    column = _list_column(owner[0])
    assert lists[f"{column}1"].value == "roles"
    assert lists[f"{column}2"].value == "=IF('roles'!$A$2=\"\",\"\",'roles'!$A$2)"
    # A list-valued reference offers ids but accepts several separated by `;`.
    approvers = _rule(models, "change_approvers")
    assert approvers is not None and approvers[1] is False
    assert _rule(models, "id") is None and _rule(models, "name") is None
    consumer = _rule(workbook["access"], "consumer")
    assert consumer is not None
    assert lists[f"{_list_column(consumer[0])}1"].value == "models or workflows"


def test_the_readme_explains_every_field_of_every_section(workbook) -> None:
    rows = list(workbook[README_SHEET].iter_rows(values_only=True))
    described = {(r[0], r[1]) for r in rows if r[0] in kinds_by_section() and r[1]}
    expected = {(s, c) for s in [*_sections(), "meta"] for c in columns(kinds_by_section()[s])}
    assert described == expected
    stage = next(r for r in rows if r[0] == "models" and r[1] == "stage")
    doc = next(f.doc for f in kinds_by_section()["models"].fields if f.name == "stage")
    assert doc  # the README carries the ontology's own words
    assert stage == ("models", "stage", "idea, experiment, pilot, production, retired", "yes", doc)


def _fill(template: Path, out: Path) -> Path:
    workbook = load_workbook(template)
    workbook["units"].append(["u-uw", "Underwriting"])
    workbook["roles"].append(["r-head", "Head of Underwriting"])
    workbook["roles"].append(["r-mrm", "Model Risk Manager"])
    workbook["people"].append(["p-ana", "Ana Ortiz", None, "ana@example.com"])
    people_header = [c.value for c in workbook["people"][1]]
    workbook["people"].cell(row=2, column=people_header.index("holds") + 1, value="r-head; r-mrm")
    models_header = [c.value for c in workbook["models"][1]]
    row = {"id": "m-score", "name": "Risk score", "stage": "production", "owner": "r-head", "unit": "u-uw"}
    workbook["models"].append([row.get(c) for c in models_header])
    workbook["meta"]["B4"] = "r-head"
    workbook.save(out)
    return out


def test_the_filled_in_template_loads(template: Path, tmp_path: Path, db: Database, scenario: str) -> None:
    filled = _fill(template, tmp_path / "filled.xlsx")
    result = load_bundle(db, filled, scenario)
    assert result.entity_count == 6  # five rows and the meta mapping
    dump = dump_scenario(db, scenario)
    assert ("HOLDS", "p-ana", "r-mrm") in dump["relationships"]
    assert ("OWNS", "r-head", "m-score") in dump["relationships"]
    assert ("OWNS", "r-head", "~meta") in dump["relationships"]


def test_libreoffice_opens_the_template_and_computes_the_reference_lists(template: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice Calc is needed (make office installs it)"
    filled = _fill(template, tmp_path / "filled.xlsx")
    out = tmp_path / "csv"
    # 76 = UTF-8; the last option (-1) writes every sheet to its own CSV file.
    options = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    done = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            *("--convert-to", options, "--outdir", str(out), str(filled)),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    with open(out / "filled-models.csv", newline="", encoding="utf-8") as f:
        models = list(csv.reader(f))
    assert models[0] == columns(kinds_by_section()["models"])
    assert models[1][:4] == ["m-score", "Risk score", "", "production"]
    with open(out / "filled-_lists.csv", newline="", encoding="utf-8") as f:
        lists = list(csv.reader(f))
    roles_column = lists[0].index("roles")
    assert [r[roles_column] for r in lists[1:4]] == ["r-head", "r-mrm", ""]


def test_the_loader_reads_past_readme_and_underscore_sheets_but_not_other_unknown_sheets(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from loaders import BundleError, read_bundle

    workbook = Workbook()
    notes = workbook.active
    notes.title = "Readme"
    notes.append(["anything at all", 42])
    workbook.create_sheet("_lists").append(["not", "a", "section"])
    units = workbook.create_sheet("units")
    units.append(["id", "name"])
    units.append(["u-1", "One"])
    workbook.save(tmp_path / "ok.xlsx")
    assert [e.id for e in read_bundle(tmp_path / "ok.xlsx").entities] == ["u-1"]
    workbook.create_sheet("notes").append(["x"])
    workbook.save(tmp_path / "bad.xlsx")
    with pytest.raises(BundleError) as e:
        read_bundle(tmp_path / "bad.xlsx")
    assert len(e.value.problems) == 1
    assert str(e.value.problems[0]).startswith("notes!row 1: sheet: no section is called 'notes'")
