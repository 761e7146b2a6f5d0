"""`import archimate` (import.md, "ArchiMate"): the mapping table, the three file forms, the
summary of what had no place, and references left out so the bundle loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.db import Database
from importers.archimate import import_archimate
from importers.safe import SourceError
from tests.importers.helpers import DATA, load, section


@pytest.fixture(scope="module")
def archisurance() -> tuple[dict, object]:
    return import_archimate(DATA / "archisurance.xml")


def test_actors_become_units_and_people_and_assignments_become_holds_and_unit(archisurance) -> None:
    bundle, _ = archisurance
    units = section(bundle, "units")
    assert units == {
        "id-org-archisurance": {"id": "id-org-archisurance", "name": "ArchiSurance", "description": "The insurer."},
        "id-org-claims": {"id": "id-org-claims", "name": "Claims Department", "parent": "id-org-archisurance"},
        "id-grp-intermediaries": {
            "id": "id-grp-intermediaries",
            "name": "Intermediary channel",
            "parent": "id-org-archisurance",
        },
    }
    assert section(bundle, "people") == {
        "id-p-jane": {
            "id": "id-p-jane",
            "name": "Jane Smit",
            "email": "jane@archisurance.example",
            "holds": ["id-role-claims-manager"],
        },
        # no `type: person`, but assigned to a role
        "id-p-tom": {"id": "id-p-tom", "name": "Tom de Vries", "holds": ["id-role-claims-handler"]},
    }
    roles = section(bundle, "roles")
    assert roles["id-role-claims-manager"] == {
        "id": "id-role-claims-manager",
        "name": "Claims Manager",
        "executive": True,
        "unit": "id-org-claims",
    }
    assert roles["id-role-insurant"] == {"id": "id-role-insurant", "name": "Insurant"}


def test_application_components_become_systems_or_models_with_dependencies(archisurance) -> None:
    bundle, _ = archisurance
    assert section(bundle, "systems") == {
        "id-app-crm": {
            "id": "id-app-crm",
            "name": "CRM System",
            "stage": "production",
            "depends_on": ["id-app-policy"],  # Serving policy -> crm: the served depends on the server
            "reads": ["id-data-customer"],
            "properties": {"vendor name": "Salesforce"},
        },
        "id-app-policy": {"id": "id-app-policy", "name": "Home & Away Policy Administration", "stage": "production"},
    }
    assert section(bundle, "models") == {
        "id-app-claims-ai": {
            "id": "id-app-claims-ai",
            "name": "Claim Triage Model",
            "description": "Scores incoming claims for fraud risk.",
            "stage": "pilot",
            "risk_tier": "high",
            "owner": "id-role-claims-manager",
            "change_approvers": ["id-role-claims-manager"],
            "consumes": ["id-data-customer"],
            "depends_on": ["id-app-crm"],  # Flow crm -> model: the target depends on the source
        }
    }


def test_processes_become_workflows_with_owner_systems_uses_and_reads(archisurance) -> None:
    bundle, _ = archisurance
    assert section(bundle, "workflows") == {
        "id-proc-handle-claim": {
            "id": "id-proc-handle-claim",
            "name": "Handle Claim",
            "stage": "production",
            "owner": "id-role-claims-handler",
            "uses": ["id-app-claims-ai"],
            "reads": ["id-bo-claim"],
            "systems": ["id-app-crm"],
        },
        "id-fn-customer-care": {"id": "id-fn-customer-care", "name": "Customer Care", "stage": "production"},
    }
    assert section(bundle, "data_domains") == {
        "id-data-customer": {"id": "id-data-customer", "name": "Customer File Data", "classification": "confidential"},
        "id-bo-claim": {"id": "id-bo-claim", "name": "Claim"},
    }


def test_summary_counts_what_had_no_place_by_archimate_type(archisurance) -> None:
    _, summary = archisurance
    assert dict(summary.unplaced) == {
        "Node": 2,
        "Goal": 1,
        "BusinessEvent": 1,
        "Location": 1,
        "view (diagram)": 2,
        "ServingRelationship": 1,  # node -> application: technology has no place
        "TriggeringRelationship": 1,
        "InfluenceRelationship": 1,
        "AssociationRelationship": 1,
    }
    assert dict(summary.written) == {
        "units": 3,
        "people": 2,
        "roles": 3,
        "data_domains": 2,
        "models": 1,
        "workflows": 2,
        "systems": 2,
    }
    assert dict(summary.defaults) == {
        "systems.stage = production (no stage property)": 1,
        "workflows.stage = production (no stage property)": 1,
    }


def test_a_dangling_reference_and_a_refused_value_are_left_out_and_listed(archisurance) -> None:
    _, summary = archisurance
    assert [str(x) for x in sorted(summary.left_out)] == [
        "archisurance.xml#id-app-claims-ai: models.change_approvers: 'id-role-ghost' resolves to nothing in the source",
        "archisurance.xml#id-bo-claim: data_domains.classification: 'secret': "
        "Input should be 'public', 'internal', 'confidential' or 'restricted'",
    ]


def test_exchange_2_1_and_archi_native_files_give_the_same_bundle() -> None:
    older, older_summary = import_archimate(DATA / "archisurance-2.1.xml")
    native, native_summary = import_archimate(DATA / "archisurance.archimate")
    assert older == native
    assert (
        dict(older_summary.unplaced)
        == dict(native_summary.unplaced)
        == {
            "Device": 1,
            "RealizationRelationship": 1,  # device -> application component
            "view (diagram)": 1,
        }
    )
    assert section(older, "models") == {
        "id-fraud": {  # tom:kind: model; 2.1's UsedBy is 3.x's Serving
            "id": "id-fraud",
            "name": "Fraud Model",
            "stage": "experiment",
            "consumes": ["id-claim-data"],
            "depends_on": ["id-crm"],
        }
    }
    assert section(older, "roles") == {
        "id-handler": {"id": "id-handler", "name": "Claims Handler", "unit": "id-claims"}
    }


def test_imported_bundle_loads(archisurance, tmp_path: Path, db: Database, scenario: str) -> None:
    bundle, _ = archisurance
    dump = load(db, bundle, tmp_path, scenario)
    assert len(dump["nodes"]) == 15
    assert ("HOLDS", "id-p-jane", "id-role-claims-manager") in dump["relationships"]
    assert ("DEPENDS_ON", "id-app-claims-ai", "id-app-crm") in dump["relationships"]


def test_a_file_that_is_not_archimate_is_refused_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text('<?xml version="1.0"?><catalog xmlns="urn:x"><item/></catalog>')
    with pytest.raises(SourceError) as e:
        import_archimate(path)
    assert [str(p) for p in e.value.problems] == [
        "other.xml: model: not an ArchiMate model (root 'catalog' in namespace 'urn:x'); "
        "expected an Open Group exchange file (2.1 or 3.x) or an Archi .archimate file"
    ]


def test_malformed_xml_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text('<?xml version="1.0"?>\n<model>\n  <elements>\n</model>\n')
    with pytest.raises(SourceError) as e:
        import_archimate(path)
    assert len(e.value.problems) == 1
    assert e.value.problems[0].place == "broken.xml:4"
    assert e.value.problems[0].field == "xml"


def _exchange(tmp_path: Path, elements: str, relationships: str = "") -> Path:
    path = tmp_path / "model.xml"
    path.write_text(
        '<?xml version="1.0"?>\n'
        '<model xmlns="http://www.opengroup.org/xsd/archimate/3.0/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" identifier="m">'
        f"<name>M</name><elements>{elements}</elements>"
        + (f"<relationships>{relationships}</relationships>" if relationships else "")
        + "</model>"
    )
    return path


def test_an_identifier_declared_twice_is_refused_not_silently_replaced(tmp_path: Path) -> None:
    path = _exchange(
        tmp_path,
        '<element identifier="a" xsi:type="ApplicationComponent"><name>Claims app</name></element>'
        '<element identifier="a" xsi:type="BusinessRole"><name>Claims lead</name></element>'
        '<element identifier="b" xsi:type="BusinessRole"><name>Owner</name></element>',
        '<relationship identifier="b" xsi:type="Serving" source="a" target="a"/>',
    )
    with pytest.raises(SourceError) as e:
        import_archimate(path)
    assert [str(p) for p in e.value.problems] == [
        "model.xml#a: identifier: declared twice (a ApplicationComponent and a BusinessRole); "
        "an identifier names one thing",
        "model.xml#b: identifier: declared twice (a BusinessRole and a Serving relationship); "
        "an identifier names one thing",
    ]


def test_a_relationship_to_a_missing_element_is_left_out_with_its_place(tmp_path: Path) -> None:
    path = _exchange(
        tmp_path,
        '<element identifier="app" xsi:type="ApplicationComponent"><name>Claims app</name></element>',
        '<relationship identifier="r1" xsi:type="Serving" source="gone" target="app"/>',
    )
    bundle, summary = import_archimate(path)
    assert [(x.place, x.what, x.reason) for x in summary.left_out] == [
        ("model.xml#r1", "ServingRelationship", "'gone' resolves to no element of the model")
    ]
    assert summary.unplaced == {}
    assert "depends_on" not in section(bundle, "systems")["app"]
