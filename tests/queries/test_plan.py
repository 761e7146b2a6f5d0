"""The transition plan (maturity.md): the insurer today -> its target, exactly; the command and
the REST route answer the same; the HTML roadmap."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from graph.db import Database
from graph.settings import Settings
from graph.sync import delete_scenario
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.plan import transition_plan
from visualizations.maturity_html import render_plan_html

REPO = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def plan_scenarios(test_settings: Settings) -> Any:
    db = Database.from_settings(test_settings)
    a, b = "t-plan-current", "t-plan-target"
    load_bundle(db, REPO / "examples" / "insurer", a)
    load_bundle(db, REPO / "examples" / "insurer-target", b)
    yield db, a, b
    delete_scenario(db, a)
    delete_scenario(db, b)
    db.close()


def _ids(findings: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((f["check"], tuple(f["subjects"])) for f in findings)


def test_plan_of_the_insurer(plan_scenarios: Any) -> None:
    db, a, b = plan_scenarios
    plan = transition_plan(db, load_catalog(), a, b, AS_OF)
    assert (plan["from"], plan["to"], plan["as_of"]) == (a, b, "2026-11-23")
    assert plan["counts"] == {
        "initiatives": 5,
        "changes": 74,
        "covered": 31,
        "uncovered": 43,
        "findings_fixed": 22,
        "findings_introduced": 5,
    }
    # by due date; who is accountable and who holds it
    assert [
        (i["id"], i["due"], i["status"], i["accountable"] and i["accountable"]["role"], i["overdue"], len(i["changes"]))
        for i in plan["initiatives"]
    ] == [
        ("ini-model-inventory", "2026-09-30", "done", "r-cro", False, 0),
        ("ini-field-data-sharing", "2026-10-31", "in_progress", "r-coo", True, 4),
        ("ini-model-risk-head", "2026-12-31", "done", "r-cro", False, 9),
        ("ini-claimsight", "2027-02-28", "approved", None, False, 15),
        ("ini-fraud-monitoring", "2027-03-31", "in_progress", "r-cro", False, 5),
    ]
    assert plan["initiatives"][0]["accountable"]["holders"] == [{"id": "p-sofia-lindqvist", "name": "Sofia Lindqvist"}]
    assert (plan["overdue"], plan["unowned"]) == (["ini-field-data-sharing"], ["ini-claimsight"])
    by_id = {i["id"]: i for i in plan["initiatives"]}
    assert _ids(by_id["ini-fraud-monitoring"]["fixes"]) == [
        ("high-risk-without-human-oversight", ("m-fraud-score",)),
        ("late-incident-report", ("inc-2026-fraud-declines",)),
        ("policy-missing-evidence", ("m-fraud-score",)),
        ("policy-weak-oversight", ("m-fraud-score",)),
        ("unmonitored-production-model", ("m-fraud-score",)),
    ]
    assert _ids(by_id["ini-claimsight"]["introduces"]) == [
        ("initiative-without-accountable", ("ini-claimsight",)),
        ("system-without-owner", ("s-claimsight-gateway",)),
        ("use-case-without-kpi", ("uc-claims-summaries",)),
        ("vendor-without-owner", ("v-claimsight",)),
    ]
    assert _ids(by_id["ini-field-data-sharing"]["introduces"]) == [("overdue-initiative", ("ini-field-data-sharing",))]
    assert {(c["change"], c["action"], c["id"]) for c in by_id["ini-field-data-sharing"]["changes"] if "id" in c} >= {
        ("entity", "changed", "a-router-inspection")
    }
    # changes no initiative delivers are listed apart, and the plan itself is not a change
    uncovered = {(c["change"], c["action"], c.get("id") or c.get("type")) for c in plan["uncovered"]}
    assert ("entity", "added", "uc-cat-accumulation") in uncovered
    assert ("entity", "removed", "dl-mv-leave-pricing") in uncovered
    every = [c for i in plan["initiatives"] for c in i["changes"]] + plan["uncovered"]
    assert not [c for c in every if c.get("kind") == "Initiative" or c.get("type") in ("DELIVERS", "ACCOUNTABLE_FOR")]
    assert _ids(plan["unassigned_findings"]["fixed"])[:2] == [
        ("blocked-data-dependency", ("m-field-router", "d-inspection")),
        ("blocked-data-dependency", ("m-property-risk", "d-field-visits")),
    ]
    assert plan["unassigned_findings"]["introduced"] == []


def test_roadmap_html_places_initiatives_by_due_date(plan_scenarios: Any) -> None:
    db, a, b = plan_scenarios
    html = render_plan_html(transition_plan(db, load_catalog(), a, b, AS_OF))
    assert "<script" not in html and "http" not in html.split("<body>")[1]
    order = [html.index(f'data-id="{i}"') for i in ("ini-model-inventory", "ini-field-data-sharing", "ini-claimsight")]
    assert order == sorted(order)
    assert "2026-10-31 overdue" in html and "2027-02-28 · no accountable" in html


class _Ctx:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.debug = False


def test_plan_and_maturity_commands(plan_scenarios: Any, test_settings: Settings) -> None:
    from cli.maturity_cmd import register, register_plan

    db, a, b = plan_scenarios
    app = typer.Typer()
    register(app, lambda: _Ctx(test_settings, db))
    register_plan(app, lambda: _Ctx(test_settings, db))
    runner = CliRunner()
    as_json = runner.invoke(app, ["plan", a, b, "--as-of", "2026-11-23", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == json.loads(json.dumps(transition_plan(db, load_catalog(), a, b, AS_OF)))
    table = runner.invoke(app, ["plan", a, b, "--as-of", "2026-11-23"])
    assert table.exit_code == 0 and "OVERDUE" in table.stdout and "NOBODY" in table.stdout
    assert runner.invoke(app, ["plan", a, "t-missing"]).exit_code == 1
    assert runner.invoke(app, ["plan", a, b, "--as-of", "23/11/2026"]).exit_code == 2
    card = runner.invoke(app, ["maturity", "--scenario", b, "--by-unit", "--as-of", "2026-11-23", "--format", "json"])
    assert card.exit_code == 0, card.output
    scopes = json.loads(card.stdout)["scopes"]
    assert scopes[0]["scope"] == "organisation" and len(scopes) > 5
    assert runner.invoke(app, ["maturity", "--scenario", b, "--unit", "u-nope"]).exit_code == 1
    assert runner.invoke(app, ["maturity", "--scenario", b, "--unit", "u-claims", "--by-unit"]).exit_code == 2
    html = runner.invoke(app, ["maturity", "--scenario", b, "--as-of", "2026-11-23", "--format", "html"])
    assert html.exit_code == 0 and "Maturity scorecard" in html.stdout


def test_a_load_during_the_plan_does_not_mix_versions(
    db: Database, scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The diff and the initiatives are read from one version of the target: a load of the
    target between the two reads leaves the plan as it was (issue 16, no mixed versions)."""
    from queries import plan as plan_module

    load_bundle(db, REPO / "examples" / "insurer", f"{scenario}-a")
    load_bundle(db, REPO / "examples" / "insurer-target", scenario)
    catalog = load_catalog()
    before = transition_plan(db, catalog, f"{scenario}-a", scenario, AS_OF)
    real_diff = plan_module.diff_views

    def diff_then_load(*args: Any, **kwargs: Any) -> dict[str, Any]:
        result = real_diff(*args, **kwargs)
        load_bundle(db, REPO / "examples" / "insurer", scenario)  # one initiative, not five
        return result

    monkeypatch.setattr(plan_module, "diff_views", diff_then_load)
    try:
        during = transition_plan(db, catalog, f"{scenario}-a", scenario, AS_OF)
    finally:
        delete_scenario(db, f"{scenario}-a")
    assert during == before
    assert len(during["initiatives"]) == 5
