"""The weekly report's sections on incidents (reporting deadlines), evidence to renew, framework
coverage and the maturity scorecard's movement; one run of the checks per report; waivers of the
catalog 1.1 findings (policies, evidence, incidents, delegations) through the waiver file."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import queries.coverage
import queries.maturity.scorecard
import queries.runner
from graph.db import Database
from graph.settings import Settings
from loaders import load_bundle
from queries.catalog import load_catalog
from visualizations.report import build_report, compose_report, render_html, render_markdown

REPO = Path(__file__).resolve().parents[2]
INSURER = REPO / "examples" / "insurer"
GOVERNED = REPO / "examples" / "insurer-governed"
WEEK1, WEEK2 = dt.date(2026, 11, 16), dt.date(2026, 11, 23)


def _copy(tmp_path: Path, source: Path = INSURER) -> Path:
    bundle = tmp_path / source.name
    shutil.copytree(source, bundle)
    return bundle


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text().rstrip("\n") + "\n" + text)


# ---------------------------------------------------------------------------------------------
# Incidents


def test_incidents_with_reporting_deadlines_late_ones_marked(db: Database, scenario: str, tmp_path: Path) -> None:
    bundle = _copy(tmp_path)
    _append(
        bundle / "incidents.yaml",
        """- id: inc-t-death
  name: Triage model delayed an urgent claim
  models: [m-fraud-score]
  severity: critical
  serious: true
  category: death
  aware: 2026-11-20
  owner: r-fraud-lead
- id: inc-t-closed
  name: Pricing glitch, fixed
  models: [m-health-pricing]
  severity: low
  aware: 2026-10-01
  closed: 2026-10-05
  owner: r-uw-head
- id: inc-t-later
  name: Known only after the as-of date
  models: [m-health-pricing]
  severity: high
  serious: true
  aware: 2026-11-24
  owner: r-uw-head
""",
    )
    load_bundle(db, bundle, scenario)
    report = build_report(db, load_catalog(), scenario, WEEK2)
    assert report["incidents"] == {
        "open": 2,
        "serious": 1,
        "late": 1,
        "items": [
            {  # serious (category other: 15 days), reported after 22 days: late, though closed
                "id": "inc-2026-fraud-declines",
                "name": "Fraud score declined legitimate fast-track claims",
                "severity": "high",
                "serious": True,
                "category": "other",
                "aware": "2026-08-03",
                "reported": "2026-08-25",
                "closed": "2026-09-15",
                "open": False,
                "owner": "r-fraud-lead",
                "deadline": "2026-08-18",
                "late": True,
                "days_left": None,
            },
            {  # a death: 10 days, not reported yet, 7 days left on 2026-11-23
                "id": "inc-t-death",
                "name": "Triage model delayed an urgent claim",
                "severity": "critical",
                "serious": True,
                "category": "death",
                "aware": "2026-11-20",
                "reported": None,
                "closed": None,
                "open": True,
                "owner": "r-fraud-lead",
                "deadline": "2026-11-30",
                "late": False,
                "days_left": 7,
            },
            {  # not serious: no reporting deadline
                "id": "inc-2026-assistant-disclosure",
                "name": "Assistant showed another customer's claim status",
                "severity": "medium",
                "serious": False,
                "category": None,
                "aware": "2026-11-10",
                "reported": None,
                "closed": None,
                "open": True,
                "owner": None,
                "deadline": None,
                "late": False,
                "days_left": None,
            },
        ],
    }
    # late exactly where late-incident-report finds it
    findings = report["new"] + report["persisting"]
    assert {tuple(f["subjects"]) for f in findings if f["check"] == "late-incident-report"} == {
        ("inc-2026-fraud-declines",)
    }
    html = render_html(report)
    section = html[html.index('<section id="incidents">') : html.index('<section id="evidence">')]
    assert "2 open (1 serious); 1 reported late." in section
    assert section.count('<tr class="late">') == 1
    assert '2026-08-18 <span class="badge b-late">late</span>' in section
    assert "2026-11-30 (7 days left)" in section
    assert "inc-t-closed" not in section and "inc-t-later" not in section
    md = render_markdown(report)
    assert (
        "- **high** serious Fraud score declined legitimate fast-track claims (`inc-2026-fraud-declines`): aware "
        "2026-08-03, reporting deadline 2026-08-18, reported 2026-08-25 **(reported late)**; closed 2026-09-15"
    ) in md


def test_incident_deadline_after_it_passes_unreported_is_late(db: Database, scenario: str, tmp_path: Path) -> None:
    bundle = _copy(tmp_path)
    _append(
        bundle / "incidents.yaml",
        """- id: inc-t-grid
  name: Grid forecast model failed
  models: [m-fraud-score]
  severity: critical
  serious: true
  category: critical_infrastructure
  aware: 2026-11-20
  owner: r-fraud-lead
""",
    )
    load_bundle(db, bundle, scenario)
    report = build_report(db, load_catalog(), scenario, WEEK2)
    grid = next(i for i in report["incidents"]["items"] if i["id"] == "inc-t-grid")
    # 2 days from 2026-11-20; on 2026-11-23 a day past it and still not reported
    assert (grid["deadline"], grid["late"], grid["days_left"]) == ("2026-11-22", True, -1)
    assert report["incidents"]["late"] == 2
    assert [i["id"] for i in report["incidents"]["items"]][:2] == ["inc-t-grid", "inc-2026-fraud-declines"]


# ---------------------------------------------------------------------------------------------
# Evidence


def test_evidence_expiring_within_30_days_and_expired_not_renewed(db: Database, scenario: str, tmp_path: Path) -> None:
    bundle = _copy(tmp_path)
    _append(
        bundle / "evidence.csv",
        "ev-t-soon,Test report: assistant,test_report,m-cs-assistant,2025-12-01,2026-12-10,r-dpo,\n"
        "ev-t-edge,Monitoring plan: risk score,monitoring_plan,m-uw-risk-score,2026-01-01,2026-12-16,,\n"
        "ev-t-far,Monitoring plan: health pricing,monitoring_plan,m-health-pricing,2026-01-01,2026-12-17,,\n"
        "ev-t-today,Other: fraud score,other,m-fraud-score,2026-01-01,2026-11-16,r-mv-lead,\n"
        "ev-t-old,Old test report: health pricing,test_report,m-health-pricing,2025-01-01,2026-11-01,,\n"
        "ev-t-new,New test report: health pricing,test_report,m-health-pricing,2026-10-15,2027-10-15,,\n"
        "ev-t-future,Not issued yet,test_report,m-fraud-score,2026-12-01,2026-12-05,,\n",
    )
    load_bundle(db, bundle, scenario)
    report = build_report(db, load_catalog(), scenario, WEEK1)
    assert report["evidence"] == {
        "within_days": 30,
        "expiring": [
            {
                "id": "ev-t-soon",
                "name": "Test report: assistant",
                "kind": "test_report",
                "about": ["m-cs-assistant"],
                "issued": "2025-12-01",
                "expires": "2026-12-10",
                "owner": "r-dpo",
                "days": 24,
            },
            {  # as_of + 30 days exactly; 2026-12-17 (31 days) is not listed
                "id": "ev-t-edge",
                "name": "Monitoring plan: risk score",
                "kind": "monitoring_plan",
                "about": ["m-uw-risk-score"],
                "issued": "2026-01-01",
                "expires": "2026-12-16",
                "owner": None,
                "days": 30,
            },
        ],
        "expired": [
            {  # the fraud score's risk assessment, from the example
                "id": "ev-ra-fraud",
                "name": "Risk assessment: fraud score",
                "kind": "risk_assessment",
                "about": ["m-fraud-score"],
                "issued": "2025-10-01",
                "expires": "2026-10-01",
                "owner": "r-mv-lead",
                "days": 46,
            },
            {  # in force up to the day before its expiry: expired on the as-of date itself
                "id": "ev-t-today",
                "name": "Other: fraud score",
                "kind": "other",
                "about": ["m-fraud-score"],
                "issued": "2026-01-01",
                "expires": "2026-11-16",
                "owner": "r-mv-lead",
                "days": 0,
            },
        ],
    }
    # ev-t-old is renewed by ev-t-new (same kind, same model, in force): not listed
    html = render_html(report)
    section = html[html.index('<section id="evidence">') : html.index('<section id="resolved">')]
    assert "Expiring within 30 days" in section
    assert "2026-12-10 (24 days left)" in section and "2026-10-01 (46 days ago)" in section
    assert "ev-t-old" not in section and "ev-t-far" not in section and "ev-t-future" not in section


# ---------------------------------------------------------------------------------------------
# Coverage


def test_coverage_section_matrix_links_failing_cells_to_the_entity_page(db: Database, scenario: str) -> None:
    load_bundle(db, GOVERNED, scenario)
    report = build_report(db, load_catalog(), scenario, WEEK2)
    (eu,) = report["coverage"]["frameworks"]
    assert (eu["framework"], eu["coverage"], eu["satisfied"], eu["applicable"]) == ("eu-ai-act", 0.5385, 14, 26)
    # the models failing most obligations first
    assert eu["models"] == ["m-fraud-score", "m-health-pricing", "m-uw-risk-score"]
    assert eu["models_failing"] == 3
    rows = {o["id"]: o for o in eu["obligations"]}
    assert [o["id"] for o in eu["obligations"]] == [
        "art5",
        "art9",
        "art10",
        "art11",
        "art12",
        "art13",
        "art14",
        "art15",
        "art17",
        "art26-2",
        "art26-5",
        "art27",
        "art72",
        "art73",
    ]
    assert rows["art26-2"]["cells"] == {
        "m-health-pricing": rows["art26-2"]["cells"]["m-health-pricing"],
        "m-uw-risk-score": rows["art26-2"]["cells"]["m-uw-risk-score"],
    }
    assert all(isinstance(c, list) and c for c in rows["art26-2"]["cells"].values())
    assert rows["art26-5"]["cells"] == {"m-health-pricing": "holds", "m-uw-risk-score": "holds"}
    assert rows["art9"]["cells"] == {"m-fraud-score": rows["art9"]["cells"]["m-fraud-score"]}
    assert rows["art73"]["kind"] == "incidents" and rows["art73"]["cells"] == {}
    assert [(x["subject"], x["kind"], x["ref"]) for x in eu["others"]] == [
        ("inc-2026-fraud-declines", "incidents", "Art. 73")
    ]
    assert eu["others_failing"] == 1
    # one obligation-unmet finding per failing pair, as the section shows
    unmet = [f for f in report["new"] if f["check"] == "obligation-unmet"]
    assert len(unmet) == eu["applicable"] - eu["satisfied"] == 12
    html = render_html(report)
    section = html[html.index('<section id="coverage">') : html.index('<section id="roles">')]
    assert "53.8% covered" in section and "(14 of 26 pairs hold)" in section
    failing_link = f'<td class="fails"><a href="/ui/scenarios/{scenario}/entities/m-fraud-score" title="'
    assert section.count(failing_link) == 7  # Art. 9, 11, 12, 13, 14, 15, 72
    assert section.count('<td class="holds">') == sum(
        1 for o in eu["obligations"] for c in o["cells"].values() if c == "holds"
    )
    assert f'<a href="/ui/scenarios/{scenario}/entities/inc-2026-fraud-declines"><code>' in section
    assert "## Coverage: " in render_markdown(report)


def test_no_coverage_section_without_a_framework_in_force(db: Database, scenario: str) -> None:
    load_bundle(db, INSURER, scenario)
    report = build_report(db, load_catalog(), scenario, WEEK1)
    assert "coverage" not in report
    assert '<section id="coverage">' not in render_html(report)


# ---------------------------------------------------------------------------------------------
# One run of the checks per report


def test_the_report_runs_each_check_once_and_the_scorecard_counts_its_findings(
    db: Database, scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_bundle(db, GOVERNED, scenario)
    catalog = load_catalog()
    ran: list[str] = []
    evaluated: list[int] = []
    real_run_check, real_coverage_in = queries.runner.run_check, queries.coverage.coverage_in

    def counting_run_check(*args: Any, **kwargs: Any) -> Any:
        ran.append(args[1].id)
        return real_run_check(*args, **kwargs)

    def counting_coverage_in(*args: Any, **kwargs: Any) -> Any:
        evaluated.append(1)
        return real_coverage_in(*args, **kwargs)

    def no_second_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the scorecard ran the checks again")

    monkeypatch.setattr(queries.runner, "run_check", counting_run_check)
    monkeypatch.setattr(queries.coverage, "coverage_in", counting_coverage_in)
    monkeypatch.setattr(queries.maturity.scorecard, "run_checks_in", no_second_run)
    report = build_report(db, catalog, scenario, WEEK2)
    assert sorted(ran) == sorted(catalog.ids())
    assert evaluated == [1]
    monkeypatch.undo()
    # the same scorecard as the maturity command's, which runs the checks it needs itself
    from queries.maturity.catalog import load_criteria
    from queries.maturity.scorecard import scorecard

    card = scorecard(db, catalog, load_criteria(known_checks=catalog.ids()), scenario, WEEK2, by_unit=True)
    assert report["maturity"]["stage"] == card["scopes"][0]["stage"]
    assert [(u["unit"], u["stage"]) for u in report["maturity"]["units"]] == [
        (s["scope"], s["stage"]) for s in card["scopes"][1:]
    ]


# ---------------------------------------------------------------------------------------------
# Maturity: each unit's stage and its movement since the previous report


def test_maturity_scorecard_movement_since_the_previous_report(db: Database, scenario: str, tmp_path: Path) -> None:
    catalog = load_catalog()
    load_bundle(db, INSURER, scenario)
    first = build_report(db, catalog, scenario, WEEK1)
    # a week later the life & health risk score has lost its owner
    bundle = _copy(tmp_path)
    models = bundle / "models.yaml"
    text = models.read_text()
    block = text.index("- id: m-uw-risk-score")
    owner = text.index("owner: r-uw-head", block)
    models.write_text(text[: text.rindex("\n", 0, owner) + 1] + text[text.index("\n", owner) + 1 :])
    load_bundle(db, bundle, scenario)
    second = build_report(db, catalog, scenario, WEEK2)
    before = {u["unit"]: u["stage"] for u in first["maturity"]["units"]}
    moved = {u["unit"]: (u["previous"], u["stage"], u["movement"]) for u in second["maturity"]["units"]}
    assert {u: m for u, m in moved.items() if m[2] != "unchanged"} == MOVED
    assert all(m == (before[u], before[u], "unchanged") for u, m in moved.items() if u not in MOVED)
    assert (second["maturity"]["previous"], second["maturity"]["stage"], second["maturity"]["movement"]) == ORG_MOVED
    html = render_html(second)
    section = html[html.index('<section id="maturity">') : html.index('<section id="roles">')]
    # units that moved come first, and are the ones printed
    rows = section.split("<tr")[2:]
    assert [r for r in rows[: len(MOVED)] if 'class="steady"' in r] == []
    for unit, (_, now, movement) in MOVED.items():
        assert f"<td><code>{unit}</code></td><td>{now}</td><td>{movement}</td>" in section


MOVED = {  # foundation-models-owned fails in the model's unit and the units above it
    "u-uw": ("foundation", "none", "down from foundation"),
    "u-group": ("foundation", "none", "down from foundation"),
}
ORG_MOVED = ("foundation", "none", "down from foundation")


# ---------------------------------------------------------------------------------------------
# Waivers on policy, evidence, incident and delegation findings, through the waiver file


class _Ctx:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.debug = False


WAIVED = {
    ("policy-missing-evidence", ("m-fraud-score",)),
    ("late-incident-report", ("inc-2026-fraud-declines",)),
    ("incident-without-owner", ("inc-2026-assistant-disclosure",)),
    ("delegated-self-approval", ("m-health-pricing", "p-liam-byrne")),
}


def test_waivers_of_policy_evidence_incident_and_delegation_findings_count_as_waived(
    db: Database, scenario: str, test_settings: Settings, tmp_path: Path
) -> None:
    from cli.checks_cmd import register as register_checks
    from cli.report_cmd import register as register_report

    app = typer.Typer()
    register_checks(app, lambda: _Ctx(test_settings, db))
    register_report(app, lambda: _Ctx(test_settings, db))
    load_bundle(db, INSURER, scenario)
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "\n".join(
            f"- check: {check}\n  subjects: [{', '.join(subjects)}]\n  accepted_by: r-cro\n"
            f"  reason: accepted for the test\n  expires: 2026-12-31"
            for check, subjects in sorted(WAIVED)
        )
        + "\n"
    )
    runner = CliRunner()
    set_ = runner.invoke(app, ["waive", str(waivers), "--scenario", scenario])
    assert set_.exit_code == 0, set_.output
    assert f"4 waivers set for scenario '{scenario}'" in set_.output
    out = tmp_path / "out"
    done = runner.invoke(
        app, ["report", "--scenario", scenario, "--as-of", "2026-11-16", "--out", str(out), "--no-pdf"]
    )
    assert done.exit_code == 0, done.output
    assert "20 open (20 new, 0 still open); 4 more accepted by a waiver" in done.output
    report = json.loads((out / "report.json").read_text())
    waived = {(f["check"], tuple(f["subjects"])) for f in report["new"] if "waived" in f}
    assert waived == WAIVED
    assert report["counts"]["waived"] == {"critical": 2, "high": 1, "medium": 1, "low": 0, "total": 4}
    checks = {c["check"]: c for c in report["by_check"]}
    for check, _ in WAIVED:
        assert (checks[check]["waived"], checks[check]["open"]) == (1, 0)
    assert {(r["check"], tuple(r["subjects"]), r["accepts_finding"]) for r in report["accepted_risks"]} == {
        (check, subjects, True) for check, subjects in WAIVED
    }
    # nobody is asked to act on them
    assert all((f["check"], tuple(f["subjects"])) not in WAIVED for g in report["by_role"] for f in g["findings"])


def test_a_report_stored_before_these_sections_still_renders() -> None:
    """GET /scenarios/{s}/reports/{date} renders stored report.json: one from before the incidents
    had deadlines and before evidence and coverage were in the report still reads right."""
    report = compose_report("current", WEEK1, [], None, {}, [], [])
    report["incidents"] = {
        "open": 1,
        "serious": 0,
        "items": [
            {
                "id": "inc-old",
                "name": "Old-style incident",
                "severity": "medium",
                "serious": False,
                "aware": "2026-11-10",
                "reported": None,
            }
        ],
    }
    html = render_html(report)
    section = html[html.index('<section id="incidents">') : html.index('<section id="evidence">')]
    assert "1 open (0 serious); 0 reported late." in section
    assert "<td>open</td>" in section and "days left" not in section
    evidence = html[html.index('<section id="evidence">') : html.index('<section id="resolved">')]
    assert evidence.count("None.") == 2
    assert '<section id="coverage">' not in html
    assert "## Incidents" in render_markdown(report)
