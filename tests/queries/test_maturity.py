"""The maturity criteria (maturity.md): each default criterion gives exactly its expected value,
evidence and verdict on its positive and negative fixtures; the strict loader; stages per scope;
self-assessment; the trend over weekly reports; the command and the REST route."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from graph.db import Database
from graph.errors import NotFound
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.maturity.catalog import (
    BUILTIN_CRITERIA_DIR,
    CriteriaError,
    is_criterion_file,
    load_criteria,
    load_criterion_file,
)
from queries.maturity.scorecard import scorecard

AS_OF = dt.date(2026, 11, 22)
CRITERION_FILES = sorted(p for p in BUILTIN_CRITERIA_DIR.iterdir() if is_criterion_file(p))
DEFAULT_IDS = [
    "foundation-tom-owned",
    "foundation-models-owned",
    "foundation-data-owned",
    "foundation-tiers-set",
    "foundation-policies",
    "initiate-value-measured",
    "initiate-rights-complete",
    "initiate-segregation",
    "scale-units-engaged",
    "scale-reuse",
    "scale-production-control",
    "scale-no-blockers",
    "improve-reviews-current",
    "improve-conformance",
    "improve-trend",
    "improve-kpis-on-track",
]
NO_POSITIVE = {"improve-conformance", "improve-trend"}
"""No bundle can make these pass: there is no event log yet, and the trend needs weekly reports
(its positive case is test_improve_trend_counts_resolved_against_new_over_the_last_four_reports)."""


def _measure(db: Database, scenario: str, criterion_file: Path, bundle: Path) -> dict[str, Any]:
    load_bundle(db, bundle, scenario)
    criterion = load_criterion_file(criterion_file)
    (scope,) = scorecard(db, load_catalog(), [criterion], scenario, AS_OF)["scopes"]
    (result,) = scope["criteria"]
    return {k: result[k] for k in ("passed", "value", "evidence")}


def test_the_sixteen_defaults_and_their_fixtures() -> None:
    assert sorted(p.stem for p in CRITERION_FILES) == sorted(DEFAULT_IDS)
    assert [c.id for c in load_criteria(known_checks=load_catalog().ids())][:5] == sorted(DEFAULT_IDS[:5])
    for path in CRITERION_FILES:
        kinds = ["negative", "expected"] + ([] if path.stem in NO_POSITIVE else ["positive"])
        assert all(path.with_name(f"{path.stem}.{k}.yaml").is_file() for k in kinds), path.stem


@pytest.mark.parametrize("criterion_file", CRITERION_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("kind", ["positive", "negative"])
def test_criterion_gives_exactly_its_expected_result(
    db: Database, scenario: str, criterion_file: Path, kind: str
) -> None:
    fixture = criterion_file.with_name(f"{criterion_file.stem}.{kind}.yaml")
    if not fixture.is_file():
        assert kind == "positive" and criterion_file.stem in NO_POSITIVE
        return
    expected = yaml.safe_load(criterion_file.with_name(f"{criterion_file.stem}.expected.yaml").read_text())[kind]
    assert expected["passed"] is (kind == "positive")
    assert _measure(db, scenario, criterion_file, fixture) == expected


STAGED = {
    "meta": {"owner": "r-coo"},
    "units": [
        {"id": "u-retail", "name": "Retail"},
        {"id": "u-retail-claims", "name": "Retail Claims", "parent": "u-retail"},
        {"id": "u-commercial", "name": "Commercial"},
    ],
    "roles": [
        {"id": "r-coo", "name": "Chief Operating Officer", "executive": True},
        {"id": "r-retail", "name": "Head of Retail", "unit": "u-retail"},
        {"id": "r-commercial", "name": "Head of Commercial", "unit": "u-commercial"},
    ],
    "people": [{"id": "p-ana", "name": "Ana Ortiz", "holds": ["r-coo"]}],
    "policies": [{"id": "pol-minimal", "risk_tier": "minimal"}],
    "kpis": [{"id": "k-stp", "name": "STP rate", "status": "on_track", "measured": "2026-11-01"}],
    "models": [
        {
            "id": "m-claims",
            "name": "Claims triage",
            "stage": "production",
            "risk_tier": "minimal",
            "owner": "r-retail",
            "unit": "u-retail-claims",
            "change_approvers": ["r-retail"],
            "deployment_approvers": ["r-retail"],
            "shutdown_authority": ["r-retail"],
        },
        # owned in Commercial through its owner role's unit, and without a risk tier
        {"id": "m-pricing", "name": "Pricing", "stage": "pilot", "owner": "r-commercial"},
    ],
    "use_cases": [
        {"id": "uc-claims", "name": "Claims triage", "stage": "live", "unit": "u-retail-claims", "kpis": ["k-stp"]}
    ],
    "assessments": [
        {"id": "a-1", "question": "scale-units-engaged", "answer": "yes", "date": "2026-11-01"},
        {
            "id": "a-2",
            "question": "foundation-tiers-set",
            "answer": "yes",
            "unit": "u-commercial",
            "date": "2026-11-01",
        },
    ],
}


@pytest.fixture
def staged(db: Database, scenario: str, tmp_path: Path) -> str:
    path = tmp_path / "staged.yaml"
    path.write_text(yaml.safe_dump(STAGED), encoding="utf-8")
    load_bundle(db, path, scenario)
    return scenario


def _by_scope(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["scope"]: s for s in result["scopes"]}


def test_stages_per_unit_and_for_the_organisation(db: Database, staged: str) -> None:
    criteria = load_criteria(known_checks=load_catalog().ids())
    result = scorecard(db, load_catalog(), criteria, staged, AS_OF, by_unit=True)
    assert [s["scope"] for s in result["scopes"]] == ["organisation", "u-commercial", "u-retail", "u-retail-claims"]
    scopes = _by_scope(result)
    # m-pricing has no risk tier: the organisation and Commercial stay below Foundation
    assert {s: scopes[s]["stage"] for s in scopes} == {
        "organisation": "none",
        "u-commercial": "none",
        "u-retail": "initiate",
        "u-retail-claims": "initiate",
    }
    tiers = {s: next(c for c in scopes[s]["criteria"] if c["id"] == "foundation-tiers-set") for s in scopes}
    assert (tiers["organisation"]["value"], tiers["organisation"]["evidence"]) == (1, ["m-pricing"])
    assert (tiers["u-retail"]["value"], tiers["u-retail"]["evidence"]) == (0, [])
    # a `yes` counts only for self-assessed criteria; it is shown beside the measured value
    assert tiers["u-commercial"]["assessment"] == "yes" and tiers["u-commercial"]["passed"] is False
    engaged = next(c for c in scopes["organisation"]["criteria"] if c["id"] == "scale-units-engaged")
    assert engaged == {
        "id": "scale-units-engaged",
        "stage": "scale",
        "passed": False,
        "value": 1,
        "threshold": 2,
        "evidence": ["u-retail"],
        "assessment": "yes",
    }


def test_one_unit_and_an_unknown_unit(db: Database, staged: str) -> None:
    criteria = load_criteria(known_checks=load_catalog().ids())
    result = scorecard(db, load_catalog(), criteria, staged, AS_OF, unit="u-retail")
    assert [(s["scope"], s["stage"]) for s in result["scopes"]] == [("u-retail", "initiate")]
    with pytest.raises(NotFound):
        scorecard(db, load_catalog(), criteria, staged, AS_OF, unit="u-nowhere")


def test_a_users_self_assessed_criterion_passes_on_a_yes(db: Database, staged: str, tmp_path: Path) -> None:
    own = tmp_path / "criteria"
    own.mkdir()
    (own / "foundation-ai-strategy.yaml").write_text(
        "id: foundation-ai-strategy\nrevision: 1\nstage: foundation\ntitle: An AI strategy is agreed\n"
        "question: Has the board agreed an AI strategy?\nevidence: The board's answer.\nself_assessed: true\n"
        "pass_if: at_least\nthreshold: 1\n"
    )
    criteria = load_criteria([own], known_checks=load_catalog().ids())
    assert "foundation-ai-strategy" in [c.id for c in criteria]
    org = scorecard(db, load_catalog(), criteria, staged, AS_OF)["scopes"][0]
    mine = next(c for c in org["criteria"] if c["id"] == "foundation-ai-strategy")
    assert (mine["passed"], mine["value"], mine["assessment"]) == (False, None, None)
    answered = {
        **STAGED,
        "assessments": [{"id": "a-9", "question": "foundation-ai-strategy", "answer": "yes", "date": "2026-11-20"}],
    }
    (tmp_path / "answered.yaml").write_text(yaml.safe_dump(answered), encoding="utf-8")
    load_bundle(db, tmp_path / "answered.yaml", staged)
    org = scorecard(db, load_catalog(), criteria, staged, AS_OF)["scopes"][0]
    mine = next(c for c in org["criteria"] if c["id"] == "foundation-ai-strategy")
    assert (mine["passed"], mine["value"], mine["assessment"]) == (True, None, "yes")
    # an answer dated after the as-of date does not count yet
    early = scorecard(db, load_catalog(), criteria, staged, dt.date(2026, 11, 19))["scopes"][0]
    assert next(c for c in early["criteria"] if c["id"] == "foundation-ai-strategy")["assessment"] is None


def test_the_loader_is_strict_and_names_file_line_and_field(tmp_path: Path) -> None:
    own = tmp_path / "criteria"
    own.mkdir()
    (own / "scale-bad.yaml").write_text(
        "id: scale-bad\nrevision: 1\nstage: scale\ntitle: T\nquestion: Q?\nevidence: E\npass_if: at_most\n"
        "threshold: 0\nfindings: [no-such-check]\ncolour: red\n"
    )
    (own / "scale-param.yaml").write_text(
        "id: scale-param\nrevision: 1\nstage: scale\ntitle: T\nquestion: Q?\nevidence: E\npass_if: at_most\n"
        "threshold: 0\ncypher: |\n  MATCH (m:Model {scenario: $scenario, stage: $stage}) RETURN m.id AS id\n"
    )
    (own / "scale-check.yaml").write_text(
        "id: scale-check\nrevision: 1\nstage: scale\ntitle: T\nquestion: Q?\nevidence: E\npass_if: at_most\n"
        "threshold: 0\nfindings: [no-such-check]\n"
    )
    with pytest.raises(CriteriaError) as error:
        load_criteria([own], known_checks=load_catalog().ids())
    assert error.value.problems == [
        f"{own / 'scale-bad.yaml'}:10: colour: unknown field",
        f"{own / 'scale-check.yaml'}:9: findings: unknown check id 'no-such-check'",
        f"{own / 'scale-param.yaml'}:9: cypher: unknown parameter(s) $stage (known: $as_of, $scenario, $scenario_name)",
    ]


def test_improve_trend_counts_resolved_against_new_over_the_last_four_reports(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    from tests.visualizations.test_report import INSURER, changed_insurer
    from visualizations.report import build_report

    catalog = load_catalog()
    (trend,) = [c for c in load_criteria(known_checks=catalog.ids()) if c.id == "improve-trend"]
    weeks = [dt.date(2026, 11, 2) + dt.timedelta(weeks=n) for n in range(5)]
    load_bundle(db, INSURER, scenario)
    first = build_report(db, catalog, scenario, weeks[0])  # every finding is new
    load_bundle(db, changed_insurer(tmp_path), scenario)
    later = [build_report(db, catalog, scenario, week) for week in weeks[1:]]
    assert [(r["counts"]["new"]["open"], r["counts"]["resolved"]) for r in later] == [(1, 3), (0, 0), (0, 0), (0, 0)]
    first_new = first["counts"]["new"]["open"] + first["counts"]["new"]["waived"]

    def measured(day: dt.date) -> tuple[bool, float, list[str]]:
        (c,) = scorecard(db, catalog, [trend], scenario, day)["scopes"][0]["criteria"]
        return c["passed"], c["value"], c["evidence"]

    # the first report's new findings are among the last four up to week 4
    assert measured(weeks[3]) == (False, 3 - 1 - first_new, [w.isoformat() for w in weeks[:4]])
    # weeks 2 to 5: 3 resolved, 1 new
    assert measured(weeks[4]) == (True, 2, [w.isoformat() for w in weeks[1:]])


def test_units_in_a_parent_loop_are_scored_once_and_the_scorecard_ends(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    """A unit that is its own parent, and two units that are each other's, load (the format does
    not forbid it); the scorecard by unit walks each loop once instead of running for ever."""
    bundle = tmp_path / "loops.yaml"
    bundle.write_text(
        yaml.safe_dump(
            {
                "units": [
                    {"id": "u-self", "name": "Self", "parent": "u-self"},
                    {"id": "u-a", "name": "A", "parent": "u-b"},
                    {"id": "u-b", "name": "B", "parent": "u-a"},
                ]
            }
        )
    )
    load_bundle(db, bundle, scenario)
    criteria = load_criteria(known_checks=load_catalog().ids())
    result = scorecard(db, load_catalog(), criteria, scenario, AS_OF, by_unit=True)
    assert [s["scope"] for s in result["scopes"]] == ["organisation", "u-a", "u-b", "u-self"]
    inside = scorecard(db, load_catalog(), criteria, scenario, AS_OF, unit="u-a")
    assert [s["scope"] for s in inside["scopes"]] == ["u-a"]
