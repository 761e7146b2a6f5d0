"""Waivers: the strict file, their place in the graph, and how they mark findings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from graph.db import Database
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.findings import Finding, RunResult, gate_failures
from queries.runner import run_checks
from queries.waivers import (
    UnknownScenarioError,
    Waiver,
    WaiverError,
    apply_waivers,
    load_waivers_file,
    read_waivers,
    read_waivers_file,
    replace_waivers,
    role_problems,
)
from tests.queries.helpers import write_bundle

AS_OF = date(2026, 11, 22)

# Line numbers in the expected messages refer to this text.
WAIVERS = """\
- check: self-approved-model
  subjects: [r-ds, m-limited]
  accepted_by: r-uw
  reason: Pilot only; an independent approver is being hired.
  expires: 2026-12-31
- check: use-case-without-kpi
  subjects: [u-uw]
  accepted_by: r-uw
  reason: KPI being defined.
  expires: 2026-11-01
"""

SELF_APPROVAL_WAIVER = Waiver(
    "self-approved-model",
    ("m-limited", "r-ds"),
    "r-uw",
    "Pilot only; an independent approver is being hired.",
    date(2026, 12, 31),
)
KPI_WAIVER = Waiver("use-case-without-kpi", ("u-uw",), "r-uw", "KPI being defined.", date(2026, 11, 1))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return path


def _problems(path: Path, known_checks: list[str] | None = None) -> list[str]:
    with pytest.raises(WaiverError) as caught:
        load_waivers_file(path, known_checks)
    return caught.value.problems


def _finding(check: str, subjects: list[str], severity: str = "high") -> Finding:
    return {
        "check": check,
        "severity": severity,
        "subjects": subjects,
        "accountable": None,
        "message": "m",
        "remediation": "r",
    }


def test_waivers_file_loads_with_subjects_sorted_and_places_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, WAIVERS)
    waivers = load_waivers_file(path, known_checks=load_catalog().ids())
    assert (waivers, [w.place for w in waivers]) == ([SELF_APPROVAL_WAIVER, KPI_WAIVER], [f"{path}:1", f"{path}:6"])


def test_empty_waivers_file_means_no_waivers(tmp_path: Path) -> None:
    assert load_waivers_file(_write(tmp_path, "")) == []


def test_unknown_waiver_field_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, WAIVERS.replace("  reason: KPI", "  ticket: GOV-12\n  reason: KPI"))
    assert _problems(path) == [f"{path}:9: ticket: unknown field"]


def test_missing_waiver_field_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, WAIVERS.replace("  accepted_by: r-uw\n  reason: KPI", "  reason: KPI"))
    assert _problems(path) == [f"{path}:6: accepted_by: required field missing"]


def test_expiry_must_be_a_date(tmp_path: Path) -> None:
    path = _write(tmp_path, WAIVERS.replace("expires: 2026-11-01", "expires: next week"))
    assert _problems(path) == [f"{path}:10: expires: must be a date YYYY-MM-DD, got 'next week'"]


def test_subjects_must_be_a_non_empty_list(tmp_path: Path) -> None:
    path = _write(tmp_path, WAIVERS.replace("subjects: [u-uw]", "subjects: []"))
    assert _problems(path) == [f"{path}:7: subjects: list should have at least 1 item after validation, not 0"]


def test_a_second_waiver_for_the_same_finding_is_an_error(tmp_path: Path) -> None:
    again = WAIVERS.splitlines(keepends=True)[:5]
    path = _write(tmp_path, WAIVERS + "".join(again).replace("[r-ds, m-limited]", "[m-limited, r-ds]"))
    assert _problems(path) == [
        f"{path}:11: subjects: a waiver of self-approved-model for these subjects is already at {path}:1"
    ]


def test_unknown_check_id_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, WAIVERS.replace("check: use-case-without-kpi", "check: no-kpi"))
    assert _problems(path, load_catalog().ids()) == [f"{path}:6: check: unknown check id 'no-kpi'"]


def test_a_waivers_file_must_be_a_list(tmp_path: Path) -> None:
    path = _write(tmp_path, "check: use-case-without-kpi\n")
    assert _problems(path) == [f"{path}:1: a waivers file must be a list of waivers"]


def test_unexpired_waiver_marks_its_finding_in_any_subject_order() -> None:
    findings, expired = apply_waivers(
        [_finding("self-approved-model", ["m-limited", "r-ds"])], [SELF_APPROVAL_WAIVER], AS_OF, {"self-approved-model"}
    )
    assert (findings, expired) == (
        [
            {
                **_finding("self-approved-model", ["m-limited", "r-ds"]),
                "waived": {
                    "accepted_by": "r-uw",
                    "reason": "Pilot only; an independent approver is being hired.",
                    "expires": "2026-12-31",
                },
            }
        ],
        [],
    )


def test_waiver_expiring_on_the_as_of_date_still_applies() -> None:
    findings, _ = apply_waivers(
        [_finding("use-case-without-kpi", ["u-uw"])], [KPI_WAIVER], date(2026, 11, 1), {"use-case-without-kpi"}
    )
    assert "waived" in findings[0]


def test_expired_waiver_hides_nothing_and_is_listed() -> None:
    finding = _finding("use-case-without-kpi", ["u-uw"])
    assert apply_waivers([finding], [KPI_WAIVER], AS_OF, {"use-case-without-kpi"}) == (
        [finding],
        [
            {
                "check": "use-case-without-kpi",
                "subjects": ["u-uw"],
                "accepted_by": "r-uw",
                "reason": "KPI being defined.",
                "expires": "2026-11-01",
            }
        ],
    )


def test_expired_waivers_of_checks_that_did_not_run_are_not_listed() -> None:
    assert apply_waivers([], [KPI_WAIVER], AS_OF, {"kpi-without-owner"}) == ([], [])


def test_fail_on_counts_only_unwaived_findings_at_or_above_the_threshold() -> None:
    waived: Finding = {
        **_finding("a-check", ["x"], "critical"),
        "waived": {"accepted_by": "r", "reason": "", "expires": ""},
    }
    counted = _finding("b-check", ["y"], "high")
    result: RunResult = {
        "scenario": "s",
        "as_of": "2026-11-22",
        "findings": [waived, counted, _finding("c-check", ["z"], "medium")],
    }
    assert gate_failures(result, "high") == [counted]


@pytest.fixture
def risky(tmp_path: Path, db: Database, scenario: str) -> str:
    load_bundle(db, write_bundle(tmp_path / "bundle.yaml"), scenario)
    return scenario


def test_waivers_in_the_graph_mark_findings_and_list_expired_ones(db: Database, risky: str) -> None:
    replace_waivers(db, risky, [SELF_APPROVAL_WAIVER, KPI_WAIVER])
    result = run_checks(db, load_catalog(), risky, AS_OF, only=["self-approved-model", "use-case-without-kpi"])
    assert (
        [(f["check"], f["subjects"], f.get("waived")) for f in result["findings"]],
        result.get("expired_waivers"),
    ) == (
        [
            ("self-approved-model", ["m-high", "r-ds"], None),
            (
                "self-approved-model",
                ["m-limited", "r-ds"],
                {
                    "accepted_by": "r-uw",
                    "reason": "Pilot only; an independent approver is being hired.",
                    "expires": "2026-12-31",
                },
            ),
            ("use-case-without-kpi", ["u-uw"], None),
        ],
        [
            {
                "check": "use-case-without-kpi",
                "subjects": ["u-uw"],
                "accepted_by": "r-uw",
                "reason": "KPI being defined.",
                "expires": "2026-11-01",
            }
        ],
    )


def test_waivers_are_stored_per_scenario_with_subjects_sorted(db: Database, risky: str) -> None:
    replace_waivers(db, risky, [Waiver("self-approved-model", ("r-ds", "m-limited"), "r-uw", "why", date(2027, 1, 1))])
    rows = db.read("MATCH (w:Waiver {scenario: $s}) RETURN properties(w) AS w", {"s": risky})
    assert [{**r["w"], "expires": r["w"]["expires"].to_native()} for r in rows] == [
        {
            "scenario": risky,
            "check": "self-approved-model",
            "subjects": ["m-limited", "r-ds"],
            "accepted_by": "r-uw",
            "reason": "why",
            "expires": date(2027, 1, 1),
        }
    ]


def test_the_set_of_waivers_replaces_the_previous_one(db: Database, risky: str) -> None:
    replace_waivers(db, risky, [SELF_APPROVAL_WAIVER, KPI_WAIVER])
    replace_waivers(db, risky, [KPI_WAIVER])
    assert read_waivers(db, risky) == [KPI_WAIVER]


def test_waiver_accepted_by_an_unknown_role_changes_nothing(db: Database, risky: str) -> None:
    replace_waivers(db, risky, [KPI_WAIVER])
    bad = Waiver("use-case-without-kpi", ("u-uw",), "r-nobody", "why", date(2027, 1, 1), place="waivers.yaml:3")
    with pytest.raises(WaiverError) as caught:
        replace_waivers(db, risky, [SELF_APPROVAL_WAIVER, bad])
    assert (caught.value.problems, read_waivers(db, risky)) == (
        [f"waivers.yaml:3: accepted_by: 'r-nobody' is not a role in scenario '{risky}'"],
        [KPI_WAIVER],
    )


def test_waivers_for_an_unloaded_scenario_are_refused(db: Database, scenario: str) -> None:
    with pytest.raises(UnknownScenarioError, match=f"^scenario '{scenario}' has not been loaded$"):
        replace_waivers(db, scenario, [KPI_WAIVER])


def test_every_problem_of_a_waivers_file_comes_in_one_pass(tmp_path: Path) -> None:
    text = (
        WAIVERS.replace("  reason: Pilot only;", "  reason: first\n  reason: Pilot only;")
        .replace("check: use-case-without-kpi", "check: no-kpi")
        .replace("expires: 2026-11-01", "expires: next week")
        .replace("subjects: [u-uw]", "subjects: [u-uw]\n  subjects: [u-uw]")
    )
    path = _write(tmp_path, text)
    assert _problems(path, load_catalog().ids()) == [
        f"{path}:5: reason: duplicate key",
        f"{path}:7: check: unknown check id 'no-kpi'",
        f"{path}:9: subjects: duplicate key",
        f"{path}:12: expires: must be a date YYYY-MM-DD, got 'next week'",
    ]


def test_roles_the_scenario_lacks_are_listed_with_the_place_of_their_waiver(
    tmp_path: Path, db: Database, risky: str
) -> None:
    path = _write(tmp_path, WAIVERS.replace("accepted_by: r-uw\n  reason: KPI", "accepted_by: r-gone\n  reason: KPI"))
    read = read_waivers_file(path, load_catalog().ids())
    assert (read.problems, role_problems(db, risky, read.accepted_by)) == (
        [],
        [f"{path}:6: accepted_by: 'r-gone' is not a role in scenario '{risky}'"],
    )


def test_a_waivers_file_nested_too_deeply_is_refused_not_a_crash(tmp_path: Path) -> None:
    path = _write(tmp_path, "- check: x\n  deep: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert _problems(path) == [f"{path}:2: invalid YAML: nested more than 1,000 levels deep"]
