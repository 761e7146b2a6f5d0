"""`import mapped` (import.md, "Mapped tables"): the two worked examples, the mapping file's strict
validation with places, skip rules, value maps, derived entities and RACI cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.db import Database
from importers.mapped import import_mapped
from importers.safe import SourceError
from tests.importers.helpers import EXAMPLES, load, section

INVENTORY = (EXAMPLES / "ai-inventory.csv", EXAMPLES / "ai-inventory.mapping.yaml")
RACI = (EXAMPLES / "raci.xlsx", EXAMPLES / "raci.mapping.yaml")


@pytest.fixture(scope="module")
def inventory() -> tuple[dict, object]:
    return import_mapped(*INVENTORY)


@pytest.fixture(scope="module")
def raci() -> tuple[dict, object]:
    return import_mapped(*RACI)


def test_inventory_derives_one_unit_per_agency_and_bureau_and_one_vendor_per_name(inventory) -> None:
    bundle, _ = inventory
    units = section(bundle, "units")
    assert sorted(units) == [
        "u-dox",
        "u-dox-bureau-of-benefits",
        "u-dox-office-of-the-chief-information-officer",
        "u-sam",
        "u-sam-grants-office",
        "u-sam-inspection-service",
    ]
    assert units["u-sam-grants-office"] == {"id": "u-sam-grants-office", "name": "Grants Office", "parent": "u-sam"}
    assert section(bundle, "vendors") == {
        "v-acme-language-models": {"id": "v-acme-language-models", "name": "Acme Language Models"},
        "v-helpdesk-co": {"id": "v-helpdesk-co", "name": "Helpdesk Co"},
        "v-sentinel-analytics": {"id": "v-sentinel-analytics", "name": "Sentinel Analytics"},
    }


def test_inventory_rows_become_models_and_use_cases_through_value_maps(inventory) -> None:
    bundle, _ = inventory
    models = section(bundle, "models")
    assert models["m-dox-0002"] == {
        "id": "m-dox-0002",
        "name": "IT service desk chatbot",
        "stage": "pilot",
        "vendor": ["v-acme-language-models", "v-helpdesk-co"],  # two suppliers in one cell
        "unit": "u-dox-office-of-the-chief-information-officer",
        "properties": {"impact": "Neither"},  # Neither maps to no risk tier
    }
    assert models["m-dox-0004"]["risk_tier"] == "high"
    assert models["m-dox-0004"]["vendor"] == "v-sentinel-analytics"
    assert "vendor" not in models["m-sam-0001"]
    assert section(bundle, "use_cases")["uc-dox-0003"] == {
        "id": "uc-dox-0003",
        "name": "Benefit claim triage",
        "stage": "live",
        "models": ["m-dox-0003"],
        "unit": "u-dox-bureau-of-benefits",
        "properties": {"inventory_id": "DOX-0003", "topic_area": "Government Services"},
    }


def test_inventory_summary_counts_unmapped_values_skipped_rows_and_unused_columns(inventory) -> None:
    _, summary = inventory
    assert dict(summary.unplaced) == {
        "Stage of Development value 'Pilot' (not in the map for models.stage)": 1,
        "Stage of Development value 'Pilot' (not in the map for use_cases.stage)": 1,
        "ai-inventory.csv column 'Development Method'": 10,
        "ai-inventory.csv rows skipped by targets[3] (models)": 1,
        "ai-inventory.csv rows skipped by targets[4] (use_cases)": 1,
    }
    assert [str(x) for x in sorted(summary.left_out)] == [
        "ai-inventory.csv:row 11: models 'm-sam-0005': stage: required and not given",
        "ai-inventory.csv:row 11: use_cases 'uc-sam-0005': stage: required and not given",
    ]
    assert dict(summary.written) == {"units": 6, "vendors": 3, "models": 8, "use_cases": 8}


def test_raci_letters_become_decision_rights_on_the_models_in_scope(raci) -> None:
    bundle, _ = raci
    models = section(bundle, "models")
    high = models["m-claims-triage-model"]
    assert high["change_approvers"] == ["r-chief-risk-officer", "r-model-owner"]  # R counts on high risk
    assert high["deployment_approvers"] == ["r-chief-risk-officer"]
    assert high["shutdown_authority"] == ["r-chief-risk-officer", "r-head-of-data-science", "r-model-owner"]
    assert high["developers"] == ["r-head-of-data-science"]  # "A/R": the R
    assert models["m-e-mail-assistant"]["change_approvers"] == ["r-chief-risk-officer"]  # limited risk
    use_case = section(bundle, "use_cases")["uc-uc-03"]
    assert use_case["approved_by"] == ["r-business-sponsor"]
    assert use_case["budget_owner"] == "r-business-sponsor"
    assert section(bundle, "roles")["r-internal-audit"] == {"id": "r-internal-audit", "name": "Internal Audit"}


def test_raci_summary_counts_letters_and_activities_without_a_right(raci) -> None:
    _, summary = raci
    assert dict(summary.unplaced) == {
        "RACI activity 'Write the quarterly AI report' (not in the mapping)": 1,
        "RACI letter A (no decision right in the mapping)": 1,
        "RACI letter C (no decision right in the mapping)": 9,
        "RACI letter I (no decision right in the mapping)": 6,
        "RACI letter R (no decision right in the mapping)": 3,
    }
    assert summary.left_out == []


@pytest.mark.parametrize("example", [INVENTORY, RACI], ids=["inventory", "raci"])
def test_the_worked_examples_load(example, tmp_path: Path, db: Database, scenario: str) -> None:
    bundle, summary = import_mapped(*example)
    dump = load(db, bundle, tmp_path, scenario)
    assert len(dump["nodes"]) == sum(summary.written.values())


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return path


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.csv"
    path.write_text(text)
    return path


def test_every_mapping_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    mapping = _mapping(
        tmp_path,
        "mapping: 1\n"
        "targets:\n"
        "  - section: modles\n"
        "    id: m-{Name}\n"
        "  - section: models\n"
        "    id: fixed-id\n"
        "    colour: red\n"
        "    fields:\n"
        "      stage: {column: Stage, template: '{Stage}'}\n"
        "      colour: '{Name}'\n"
        "      name: '{Name|shout}'\n"
        "    skip:\n"
        "      - {column: Name}\n",
    )
    with pytest.raises(SourceError) as e:
        import_mapped(_csv(tmp_path, "Name,Stage\na,b\n"), mapping)
    assert [str(p) for p in e.value.problems] == [
        "m.yaml:7: targets[1].colour: unknown key",
        "m.yaml:9: targets[1].fields.stage: give exactly one of column, template, value (given: column, template)",
        "m.yaml:13: targets[1].skip[0]: give exactly one of equals, in, empty, matches",
    ]
    # Structure first; once it is valid, the names are checked against the ontology.
    fixed = mapping.read_text().replace("    colour: red\n", "").replace(", template: '{Stage}'", "")
    fixed = fixed.replace("      - {column: Name}\n", "      - {column: Name, empty: true}\n")
    mapping.write_text(fixed)
    with pytest.raises(SourceError) as e:
        import_mapped(_csv(tmp_path, "Name,Stage\na,b\n"), mapping)
    assert [str(p) for p in e.value.problems] == [
        "m.yaml:3: targets[0].section: no section is called 'modles' (known: units, people, roles, data_domains, "
        "vendors, models, workflows, use_cases, kpis, controls, access, systems, delegations, policies, evidence, "
        "incidents, initiatives, assessments)",
        "m.yaml:6: targets[1].id: names no column: write it as {Column} or {Column|slug}",
        "m.yaml:9: targets[1].fields.colour: models has no field 'colour' (known: change_approvers, consumes, "
        "depends_on, deployment_approvers, description, developers, first_use, human_oversight, last_reviewed, "
        "name, operator_role, owner, risk_tier, shutdown_authority, stage, tags, unit, vendor)",
        "m.yaml:10: targets[1].fields.name: unknown filter |shout (known: slug, lower, upper, strip)",
    ]


def test_a_column_the_mapping_names_but_the_table_lacks_is_an_error_at_the_mapping_line(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, "mapping: 1\ntargets:\n  - section: units\n    id: u-{Agency|slug}\n")
    with pytest.raises(SourceError) as e:
        import_mapped(_csv(tmp_path, "Agncy\nX\n"), mapping)
    assert [str(p) for p in e.value.problems] == ["m.yaml:3: targets[0]: no column 'Agency' in t.csv (columns: Agncy)"]


def test_skip_rules_and_a_repeated_id_in_a_non_derived_target(tmp_path: Path) -> None:
    mapping = _mapping(
        tmp_path,
        "mapping: 1\n"
        "targets:\n"
        "  - section: units\n"
        "    id: u-{Code|lower}\n"
        "    fields: {name: '{Name}'}\n"
        "    skip:\n"
        "      - {column: Status, equals: closed}\n"
        "      - {column: Status, in: [draft, TEST]}\n"
        "      - {column: Name, matches: '^tmp'}\n",
    )
    table = _csv(
        tmp_path,
        "Code,Name,Status\nA,Alpha,open\nB,Beta,Closed\nC,Gamma,test\nD,tmp unit,open\n"
        "A,Alpha again,open\nE,Epsilon,\n",
    )
    bundle, summary = import_mapped(table, mapping)
    assert bundle["units"] == [{"id": "u-a", "name": "Alpha"}, {"id": "u-e", "name": "Epsilon"}]
    assert summary.unplaced["t.csv rows skipped by targets[0] (units)"] == 3
    assert [str(x) for x in summary.left_out] == [
        "t.csv:row 6: units 'u-a': id already used by the unit at t.csv:row 2"
    ]


def test_a_csv_with_a_bom_and_an_excel_sheet_choice(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_bytes("\ufeffCode,Name\nx,Ex\n".encode())
    mapping = _mapping(
        tmp_path, "mapping: 1\ntargets:\n  - {section: units, id: 'u-{Code}', fields: {name: '{Name}'}}\n"
    )
    bundle, _ = import_mapped(table, mapping)
    assert bundle["units"] == [{"id": "u-x", "name": "Ex"}]
    bad_sheet = _mapping(tmp_path, "mapping: 1\nsheet: Nope\ntargets:\n  - {section: units, id: 'u-{Code}'}\n")
    with pytest.raises(SourceError) as e:
        import_mapped(RACI[0], bad_sheet)
    assert [str(p) for p in e.value.problems] == [
        "raci.xlsx: sheet: no sheet is called 'Nope' (sheets: Registry, RACI)"
    ]
