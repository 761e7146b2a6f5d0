"""`export archimate` (issue 14): a scenario as an Open Group exchange file that is valid against
the exchange-format schema and that `import archimate` reads back to the same bundle."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from graph.db import Database
from graph.dump import dump_scenario
from importers.archimate import import_archimate
from importers.archimate_export import exchange_xml, scenario_bundle
from loaders import load_bundle
from tests.bundles import SMALL_BUNDLE
from tests.importers.helpers import DATA, write

XSD = Path(__file__).parent / "xsd" / "archimate3-reduced.xsd"


def _rich_bundle() -> dict[str, Any]:
    """SMALL_BUNDLE plus every 1.1 section, several vendors, odd ids and free properties."""
    bundle: dict[str, Any] = copy.deepcopy(SMALL_BUNDLE)
    bundle["vendors"].append({"id": "v:2nd", "name": "Second Source", "tags": ["backup"]})
    bundle["units"][1]["head"] = "r-uw-head"
    bundle["roles"][2]["deputy"] = "r-uw-head"
    bundle["people"][0]["aliases"] = ["ana.o", "aortiz"]
    model = bundle["models"][0]
    model.update(
        vendor=["v-acme", "v:2nd"],
        unit="u-uw",
        depends_on=["9-core"],
        operator_role="deployer",
        first_use="2024-02-01",
    )
    bundle["systems"] = [
        {"id": "9-core", "name": "Policy core", "stage": "production", "owner": "r-uw-head", "reads": ["d-policy"]},
        {"id": "s-crm", "name": "CRM", "stage": "build", "depends_on": ["9-core", "m-score"], "vendor": ["v:2nd"]},
    ]
    bundle["workflows"][0]["systems"] = ["s-crm"]
    bundle["controls"][0]["operated_by"] = "v:2nd"
    bundle["kpis"][0].update(status="at_risk", measured="2026-06-30")
    bundle["use_cases"][0]["unit"] = "u-uw"
    bundle["delegations"] = [
        {"id": "dl-1", "from": "r-uw-head", "to": "p-bo", "right": "change_approval", "models": ["m-score"]},
    ]
    bundle["policies"] = [
        {
            "id": "pol-high",
            "risk_tier": "high",
            "require_rights": ["owner", "change_approvers"],
            "require_controls": ["monitoring"],
            "review_max_age_days": 365,
        }
    ]
    bundle["evidence"] = [
        {
            "id": "ev-card",
            "name": "Model card",
            "kind": "model_card",
            "about": ["m-score"],
            "issued": "2026-01-10",
            "uri": "https://docs.example/card",
        }
    ]
    bundle["incidents"] = [
        {"id": "inc-1", "name": "Drift", "severity": "high", "aware": "2026-03-01", "models": ["m-score"]}
    ]
    bundle["initiatives"] = [
        {"id": "in-1", "name": "Second supplier", "status": "approved", "delivers": ["v:2nd", "s-crm"]}
    ]
    bundle["assessments"] = [{"id": "as-1", "question": "q-owner", "answer": "partly", "date": "2026-05-01"}]
    bundle["meta"] = {"owner": "r-ceo", "reviewed": "2026-04-01", "frameworks": ["eu-ai-act"]}
    return {"format": "1.1", **bundle}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


@pytest.fixture
def loaded(db: Database, scenario: str, tmp_path: Path) -> str:
    load_bundle(db, write(_rich_bundle(), tmp_path / "rich.yaml"), scenario)
    return scenario


def test_export_then_import_gives_back_the_same_bundle_and_graph(
    loaded: str, db: Database, tmp_path: Path, schema: etree.XMLSchema
) -> None:
    original = scenario_bundle(db, loaded)
    assert set(original) == {
        "format",
        *(s for s in _rich_bundle() if s != "format"),
    }
    xml = tmp_path / "export.xml"
    xml.write_bytes(exchange_xml(original, "test"))
    assert schema.validate(etree.parse(str(xml))), schema.error_log
    imported, summary = import_archimate(xml)
    assert imported == original
    assert summary.unplaced == {} and summary.left_out == [] and summary.defaults == {}
    again = f"{loaded}-again"
    try:
        load_bundle(db, write(imported, tmp_path / "imported.yaml"), again)
        assert dump_scenario(db, again) == dump_scenario(db, loaded)
    finally:
        from graph.sync import delete_scenario

        delete_scenario(db, again)


def test_the_export_uses_archimate_types_and_relationships(loaded: str, db: Database, schema: etree.XMLSchema) -> None:
    root = etree.fromstring(exchange_xml(scenario_bundle(db, loaded), "test"))
    ns = {"a": "http://www.opengroup.org/xsd/archimate/3.0/"}
    xsi = "{http://www.w3.org/2001/XMLSchema-instance}type"
    types = {e.get("identifier"): e.get(xsi) for e in root.iterfind("a:elements/a:element", ns)}
    assert types["p-ana"] == "BusinessActor" and types["r-ceo"] == "BusinessRole"
    assert types["m-score"] == types["s-crm"] == "ApplicationComponent"
    assert types["w-quote"] == "BusinessProcess" and types["d-policy"] == "DataObject"
    # ids that are no XML identifier get one, with the real id in a property
    assert types["id-9-core"] == "ApplicationComponent" and types["id-v_2nd"] == "BusinessActor"
    rels = {(r.get(xsi), r.get("source"), r.get("target")) for r in root.iterfind("a:relationships/a:relationship", ns)}
    assert ("Assignment", "p-ana", "r-uw-head") in rels  # holds
    assert ("Composition", "u-group", "u-uw") in rels  # parent
    assert ("Assignment", "r-uw-head", "w-quote") in rels  # workflow owner
    assert ("Serving", "s-crm", "w-quote") in rels  # workflow systems
    assert ("Serving", "id-9-core", "m-score") in rels  # the model depends on the system
    assert ("Access", "m-score", "d-policy") in rels  # consumes


def test_the_schema_is_not_vacuous(schema: etree.XMLSchema) -> None:
    assert schema.validate(etree.parse(str(DATA / "archisurance.xml"))), schema.error_log
    broken = etree.parse(str(DATA / "archisurance.xml"))
    relationship = broken.getroot().find("{http://www.opengroup.org/xsd/archimate/3.0/}relationships")[0]
    relationship.set("target", "id-nowhere")
    assert not schema.validate(broken)
    wrong_type = etree.parse(str(DATA / "archisurance.xml"))
    element = wrong_type.getroot().find("{http://www.opengroup.org/xsd/archimate/3.0/}elements")[0]
    element.set("{http://www.w3.org/2001/XMLSchema-instance}type", "Spaceship")
    assert not schema.validate(wrong_type)
