"""`import backstage` (import.md, "Backstage"): groups, users and owner roles, components as
systems or models, lifecycle to stage, Backstage's entity reference rules, and what had no place."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.db import Database
from importers.backstage import import_backstage, parse_ref
from importers.safe import SourceError
from tests.importers.helpers import DATA, load, section

CATALOG = DATA / "backstage"


@pytest.fixture(scope="module")
def catalog() -> tuple[dict, object]:
    return import_backstage(CATALOG)


def test_entity_references_take_default_kind_and_namespace_and_ignore_case() -> None:
    assert parse_ref("team-a", "group", "default") == ("group", "default", "team-a")
    assert parse_ref("User:Research/Jane", "group", "default") == ("user", "research", "jane")
    assert parse_ref("default/ML-Platform", "group", "research") == ("group", "default", "ml-platform")
    assert parse_ref("artists-db", "component", "research") == ("component", "research", "artists-db")


def test_groups_become_units_each_with_an_owner_role_held_by_its_members(catalog) -> None:
    bundle, _ = catalog
    units = section(bundle, "units")
    assert units["group:acme-corp"] == {
        "id": "group:acme-corp",
        "name": "ACME Corp",
        "description": "The acme-corp organization",
    }
    assert units["group:ml-platform"] == {
        "id": "group:ml-platform",
        "name": "ml-platform",
        "parent": "group:infrastructure",  # written `Group:Infrastructure`
        "properties": {"cost-centre": "CC-42"},
    }
    roles = section(bundle, "roles")
    assert roles["group:team-a:owner"] == {"id": "group:team-a:owner", "name": "team-a owner", "unit": "group:team-a"}
    people = section(bundle, "people")
    # memberOf, and the group's own `members` list
    assert people["user:janelle.dawe"]["holds"] == ["group:team-a:owner", "group:ml-platform:owner"]
    assert people["user:breanna.davison"] == {
        "id": "user:breanna.davison",
        "name": "Breanna Davison",
        "email": "breanna-davison@example.com",
        # she owns a component herself, so she holds her own role
        "holds": ["group:team-a:owner", "user:breanna.davison:role"],
    }
    assert roles["user:breanna.davison:role"] == {
        "id": "user:breanna.davison:role",
        "name": "Breanna Davison (own role)",
    }


def test_components_become_systems_or_models_with_stage_owner_and_dependencies(catalog) -> None:
    bundle, _ = catalog
    systems = section(bundle, "systems")
    assert systems["component:artist-web"] == {
        "id": "component:artist-web",
        "name": "artist-web",
        "description": "The place to be, for great artists",
        "stage": "production",
        "owner": "group:team-a:owner",
        # dependsOn; the provider of a consumed API; and dependencyOf written on lyrics-llm
        "depends_on": ["resource:artists-db", "component:recommender", "component:lyrics-llm"],
        "tags": ["java", "website"],
    }
    # the same name in another namespace is another entity
    assert systems["component:research.artist-web"]["owner"] == "group:ml-platform:owner"
    models = section(bundle, "models")
    assert models == {
        "component:recommender": {  # spec.type ml-model; experimental -> pilot
            "id": "component:recommender",
            "name": "recommender",
            "stage": "pilot",
            "owner": "user:breanna.davison:role",
            "depends_on": ["resource:artists-db"],
        },
        "component:lyrics-llm": {  # annotation tomgraph.io/kind: model; deprecated -> retired
            "id": "component:lyrics-llm",
            "name": "lyrics-llm",
            "stage": "retired",
        },
        "airesource:research.playlist-agent": {
            "id": "airesource:research.playlist-agent",
            "name": "playlist-agent",
            "stage": "production",
            "owner": "group:ml-platform:owner",
            "depends_on": ["component:research.artist-web"],  # default namespace: the entity's own
        },
    }
    assert systems["system:artist-engagement-portal"]["stage"] == "production"
    assert systems["resource:artists-db"]["owner"] == "group:team-a:owner"


def test_summary_counts_what_had_no_place_and_lists_what_resolved_to_nothing(catalog) -> None:
    _, summary = catalog
    assert dict(summary.unplaced) == {
        "API": 1,
        "Domain": 1,
        "Component annotation github.com/project-slug": 1,
        "Component spec.system": 1,
        "System spec.domain": 1,
        "Group spec.type": 4,
    }
    assert dict(summary.defaults) == {
        "systems.stage = production (lifecycle 'development')": 1,
        "systems.stage = production (no lifecycle)": 2,
    }
    assert [str(x) for x in sorted(summary.left_out)] == [
        "components/catalog-info.yaml:17: systems.depends_on: 'component:ghost-service' "
        "resolves to nothing in the catalog",
        "components/catalog-info.yaml:17: systems.depends_on: API 'wayback-api' has no provider in the catalog",
        "components/catalog-info.yaml:62: models.owner: 'ghost-team' resolves to nothing in the catalog",
        "org.yaml:54: people.holds: 'ghost-team' resolves to nothing in the catalog",
    ]
    assert dict(summary.written) == {"units": 4, "roles": 5, "people": 3, "models": 3, "systems": 4}


def test_a_single_catalog_file_is_read_too() -> None:
    bundle, summary = import_backstage(CATALOG / "org.yaml")
    assert sorted(section(bundle, "units")) == [
        "group:acme-corp",
        "group:infrastructure",
        "group:ml-platform",
        "group:team-a",
    ]
    assert dict(summary.written) == {"units": 4, "roles": 4, "people": 3}


def test_imported_catalog_loads(catalog, tmp_path: Path, db: Database, scenario: str) -> None:
    bundle, _ = catalog
    dump = load(db, bundle, tmp_path, scenario)
    assert len(dump["nodes"]) == 19
    assert ("OWNS", "group:team-a:owner", "component:artist-web") in dump["relationships"]


def test_a_document_that_is_not_an_entity_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: ok}\n---\njust text\n---\n"
        "kind: Group\nmetadata: {title: no name}\n"
    )
    with pytest.raises(SourceError) as e:
        import_backstage(tmp_path)
    assert [str(p) for p in e.value.problems] == [
        "catalog-info.yaml:5: kind: not a catalog entity (needs kind and metadata)",
        "catalog-info.yaml:7: metadata.name: required",
    ]
