"""Running checks on a real Neo4j: dates, severities, result shape, order, custom checks."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from graph.consistent import consistent_view
from graph.db import Database
from graph.history import physical_name
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.runner import CheckRunError, run_check, run_checks, run_checks_in
from queries.waivers import UnknownScenarioError
from tests.queries.helpers import MODEL_NAMES, write_bundle, write_check

AS_OF = date(2026, 11, 22)
CHECKS_WITH_FINDINGS = [
    "model-without-change-approver",
    "self-approved-model",
    "expired-vendor-contract",
    "self-approved-model",
    "tom-without-owner",
    "overdue-model-review",
    "tom-review-overdue",
    "use-case-without-kpi",
]
"""The checks of the findings on the `risky` bundle, in the order of the sorted findings."""


@pytest.fixture
def risky(tmp_path: Path, db: Database, scenario: str) -> str:
    load_bundle(db, write_bundle(tmp_path / "bundle.yaml"), scenario)
    return scenario


def _subjects(db: Database, check_id: str, scenario: str, as_of: date = AS_OF) -> list[list[str]]:
    findings = run_check(db, load_catalog().get(check_id), scenario, as_of)
    return sorted(f["subjects"] for f in findings)


def _severities(db: Database, check_id: str, scenario: str) -> dict[str, str]:
    findings = run_check(db, load_catalog().get(check_id), scenario, AS_OF)
    return {f["subjects"][0]: f["severity"] for f in findings}


def test_overdue_review_depends_on_the_as_of_date(db: Database, risky: str) -> None:
    # m-high was last reviewed on 2025-11-21: 365 days before 2026-11-21, 366 before 2026-11-22.
    by_day = {day: _subjects(db, "overdue-model-review", risky, day) for day in (date(2026, 11, 21), AS_OF)}
    assert by_day == {date(2026, 11, 21): [], AS_OF: [["m-high"]]}


def test_expired_contract_depends_on_the_as_of_date(db: Database, risky: str) -> None:
    # Acme's contract ends on 2026-06-30.
    by_day = {day: _subjects(db, "expired-vendor-contract", risky, day) for day in (date(2026, 6, 30), AS_OF)}
    assert by_day == {date(2026, 6, 30): [], AS_OF: [["v-acme"]]}


def test_missing_change_approver_is_critical_for_a_high_risk_model(db: Database, risky: str) -> None:
    assert _severities(db, "model-without-change-approver", risky) == {"m-unapproved": "critical"}


def test_self_approval_is_critical_only_for_high_risk_models(db: Database, risky: str) -> None:
    assert _severities(db, "self-approved-model", risky) == {"m-high": "critical", "m-limited": "high"}


def test_a_finding_has_exactly_the_spec_shape(db: Database, risky: str) -> None:
    findings = run_check(db, load_catalog().get("self-approved-model"), risky, AS_OF)
    assert next(f for f in findings if f["subjects"][0] == "m-high") == {
        "check": "self-approved-model",
        "severity": "critical",
        "subjects": ["m-high", "r-ds"],
        "accountable": "r-uw",
        "message": "Underwriting risk score is developed and change-approved by Data Science Lead",
        "remediation": "Give change approval to a role independent of the model's developers.",
    }


def test_a_run_without_waivers_has_exactly_the_spec_keys(db: Database, risky: str) -> None:
    result = run_checks(db, load_catalog(), risky, AS_OF)
    assert (set(result), result["scenario"], result["as_of"]) == (
        {"scenario", "as_of", "findings"},
        risky,
        "2026-11-22",
    )


def test_findings_are_sorted_by_severity_then_check_then_subjects(db: Database, risky: str) -> None:
    result = run_checks(db, load_catalog(), risky, AS_OF)
    assert [(f["severity"], f["check"], f["subjects"]) for f in result["findings"]] == [
        ("critical", "model-without-change-approver", ["m-unapproved"]),
        ("critical", "self-approved-model", ["m-high", "r-ds"]),
        ("high", "expired-vendor-contract", ["v-acme"]),
        ("high", "self-approved-model", ["m-limited", "r-ds"]),
        # a bundle without `meta` has no owner and no review of the TOM (catalog 1.1): no subjects
        ("high", "tom-without-owner", []),
        ("medium", "overdue-model-review", ["m-high"]),
        ("medium", "tom-review-overdue", []),
        ("medium", "use-case-without-kpi", ["u-uw"]),
    ]


def test_only_runs_the_named_checks(db: Database, risky: str) -> None:
    result = run_checks(db, load_catalog(), risky, AS_OF, only=["overdue-model-review"])
    assert [(f["check"], f["subjects"]) for f in result["findings"]] == [("overdue-model-review", ["m-high"])]


def test_an_unloaded_scenario_is_an_error(db: Database, scenario: str) -> None:
    with pytest.raises(UnknownScenarioError, match=f"^scenario '{scenario}' has not been loaded$"):
        run_checks(db, load_catalog(), scenario, AS_OF)


def test_vendor_concentration_needs_vendor_min_models(tmp_path: Path, db: Database, scenario: str) -> None:
    two_models = {
        "vendors": [{"id": "v-acme", "name": "Acme AI"}],
        "models": [
            {"id": f"m-{i}", "name": f"Model {i}", "stage": "production", "risk_tier": "high", "vendor": "v-acme"}
            for i in (1, 2)
        ],
    }
    load_bundle(db, write_bundle(tmp_path / "two.yaml", two_models), scenario)
    assert _subjects(db, "vendor-concentration", scenario) == []


def test_custom_check_directory_runs_alongside_the_builtin_checks(tmp_path: Path, db: Database, risky: str) -> None:
    write_check(
        tmp_path / "custom",
        "pilot-model",
        "MATCH (m:Model {scenario: $scenario}) WHERE m.stage = $stage "
        "RETURN [m.id] AS subjects, null AS accountable, m.name + ' is a pilot' AS message",
        parameters={"stage": "pilot"},
    )
    result = run_checks(db, load_catalog([tmp_path / "custom"]), risky, AS_OF, only=["pilot-model"])
    assert result["findings"] == [
        {
            "check": "pilot-model",
            "severity": "medium",
            "subjects": [subject],
            "accountable": None,
            "message": f"{name} is a pilot",
            "remediation": "Fix what pilot-model finds.",
        }
        for subject, name in (("m-limited", "Claims triage"), ("m-unapproved", "Fraud score"))
    ]


def test_custom_check_that_writes_is_refused_and_changes_nothing(tmp_path: Path, db: Database, risky: str) -> None:
    path = write_check(
        tmp_path / "checks",
        "sneaky-write",
        "MATCH (m:Model {scenario: $scenario}) SET m.name = 'renamed' "
        "RETURN [m.id] AS subjects, null AS accountable, 'x' AS message",
    )
    refused = (
        f"^check sneaky-write \\({re.escape(str(path))}\\): "
        "a check must be a read-only query; Neo4j's EXPLAIN says this one writes$"
    )
    with pytest.raises(CheckRunError, match=refused):
        run_checks(db, load_catalog([tmp_path / "checks"]), risky, AS_OF, only=["sneaky-write"])
    names = db.read(
        "MATCH (m:Model {scenario: $s}) RETURN m.name AS name ORDER BY name", {"s": physical_name(db, risky)}
    )
    assert [r["name"] for r in names] == MODEL_NAMES


def test_custom_check_returning_wrong_columns_names_its_file(tmp_path: Path, db: Database, risky: str) -> None:
    path = write_check(tmp_path / "checks", "bad-columns", "MATCH (m:Model {scenario: $scenario}) RETURN m.id AS id")
    with pytest.raises(CheckRunError) as caught:
        run_checks(db, load_catalog([tmp_path / "checks"]), risky, AS_OF, only=["bad-columns"])
    assert str(caught.value) == f"check bad-columns ({path}): a row has no column accountable, message, subjects"


def test_rows_with_the_same_subjects_in_any_order_are_one_finding(tmp_path: Path, db: Database, risky: str) -> None:
    write_check(
        tmp_path / "checks",
        "twice",
        "MATCH (m:Model {scenario: $scenario, id: 'm-high'}) UNWIND [['m-high', 'r-ds'], ['r-ds', 'm-high']] AS s "
        "RETURN s AS subjects, null AS accountable, 'twice' AS message",
    )
    result = run_checks(db, load_catalog([tmp_path / "checks"]), risky, AS_OF, only=["twice"])
    assert [f["subjects"] for f in result["findings"]] == [["m-high", "r-ds"]]


def test_a_row_cannot_lower_the_default_severity(tmp_path: Path, db: Database, risky: str) -> None:
    write_check(
        tmp_path / "checks",
        "lowered",
        "MATCH (m:Model {scenario: $scenario, id: 'm-high'}) "
        "RETURN [m.id] AS subjects, null AS accountable, 'x' AS message, 'low' AS severity",
        severity="high",
        escalation={"critical": "its row says so"},  # says when it raises its severity
    )
    result = run_checks(db, load_catalog([tmp_path / "checks"]), risky, AS_OF, only=["lowered"])
    assert [f["severity"] for f in result["findings"]] == ["high"]


def test_custom_check_can_reuse_the_cycle_post_processor(tmp_path: Path, db: Database, scenario: str) -> None:
    loop = {
        "roles": [
            {"id": "r-a", "name": "Head of Claims", "reports_to": "r-b"},
            {"id": "r-b", "name": "Head of Operations", "reports_to": "r-a"},
            {"id": "r-c", "name": "Claims Lead", "reports_to": "r-a"},
        ]
    }
    load_bundle(db, write_bundle(tmp_path / "loop.yaml", loop), scenario)
    write_check(
        tmp_path / "checks",
        "reporting-loop",
        "MATCH (a:Role {scenario: $scenario})-[:REPORTS_TO]->(b:Role) "
        "RETURN collect({source: a.id, source_name: a.name, target: b.id, target_name: b.name}) AS waits",
        postprocess="waits-on-cycles",
    )
    result = run_checks(db, load_catalog([tmp_path / "checks"]), scenario, AS_OF, only=["reporting-loop"])
    assert [(f["subjects"], f["message"]) for f in result["findings"]] == [
        (["r-a", "r-b"], "Custom check reporting-loop: Head of Claims and Head of Operations")
    ]


def test_post_processed_check_must_return_one_row_of_its_list(tmp_path: Path, db: Database, risky: str) -> None:
    path = write_check(
        tmp_path / "checks",
        "row-per-edge",
        "MATCH (a:Role {scenario: $scenario})-[:ESCALATES_TO]->(b:Role) "
        "RETURN a.id AS source, a.name AS source_name, b.id AS target, b.name AS target_name",
        postprocess="waits-on-cycles",
    )
    with pytest.raises(CheckRunError) as caught:
        run_checks(db, load_catalog([tmp_path / "checks"]), risky, AS_OF, only=["row-per-edge"])
    assert str(caught.value) == f"check row-per-edge ({path}): must return exactly one row with the single column waits"


def test_custom_check_with_a_message_template_fills_it_from_the_row(tmp_path: Path, db: Database, risky: str) -> None:
    write_check(
        tmp_path / "custom",
        "pilot-model",
        "MATCH (m:Model {scenario: $scenario}) WHERE m.stage = 'pilot' "
        "RETURN [m.id] AS subjects, null AS accountable, "
        "CASE m.risk_tier WHEN 'high' THEN 'high-risk' ELSE 'other' END AS variant, m.name AS model, "
        "m.risk_tier AS tier",
        message={"high-risk": "{model} is a high-risk pilot", "other": "{model} is a {tier} pilot"},
    )
    result = run_checks(db, load_catalog([tmp_path / "custom"]), risky, AS_OF, only=["pilot-model"])
    assert [(f["subjects"], f["message"]) for f in result["findings"]] == [
        (["m-limited"], "Claims triage is a limited pilot"),
        (["m-unapproved"], "Fraud score is a high-risk pilot"),
    ]


HOSTILE_NAMES = {
    "roles": [
        {"id": "r-a", "name": "{model}", "executive": True},
        {"id": "r-b", "name": "{0} {}", "executive": True},
    ],
    "people": [{"id": "p-a", "name": "{{person}} %s", "holds": ["r-a", "r-b"]}],
    "models": [
        {
            "id": "m-x",
            "name": "{0} {{1}} {model!r} }{",
            "stage": "pilot",
            "risk_tier": "limited",
            "owner": "r-a",
            "developers": ["r-a"],
            "change_approvers": ["r-a", "r-b"],
        },
        {"id": "m-y", "name": "{model.__class__}", "stage": "pilot", "risk_tier": "limited", "owner": "r-a"},
    ],
}


def test_names_with_braces_are_printed_as_they_are(tmp_path: Path, db: Database, scenario: str) -> None:
    load_bundle(db, write_bundle(tmp_path / "hostile.yaml", HOSTILE_NAMES), scenario)
    only = ["self-approved-model", "model-without-change-approver"]
    result = run_checks(db, load_catalog(), scenario, AS_OF, only=only)
    assert [(f["subjects"], f["message"]) for f in result["findings"]] == [
        (["m-y"], "Nobody may approve changes to {model.__class__}"),
        (
            ["m-x", "r-a", "r-b"],
            "{0} {{1}} {model!r} }{ is developed and change-approved by {model}; {{person}} %s (as {model} and {0} {})",
        ),
    ]


def test_a_template_check_returning_a_message_column_names_its_file(tmp_path: Path, db: Database, risky: str) -> None:
    path = write_check(
        tmp_path / "checks",
        "both",
        "MATCH (m:Model {scenario: $scenario}) RETURN [m.id] AS subjects, null AS accountable, m.name AS model, "
        "m.name AS message",
        message="{model} twice",
    )
    with pytest.raises(CheckRunError) as caught:
        run_checks(db, load_catalog([tmp_path / "checks"]), risky, AS_OF, only=["both"])
    assert str(caught.value) == (
        f"check both ({path}): a row has a column message, but the check file's message template writes the text:"
        " return its fields (model) instead"
    )


def test_a_null_template_field_names_its_file(tmp_path: Path, db: Database, risky: str) -> None:
    path = write_check(
        tmp_path / "checks",
        "no-vendor",
        "MATCH (m:Model {scenario: $scenario, id: 'm-limited'}) OPTIONAL MATCH (m)-[:SUPPLIED_BY]->(v:Vendor) "
        "RETURN [m.id] AS subjects, null AS accountable, m.name AS model, v.name AS vendor",
        message="{model} comes from {vendor}",
    )
    with pytest.raises(CheckRunError) as caught:
        run_checks(db, load_catalog([tmp_path / "checks"]), risky, AS_OF, only=["no-vendor"])
    assert str(caught.value) == f"check no-vendor ({path}): message: column vendor must not be null"


def test_a_post_processed_custom_check_can_word_its_own_message(tmp_path: Path, db: Database, scenario: str) -> None:
    loop = {"roles": [{"id": "r-a", "name": "A", "escalates_to": "r-b"}, {"id": "r-b", "name": "B"}]}
    load_bundle(db, write_bundle(tmp_path / "loop.yaml", loop), scenario)
    write_check(
        tmp_path / "checks",
        "escalation-loop",
        "MATCH (a:Role {scenario: $scenario})-[:ESCALATES_TO]->(b:Role) "
        "RETURN collect({source: a.id, source_name: a.name, target: b.id, target_name: b.name}) "
        "+ collect({source: b.id, source_name: b.name, target: a.id, target_name: a.name}) AS waits",
        postprocess="waits-on-cycles",
        message="{members} wait on each other ({title})",
    )
    result = run_checks(db, load_catalog([tmp_path / "checks"]), scenario, AS_OF, only=["escalation-loop"])
    assert [f["message"] for f in result["findings"]] == ["A and B wait on each other (Custom check escalation-loop)"]


def test_checks_read_side_by_side_give_what_one_at_a_time_gives(db: Database, risky: str) -> None:
    catalog = load_catalog()
    with consistent_view(db, risky) as view:
        one_by_one = run_checks_in(view, catalog, AS_OF, workers=1)
    with consistent_view(db, risky) as view:
        side_by_side = run_checks_in(view, catalog, AS_OF, workers=2)
    assert [f["check"] for f in one_by_one["findings"]] == CHECKS_WITH_FINDINGS
    assert side_by_side == one_by_one


def test_a_failing_check_among_others_read_side_by_side_raises_its_error(
    tmp_path: Path, db: Database, risky: str
) -> None:
    path = write_check(
        tmp_path / "checks",
        "sneaky-write",
        "MATCH (m:Model {scenario: $scenario}) SET m.name = 'renamed' "
        "RETURN [m.id] AS subjects, null AS accountable, 'x' AS message",
    )
    catalog = load_catalog([tmp_path / "checks"])
    with pytest.raises(CheckRunError) as caught, consistent_view(db, risky) as view:
        run_checks_in(view, catalog, AS_OF, workers=2)
    assert str(caught.value) == (
        f"check sneaky-write ({path}): a check must be a read-only query; Neo4j's EXPLAIN says this one writes"
    )
    names = db.read(
        "MATCH (m:Model {scenario: $s}) RETURN m.name AS name ORDER BY name", {"s": physical_name(db, risky)}
    )
    assert [r["name"] for r in names] == MODEL_NAMES
