"""Catalog 1.1 behaviour beyond the fixtures: findings without subjects, details.missing, severity,
and the one definition of "effectively holds" (queries/authority.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from graph.db import Database
from graph.history import physical_name
from loaders import load_bundle
from queries.authority import effective_holders
from queries.catalog import CatalogError, load_catalog, load_check_file
from queries.runner import run_check, run_checks

AS_OF = date(2026, 11, 22)


def _load(db: Database, tmp_path: Path, scenario: str, text: str) -> None:
    path = tmp_path / "bundle.yaml"
    path.write_text(text, encoding="utf-8")
    load_bundle(db, path, scenario)


def test_without_meta_the_tom_checks_give_findings_without_subjects(
    db: Database, tmp_path: Path, scenario: str
) -> None:
    _load(db, tmp_path, scenario, "units: [{id: u-1, name: Group}]\n")
    result = run_checks(db, load_catalog(), scenario, AS_OF, only=["tom-without-owner", "tom-review-overdue"])
    assert [(f["check"], f["subjects"], f["accountable"], f["message"]) for f in result["findings"]] == [
        ("tom-without-owner", [], None, "The operating model has no owner"),
        ("tom-review-overdue", [], None, "The operating model has never been reviewed as a whole"),
    ]


def test_policy_findings_list_what_is_missing_in_details(db: Database, tmp_path: Path, scenario: str) -> None:
    _load(
        db,
        tmp_path,
        scenario,
        "roles: [{id: r-1, name: Owner}]\n"
        "policies: [{id: pol, risk_tier: high, require_rights: [owner, change_approvers, shutdown_authority],"
        " require_evidence: [model_card, fria]}]\n"
        "models: [{id: m-1, name: Score, stage: production, risk_tier: high, owner: r-1}]\n",
    )
    catalog = load_catalog()
    rights = run_check(db, catalog.get("policy-missing-right"), scenario, AS_OF)
    evidence = run_check(db, catalog.get("policy-missing-evidence"), scenario, AS_OF)
    assert [(f["subjects"], f["accountable"], f["details"]) for f in rights] == [
        (["m-1"], "r-1", {"missing": ["change_approvers", "shutdown_authority"]})
    ]
    assert rights[0]["message"] == (
        "Score (high risk) lacks decision rights its policy requires: change_approvers, shutdown_authority"
    )
    assert [f["details"] for f in evidence] == [{"missing": ["model_card", "fria"]}]


def test_delegated_self_approval_is_critical_only_for_high_risk_models(db: Database, scenario: str) -> None:
    fixture = Path(__file__).resolve().parents[2] / "queries" / "checks" / "delegated-self-approval.positive.yaml"
    load_bundle(db, fixture, scenario)
    findings = run_check(db, load_catalog().get("delegated-self-approval"), scenario, AS_OF)
    assert sorted((f["subjects"][0], f["severity"]) for f in findings) == [
        ("m-high", "critical"),
        ("m-pilot", "high"),
    ]


def test_effective_holders_follow_delegations_in_force_one_step(db: Database, tmp_path: Path, scenario: str) -> None:
    _load(
        db,
        tmp_path,
        scenario,
        "roles: [{id: r-cro, name: CRO}, {id: r-mrm, name: MRM}, {id: r-dep, name: Deputy}]\n"
        "people: [{id: p-cro, name: C, holds: [r-cro]}, {id: p-mrm, name: M, holds: [r-mrm]},"
        " {id: p-dep, name: D, holds: [r-dep]}, {id: p-ext, name: E}]\n"
        "models: [{id: m-1, name: Score, stage: production, shutdown_authority: [r-cro]}]\n"
        "delegations:\n"
        "  - {id: dl-role, from: r-cro, to: r-mrm, right: shutdown, valid_to: 2026-11-22}\n"
        "  - {id: dl-old, from: r-cro, to: p-ext, right: shutdown, valid_to: 2026-11-21}\n"
        "  - {id: dl-other, from: r-cro, to: p-ext, right: change_approval}\n"
        "  # r-mrm received the right by delegation only: it cannot pass it on\n"
        "  - {id: dl-again, from: r-mrm, to: r-dep, right: shutdown}\n",
    )
    assert effective_holders(db, physical_name(db, scenario), "m-1", "shutdown", AS_OF) == [
        {"holder": "p-cro", "giver": "r-cro", "delegation": None},
        {"holder": "p-mrm", "giver": "r-cro", "delegation": "dl-role"},
    ]
    assert effective_holders(db, physical_name(db, scenario), "m-1", "shutdown", date(2026, 11, 23)) == [
        {"holder": "p-cro", "giver": "r-cro", "delegation": None},
    ]
    with pytest.raises(ValueError, match="unknown decision right 'veto'"):
        effective_holders(db, physical_name(db, scenario), "m-1", "veto", AS_OF)


def test_access_approval_defaults_to_the_domain_owner(db: Database, tmp_path: Path, scenario: str) -> None:
    _load(
        db,
        tmp_path,
        scenario,
        "roles: [{id: r-owner, name: Owner}, {id: r-dpo, name: DPO}]\n"
        "people: [{id: p-owner, name: O, holds: [r-owner]}, {id: p-dpo, name: P, holds: [r-dpo]}]\n"
        "data_domains: [{id: d-1, name: Claims, owners: [r-owner]}]\n"
        "models: [{id: m-1, name: Score, stage: pilot}, {id: m-2, name: Other, stage: pilot}]\n"
        "access: [{id: a-1, data_domain: d-1, consumer: m-1, status: pending},"
        " {id: a-2, data_domain: d-1, consumer: m-2, status: pending}]\n"
        "delegations: [{id: dl-1, from: r-owner, to: r-dpo, right: access_approval, models: [m-1]}]\n",
    )
    assert effective_holders(db, physical_name(db, scenario), "a-1", "access_approval", AS_OF) == [
        {"holder": "p-dpo", "giver": "r-owner", "delegation": "dl-1"},
        {"holder": "p-owner", "giver": "r-owner", "delegation": None},
    ]
    assert [
        r["holder"] for r in effective_holders(db, physical_name(db, scenario), "a-2", "access_approval", AS_OF)
    ] == ["p-owner"]


def test_an_unknown_fragment_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "my-check.yaml"
    path.write_text(
        "id: my-check\nrevision: 1\ntitle: T\nseverity: low\nrationale: R\nremediation: X\n"
        "cypher: |\n  MATCH (m:Model {scenario: $scenario})\n  {{who_knows}}\n"
        "  RETURN [m.id] AS subjects, null AS accountable, 'x' AS message\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as caught:
        load_check_file(path)
    assert caught.value.problems == [
        f"{path}:7: cypher: unknown fragment {{{{who_knows}}}}"
        " (known: effective_holders, effective_holders_on_day, request_answered)"
    ]
