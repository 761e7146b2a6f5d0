"""Inputs as real files hold them (issue 13): damaged text, non-finite numbers, spreadsheet
formulas, Text cells, merged cells, stale sheet dimensions, YAML merge keys. Each bad value is
one `PLACE: FIELD: MESSAGE` in the user's terms, every problem comes in one pass, and nothing
is silently dropped or guessed."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook

from loaders import BundleError, Limits, read_bundle
from loaders.sources import _Yaml, parse_yaml

NUL_MESSAGE = "contains a NUL character (U+0000), which tomgraph refuses in any text"
NOT_FINITE = "is not a finite number (NaN or infinity); tomgraph stores only finite numbers"


def problems_of(path: Path, limits: Limits | None = None) -> list[str]:
    with pytest.raises(BundleError) as caught:
        read_bundle(path, limits)
    return [str(p) for p in caught.value.problems]


def entities_of(path: Path) -> dict[str, dict[str, object]]:
    return {e.id: {**e.props, **{k: list(v) for k, v in e.refs.items()}} for e in read_bundle(path).entities}


def _patch_xlsx(path: Path, sheet: str, replacements: list[tuple[bytes, bytes]]) -> Path:
    """Rewrite one sheet's XML, as Excel (a stored formula result) or another tool would write it."""
    source = path.read_bytes()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out, zipfile.ZipFile(io.BytesIO(source)) as zin:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == f"xl/worksheets/{sheet}.xml":
                for old, new in replacements:
                    # openpyxl writes empty elements as `<v />` with ElementTree, `<v></v>` or `<x/>` with lxml
                    found = next(
                        (o for o in (old, old.replace(b" />", b"/>"), old.replace(b"<v />", b"<v></v>")) if o in data),
                        None,
                    )
                    assert found is not None, (old, data[:2000])
                    data = data.replace(found, new)
            out.writestr(info, data)
    return path


# --- NUL, lone surrogates, non-finite numbers -------------------------------------------------


def test_nul_in_any_field_of_yaml_is_one_problem_per_value(tmp_path: Path) -> None:
    bundle = tmp_path / "b.yaml"
    bundle.write_text(
        "units:\n"
        '  - {id: u1, name: One, properties: {"cost\\0centre": 7, note: "a\\0b"}}\n'
        '  - {id: "u\\0two", name: Two}\n'
        '  - {id: u3, name: "Th\\0ree", tags: [ok, "t\\0"], parent: u1}\n'
    )
    assert problems_of(bundle) == [
        f"b.yaml:2: properties.cost\\x00centre: the key 'cost\\x00centre' {NUL_MESSAGE}",
        f"b.yaml:2: properties.note: {NUL_MESSAGE}",
        f"b.yaml:3: id: {NUL_MESSAGE}",
        f"b.yaml:4: name: {NUL_MESSAGE}",
        f"b.yaml:4: tags[1]: {NUL_MESSAGE}",
    ]


def test_nul_in_a_csv_header_and_cell(tmp_path: Path) -> None:
    directory = tmp_path / "bundle"
    directory.mkdir()
    (directory / "units.csv").write_text("id,name,properties.k\x00ey\nu1,One,7\nu2,T\x00wo,\n")
    assert problems_of(directory) == [
        f"units.csv:row 2: properties.k\\x00ey: the key 'k\\x00ey' {NUL_MESSAGE}",
        f"units.csv:row 3: name: {NUL_MESSAGE}",
    ]


def test_a_reference_holding_nul_is_reported_once_not_also_as_dangling(tmp_path: Path) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"units": [{"id": "u1", "name": "One", "parent": "u\u0000x"}]}, indent=1))
    assert problems_of(bundle) == [f"b.json:3: parent: {NUL_MESSAGE}"]


def test_a_lone_surrogate_is_one_problem_in_the_users_terms(tmp_path: Path) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text('{"units": [\n{"id": "u1", "name": "One", "properties": {"s": "x\\udc80y"}}\n]}')
    assert problems_of(bundle) == [
        "b.json:2: properties.s: contains a lone surrogate (U+DC80), which is not a Unicode character; "
        "the text was damaged before it reached this file"
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param(
            "units:\n  - {id: u1, name: One, properties: {auc: .nan, big: .inf, low: -.inf}}\n", "b.yaml", id="yaml"
        ),
        pytest.param(
            '{"units": [\n{"id": "u1", "name": "One", "properties": {"auc": NaN, "big": 1e999, "low": -Infinity}}]}',
            "b.json",
            id="json",
        ),
    ],
)
def test_non_finite_numbers_never_reach_the_graph(tmp_path: Path, text: str, name: str) -> None:
    bundle = tmp_path / name
    bundle.write_text(text)
    assert problems_of(bundle) == [
        f"{name}:2: properties.auc: nan {NOT_FINITE}",
        f"{name}:2: properties.big: inf {NOT_FINITE}",
        f"{name}:2: properties.low: -inf {NOT_FINITE}",
    ]


def test_a_non_finite_number_is_refused_where_text_is_expected_too(tmp_path: Path) -> None:
    bundle = tmp_path / "b.yaml"
    bundle.write_text("units:\n  - {id: .inf, name: .nan}\n")
    assert problems_of(bundle) == [f"b.yaml:2: id: inf {NOT_FINITE}", f"b.yaml:2: name: nan {NOT_FINITE}"]


def test_a_nan_cell_in_a_workbook_is_refused(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "units"
    sheet.append(["id", "name", "properties.auc"])
    sheet.append(["u1", "One", 0.5])
    path = tmp_path / "b.xlsx"
    workbook.save(path)
    _patch_xlsx(path, "sheet1", [(b"<v>0.5</v>", b"<v>NaN</v>")])
    assert problems_of(path) == [f"units!row 2: properties.auc: nan {NOT_FINITE}"]


def test_nan_text_in_csv_is_text_not_a_number(tmp_path: Path) -> None:
    directory = tmp_path / "bundle"
    directory.mkdir()
    (directory / "units.csv").write_text("id,name,properties.auc\nu1,One,nan\n")
    assert entities_of(directory)["u1"]["properties.auc"] == "nan"


def test_control_characters_in_problem_text_are_escaped(tmp_path: Path) -> None:
    bundle = tmp_path / "b.yaml"
    bundle.write_text('units:\n  - {id: u1, name: One, "co\\e[31mlour": red}\n')
    assert problems_of(bundle) == ["b.yaml:2: co\\x1b[31mlour: unknown field"]


# --- blank names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("   ", "must not be empty", id="spaces"),
        pytest.param("\\t\\u00a0\\u3000", "must not be empty", id="unicode-spaces"),
        pytest.param("\\u200b\\ufeff", "must not be blank (it holds only invisible characters)", id="zero-width"),
    ],
)
def test_a_blank_name_is_refused_in_yaml(tmp_path: Path, name: str, message: str) -> None:
    bundle = tmp_path / "b.yaml"
    bundle.write_text(f'units:\n  - {{id: u1, name: "{name}", tags: ["{name}"]}}\naccess: []\n')
    assert problems_of(bundle) == [f"b.yaml:2: name: {message}", f"b.yaml:2: tags[0]: {message}"]


def test_a_blank_name_is_refused_in_json_and_csv(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text('{"units": [\n{"id": "u1", "name": "   "}]}')
    directory = tmp_path / "bundle"
    directory.mkdir()
    (directory / "units.csv").write_text("id,name\nu1,   \n")
    assert problems_of(tmp_path / "b.json") + problems_of(directory) == [
        "b.json:2: name: must not be empty",
        "units.csv:row 2: name: required field is missing",
    ]


def test_a_blank_name_of_an_access_row_is_refused_not_replaced_by_the_id(tmp_path: Path) -> None:
    bundle = tmp_path / "b.yaml"
    bundle.write_text(
        "units: [{id: u1, name: U}]\nroles: [{id: r1, name: R}]\n"
        "data_domains: [{id: d1, name: D, owners: [r1]}]\n"
        "workflows: [{id: w1, name: W, stage: pilot}]\n"
        'access:\n  - {id: a1, name: "  ", data_domain: d1, consumer: w1, status: granted}\n'
    )
    assert problems_of(bundle) == ["b.yaml:6: name: must not be empty"]


# --- YAML ---------------------------------------------------------------------------------


def test_yaml_is_parsed_by_libyaml() -> None:
    assert issubclass(_Yaml, yaml.CSafeLoader)


def test_yaml_merge_keys_may_be_overridden_and_real_duplicates_are_still_errors(tmp_path: Path) -> None:
    bundle = tmp_path / "b.yaml"
    text = (
        "roles: [{id: r1, name: R}]\n"
        "models:\n"
        "  - &m_a\n"
        "    id: m-a\n"
        "    name: Model A\n"
        "    stage: pilot\n"
        "    owner: r1\n"
        "  - <<: *m_a\n"
        "    id: m-b\n"
        "    name: Model B\n"
    )
    bundle.write_text(text)
    got = entities_of(bundle)
    assert (got["m-a"], got["m-b"]) == (
        {"id": "m-a", "name": "Model A", "stage": "pilot", "owner": ["r1"]},
        {"id": "m-b", "name": "Model B", "stage": "pilot", "owner": ["r1"]},
    )
    bundle.write_text(text + "    name: Model C\n")
    assert problems_of(bundle) == ["b.yaml:11: name: duplicate key in the same mapping"]


def test_the_node_limit_holds_without_aliases_and_stops_parsing_early(tmp_path: Path) -> None:
    text = "units:\n" + "".join(f"  - {{id: u{i}, name: U{i}}}\n" for i in range(2000))
    data, problems = parse_yaml(text, "b.yaml", Limits(max_yaml_nodes=1000))
    assert (data, [str(p) for p in problems]) == (
        None,
        ["b.yaml: yaml: the document has more than 1,000 nodes; refused (TOMGRAPH_MAX_YAML_NODES)"],
    )


def test_aliases_count_as_the_nodes_they_repeat(tmp_path: Path) -> None:
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    # 1 root + (1 key + 1 list + 9) + (1 key + 1 list + 10 x 10): 114 nodes once expanded, 24 as written
    assert parse_yaml(text, "b.yaml", Limits(max_yaml_nodes=114))[1] == []
    assert [str(p) for p in parse_yaml(text, "b.yaml", Limits(max_yaml_nodes=113))[1]] == [
        "b.yaml: yaml: the document expands to more than 113 nodes through anchors and aliases; "
        "refused (TOMGRAPH_MAX_YAML_NODES)"
    ]


def test_yaml_lines_are_kept_in_problem_places(tmp_path: Path) -> None:
    bundle = tmp_path / "b.yaml"
    bundle.write_text("units:\n  - id: u1\n    name: One\n\n  - id: u2\n    colour: red\n")
    assert problems_of(bundle) == ["b.yaml:5: colour: unknown field", "b.yaml:5: name: required field is missing"]


# --- workbooks ----------------------------------------------------------------------------


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return workbook


ROLES = [["id", "name", "executive"], ["r1", "Role one", None], ["r2", "Role two", None]]
FORMULA_MESSAGE = (
    "has no stored value; open and save the workbook in Excel or LibreOffice so that its result is "
    "stored, or type the value"
)


def test_a_formula_without_a_stored_result_is_reported_not_read_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    models = [["id", "name", "stage", "owner"], ["m1", "M1", "pilot", "=roles!A3"]]
    roles = [*ROLES[:2], ["r2", "Role two", "=TRUE()"]]
    _workbook(path, {"roles": roles, "models": models})
    assert problems_of(path) == [
        f"models!row 2: owner: formula =roles!A3 {FORMULA_MESSAGE}",
        f"roles!row 3: executive: formula =TRUE() {FORMULA_MESSAGE}",
    ]


def test_a_formula_counts_by_its_stored_result(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    models = [["id", "name", "stage", "owner"], ["m1", "M1", "pilot", "=roles!A3"]]
    _workbook(path, {"roles": [*ROLES[:2], ["r2", "Role two", "=TRUE()"]], "models": models})
    _patch_xlsx(path, "sheet1", [(b'<c r="C3"><f>TRUE()</f><v /></c>', b'<c r="C3" t="b"><f>TRUE()</f><v>1</v></c>')])
    _patch_xlsx(
        path, "sheet2", [(b'<c r="D2"><f>roles!A3</f><v /></c>', b'<c r="D2" t="str"><f>roles!A3</f><v>r2</v></c>')]
    )
    got = entities_of(path)
    assert (got["m1"]["owner"], got["r2"]["executive"]) == (["r2"], True)


def test_an_error_cell_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    _workbook(path, {"roles": [ROLES[0], ["r1", "Role one", "yes"]]})
    _patch_xlsx(
        path, "sheet1", [(b'<c r="B2" t="inlineStr"><is><t>Role one</t></is></c>', b'<c r="B2" t="e"><v>#REF!</v></c>')]
    )
    assert problems_of(path) == ["roles!row 2: name: the cell shows the error #REF!; correct it or type the value"]


def test_text_cells_stay_text_and_typed_cells_keep_their_type(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    workbook = _workbook(
        path,
        {
            "units": [
                ["id", "name", "properties.version", "properties.code", "properties.n"],
                ["u1", "One", "1.10", 12, 12],
            ]
        },
    )
    workbook["units"]["D2"].number_format = "@"
    workbook.save(path)
    assert entities_of(path)["u1"] == {
        "id": "u1",
        "name": "One",
        "properties.version": "1.10",
        "properties.code": "12",
        "properties.n": 12,
    }


def test_csv_cells_are_text_typed_by_the_field(tmp_path: Path) -> None:
    directory = tmp_path / "bundle"
    directory.mkdir()
    (directory / "units.csv").write_text("id,name,properties.version,properties.flag\n12,1.10,1.10,true\n")
    assert entities_of(directory)["12"] == {
        "id": "12",
        "name": "1.10",
        "properties.version": 1.1,
        "properties.flag": True,
    }


def test_merged_cells_give_their_value_to_every_cell_they_cover(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    roles = [
        ["id", "name", "executive", "unit"],
        ["r1", "R1", True, "u1"],
        ["r2", "R2", None, None],
        ["r3", "R3", None, None],
    ]
    workbook = _workbook(path, {"units": [["id", "name"], ["u1", "U1"]], "roles": roles})
    workbook["roles"].merge_cells("C2:C4")
    workbook["roles"].merge_cells("D2:D4")
    workbook.save(path)
    got = entities_of(path)
    assert [(got[r]["executive"], got[r]["unit"]) for r in ("r1", "r2", "r3")] == [(True, ["u1"])] * 3


def test_rows_beyond_the_declared_dimension_are_read(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    _workbook(path, {"units": [["id", "name"], ["u1", "One"], ["u2", "Two"], ["u3", "Three"]]})
    _patch_xlsx(path, "sheet1", [(b'<dimension ref="A1:B4" />', b'<dimension ref="A1:B2" />')])
    assert sorted(entities_of(path)) == ["u1", "u2", "u3"]


def test_a_workbook_reports_every_problem_in_one_pass(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    models = [
        ["id", "name", "stage", "owner"],
        ["m1", "Model one", "live", "r1", "an extra cell"],
        ["m2", None, "pilot", "r1"],
        ["m3", "Model three", "pilot", "r9"],
    ]
    _workbook(path, {"roles": ROLES, "models": models})
    assert problems_of(path) == [
        "models!row 2: row: 5 cells but only 4 columns; the cells beyond them were not read",
        "models!row 2: stage: 'live' is not one of 'idea', 'experiment', 'pilot', 'production' or 'retired'",
        "models!row 3: name: required field is missing",
        "models!row 4: owner: 'r9' does not exist; expected a role",
    ]


def test_an_unknown_column_does_not_hide_the_rows_problems(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    models = [["id", "name", "stage", "colour"], ["m1", "Model one", "live", "red"], ["m2", None, "pilot", "blue"]]
    _workbook(path, {"models": models})
    assert problems_of(path) == [
        "models!row 1: colour: unknown field",
        "models!row 2: stage: 'live' is not one of 'idea', 'experiment', 'pilot', 'production' or 'retired'",
        "models!row 3: name: required field is missing",
    ]


def test_a_csv_row_with_extra_cells_still_reports_its_other_problems(tmp_path: Path) -> None:
    directory = tmp_path / "bundle"
    directory.mkdir()
    (directory / "models.csv").write_text("id,name,stage\nm1,,pilot,extra\n")
    assert problems_of(directory) == [
        "models.csv:row 2: name: required field is missing",
        "models.csv:row 2: row: 4 cells but only 3 columns; the cells beyond them were not read",
    ]


def test_deep_nesting_is_refused_before_libyaml_builds_it(tmp_path: Path) -> None:
    # 100,000 levels overflowed the C stack of libyaml's node builder: the process died
    bundle = tmp_path / "b.yaml"
    bundle.write_text("units: []\ndeep: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert problems_of(bundle) == ["b.yaml: yaml: the document is nested too deeply (more than 1,000 levels)"]
