"""Format 1.1 input errors: each names its place and field (bundle-format.md, "Format 1.1 additions")."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders import BundleError, read_bundle


def problems_of(path: Path) -> list[str]:
    with pytest.raises(BundleError) as caught:
        read_bundle(path)
    return [str(p) for p in caught.value.problems]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_aliases_are_unique_across_people_and_policies_one_per_tier(tmp_path: Path) -> None:
    bundle = write(
        tmp_path / "b.yaml",
        "people:\n"
        "  - {id: p-a, name: A, aliases: [ana, a.o]}\n"
        "  - {id: p-b, name: B, aliases: [bo, ana]}\n"
        "policies:\n"
        "  - {id: pol-1, risk_tier: high}\n"
        "  - {id: pol-2, risk_tier: high}\n",
    )
    assert problems_of(bundle) == [
        "b.yaml:3: aliases[1]: 'ana' is already given at b.yaml:2; it must be unique",
        "b.yaml:6: risk_tier: 'high' is already given at b.yaml:5; it must be unique",
    ]


def test_int_fields_take_whole_numbers_only(tmp_path: Path) -> None:
    bundle = write(
        tmp_path / "b.yaml",
        "policies:\n  - {id: pol-1, risk_tier: high, review_max_age_days: '30'}\n"
        "  - {id: pol-2, risk_tier: limited, approval_max_days: 2.5}\n",
    )
    assert problems_of(bundle) == [
        "b.yaml:2: review_max_age_days: '30' is not a whole number",
        "b.yaml:3: approval_max_days: 2.5 is not a whole number",
    ]
    directory = tmp_path / "dir"
    directory.mkdir()
    write(directory / "policies.csv", "id,risk_tier,review_max_age_days\npol-1,high,365\npol-2,limited,a year\n")
    assert problems_of(directory) == ["policies.csv:row 3: review_max_age_days: 'a year' is not a whole number"]


def test_a_reference_of_two_kinds_names_both_and_any_entity_says_so(tmp_path: Path) -> None:
    bundle = write(
        tmp_path / "b.yaml",
        "units: [{id: u-1, name: U}]\n"
        "models: [{id: m-1, name: M, stage: pilot, depends_on: [u-1]}]\n"
        "initiatives: [{id: ini-1, name: I, status: proposed, delivers: [nothing]}]\n"
        "delegations: [{id: dl-1, to: u-1, right: veto}]\n",
    )
    assert problems_of(bundle) == [
        "b.yaml:2: depends_on[0]: 'u-1' is a unit, expected a model or a system",
        "b.yaml:3: delivers[0]: 'nothing' does not exist; expected an entity",
        "b.yaml:4: from: required field is missing",
        "b.yaml:4: right: 'veto' is not one of 'change_approval', 'deployment_approval', 'shutdown' or "
        "'access_approval'",
        "b.yaml:4: to: 'u-1' is a unit, expected a role or a person",
    ]


def test_meta_is_checked_like_an_item_in_every_form(tmp_path: Path) -> None:
    bundle = write(
        tmp_path / "b.yaml",
        "format: 1.1\nmeta:\n  owner: u-1\n  reviewed: soon\n  owners: []\nunits: [{id: u-1, name: U}]\n",
    )
    assert problems_of(bundle) == [
        "b.yaml:3: owner: 'u-1' is a unit, expected a role",
        "b.yaml:3: owners: unknown field",
        "b.yaml:3: reviewed: 'soon' is not a date YYYY-MM-DD",
    ]
    directory = tmp_path / "dir"
    directory.mkdir()
    write(directory / "roles.csv", "id,name\nr-1,R\n")
    write(directory / "meta.csv", "field,value\nowner,r-1\nreviewed,2026-13-01\nowner,r-1\n")
    assert problems_of(directory) == [
        "meta.csv:row 2: reviewed: '2026-13-01' is not a real date",
        "meta.csv:row 4: owner: duplicate field",
    ]
    write(directory / "meta.csv", "key,value\nowner,r-1\n")
    assert problems_of(directory) == [
        "meta.csv:row 1: meta: the meta table has exactly the two columns field and value"
    ]


def test_formats_1_and_11_are_read_and_others_refused(tmp_path: Path) -> None:
    assert read_bundle(write(tmp_path / "a.yaml", "format: 1.1\nunits: [{id: u, name: U}]\n")).count() == 1
    assert read_bundle(write(tmp_path / "b.json", '{"format": 1, "units": []}')).count() == 0
    assert problems_of(write(tmp_path / "c.yaml", "format: 2\nunits: []\n")) == [
        "c.yaml:1: format: unsupported format 2; this tomgraph reads formats 1 and 1.1"
    ]
